# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_force_new_cluster_lines
short_description: What restore_quorum's rebuild of etcd from one member says
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - For the member_recovery role's force_new_cluster. From the restore plan and the rebuild's registered results,
    the line that says where the snapshot (or the copy of the backend file) of the chosen member went, the line that
    says it leads a cluster of one, and with O(failed_task) the message the run fails with, which names what was
    done so far and the command that continues.
options:
  _input:
    description: The restore plan, from P(kubemaint.control_plane.etcd_restore_plan#filter).
    type: dict
    required: true
  host:
    description: The inventory host of the chosen member.
    type: str
    required: true
  results:
    description: The rebuild's registered results by step (C(snapshot), C(backend_copy), C(forced_flag),
        C(unflagged), C(back)); a missing one did nothing.
    type: dict
  failed_task:
    description: The name of the task that failed, after a failure.
    type: str
  kubernetes_dir:
    description: The host's kubernetes_dir, where the etcd manifest's previous versions are kept.
    type: str
    default: /etc/kubernetes
'''

EXAMPLES = r'''
- name: Print where the snapshot went
  ansible.builtin.debug:
    msg: "{{ (plan | kubemaint.control_plane.etcd_force_new_cluster_lines(inventory_hostname, {'snapshot': snap})).snapshot }}"
'''

RETURN = r'''
_value:
  description: The lines; each empty when the step it reports has no result.
  type: dict
  contains:
    snapshot:
      description: Where the snapshot went, its revision and raft index.
      type: str
    backend_copy:
      description: Where the copy of the backend file went, its size and checksum.
      type: str
    alone:
      description: The member leads a cluster of one, its raft term and applied index, and what comes next.
      type: str
    failure:
      description: The message the run fails with (with O(failed_task)); else empty.
      type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.force_new_cluster import (
    force_new_cluster_lines,
)


def etcd_force_new_cluster_lines(plan, host, results=None, failed_task=None, kubernetes_dir='/etc/kubernetes'):
    return force_new_cluster_lines(dict(plan or {}), host, dict(results or {}), failed_task, kubernetes_dir)


class FilterModule(object):
    def filters(self):
        return {'etcd_force_new_cluster_lines': etcd_force_new_cluster_lines}
