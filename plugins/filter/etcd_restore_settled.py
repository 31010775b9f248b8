# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_restore_settled
short_description: Whether recover may stop waiting for a member it just started
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - True when the cluster has quorum and the member caught up with the leader, or when fewer voters run than
      quorum needs by etcd's member list, or when no member answered O(quiet_tries) reads in a row (the next
      nodes must come back before quorum can).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  member:
    description: The member name.
    type: str
    required: true
  max_applied_lag:
    description: How many applied raft entries the member may trail the leader by.
    type: int
    default: 1000
  quiet_tries:
    description:
      - When no member answers at all, how many reads (the C(attempts) of an C(until) loop) to wait before
        concluding that quorum cannot form yet. A restarted etcd serves no client before it has quorum.
    type: int
    default: 5
'''

EXAMPLES = r'''
- name: Wait for the member recover started
  kubemaint.control_plane.etcd_member_info:
  register: etcd
  until: etcd | kubemaint.control_plane.etcd_restore_settled('lab-cp-01')
  retries: 90
  delay: 2
'''

RETURN = r'''
_value:
  description: Whether waiting is over.
  type: bool
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    restore_settled,
)


def etcd_restore_settled(state, member, max_applied_lag=DEFAULT_MAX_APPLIED_LAG, quiet_tries=5):
    return restore_settled(state, member, max_applied_lag, quiet_tries)


class FilterModule(object):
    def filters(self):
        return {'etcd_restore_settled': etcd_restore_settled}
