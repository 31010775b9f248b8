# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_rejoin_result
short_description: What member_recovery's rejoin did, and the line or failure that says it
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - For the member_recovery role's rejoin. From the rejoin's plan and its steps' registered results,
      C(member_recovery_result) (the actions taken in order, where the old data directory went) and the line that
      reports it.
    - With O(failed_task), the result after a failure and the message the run fails with, which names the failed
      task, where the old data went and the command that brings the node back.
options:
  _input:
    description: The rejoin's plan, from P(kubemaint.control_plane.etcd_member_recovery_plan#filter) (empty when the
        run failed before it was made).
    type: dict
    required: true
  host:
    description: The inventory host that rejoins.
    type: str
    required: true
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    required: true
  results:
    description: The steps' registered results by step (C(stopped), C(moved), C(removed), C(added), C(flags),
        C(etcd_started), C(promoted), C(pods_started), C(rest_started)); a missing or skipped one did nothing.
        When C(moved) changed, the old data directory went to the plan's C(moved_to).
    type: dict
  moved_to:
    description: Where the old etcd data directory was moved; empty when it stayed (or when O(results) says it).
    type: str
  member:
    description: The etcd member, when the plan was not made.
    type: str
  failed_task:
    description: The name of the task that failed, after a failure.
    type: str
  retry_command:
    description: The command that runs the rejoin again, named after a failure.
    type: str
'''

EXAMPLES = r'''
- name: Report the rejoin
  ansible.builtin.debug:
    msg: "{{ (plan | kubemaint.control_plane.etcd_rejoin_result(inventory_hostname, ansible_check_mode, results)).line }}"
'''

RETURN = r'''
_value:
  description: What the rejoin did.
  type: dict
  contains:
    result:
      description: C(member_recovery_result), with C(member), C(host), C(plan), C(check_mode), C(actions) and
        C(data_dir_moved_to).
      type: dict
    line:
      description: The line that reports the rejoin (without O(failed_task)).
      type: str
    failure:
      description: The message the run fails with (with O(failed_task)); else empty.
      type: str
    moved:
      description: The line that says where the old etcd data directory went (would go, in check mode), from the
        plan's C(data_dir) to O(moved_to); empty when it stayed.
      type: str
'''

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.rejoin import (
    moved_line,
    rejoin_failure,
    rejoin_line,
    rejoin_result,
)


def etcd_rejoin_result(plan, host, check_mode, results=None, moved_to=None, member=None, failed_task=None,
                       retry_command=''):
    plan = dict(plan or {})
    check_mode = boolean(check_mode, strict=False)
    results = dict(results or {})
    if not moved_to and (results.get('moved') or {}).get('changed'):
        moved_to = plan.get('moved_to')
    moved = moved_line(host, plan.get('data_dir'), moved_to, check_mode)
    if failed_task:
        result, failure = rejoin_failure(plan, host, plan.get('member') or member, check_mode, failed_task, moved_to,
                                         retry_command)
        return {'result': result, 'line': '', 'failure': failure, 'moved': moved}
    result = rejoin_result(plan, host, check_mode, results, moved_to)
    return {'result': result, 'line': rejoin_line(result), 'failure': '', 'moved': moved}


class FilterModule(object):
    def filters(self):
        return {'etcd_rejoin_result': etcd_rejoin_result}
