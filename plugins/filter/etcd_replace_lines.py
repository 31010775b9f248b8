# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_replace_lines
short_description: What the replace_member playbook prints before and after it changes the cluster
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - For the member_recovery role's replace. The member table of the cluster (as
    P(kubemaint.control_plane.etcd_status_table#filter) prints it), then one line about the node - what will be done
    (it answers, so it rejoins; it does not, so its member is removed only), or with O(done) what was done and, for a
    node that did not answer, the command that rejoins it once it is back.
options:
  _input:
    description: The cluster view the cluster_state role reads (C(cluster_state_view)).
    type: dict
    required: true
  node:
    description: The inventory host of the node replaced.
    type: str
    required: true
  member:
    description: Its etcd member name.
    type: str
    required: true
  reachable:
    description: Whether the node answers.
    type: bool
    required: true
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    required: true
  done:
    description: After the change, the C(member_recovery_result) of the rejoin or of the removal (V({}) when neither
        ran); not given, the line says what will be done.
    type: dict
  joined:
    description: Give the lines as one string, one line each (for the YAML result format, which folds long list items).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Print what will be done
  ansible.builtin.debug:
    msg: "{{ cluster_state_view | kubemaint.control_plane.etcd_replace_lines('cp-02', 'cp-02', true, ansible_check_mode) }}"
'''

RETURN = r'''
_value:
  description: The lines, or with O(joined) one string of them.
  type: raw
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.replace import replace_lines


def etcd_replace_lines(view, node, member, reachable, check_mode, done=None, joined=False):
    lines = replace_lines(dict(view or {}), node, member, boolean(reachable, strict=False),
                          boolean(check_mode, strict=False), None if done is None else dict(done))
    return '\n'.join(lines) if boolean(joined, strict=False) else lines


class FilterModule(object):
    def filters(self):
        return {'etcd_replace_lines': etcd_replace_lines}
