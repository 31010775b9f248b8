# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_recover_outcome
short_description: What recover says at its end about etcd's quorum and members whose data is lost
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - For the end of the recover playbook. A member whose etcd data directory is empty or missing cannot come back
      by starting it. When the voters that can come back are fewer than quorum needs, recover cannot help, and the
      message names only C(kubemaint.control_plane.restore_quorum) with its command, never starting nodes or running
      recover again.
    - Without quorum but with enough voters that can come back, the message names the nodes to start (not those
      whose data is lost) and, for a lost member, C(kubemaint.control_plane.replace_member) once quorum is back.
      With quorum, a lost member is re-added by C(kubemaint.control_plane.replace_member).
    - With the hosts' M(kubemaint.control_plane.node_recover) results, the rest of what recover says at its end (the
      hosts left stopped (an untrusted stash, certificates that cannot work), those where nothing was found to
      restore, whether the run fails and the message it fails with).
options:
  _input:
    description: The cluster as read after the restores, a view from P(kubemaint.control_plane.etcd_cluster_view#filter)
        or the registered result of M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  reports:
    description: Every host of the play mapped to its M(kubemaint.control_plane.static_pod_info) result (unreachable
        ones included), whose C(plan.data_lost) and C(etcd_data) tell the hosts whose etcd data is lost.
    type: dict
    required: true
  member_hosts:
    description:
      - The control-plane hosts' variables (for example C(groups['control_plane'] | map('extract', hostvars))),
        to name inventory hosts rather than etcd members; a host's member is its C(node_name), else its inventory name.
      - Or a dict from member name to host.
    type: raw
  restored:
    description: The hosts mapped to their M(kubemaint.control_plane.node_recover) results (skipped ones included).
    type: dict
  fail_without_quorum:
    description: Whether the run fails when etcd has no quorum at its end.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Fail naming what brings etcd back
  ansible.builtin.fail:
    msg: >-
      {{ (view | kubemaint.control_plane.etcd_recover_outcome(pods_by_host,
          groups['control_plane'] | map('extract', hostvars))).message }}
'''

RETURN = r'''
_value:
  description: The outcome.
  type: dict
  contains:
    has_quorum:
      description: Whether etcd has quorum.
      type: bool
    recoverable:
      description: Whether enough voters can come back for quorum (false only when etcd has no quorum and too many
        members' data is lost; then only restore_quorum helps).
      type: bool
    lost:
      description: Hosts whose etcd data is lost.
      type: list
      elements: str
    unreachable:
      description: Hosts whose pods could not be read.
      type: list
      elements: str
    message:
      description: What to tell the operator; empty when etcd has quorum and no data is lost.
      type: str
    refused:
      description: The hosts left stopped, each with the reasons why.
      type: list
      elements: str
    refused_hosts:
      description: The hosts left stopped.
      type: list
      elements: str
    unrestorable:
      description: What was found on the hosts where something is stopped and nothing was found to restore it.
      type: list
      elements: str
    failed:
      description: Whether the run fails (a host stays down, etcd data is lost, or no quorum and O(fail_without_quorum)).
      type: bool
    failure:
      description: The message the run fails with; empty when it does not fail.
      type: str
'''

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import member_host_map
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recover_plan import recover_summary


def etcd_recover_outcome(state, reports, member_hosts=None, restored=None, fail_without_quorum=True):
    return recover_summary(state, dict(reports or {}), member_host_map(member_hosts), dict(restored or {}),
                           boolean(fail_without_quorum, strict=False))


class FilterModule(object):
    def filters(self):
        return {'etcd_recover_outcome': etcd_recover_outcome}
