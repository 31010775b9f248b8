#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_leader
short_description: Make a given etcd member leader, or make sure the leader is not one of some members
version_added: 0.1.0
description:
  - With O(member), makes that member the etcd leader (the runbook's C(etcdctl move-leader)).
  - With O(avoid), makes sure the leader is none of the named members; when it is, leadership
    goes to the healthy voting member outside O(avoid) with the highest raft applied index
    (the most caught-up one, which takes over with the shortest pause), of those named in O(prefer)
    when any of them is a healthy voter outside O(avoid).
  - Sends MoveLeader to the current leader and waits until every reachable voter reports the
    new leader.
  - Does nothing and reports C(changed=false) when the leader already satisfies the request.
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
    details: Reports which member would become leader, without moving leadership.
  diff_mode:
    support: full
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
  platform:
    platforms: posix
options:
  member:
    description:
      - Name of the member that must be leader. It must be a healthy voting member (not a learner).
      - Mutually exclusive with O(avoid).
    type: str
  avoid:
    description:
      - Names of members that must not be leader, for example the node about to be stopped.
      - Mutually exclusive with O(member).
    type: list
    elements: str
  prefer:
    description:
      - With O(avoid), names of members to hand leadership to first, when one of them is a healthy voting
        member outside O(avoid); otherwise it goes to any. A rolling restart names the members it restarted
        already, so that leadership does not land on the next node it takes down.
      - Every name must be a member. Ignored when the leader is not in O(avoid).
    type: list
    elements: str
    version_added: 0.2.0
  wait_timeout:
    description:
      - Seconds to wait until the new leader is confirmed by every reachable voter; a finite number
        greater than 0 and at most 3600.
    type: float
    default: 30
'''

EXAMPLES = r'''
# node_name: a host variable holding the node's etcd member name (kubeadm's node name, which
# may differ from the inventory name, e.g. host K-KUBE-LAB-01 with node name k-kube-lab-01)
- name: Move etcd leadership away from the node about to be restarted
  kubemaint.control_plane.etcd_leader:
    avoid:
      - "{{ node_name }}"

- name: Make k-kube-lab-02 the etcd leader
  kubemaint.control_plane.etcd_leader:
    member: k-kube-lab-02
'''

RETURN = r'''
changed:
  description: Whether leadership moved (or, in check mode, would move).
  returned: always
  type: bool
  sample: true
leader_before:
  description: Leader (id, name) before the task.
  returned: always
  type: dict
  sample: {id: d16b14ea34469d8e, name: lab-cp-02}
leader:
  description: Leader after the task (in check mode, the leader it would choose).
  returned: always
  type: dict
  sample: {id: 5d7db493b5095e61, name: lab-cp-01}
reason:
  description: What was decided and why.
  returned: always
  type: str
  sample: move leadership from lab-cp-02 to lab-cp-01 (most caught-up healthy voter outside avoid)
endpoints:
  description: The endpoints asked first.
  returned: always
  type: list
  elements: str
  sample: [https://127.0.1.1:2379]
endpoints_source:
  description: Where the endpoints came from.
  returned: always
  type: str
  sample: endpoints option
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    LEADER_WAIT_TIMEOUT,
    check_arguments,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    client_from_module,
    etcd_argument_spec,
    run_leader,
)


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            member=dict(type='str'),
            avoid=dict(type='list', elements='str'),
            prefer=dict(type='list', elements='str'),
            wait_timeout=dict(type='float', default=30.0),
        ),
        mutually_exclusive=[('member', 'avoid'), ('member', 'prefer')],
        required_one_of=[('member', 'avoid')],
        supports_check_mode=True,
    )
    check_arguments(module, numbers={'wait_timeout': LEADER_WAIT_TIMEOUT})
    client, connection = client_from_module(module)
    run_leader(module, client, connection)


if __name__ == '__main__':
    main()
