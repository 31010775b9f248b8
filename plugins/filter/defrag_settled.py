# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: defrag_settled
short_description: Whether a defragmented member's turn is over - every member healthy and it caught up again
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - True when etcd could be read, every member (learners too) is healthy and the member caught up with the
      leader within O(max_applied_lag) applied entries.
    - The C(defrag) and C(recover_nospace) playbooks poll M(kubemaint.control_plane.etcd_member_info) until it is
      true after each member. Alarms are not looked at - the plan refused them before the run (C(recover_nospace)
      is there to clear NOSPACE), and the next member's quorum guard refuses a new one.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  member:
    description: The etcd member name that was defragmented.
    type: str
    required: true
  max_applied_lag:
    description: How many applied raft entries the member may trail the leader by.
    type: int
    default: 1000
'''

EXAMPLES = r'''
- name: Wait until every member is healthy and lab-cp-02 caught up
  kubemaint.control_plane.etcd_member_info:
  register: poll
  until: poll | kubemaint.control_plane.defrag_settled('lab-cp-02')
  retries: 60
  delay: 1
'''

RETURN = r'''
_value:
  description: Whether the turn is over.
  type: bool
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.defrag import settled
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


@reported_as_filter_error('defrag_settled', (TypeError, ValueError))
def defrag_settled(state, member, max_applied_lag=1000):
    return settled(state, member, int(max_applied_lag))


class FilterModule(object):
    def filters(self):
        return {'defrag_settled': defrag_settled}
