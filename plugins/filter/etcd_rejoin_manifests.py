# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_rejoin_manifests
short_description: Where a node's control-plane manifests are for a rejoin, and whether it needs one
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - From a node's M(kubemaint.control_plane.static_pod_info) result, where every stopped component's manifest
      is brought back from (where C(kubemaint.control_plane.recover) restores it from, the collection's stash or a
      runbook-style C(manifests-<date>) directory beside or inside the manifests directory), which components run,
      and why the node cannot be rejoined (a stopped component without a copy, an untrusted copy, a stray).
    - Also says when the node needs no rejoin at all, its etcd being only stopped with its data directory holding
      data (start_node or recover brings it back with its data), unless O(data_lost).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.static_pod_info) on the node.
    type: dict
    required: true
  host:
    description: The node's inventory name, for the messages.
    type: str
    required: true
  data_lost:
    description: The operator said the node's etcd data is lost for good (C(replace_member_data_lost)).
    type: bool
    default: false
  manifest:
    description: The registered result of reading the etcd manifest's flags on the node
      (M(kubemaint.control_plane.static_pod_flags) in check mode), once it was read; a result without
      C(flags_before) (skipped, failed) means the manifest could not be read, which refuses the rejoin too.
    type: dict
  kubernetes_dir:
    description: The node's kubernetes directory, for the refusal's advice.
    type: str
    default: /etc/kubernetes
'''

EXAMPLES = r'''
- name: Decide where the manifests are
  ansible.builtin.set_fact:
    where: "{{ found | kubemaint.control_plane.etcd_rejoin_manifests(inventory_hostname) }}"
'''

RETURN = r'''
_value:
  description: >-
    refused (reasons the node cannot be rejoined), only_stopped (why it needs no rejoin, or null), stop (components
    running now), etcd_dir (where etcd's stopped manifest comes back from; null for the collection's stash),
    etcd_read_dir (where it lies until the relocation is done), start (groups of
    stash_dir and names, in start order, etcd left out), relocate (directories to move out of the manifests
    directory first, each from and to) and manifests_dir (path, mode, uid and gid of the manifests directory to
    create again, or null), and refusal (the message a rejoin is refused with, naming the node, the reasons and what
    a rebuilt or a new machine does instead; empty when it is not refused).
  type: dict
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import (
    DEFAULT_KUBERNETES_DIR,
    rejoin_manifests,
)


def etcd_rejoin_manifests(found, host, data_lost=False, manifest=None, kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    return rejoin_manifests(found, host, data_lost=boolean(data_lost, strict=False),
                            manifest=None if manifest is None else dict(manifest), kubernetes_dir=kubernetes_dir)


class FilterModule(object):
    def filters(self):
        return {'etcd_rejoin_manifests': etcd_rejoin_manifests}
