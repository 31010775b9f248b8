# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_removal_result
short_description: What member_recovery's removal of a lost node's member did, or the failure that says it did not
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - For the member_recovery role's remove. From the removal's plan and its registered result, C(member_recovery_result).
  - With O(failed_task), the message the run fails with, which names the member, the failed task and the command
    that runs the removal again.
options:
  _input:
    description: The removal's plan, from P(kubemaint.control_plane.etcd_member_recovery_plan#filter).
    type: dict
    required: true
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    required: true
  removed:
    description: The removal's registered result (M(kubemaint.control_plane.etcd_member)); missing or skipped, nothing
        was removed.
    type: dict
  member:
    description: The etcd member, named by the failure message.
    type: str
  failed_task:
    description: The name of the task that failed, after a failure.
    type: str
  retry_command:
    description: The command that runs the removal again, named after a failure.
    type: str
'''

EXAMPLES = r'''
- name: Remember what the removal did
  ansible.builtin.set_fact:
    member_recovery_result: "{{ (plan | kubemaint.control_plane.etcd_removal_result(ansible_check_mode, removed)).result }}"
'''

RETURN = r'''
_value:
  description: What the removal did.
  type: dict
  contains:
    result:
      description: C(member_recovery_result), with C(member), C(plan), C(check_mode), C(actions) and
        C(data_dir_moved_to) (none).
      type: dict
    failure:
      description: The message the run fails with (with O(failed_task)); else empty.
      type: str
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.rejoin import (
    removal_failure,
    removal_result,
)


def etcd_removal_result(plan, check_mode, removed=None, member=None, failed_task=None, retry_command=''):
    plan = dict(plan or {})
    return {'result': removal_result(plan, boolean(check_mode, strict=False), dict(removed or {})),
            'failure': removal_failure(member or plan.get('member'), failed_task, retry_command) if failed_task else ''}


class FilterModule(object):
    def filters(self):
        return {'etcd_removal_result': etcd_removal_result}
