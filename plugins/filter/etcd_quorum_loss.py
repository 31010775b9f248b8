# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_quorum_loss
short_description: Whether etcd lost quorum, and which nodes must be started to get it back
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - For the end of a stop or a recovery. When etcd has no quorum, a message naming how many voters must come
      back, which nodes are down and the commands that bring them back.
options:
  _input:
    description: A view from P(kubemaint.control_plane.etcd_cluster_view#filter), or the registered result of
        M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  member_hosts:
    description:
      - The control-plane hosts' variables (for example C(groups['control_plane'] | map('extract', hostvars))),
        to name inventory hosts rather than etcd members; a host's member is its C(node_name), else its inventory name.
      - Or a dict from member name to host.
    type: raw
'''

EXAMPLES = r'''
- name: Fail loudly when the stop cost quorum
  ansible.builtin.fail:
    msg: "{{ (view | kubemaint.control_plane.etcd_quorum_loss).message }}"
  when: not view.has_quorum
'''

RETURN = r'''
_value:
  description: The finding.
  type: dict
  contains:
    has_quorum:
      description: Whether etcd has quorum.
      type: bool
    missing:
      description: How many more voters must be healthy.
      type: int
    down:
      description: Hosts (or members) of the voters that are not healthy.
      type: list
      elements: str
    message:
      description: What to tell the operator.
      type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    member_host_map,
    quorum_loss,
)


def etcd_quorum_loss(state, member_hosts=None):
    return quorum_loss(state, member_host_map(member_hosts))


class FilterModule(object):
    def filters(self):
        return {'etcd_quorum_loss': etcd_quorum_loss}
