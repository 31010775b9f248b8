# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: control_plane_target
short_description: Whether a run targets hosts of the control-plane group, and only those
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - Refuses when the control-plane group does not exist or has no host, when O(node) names no host of it, when
      O(limit) names something that is no host or group of the inventory, or selects hosts outside the group.
    - Without this, ansible-playbook skips a play whose hosts match nothing and exits 0.
    - The message names the group and its hosts (or the inventory's groups) and says C(-e control_plane_group=NAME).
options:
  _input:
    description: The inventory's groups, Ansible's C(groups).
    type: dict
    required: true
  group:
    description: The name of the control-plane group.
    type: str
    required: true
  limit:
    description: C(ansible_limit), the run's C(--limit); null without one.
    type: raw
  node:
    description: The C(node) variable; null or empty when not given.
    type: str
  limited_hosts:
    description: The hosts that a play over C(all,localhost) matched under O(limit) (its C(ansible_play_hosts_all)).
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Refuse a wrong target
  ansible.builtin.assert:
    that: target.ok
    fail_msg: "{{ target.message }}"
  vars:
    target: >-
      {{ groups | kubemaint.control_plane.control_plane_target(control_plane_group | default('control_plane'),
         limit=ansible_limit | default(none), node=node | default(none), limited_hosts=ansible_play_hosts_all) }}
'''

RETURN = r'''
_value:
  description: The decision.
  type: dict
  contains:
    ok:
      description: The run targets hosts of the group, and only those.
      type: bool
    group:
      description: The group's name.
      type: str
    hosts:
      description: The group's hosts.
      type: list
      elements: str
    selected:
      description: The group's hosts the run acts on (the limit's, or O(node)).
      type: list
      elements: str
    message:
      description: Why the target is wrong and what to do; empty when O(ok).
      type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._inventory.target import (
    control_plane_target,
)


class FilterModule(object):
    def filters(self):
        return {'control_plane_target': control_plane_target}
