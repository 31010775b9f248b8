# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: defrag_plan
short_description: Which etcd members a rolling defragmentation takes, in which order, or why it refuses
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - A member needs defragmenting when at least O(min_free_fraction) of its database file and at least
    O(min_free_bytes) are free, or when its quota usage is above O(max_quota_usage) and something is free to reclaim.
  - The members that need it are taken one at a time, followers first by name, the leader last; its turn is flagged
    so that leadership is moved away first. Learners are never defragmented by the rolling plan.
  - Refuses when etcd could not be read, a member does not answer, a voter is not healthy, there is no quorum or no
    leader, or an alarm is raised; a raised NOSPACE names the C(recover_nospace) playbook instead.
  - Bad thresholds fail naming the playbook variable (C(defrag_min_free_fraction), C(defrag_min_free_bytes),
    C(defrag_max_quota_usage)).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info) (or its C(members) list), read
      right before the plan.
    type: raw
    required: true
  leader:
    description: The leader's member name or id; by default the member that reports it leads.
    type: str
  min_free_fraction:
    description: The fraction of the file that must be free (0 to 1).
    type: float
    default: 0.45
  min_free_bytes:
    description: The bytes that must be free.
    type: int
    default: 104857600
  max_quota_usage:
    description: Above this quota usage (db size over quota, 0 to 1) a member is defragmented whatever is free.
    type: float
    default: 0.8
  force:
    description: Take every healthy voter, whatever the rule says (still never a learner, never when refused).
    type: bool
    default: false
  hosts:
    description: The variables of the control-plane hosts (C(ansible_play_hosts_all | map('extract', hostvars))), to
      name each turn's inventory host; a host's C(node_name), else its inventory name, is its etcd member name.
    type: list
    elements: dict
'''

EXAMPLES = r'''
- name: Plan the rolling defragmentation
  ansible.builtin.set_fact:
    plan: >-
      {{ etcd_read | kubemaint.control_plane.defrag_plan(min_free_fraction=defrag_min_free_fraction,
         min_free_bytes=defrag_min_free_bytes, max_quota_usage=defrag_max_quota_usage, force=defrag_force) }}

- name: Say what it will do, one line per member
  ansible.builtin.debug:
    msg: "{{ plan.lines + [plan.summary] }}"
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    proceed:
      description: Nothing refuses the plan (it may still have nothing to do, RV(_value.order) empty).
      type: bool
    order:
      description: The member names to defragment, one at a time in this order; empty when refused.
      type: list
      elements: str
    turns:
      description: One entry per name of RV(_value.order) - C(member), C(id), C(endpoint), C(host) (the inventory host
        of the member, from O(hosts); empty when none), C(is_leader), C(is_learner),
        C(move_leader) (move leadership away before this turn) and C(reason) (the rule's figures).
      type: list
      elements: dict
    leader:
      description: The leader's name, empty when none was seen.
      type: str
    move_leader_before:
      description: The member before whose turn leadership must move away (the leader when it is in the order), else empty.
      type: str
    skipped:
      description: Member name to why it is not defragmented (the rule is not met, a learner).
      type: dict
    refused:
      description: Every reason the cluster is not fit for the defragmentation; empty when it may go ahead.
      type: list
      elements: str
    lines:
      description: What to print, one line per member.
      type: list
      elements: str
    summary:
      description: One line on the whole plan.
      type: str
    force:
      description: Whether O(force) was set.
      type: bool
    thresholds:
      description: The thresholds used - C(min_free_fraction), C(min_free_bytes), C(max_quota_usage).
      type: dict
'''

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd import defrag
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


@reported_as_filter_error('defrag_plan', (defrag.SpaceInputError, TypeError))
def defrag_plan(state, leader=None, min_free_fraction=defrag.DEFAULT_MIN_FREE_FRACTION,
                min_free_bytes=defrag.DEFAULT_MIN_FREE_BYTES, max_quota_usage=defrag.DEFAULT_MAX_QUOTA_USAGE,
                force=False, hosts=None):
    return defrag.defrag_plan(state, leader=leader, min_free_fraction=min_free_fraction, min_free_bytes=min_free_bytes,
                              max_quota_usage=max_quota_usage, force=boolean(force, strict=True), hosts=hosts)


class FilterModule(object):
    def filters(self):
        return {'defrag_plan': defrag_plan}
