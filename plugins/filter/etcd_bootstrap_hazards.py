# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_bootstrap_hazards
short_description: The nodes whose etcd manifest would bootstrap a cluster of its own, and the fix
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - The latent split brain of a kubeadm cluster - a node of a cluster that runs (etcd answers) whose etcd manifest says
    C(--initial-cluster-state=new) (kubeadm writes it on the first node, with only that node in C(--initial-cluster)).
    Should that node's data directory be lost, the kubelet starts an etcd that bootstraps a cluster by itself, and its
    apiserver serves it.
  - Returns a line per such host and a line with the fix - the M(kubemaint.control_plane.static_pod_flags) change
    for the playbook C(kubemaint.control_plane.rolling_change), which applies it node by node behind the quorum guard
    (C(--initial-cluster-state=existing), C(--initial-cluster) listing every voter with its peer URL). Empty when
    there is none, or when etcd could not be read.
options:
  _input:
    description: The cluster view from P(kubemaint.control_plane.etcd_cluster_view#filter).
    type: dict
    required: true
  pods:
    description: The M(kubemaint.control_plane.static_pod_info) results of every control-plane host, by host.
    type: dict
    required: true
  report:
    description:
      - When no host is named, return one line that says so (naming the hosts whose etcd manifest could not be read),
        or why nothing could be checked (etcd could not be read), instead of an empty list.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Warn about etcd manifests that would bootstrap a cluster of their own
  ansible.builtin.debug:
    msg: "{{ cluster_state_view | kubemaint.control_plane.etcd_bootstrap_hazards(pods_by_host) }}"
'''

RETURN = r'''
_value:
  description: The lines, a host each and the fix last; empty when there is no hazard (one line with O(report)).
  type: list
  elements: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.runtime import bootstrap_hazard_lines


class FilterModule(object):
    def filters(self):
        return {'etcd_bootstrap_hazards': bootstrap_hazard_lines}
