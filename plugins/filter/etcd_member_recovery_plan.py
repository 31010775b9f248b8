# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_member_recovery_plan
short_description: What it takes to bring a node's etcd member back, or to remove the member of a lost node
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - For the member_recovery role. With O(rejoin=true) (the node can be reached), V(none) when the node's
      member is a healthy voter, V(promote) when it is a running learner, V(rejoin) otherwise (its stale member
      removed, its data moved aside, added back as a learner). With O(rejoin=false), V(remove) or V(none).
    - C(refused) lists every reason not to go ahead (no quorum, a removal that would cost quorum, another voter
      down or another learner present for a rejoin, the peer URL held by another member, a member of an
      unreachable node whose etcd still answers); empty when the plan may proceed.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  member:
    description: The node's etcd member name (kubeadm's node name).
    type: str
    required: true
  etcd_flags:
    description: The flags of the node's etcd manifest (C(flags_before) of M(kubemaint.control_plane.static_pod_flags)),
        for its peer URL and data directory.
    type: dict
    default: {}
  kubernetes_dir:
    description: The node's kubernetes_dir; the data directory is re-rooted below its node root.
    type: str
    default: /etc/kubernetes
  rejoin:
    description: Whether the node can be reached and rejoin (V(false) removes its member only).
    type: bool
    default: true
  check_mode:
    description: Whether the run is in check mode (C(ansible_check_mode)), for RV(_value.steps).
    type: bool
    default: false
  host:
    description: The node's inventory host, named by RV(_value.line) and RV(_value.refusal) on a rejoin.
    type: str
  stop:
    description: The pods running on the node that the rejoin stops first (C(stop) of
        P(kubemaint.control_plane.etcd_rejoin_manifests#filter)); none leaves the step C(stop) out.
    type: list
    elements: str
  now:
    description: The time of the decision (UTC, for example C(20260101T000000Z)), for RV(_value.moved_to).
    type: str
'''

EXAMPLES = r'''
- name: Decide what the node's member needs
  ansible.builtin.set_fact:
    plan: "{{ info | kubemaint.control_plane.etcd_member_recovery_plan(member='cp-02', etcd_flags=manifest.flags_before) }}"
'''

RETURN = r'''
_value:
  description: The plan, with action, remove_id, found, peer_urls, data_dir, refused, seen and reason.
  type: dict
  contains:
    steps:
      description:
        - The steps of the role that run, in order; empty when the plan is refused or there is nothing to do.
        - A rejoin's among V(stop), V(move_data), V(remove), V(add), V(flags), V(start_etcd), V(wait), V(promote),
          V(start_rest); a removal's V(remove).
      type: list
      elements: str
    line:
      description: What was seen and what will be done (or why not).
      type: str
    refusal:
      description: The message a refused plan fails with; empty when it is not refused.
      type: str
    moved_to:
      description: Where a rejoin moves the node's old data directory, a sibling of it named
        C(<data-dir>.replaced-<now>); null without O(now) or when the plan is no rejoin.
      type: str
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import recovery_plan


def etcd_member_recovery_plan(info, member, etcd_flags=None, kubernetes_dir='/etc/kubernetes', rejoin=True,
                              check_mode=False, host=None, stop=None, now=None):
    return recovery_plan(info, member, etcd_flags=etcd_flags, kubernetes_dir=kubernetes_dir,
                         rejoin=boolean(rejoin, strict=False), check_mode=boolean(check_mode, strict=False),
                         host=host, stop=list(stop or []), now=now)


class FilterModule(object):
    def filters(self):
        return {'etcd_member_recovery_plan': etcd_member_recovery_plan}
