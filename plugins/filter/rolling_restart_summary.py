# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: rolling_restart_summary
short_description: The closing lines of a rolling restart, one per node and the cluster's quorum
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - For each host, what the run did to it (restarted in place and how long that took, stopped and started the
    long way, stopped for the maintenance tasks and how long it was down, or not restarted), whether its etcd member
    is healthy and whether it leads; then whether etcd has quorum now.
  - Reads, for each host, C(node_name) (its etcd member, else the host's name), C(_control_plane_node_restart)
    (what M(kubemaint.control_plane.node_restart) returned) and C(_rolling_restart_stopped_at) and
    C(_rolling_restart_started_at) (a turn with maintenance tasks).
options:
  _input:
    description: The hosts, in the order of the run.
    type: list
    elements: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  etcd:
    description: The result of M(kubemaint.control_plane.etcd_member_info) read after the last node.
    type: dict
    required: true
  check_mode:
    description: The run is in check mode.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Print one line per node and the cluster now
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts | kubemaint.control_plane.rolling_restart_summary(hostvars, etcd_read, ansible_check_mode) }}"
'''

RETURN = r'''
_value:
  description: The lines, one per host, then the cluster's quorum.
  type: list
  elements: str
'''

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.node_restart import summary_lines


def rolling_restart_summary(hosts, hostvars, etcd, check_mode=False):
    turns = []
    for host in hosts or []:
        facts = hostvars[host] if host in hostvars else {}
        turns.append({
            'host': to_text(host),
            'member': to_text(facts.get('node_name') or host),
            'restart': facts.get('_control_plane_node_restart') or {},
            'stopped_at': facts.get('_rolling_restart_stopped_at'),
            'started_at': facts.get('_rolling_restart_started_at'),
        })
    return summary_lines(turns, etcd, bool(check_mode))


class FilterModule(object):
    def filters(self):
        return {'rolling_restart_summary': rolling_restart_summary}
