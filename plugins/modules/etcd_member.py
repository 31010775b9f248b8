#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_member
short_description: Add, promote and remove etcd members without costing quorum
version_added: 0.2.0
description:
  - V(present) adds a member with its peer URLs, as a learner by default (the runbook's
    C(etcdctl member add NAME --learner --peer-urls=...)). A learner receives the log but does
    not vote, so adding it never changes the quorum. The member then has to be started with
    C(--initial-cluster-state=existing) and RV(etcd_initial_cluster) in C(--initial-cluster)
    (see M(kubemaint.control_plane.static_pod_flags)).
  - V(promoted) makes a learner a voting member once it has caught up with the leader; etcd
    refuses to promote a learner whose log is behind, so the module retries until
    O(wait_timeout).
  - V(absent) removes a member (learner or voter), found by O(name), O(id) or O(peer_urls).
  - The member is found by O(id), else by O(name), else by O(peer_urls) (a member that was added
    but has not started yet has no name in etcd, only its peer URLs). Options that point at
    different members, or a member whose peer URLs differ from O(peer_urls), fail the task;
    this module never changes the peer URLs of a member.
  - "Guarded: it refuses a change that would leave the cluster without quorum: removing a voter
    when the remaining healthy voters would not be a majority (for example a healthy one while
    another is down), adding a voter (O(learner=false)) when counting it before it runs raises the
    quorum size above the healthy voters (for example to a cluster of one), promoting a learner
    that is not running when the others alone would not be a majority. O(allow_quorum_loss) lets
    such a change through; etcd itself still refuses to remove a healthy voter that way."
  - "It refuses what etcd refuses, before asking, so that check mode tells the truth: any change
    while the cluster has no quorum; adding a member while a voting member is down (remove the
    lost member first); a second learner (etcd keeps one at a time)."
  - The change is sent to the leader; the result lists the members as etcd answered after it.
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
    details: Reports the change and the member list it would lead to; the id of a member to add is not known.
  diff_mode:
    support: full
    details: The member list (name, id, learner or voter, peer URLs) before and after.
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
  platform:
    platforms: posix
options:
  name:
    description:
      - The member's name (etcd's C(--name); kubeadm uses the node name).
      - Required to add a member; etcd learns it only when the member starts, until then the
        member is found by O(peer_urls).
    type: str
  id:
    description:
      - The member's id, 16 hex digits as C(etcdctl member list) prints it (or a decimal number).
      - Finds the member to remove or promote; with O(name) too, both must name the same member.
    type: str
    aliases: [member_id]
  peer_urls:
    description:
      - The member's peer URLs, C(https://HOST:PORT) (kubeadm's C(--initial-advertise-peer-urls),
        port 2380).
      - Required to add a member. Compared as a set with the member's current peer URLs.
    type: list
    elements: str
  state:
    description:
      - V(present) adds the member when it is missing.
      - V(promoted) makes a learner a voting member (a voting member is left as it is).
      - V(absent) removes the member.
    type: str
    choices: [present, absent, promoted]
    default: present
  learner:
    description:
      - With O(state=present), add the member as a learner (V(true)) or as a voting member
        (V(false)). A voting member counts toward quorum from the moment it is added, before it
        runs. Has no effect on a member that exists already.
    type: bool
    default: true
  allow_quorum_loss:
    description:
      - Let through a change that would leave etcd without quorum (see above). etcd stops accepting
        writes until enough members run again. A warning is returned.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to keep asking etcd to promote a learner that has not caught up yet.
      - Also how long (at most 15 s) to retry a change etcd refuses as "unhealthy cluster", which it
        does for 5 s after a member (re)connected.
    type: float
    default: 60
notes:
  - Removing the member this task talks to works; the member stops itself once the removal is
    committed. Give several O(endpoints) when the task may run more than once.
seealso:
  - module: kubemaint.control_plane.etcd_member_info
  - module: kubemaint.control_plane.static_pod_flags
'''

EXAMPLES = r'''
- name: Remove the member of the lost node (refused if that costs quorum)
  kubemaint.control_plane.etcd_member:
    name: k-kube-lab-02
    state: absent

- name: Add it back as a learner
  kubemaint.control_plane.etcd_member:
    name: k-kube-lab-02
    peer_urls:
      - https://10.101.11.241:2380
  register: added

- name: Let the rebuilt node's etcd join the existing cluster
  kubemaint.control_plane.static_pod_flags:
    name: etcd
    flags:
      initial-cluster: "{{ added.etcd_initial_cluster }}"
      initial-cluster-state: existing
  delegate_to: k-kube-lab-02

- name: Promote it once it has caught up
  kubemaint.control_plane.etcd_member:
    name: k-kube-lab-02
    state: promoted
    wait_timeout: 300
'''

RETURN = r'''
changed:
  description: Whether the member list changed (or, in check mode, would change).
  returned: always
  type: bool
  sample: true
action:
  description: V(none), V(add), V(remove) or V(promote).
  returned: success
  type: str
  sample: add
reason:
  description: What was decided and why.
  returned: success
  type: str
  sample: add lab-cp-02 as a learner with peer URLs https://127.0.1.2:2380
member:
  description:
    - The member after the task; null when it is absent.
    - A member added but not started yet has an empty name and no client URLs.
  returned: success
  type: dict
  sample: {id: 2fc8a7e2c7a1d3e3, name: '', peer_urls: [https://127.0.1.2:2380], client_urls: [], is_learner: true}
id:
  description: The member's id, 16 hex digits; null when it is absent, and in check mode for a member to add.
  returned: success
  type: str
  sample: 2fc8a7e2c7a1d3e3
members:
  description: Every member after the task (in check mode, as it would be), each with id, name, peer_urls, client_urls, is_learner.
  returned: success
  type: list
  elements: dict
  sample: [{id: 5d7db493b5095e61, name: lab-cp-01, peer_urls: [https://127.0.1.1:2380],
            client_urls: [https://127.0.1.1:2379], is_learner: false}]
members_before:
  description: Every member before the task, same fields.
  returned: success
  type: list
  elements: dict
  sample: []
etcd_initial_cluster:
  description:
    - The value a joining member needs in C(--initial-cluster), name=peerURL for every member
      after the task, the way C(etcdctl member add) prints C(ETCD_INITIAL_CLUSTER); the member
      that has not started yet carries O(name).
  returned: success
  type: str
  sample: lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380,lab-cp-03=https://127.0.1.3:2380
quorum_before:
  description: voting_members, learners, healthy_voters, quorum_size, has_quorum, fault_tolerance before the task.
  returned: success
  type: dict
  sample: {voting_members: 2, learners: 0, healthy_voters: 2, quorum_size: 2, has_quorum: true, fault_tolerance: 0}
quorum_after:
  description: The same figures right after the change, before a new member runs (it is counted as not healthy).
  returned: success
  type: dict
  sample: {voting_members: 2, learners: 1, healthy_voters: 2, quorum_size: 2, has_quorum: true, fault_tolerance: 0}
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

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import EtcdError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import EtcdInputError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.members import ensure_member
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    client_from_module,
    connection_result,
    etcd_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            name=dict(type='str'),
            id=dict(type='str', aliases=['member_id']),
            peer_urls=dict(type='list', elements='str'),
            state=dict(type='str', default='present', choices=['present', 'absent', 'promoted']),
            learner=dict(type='bool', default=True),
            allow_quorum_loss=dict(type='bool', default=False),
            wait_timeout=dict(type='float', default=60.0),
        ),
        required_one_of=[('name', 'id', 'peer_urls')],
        supports_check_mode=True,
    )
    client, connection = client_from_module(module)
    result = connection_result(connection)
    params = module.params
    try:
        outcome = ensure_member(client, connection['endpoints'], params['state'], name=params['name'],
                                member_id=params['id'], peer_urls=params['peer_urls'], learner=params['learner'],
                                allow_quorum_loss=params['allow_quorum_loss'], wait_timeout=params['wait_timeout'],
                                check_mode=module.check_mode)
    except EtcdInputError as exc:
        module.fail_json(msg=str(exc), reason=getattr(exc, 'reason', 'bad_input'), **result)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), reason=exc.reason, **result)
    diff = outcome.pop('diff')
    # module.warn(), not a warnings key: exit_json(warnings=...) is deprecated (removed in ansible-core 2.23)
    for warning in outcome.pop('warnings'):
        module.warn(warning)
    if module._diff:
        outcome['diff'] = diff
    result.update(outcome)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
