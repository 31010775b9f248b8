# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_recover_plan
short_description: Which hosts recover restores, and whose pods it waits for once quorum is back
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - For the recover role. From every host's M(kubemaint.control_plane.static_pod_info) result, the line that says
      what was found on it, the hosts to restore (one at a time, in play order) and the hosts whose pods can be read
      (they read the cluster at the end).
    - With the hosts' M(kubemaint.control_plane.node_recover) results, whether etcd had quorum after a host's turn
      and the hosts whose pods came back before quorum, to wait for once it is back (none while it is not).
options:
  _input:
    description: Every host of the play mapped to its M(kubemaint.control_plane.static_pod_info) result (unreachable
        ones included).
    type: dict
    required: true
  restored:
    description: The hosts mapped to their M(kubemaint.control_plane.node_recover) results (skipped ones included).
    type: dict
'''

EXAMPLES = r'''
- name: Show what was found
  ansible.builtin.debug:
    msg: "{{ (found_by_host | kubemaint.control_plane.etcd_recover_plan).found }}"
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    found:
      description: One line per host, its name and what was found on it (C(UNREACHABLE, skipped) when it could not be read).
      type: list
      elements: str
    restore:
      description: The hosts to restore, in play order.
      type: list
      elements: str
    readers:
      description: The hosts whose pods could be read.
      type: list
      elements: str
    has_quorum:
      description: Whether etcd had quorum after some host's turn.
      type: bool
    wait_for:
      description: The hosts whose pods came back before quorum, once quorum is back; else empty.
      type: list
      elements: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recover_plan import recover_plan


def etcd_recover_plan(reports, restored=None):
    return recover_plan(dict(reports or {}), dict(restored or {}))


class FilterModule(object):
    def filters(self):
        return {'etcd_recover_plan': etcd_recover_plan}
