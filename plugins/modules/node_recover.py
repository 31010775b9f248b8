#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_recover
short_description: Bring back a control-plane node's stopped static pods, etcd first, in one task
version_added: 0.2.0
description:
  - One node's turn in the role C(kubemaint.control_plane.recover), as that role runs it for each node to restore,
    one node at a time. Restores what the node's M(kubemaint.control_plane.static_pod_info) result plans
    (O(pods)), etcd first; waits until etcd listens and, once etcd's member list says enough voters run for
    quorum, until its member is healthy and caught up; then starts the other pods, waited for only once etcd
    has quorum.
  - Before anything starts, the node's certificates are reissued when O(repair_certificates) is set, and checked
    when O(check_certificates) is set. A node whose certificates would keep it from coming back is left stopped;
    the result lists the problems in RV(refused). A check that cannot run does not block the recovery.
  - Directories of manifests found inside the manifests directory are moved out of it first, and a manifests
    directory moved away as a whole is recreated with the moved one's mode and owner.
  - An action plugin. It runs on the controller and runs modules on the node, over the task's own connection
    and privilege escalation (M(kubemaint.control_plane.node_certificates),
    M(kubemaint.control_plane.cert_san_check), M(ansible.builtin.command), M(ansible.builtin.file),
    M(kubemaint.control_plane.static_pod_toggle), M(ansible.builtin.wait_for) and
    M(kubemaint.control_plane.etcd_member_info)). What to restore and what the end of the run says are decided
    on the controller (the P(kubemaint.control_plane.etcd_recover_plan#filter) and
    P(kubemaint.control_plane.etcd_recover_outcome#filter) filters).
author:
  - kubemaint.control_plane contributors (@kubemaint)
extends_documentation_fragment:
  - kubemaint.control_plane.etcd
  - kubemaint.control_plane.etcd.action_group
  - kubemaint.control_plane.node
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Each module runs in check mode (M(ansible.builtin.wait_for) is left out) and etcd is read for real.
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
  platform:
    platforms: posix
options:
  pods:
    description: The M(kubemaint.control_plane.static_pod_info) result of this node, whose C(plan) says what to restore.
    type: dict
    required: true
  node_name:
    description:
      - This node's name as kubeadm knows it, its etcd member's name. Default the inventory name.
      - The certificate check looks for it in the node's certificates.
    type: str
  node_address:
    description:
      - The address etcd listens on, waited for after etcd starts. Default C(ansible_host), else the inventory name.
      - The certificate check looks for it in the node's certificates.
    type: str
  client_port:
    description: etcd's client port on the node.
    type: int
    default: 2379
  wait_timeout:
    description: Seconds to wait for etcd to listen, and for each other component to start once etcd has quorum.
    type: int
    default: 300
  retries:
    description: How many more reads of etcd to wait for its member to settle after the first.
    type: int
    default: 90
  delay:
    description: Seconds between two reads of etcd.
    type: int
    default: 2
  quiet_tries:
    description:
      - When no etcd member answers (a restarted etcd serves no client before it has quorum), how many reads to
        wait before the turn ends; the next node must come back first.
    type: int
    default: 5
  max_applied_lag:
    description: How far (raft applied index) the member may trail the leader to count as caught up.
    type: int
    default: 1000
  check_certificates:
    description: Check the node's certificates before the pods come back and leave the node stopped when they cannot work.
    type: bool
    default: true
  repair_certificates:
    description: Before that, reissue from the node's CA keys every certificate that lacks its identity.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Restore one host at a time, etcd first
  kubemaint.control_plane.node_recover:
    pods: "{{ _found }}"
    node_name: "{{ node_name | default(omit) }}"
  throttle: 1
  register: _restored
'''

RETURN = r'''
refused:
  description: The certificate problems that left the node stopped; empty when its pods were restored.
  returned: always
  type: list
  elements: str
  sample: []
restored:
  description: The components started, in order.
  returned: always
  type: list
  elements: str
  sample: [etcd, kube-apiserver, kube-controller-manager, kube-scheduler]
has_quorum:
  description: Whether etcd had quorum after the node's etcd came back; null when the node was refused.
  returned: always
  type: bool
  sample: true
started_early:
  description: The node's pods were started while etcd had no quorum, without waiting for them.
  returned: always
  type: bool
  sample: false
attempts:
  description: How many reads of etcd the wait took.
  returned: when etcd was read
  type: int
  sample: 3
etcd:
  description: The last M(kubemaint.control_plane.etcd_member_info) result read.
  returned: when etcd was read
  type: dict
msg:
  description: What was done, or on failure what went wrong.
  returned: always
  type: str
  sample: "etcd, kube-apiserver, kube-controller-manager, kube-scheduler started; etcd has quorum"
'''
