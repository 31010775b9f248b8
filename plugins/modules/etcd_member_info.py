#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_member_info
short_description: Report every etcd member's status, health and the quorum arithmetic
version_added: 0.1.0
description:
  - Reads etcd's member list and asks every member (by etcd's member list, not by inventory)
    for its status and a linearizable read, in parallel. This is what the runbook gets from
    C(etcdctl member list), C(etcdctl endpoint status --cluster) and C(etcdctl endpoint health --cluster).
  - Adds the quorum arithmetic (voting members, healthy voters, quorum size, fault tolerance)
    and a projection for O(assume_stopped). Would the cluster keep quorum with those members
    stopped, and which members could each be stopped next.
  - Learners never count toward quorum.
  - Never fails because members are down or quorum is lost; it reports that state (see
    O(fail_on_no_quorum)). It fails on bad input (certificates, URLs, an endpoint that is not etcd).
  - Adds the backend quota figures per member (free space in the database, quota, usage) with the
    quota of O(quota_backend_bytes), else of C(--quota-backend-bytes) in this node's etcd manifest,
    else etcd's default of 2 GiB; every member is taken to have that quota (kubeadm configures them alike).
  - Read-only; never reports C(changed).
author:
  - Kubemaint contributors (@kubemaint)
extends_documentation_fragment:
  - kubemaint.control_plane.etcd
  - kubemaint.control_plane.etcd.action_group
  - kubemaint.control_plane.node
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
  platform:
    platforms: posix
options:
  assume_stopped:
    description:
      - Member names to assume stopped for the projection in RV(projection).
      - Every name must be a member of the cluster.
    type: list
    elements: str
    default: []
  fail_on_no_quorum:
    description:
      - Fail (after collecting everything) when the cluster has no quorum, or when the
        projection for O(assume_stopped) has none.
    type: bool
    default: false
  quota_backend_bytes:
    description:
      - etcd's backend quota in bytes, for RV(members[].quota_bytes) and RV(members[].quota_usage); a whole
        number greater than 0.
      - Defaults to C(--quota-backend-bytes) in C(<kubernetes_dir>/manifests/etcd.yaml) when the manifest
        is there and sets it (0 meaning etcd's default), else etcd's default, 2 GiB (2147483648).
    type: int
    version_added: 0.2.0
notes:
  - etcd 3.4 and 3.5 do not report their quota through the gateway; it is read from the manifest (or given),
    so that the three versions are served alike.
'''

EXAMPLES = r'''
- name: Look at etcd from a control-plane node (kubeadm defaults)
  kubemaint.control_plane.etcd_member_info:
  register: etcd

# node_name: a host variable holding the node's etcd member name (kubeadm's node name, which
# may differ from the inventory name, e.g. host K-KUBE-LAB-01 with node name k-kube-lab-01)
- name: Would the cluster keep quorum without this node's member?
  kubemaint.control_plane.etcd_member_info:
    assume_stopped:
      - "{{ node_name }}"
    fail_on_no_quorum: true

- name: Ask several endpoints (the local member may be down)
  kubemaint.control_plane.etcd_member_info:
    endpoints:
      - https://10.101.11.240:2379
      - https://10.101.11.114:2379
    timeout: 3
'''

RETURN = r'''
cluster:
  description: The cluster as a whole.
  returned: always
  type: dict
  contains:
    cluster_id:
      description: >-
        Cluster id in hex, always 16 digits with leading zeros (etcdctl prints the same number
        without leading zeros); null when no member answered.
      type: str
      sample: 7bddf81464c351c2
    leader:
      description: The leader (id and name) most members report; null when there is none.
      type: dict
      sample: {id: d16b14ea34469d8e, name: lab-cp-02}
    member_count:
      description: Members in the member list, learners included.
      type: int
      sample: 3
    reachable_members:
      description: Members that answered the status request.
      type: int
      sample: 3
    voting_members:
      description: Members that are not learners.
      type: int
      sample: 3
    learners:
      description: Learner members.
      type: int
      sample: 0
    healthy_voters:
      description: Voting members whose linearizable read succeeded.
      type: int
      sample: 3
    quorum_size:
      description: Voters needed for quorum (a strict majority of the voting members).
      type: int
      sample: 2
    has_quorum:
      description: Whether the healthy voters reach the quorum size.
      type: bool
      sample: true
    fault_tolerance:
      description: How many more voters may fail before quorum is lost (0 without quorum).
      type: int
      sample: 1
    safe_to_stop:
      description: Members each of which could be stopped now with the cluster keeping quorum.
      type: list
      elements: str
      sample: [lab-cp-01, lab-cp-02, lab-cp-03]
    alarms:
      description: Active cluster alarms (C(NOSPACE), C(CORRUPT)).
      type: list
      elements: dict
      sample: [{member_id: 5d7db493b5095e61, member: lab-cp-01, alarm: NOSPACE}]
    quota_bytes:
      description: The backend quota in bytes used for the members' figures; null when etcd's quota is off
        (a negative C(--quota-backend-bytes)).
      type: int
      sample: 2147483648
      version_added: 0.2.0
    quota_source:
      description: >-
        Where RV(cluster.quota_bytes) came from, C(quota_backend_bytes option),
        C(--quota-backend-bytes in <manifest path>) or C(etcd default).
      type: str
      sample: etcd default
      version_added: 0.2.0
  sample: {cluster_id: 7bddf81464c351c2, leader: {id: d16b14ea34469d8e, name: lab-cp-02}, member_count: 3,
           reachable_members: 3, voting_members: 3, learners: 0, healthy_voters: 3, quorum_size: 2,
           has_quorum: true, fault_tolerance: 1, safe_to_stop: [lab-cp-01, lab-cp-02, lab-cp-03], alarms: []}
members:
  description: Every member in etcd's member list with its endpoint status; empty when no endpoint answered.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: >-
        Member id in hex, always 16 digits with leading zeros (etcdctl prints the same number
        without leading zeros, e.g. C(8e9e05c52164694) for C(08e9e05c52164694)).
      type: str
      sample: 5d7db493b5095e61
    name:
      description: Member name (kubeadm sets the node name); empty for a member added but never started.
      type: str
      sample: lab-cp-01
    peer_urls:
      description: Peer URLs.
      type: list
      elements: str
      sample: [https://127.0.1.1:2380]
    client_urls:
      description: Client URLs.
      type: list
      elements: str
      sample: [https://127.0.1.1:2379]
    is_learner:
      description: Whether the member is a learner (non-voting).
      type: bool
      sample: false
    endpoint:
      description: The client URL that was asked for this member's status.
      type: str
      sample: https://127.0.1.1:2379
    reachable:
      description: Whether the member answered the status request.
      type: bool
      sample: true
    error:
      description: Why the member could not be asked, or null.
      type: str
      sample: "https://127.0.1.2:2379: connection refused (etcd not running or not listening there)"
    error_reason:
      description: >-
        Short code for RV(members[].error): C(connection_refused), C(timeout), C(tls_verify_failed),
        C(client_cert_rejected), C(not_etcd), C(not_started), C(etcd_error); null when reachable.
      type: str
      sample: connection_refused
    healthy:
      description: Whether a linearizable read through this member succeeded (learners, which refuse
        such reads, are healthy when they follow a leader).
      type: bool
      sample: true
    health_error:
      description: Why the member is not healthy, or null.
      type: str
      sample: null
    version:
      description: etcd version of the member.
      type: str
      sample: 3.5.1
    db_size:
      description: Size of the backend database in bytes.
      type: int
      sample: 20480
    db_size_in_use:
      description: Bytes of the backend database in use.
      type: int
      sample: 16384
    is_leader:
      description: Whether this member is the cluster leader.
      type: bool
      sample: false
    leader_seen:
      description: The leader id this member reports, or null when it sees none.
      type: str
      sample: d16b14ea34469d8e
    cluster_id:
      description:
        - The cluster id in this member's own Status answer (16-digit hex), null when it does not answer. A member
          of another cluster answers with another id.
      type: str
      sample: 3f1e2a3b4c5d6e7f
      version_added: 0.2.0
    raft_term:
      description: Raft term.
      type: int
      sample: 4
    raft_index:
      description: Raft index.
      type: int
      sample: 14
    raft_applied_index:
      description: Raft applied index.
      type: int
      sample: 14
    errors:
      description: Errors the member reports, for example C(etcdserver no leader).
      type: list
      elements: str
      sample: []
    alarms:
      description: Alarms raised for this member (C(NOSPACE), C(CORRUPT)).
      type: list
      elements: str
      sample: []
    db_size_free:
      description: Bytes of the database not in use, RV(members[].db_size) minus RV(members[].db_size_in_use)
        (what a defragmentation would give back); null when the member did not answer.
      type: int
      sample: 4096
      version_added: 0.2.0
    quota_bytes:
      description: The backend quota in bytes (see RV(cluster.quota_source)); null when the quota is off.
      type: int
      sample: 2147483648
      version_added: 0.2.0
    quota_usage:
      description: RV(members[].db_size) divided by RV(members[].quota_bytes), rounded to 4 places (1.0 is
        full, etcd then raises NOSPACE); null when the member did not answer or the quota is off.
      type: float
      sample: 0.0001
      version_added: 0.2.0
    latency_ms:
      description: Round trip of the status request in milliseconds, or null.
      type: float
      sample: 3.2
  sample: []
projection:
  description: Quorum figures as if the O(assume_stopped) members were stopped.
  returned: always
  type: dict
  sample: {assume_stopped: [lab-cp-01], voting_members: 3, learners: 0, healthy_voters: 2, quorum_size: 2,
           has_quorum: true, fault_tolerance: 0, safe_to_stop: []}
  contains:
    assume_stopped:
      description: The members assumed stopped.
      type: list
      elements: str
      sample: [lab-cp-01]
    voting_members:
      description: Voting members (unchanged by stopping).
      type: int
      sample: 3
    learners:
      description: Learner members.
      type: int
      sample: 0
    healthy_voters:
      description: Healthy voters left.
      type: int
      sample: 2
    quorum_size:
      description: Voters needed for quorum.
      type: int
      sample: 2
    has_quorum:
      description: Whether quorum would be kept.
      type: bool
      sample: true
    fault_tolerance:
      description: How many more voters could fail after that.
      type: int
      sample: 0
    safe_to_stop:
      description: Members each of which could still be stopped next, keeping quorum.
      type: list
      elements: str
      sample: []
endpoints:
  description: The endpoints asked first (resolved from the options or the etcd manifest).
  returned: always
  type: list
  elements: str
  sample: [https://127.0.1.1:2379]
endpoints_source:
  description: Where the endpoints came from.
  returned: always
  type: str
  sample: --advertise-client-urls in /etc/kubernetes/manifests/etcd.yaml
endpoint_errors:
  description: The given endpoints that did not answer, with the reason (also those of a split brain's other sides).
  returned: always
  type: dict
  sample: {}
split_brain:
  description:
    - Null when every endpoint that answered serves one cluster. Else a split brain - endpoints answering with another
      cluster ID, or with a member list that holds fewer of the majority's voters than its quorum (a member restarted
      alone with C(--force-new-cluster)) - and then RV(cluster) and RV(members) are the majority's side only (the
      side answered for by the most endpoints); a member whose endpoint answers for another side is unreachable, its
      error says which cluster it answers for.
    - C(sides) lists every side, the majority's first, with its C(cluster_id), the C(endpoints) answering for it, the
      C(members) its own member list holds and C(majority); C(text) says it in one line.
  returned: always
  type: dict
  version_added: 0.2.0
  sample:
    sides:
      - {cluster_id: 495b24ea208970fa, endpoints: ['https://10.0.0.12:2379', 'https://10.0.0.13:2379'],
         members: [cp-01, cp-02, cp-03], majority: true}
      - {cluster_id: 9787b9f317d7edf7, endpoints: ['https://10.0.0.11:2379'], members: [cp-01], majority: false}
    text: 'SPLIT BRAIN: https://10.0.0.12:2379, https://10.0.0.13:2379 answer for cluster 495b24ea208970fa ...'
member_list_from:
  description: The endpoint whose member list was used.
  returned: when an endpoint answered
  type: str
  sample: https://127.0.1.1:2379
alarms_error:
  description: Why the alarm list could not be read, or null.
  returned: when an endpoint answered
  type: str
  sample: null
elapsed:
  description: Seconds spent collecting.
  returned: always
  type: float
  sample: 0.074
ca_cert:
  description: CA certificate used.
  returned: always
  type: str
  sample: /etc/kubernetes/pki/etcd/ca.crt
client_cert:
  description: Client certificate used.
  returned: always
  type: str
  sample: /etc/kubernetes/pki/etcd/server.crt
client_key:
  description: Path of the client key used (never its content).
  returned: always
  type: str
  sample: /etc/kubernetes/pki/etcd/server.key
timeout:
  description: Per-request timeout in seconds.
  returned: always
  type: float
  sample: 5.0
'''

from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import QUOTA_BYTES
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    run_etcd_module,
    run_member_info,
)


def main():
    run_etcd_module(
        run_member_info, numbers={'quota_backend_bytes': QUOTA_BYTES},
        assume_stopped=dict(type='list', elements='str', default=[]),
        fail_on_no_quorum=dict(type='bool', default=False),
        quota_backend_bytes=dict(type='int'),
    )


if __name__ == '__main__':
    main()
