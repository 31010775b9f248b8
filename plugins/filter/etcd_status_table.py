# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_status_table
short_description: The runbook's etcd endpoint status table and quorum summary, as lines
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - Formats a cluster view as a table of members, each member's errors below it, and a quorum summary line.
    - By default the table is narrow (about 70 columns on a kubeadm node) - member, endpoint, role (leader, follower,
      learner or unreachable), applied entries behind the leader, health.
    - When an alarm is raised or a member's db size is over O(quota_warning) of its quota, the narrow table also has
      each member's db size and quota usage, and a line under the table says how full such a member is.
    - With O(details=true) it has the columns C(etcdctl endpoint status --cluster -w table) prints (id, version, db size,
      leader, learner, raft term, applied index) plus free space, quota usage and health.
    - With O(recovery=true) (and O(details) false) it has what a rebuild chooses by - member, endpoint, role, raft term,
      applied index, health; under 90 columns on a kubeadm node.
options:
  _input:
    description: A view from P(kubemaint.control_plane.etcd_cluster_view#filter), or the registered result of
        M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  details:
    description: The runbook's full C(etcdctl endpoint status) columns instead of the narrow table.
    type: bool
    default: false
  recovery:
    description: The raft term and applied index instead of the entries behind the leader (restore_quorum's table).
    type: bool
    default: false
  quota_warning:
    description: The share of its quota (0 to 1) above which a member's db size counts as near the quota.
    type: float
    default: 0.8
    version_added: 0.2.0
'''

EXAMPLES = r'''
- name: Print the table
  ansible.builtin.debug:
    msg: "{{ view | kubemaint.control_plane.etcd_status_table }}"

- name: Print every column etcdctl endpoint status shows
  ansible.builtin.debug:
    msg: "{{ view | kubemaint.control_plane.etcd_status_table(details=true) }}"
'''

RETURN = r'''
_value:
  description: The lines.
  type: list
  elements: str
'''

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_QUOTA_WARNING,
    status_table,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.space import SpaceInputError, number
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


@reported_as_filter_error('etcd_status_table', SpaceInputError)
def etcd_status_table(state, details=False, recovery=False, quota_warning=DEFAULT_QUOTA_WARNING):
    warning = number(quota_warning, 'quota_warning (cluster_state_quota_warning)')
    if warning is None or not 0 <= warning <= 1:
        raise SpaceInputError('quota_warning (cluster_state_quota_warning) must be a number from 0 to 1, got %r'
                              % (quota_warning,))
    return status_table(state, details=boolean(details, strict=False), recovery=boolean(recovery, strict=False),
                        quota_warning=warning)


class FilterModule(object):
    def filters(self):
        return {'etcd_status_table': etcd_status_table}
