# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_restore_plan
short_description: What restore_quorum does, and from which etcd member it rebuilds the cluster
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - Without quorum, chooses the member the cluster is rebuilt from among the members that answered
      (each one's status is read from that member alone, which etcd answers without quorum); the highest raft
      term, then the highest applied index; ties go to the member that leads, then to the lowest member ID.
      The plan is then a snapshot of it, C(--force-new-cluster) until it leads a cluster of one, the flag
      removed again, and every other reachable node of the group rejoined one at a time.
    - With quorum, the nodes of the group that are no healthy voter and lost their data (or are no member)
      are rejoined; nothing is done when every node is a healthy voter.
    - Refuses when no member answered, when the best member's host cannot be reached, and when the etcd of
      a reachable node does not answer but keeps its data (recover may bring quorum back with nothing lost),
      unless O(discard_stopped_data); and when a node it would rejoin could not be rejoined (its stopped manifests
      not found where C(kubemaint.control_plane.recover) finds them, an untrusted copy, a stray), naming the node
      and why, so that nothing changes rather than failing after the rebuild.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info), read through every
        control-plane node's endpoint.
    type: dict
    required: true
  host_vars:
    description: The control-plane hosts' variables in inventory order
        (C(groups['control_plane'] | map('extract', hostvars))); a host's member is its C(node_name), else its
        inventory name.
    type: list
    elements: dict
    required: true
  found_key:
    description: The name of each host's registered M(kubemaint.control_plane.static_pod_info) result (a host
        without one was not reached).
    type: str
    required: true
  confirm:
    description: The confirmation given (C(restore_quorum_confirm)); the plan is carried out only when it names
        the member the plan chooses.
    type: str
  check_mode:
    description: Whether the run is in check mode (then nothing is carried out).
    type: bool
    default: false
  discard_stopped_data:
    description: Rebuild even when a node whose etcd does not answer keeps its data (that data is moved aside).
    type: bool
    default: false
  member:
    description:
      - The member to rebuild from when no voting member answers (C(restore_quorum_member)); an etcd that
        restarted after quorum was lost serves nothing until quorum is back, so the data cannot be compared.
      - Accepted only then, and only for a member whose host is reachable, runs its etcd pod and holds data in
        its etcd data directory; the other reachable hosts holding data are named in the plan. While any member
        answers, the data decides and another member named here is refused.
    type: str
  port:
    description: The etcd client port of the hosts' endpoints (for a member that does not answer).
    type: int
    default: 2379
'''

EXAMPLES = r'''
- name: Decide
  ansible.builtin.set_fact:
    plan: >-
      {{ etcd | kubemaint.control_plane.etcd_restore_plan(groups['control_plane'] | map('extract', hostvars),
         'pods', restore_quorum_confirm | default(none), ansible_check_mode) }}
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    action:
      description: V(none), V(restore) (rebuild from the survivor, then rejoin), V(rejoin) (quorum is back,
        rejoin the nodes still missing) or V(refuse).
      type: str
    survivor:
      description: The member rebuilt from (or the leader, with quorum), its host, id, endpoint, raft term and
        applied index; null when refused for want of one.
      type: dict
    reason:
      description: Why that member.
      type: str
    candidates:
      description: The voting members that answered, best first.
      type: list
      elements: dict
    rejoin:
      description: Hosts to rejoin, in order.
      type: list
      elements: str
    skipped:
      description: Unreachable hosts, each with host, member and why.
      type: list
      elements: dict
    dropped:
      description: Members no host of the group runs, which a new cluster drops.
      type: list
      elements: str
    down:
      description: With quorum, voters that are down but keep their data (left alone).
      type: list
      elements: dict
    blind:
      description: Whether the survivor was named by O(member) because no member answered.
      type: bool
    also_data:
      description: With O(member), the other reachable hosts whose etcd data directory holds data (host, member,
        db_size, db_mtime).
      type: list
      elements: dict
    confirm:
      description: The value the confirmation must have.
      type: str
    confirmed:
      description: Whether the confirmation given is that value.
      type: bool
    act:
      description: Whether to carry the plan out (confirmed, not check mode, something to do).
      type: bool
    lines:
      description: What to tell the operator, including how to confirm.
      type: list
      elements: str
'''

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.restore import (
    hosts_from_inventory,
    restore_plan,
)


def etcd_restore_plan(info, host_vars, found_key, confirm=None, check_mode=False, discard_stopped_data=False,
                      member=None, port=2379):
    return restore_plan(info, hosts_from_inventory(host_vars, found_key, int(port)),
                        # -e name=false and a survey give the string 'false': bool() would call it true
                        discard_stopped_data=boolean(discard_stopped_data, strict=False), confirm=confirm,
                        check_mode=boolean(check_mode, strict=False),
                        member=member)


class FilterModule(object):
    def filters(self):
        return {'etcd_restore_plan': etcd_restore_plan}
