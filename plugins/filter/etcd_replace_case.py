# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_replace_case
short_description: Which case the replace_member playbook is in, and whether it refuses before anything changes
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - For the member_recovery role's replace. Whether the node answers (it is rejoined) or not (its member is removed
    only), its etcd member name, the host that talks to etcd (by the rule of
    P(kubemaint.control_plane.etcd_connection#filter), the node avoided, only hosts that answered), and the message the
    run refuses with before anything changes.
  - "Refused, in this order: a node that answers whose etcd is only stopped, its data kept (unless O(data_lost)):
    C(kubemaint.control_plane.start_node) or C(kubemaint.control_plane.recover) brings it back
    with its data; then a run where no host other than the node answers."
options:
  _input:
    description: Every inventory host's variables, C(hostvars).
    type: dict
    required: true
  node:
    description: The inventory host of the node to replace.
    type: str
    required: true
  group:
    description: The name of the control-plane group, for the message.
    type: str
    required: true
  group_hosts:
    description: The hosts of that group.
    type: list
    elements: str
    required: true
  play_hosts:
    description: The hosts still running in the play, C(ansible_play_hosts).
    type: list
    elements: str
    required: true
  answered:
    description: The registered result of a task every host ran (a ping) and one of its keys,
      C(<variable>.<key>); a host whose result holds the key answered.
    type: str
    required: true
  reader:
    description: The host that talks to etcd, chosen by the caller; empty follows the rule.
    type: str
    default: ''
  pods:
    description: The node's P(kubemaint.control_plane.static_pod_info#module) result, once it was read; without it
      only the second refusal is weighed.
    type: dict
  data_lost:
    description: The node's etcd data is known to be lost (a stopped etcd is then replaced too).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Choose the case and the host that talks to etcd
  ansible.builtin.set_fact:
    replace_case: >-
      {{ hostvars | kubemaint.control_plane.etcd_replace_case('cp-02', 'control_plane', groups['control_plane'],
           ansible_play_hosts, answered='ping_result.ping') }}
  run_once: true
'''

RETURN = r'''
_value:
  description: The case.
  type: dict
  contains:
    reachable:
      description: Whether the node answered.
      type: bool
    member:
      description: The node's etcd member name (its C(node_name), else its inventory name).
      type: str
    reader:
      description: The host that talks to etcd; empty when no host other than the node answered.
      type: str
    refusal:
      description: The message the run refuses with, changing nothing; empty when it goes on.
      type: str
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.replace import replace_case
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


def etcd_replace_case(hostvars, node, group, group_hosts, play_hosts, answered, reader='', pods=None, data_lost=False):
    return replace_case(hostvars, node, group, group_hosts, play_hosts, reader=reader, answered=answered,
                        pods=None if pods is None else dict(pods), data_lost=boolean(data_lost, strict=False))


class FilterModule(object):
    def filters(self):
        return {'etcd_replace_case': reported_as_filter_error('etcd_replace_case', (TypeError, ValueError))(
            etcd_replace_case)}
