# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_member_caught_up
short_description: Whether an etcd member is healthy and caught up with the leader
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - True when the cluster has quorum and the named member is healthy with an applied index within
      O(max_applied_lag) of the leader's (the leader itself counts as caught up).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info), or a view from
        P(kubemaint.control_plane.etcd_cluster_view#filter).
    type: dict
    required: true
  member:
    description: The member name (kubeadm's node name).
    type: str
    required: true
  max_applied_lag:
    description: How many applied raft entries the member may trail the leader by.
    type: int
    default: 1000
'''

EXAMPLES = r'''
- name: Wait until this node's member caught up
  kubemaint.control_plane.etcd_member_info:
  register: etcd
  until: etcd | kubemaint.control_plane.etcd_member_caught_up(inventory_hostname)
  retries: 60
  delay: 2
'''

RETURN = r'''
_value:
  description: Whether the member is caught up.
  type: bool
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    member_caught_up,
)


def etcd_member_caught_up(state, member, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    return member_caught_up(state, member, max_applied_lag)


class FilterModule(object):
    def filters(self):
        return {'etcd_member_caught_up': etcd_member_caught_up}
