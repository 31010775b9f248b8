# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_cluster_view
short_description: Reduce etcd_member_info's result to the cluster view the roles print and decide on
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - Takes the result of M(kubemaint.control_plane.etcd_member_info) and returns the quorum figures (from
      etcd's member list; learners never count) and one entry per member with its lag behind the leader and
      whether it is caught up.
    - The same code serves the roles and the unit tests (C(plugins/plugin_utils/_etcd/guard.py)).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
  max_applied_lag:
    description: How many applied raft entries a member may trail the leader by and still count as caught up.
    type: int
    default: 1000
'''

EXAMPLES = r'''
- name: Summarise the cluster
  ansible.builtin.set_fact:
    view: "{{ etcd | kubemaint.control_plane.etcd_cluster_view(max_applied_lag=1000) }}"
'''

RETURN = r'''
_value:
  description: The cluster view.
  type: dict
  contains:
    readable:
      description: Whether any endpoint answered.
      type: bool
    read_error:
      description: Why nothing could be read (null when readable).
      type: str
    read_reason:
      description: The reason code of the failed read (null when readable), for example C(cert_file_not_readable)
        when the module may not read its etcd client key or certificate (a run without become).
      type: str
    has_quorum:
      description: Whether a majority of the voters is healthy.
      type: bool
    leader:
      description: Name of the leader, empty without one.
      type: str
    voters:
      description: Voting members, by etcd's member list.
      type: int
    learners:
      description: Learners (never counted toward quorum).
      type: int
    quorum_size:
      description: Voters that must be healthy for quorum.
      type: int
    healthy_voters:
      description: Voters whose linearizable read succeeded.
      type: int
    fault_tolerance:
      description: How many more voters may fail.
      type: int
    alarms:
      description: Raised alarms, as C(ALARM on MEMBER).
      type: list
      elements: str
    members:
      description: Every member, sorted by name, with C(lag) and C(caught_up), and its db figures - C(db_size),
        C(db_size_in_use), C(db_size_free) (reported, else size less in use), C(quota_bytes) and C(quota_usage)
        (reported, else db size over quota; null without a quota).
      type: list
      elements: dict
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    cluster_view,
)


def etcd_cluster_view(info, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    return cluster_view(info, max_applied_lag)


class FilterModule(object):
    def filters(self):
        return {'etcd_cluster_view': etcd_cluster_view}
