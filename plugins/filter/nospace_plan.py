# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: nospace_plan
short_description: The way out of etcd's NOSPACE alarm, or why compaction and defragmentation cannot free enough
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - Whether NOSPACE is raised and on which members.
  - When it is, the steps - compact to the current revision, defragment every member one at a time (the leader last,
    once leadership has moved away), disarm NOSPACE, check that a write succeeds.
  - Refuses when a member does not answer, a voter is not healthy, there is no quorum or no leader, another alarm is
    raised, or the live data alone fills the quota (the member with the most in use holds at least
    O(live_data_limit) of its quota); then the message gives the figures and what to do (raise
    C(--quota-backend-bytes) on every node, one at a time, with M(kubemaint.control_plane.static_pod_flags); etcd
    advises at most 8 GiB).
  - RV(_value.disarm) says whether NOSPACE may be disarmed now - every member's db size under O(disarm_below) of its
    quota; read it again after the defragmentation.
  - Bad parameters fail naming the playbook variable (C(nospace_quota_bytes), C(nospace_live_data_limit),
    C(nospace_disarm_below)).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info) (or its C(members) list).
    type: raw
    required: true
  alarms:
    description: More raised alarms, as etcd_member_info's C(cluster.alarms) holds them (dicts with C(alarm) and
      C(member) or C(member_id)) or as C(ALARM on MEMBER); those of O(_input) always count.
    type: list
    elements: raw
  quota_bytes:
    description: The quota (C(--quota-backend-bytes)) of members that do not report C(quota_bytes); etcd's default
      2 GiB when not given.
    type: int
  live_data_limit:
    description: Refuse when the member with the most in use holds at least this fraction of its quota.
    type: float
    default: 0.9
  disarm_below:
    description: NOSPACE may be disarmed once every member's db size is under this fraction of its quota.
    type: float
    default: 0.9
  compacted:
    description:
      - Whether O(_input) was read after the keyspace was compacted. Before the compaction what is in use still holds
        history, so the refusal for live data that fills the quota (O(live_data_limit)) waits for a read after it;
        V(false) plans the steps up to the compaction.
    type: bool
    default: true
  hosts:
    description: The variables of the control-plane hosts (C(ansible_play_hosts_all | map('extract', hostvars))), to
      name each turn's inventory host; a host's C(node_name), else its inventory name, is its etcd member name.
    type: list
    elements: dict
'''

EXAMPLES = r'''
- name: Plan the way out of NOSPACE
  ansible.builtin.set_fact:
    nospace: "{{ etcd_read | kubemaint.control_plane.nospace_plan(quota_bytes=nospace_quota_bytes | default(none)) }}"

- name: Refuse when compaction and defragmentation cannot free enough
  ansible.builtin.fail:
    msg: "{{ nospace.summary }}"
  when: nospace.raised and not nospace.proceed
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    raised:
      description: NOSPACE is raised.
      type: bool
    members:
      description: The members NOSPACE is raised on.
      type: list
      elements: str
    alarms:
      description: Every raised alarm kind to the members it is raised on.
      type: dict
    proceed:
      description: NOSPACE is raised and nothing refuses the steps.
      type: bool
    refused:
      description: Every reason the steps cannot go ahead, with figures and what to do.
      type: list
      elements: str
    steps:
      description: The steps in order, each with C(action) (C(compact), C(defragment), C(disarm), C(check_write)),
        C(members) (the defragmentation's order) and C(text); empty unless RV(_value.proceed).
      type: list
      elements: dict
    order:
      description: The members to defragment, one at a time, the leader last; empty unless RV(_value.proceed).
      type: list
      elements: str
    turns:
      description: One entry per name of RV(_value.order), as the defrag_plan filter's C(turns) - C(member), C(id),
        C(endpoint), C(host), C(is_leader), C(is_learner), C(move_leader) and C(reason).
      type: list
      elements: dict
    leader:
      description: The leader's name, empty when none was seen.
      type: str
    disarm:
      description: C(ready) (every member is under O(disarm_below) of its quota) and C(reason).
      type: dict
    lines:
      description: One line per member - db size, quota, in use, free, NOSPACE.
      type: list
      elements: str
    summary:
      description: One line on the whole plan.
      type: str
    thresholds:
      description: C(quota_bytes), C(live_data_limit), C(disarm_below) as used.
      type: dict
'''

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd import defrag
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


@reported_as_filter_error('nospace_plan', (defrag.SpaceInputError, TypeError))
def nospace_plan(state, alarms=None, quota_bytes=None, live_data_limit=defrag.DEFAULT_LIVE_DATA_LIMIT,
                 disarm_below=defrag.DEFAULT_DISARM_BELOW, hosts=None, compacted=True):
    return defrag.nospace_plan(state, alarms=alarms, quota_bytes=quota_bytes, live_data_limit=live_data_limit,
                               disarm_below=disarm_below, hosts=hosts, compacted=boolean(compacted, strict=True))


class FilterModule(object):
    def filters(self):
        return {'nospace_plan': nospace_plan}
