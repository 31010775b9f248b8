# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: quorum_guard
short_description: The quorum guard's verdict, whether this control-plane node may stop now and every reason if not
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - Refuses when etcd cannot be read, when the node is not an etcd member, when etcd has no quorum or would
      not keep a majority of its voters healthy and caught up without the node, when another voter is
      unreachable, unhealthy or trails the leader, when an etcd alarm is raised, when another control-plane host
      cannot be checked or has stopped pods, and when a stray manifest in a manifests directory defines a
      control-plane pod a second time.
    - Each reason is a sentence for the operator.
options:
  _input:
    description: A view from P(kubemaint.control_plane.etcd_cluster_view#filter), or the registered result of
        M(kubemaint.control_plane.etcd_member_info), read right before the stop.
    type: dict
    required: true
  member:
    description: The etcd member name of the node to stop.
    type: str
    required: true
  host:
    description: The inventory name of the node to stop (for messages); defaults to O(member).
    type: str
  target_pods:
    description: The node's own M(kubemaint.control_plane.static_pod_info) result (its stray manifests refuse the stop).
    type: dict
  peer_pods:
    description: The registered results of M(kubemaint.control_plane.static_pod_info) looped over the control-plane
        hosts (C(item) is the host), unreachable ones included. The result of O(host) serves when O(target_pods) is
        not given; the others are peers.
    type: list
    elements: dict
  pods_by_host:
    description:
      - M(kubemaint.control_plane.static_pod_info) results by inventory host, read on every host at once right
        before the guard (a play over all control-plane hosts registers them; unreachable ones included).
      - The entry of O(host) serves when O(target_pods) is not given; every other entry counts as a peer's, like an
        item of O(peer_pods).
    type: dict
    version_added: 0.2.0
  max_applied_lag:
    description: How many applied raft entries a voter may trail the leader by.
    type: int
    default: 1000
  allow_quorum_loss:
    description: Proceed although there are reasons to refuse (they are still listed). Never for a node that is
      no etcd member (O(member) wrong), as the guard cannot judge a stop it cannot place.
    type: bool
    default: false
  override_name:
    description: The variable that sets O(allow_quorum_loss) for the caller, named in RV(_value.advice).
    type: str
    default: allow_quorum_loss
  snapshot:
    description: The caller wants a snapshot of the member taken right before its etcd stops; RV(_value.snapshot)
      says whether it is taken.
    type: bool
    default: false
  ignore_alarms:
    description: Alarm kinds (V(NOSPACE)) that do not refuse, for a caller that is there to clear them (the
      C(recover_nospace) playbook defragments every member under NOSPACE). Any other alarm still refuses.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Weigh the guard
  ansible.builtin.set_fact:
    verdict: >-
      {{ view | kubemaint.control_plane.quorum_guard(member='lab-cp-01', host='lab-cp-01',
         target_pods=own_pods, peer_pods=other_pods.results) }}
'''

RETURN = r'''
_value:
  description: The verdict.
  type: dict
  contains:
    safe:
      description: No reason to refuse.
      type: bool
    proceed:
      description: Safe, or overridden by O(allow_quorum_loss).
      type: bool
    overridden:
      description: There are reasons to refuse and O(allow_quorum_loss) overrides them.
      type: bool
    advice:
      description: What to do about the problems, empty when there are none; names O(override_name) only where
        the override applies.
      type: str
    problems:
      description: Every reason to refuse.
      type: list
      elements: str
    seen:
      description: One line on the state the verdict was taken on.
      type: str
    host:
      description: The node.
      type: str
    member:
      description: Its etcd member.
      type: str
    move_leader:
      description: Move leadership away before the stop - the node's etcd runs (or its pods are not known), etcd has
        quorum and the read saw the node lead or saw no leader. False when another member led; should the node become
        leader after the read, its graceful stop hands leadership over.
      type: bool
    snapshot:
      description: Take the snapshot of the node's member in the stop's own module run - O(snapshot) asked for it
        and etcd has quorum (without quorum, after an override, none can be taken).
      type: bool
    line:
      description: The one line that reports a verdict that lets the stop go ahead ("may stop", or the override's
        warning); empty when it refuses.
      type: str
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    guard_verdict,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.node_restart import proceed_line


def quorum_guard(state, member, host=None, target_pods=None, peer_pods=None,
                 max_applied_lag=DEFAULT_MAX_APPLIED_LAG, allow_quorum_loss=False, pods_by_host=None,
                 override_name='allow_quorum_loss', ignore_alarms=None, snapshot=False):
    verdict = guard_verdict(state, member, target_host=host, target_pods=target_pods,
                            peer_pods=peer_pods, max_applied_lag=max_applied_lag,
                            allow_quorum_loss=boolean(allow_quorum_loss, strict=False), pods_by_host=pods_by_host,
                            override_name=override_name, ignore_alarms=ignore_alarms,
                            snapshot=boolean(snapshot, strict=False))
    verdict['line'] = proceed_line(verdict, override_name) if verdict['proceed'] else ''
    return verdict


class FilterModule(object):
    def filters(self):
        return {'quorum_guard': quorum_guard}
