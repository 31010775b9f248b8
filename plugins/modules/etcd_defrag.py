#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_defrag
short_description: Defragment the backend database of one etcd member
version_added: 0.2.0
description:
  - Defragments the backend database of the member named O(member), and of that member only (the
    runbook's C(etcdctl defrag --endpoints=<its client URL>)). The member is found through etcd's
    member list and asked at its own client URL.
  - Reads the member's status (database size and size in use) first, sends Defragment, waits until
    the member answers again (its status and, for a voting member, a linearizable read) and reads its
    status after. Defragmentation gives the space freed by compaction back to the file system.
  - Learners may be defragmented as well.
  - Always reports C(changed=true) when it ran (defragmentation rewrites the database file).
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
    details: Reads the status and reports the sizes before and RV(freed_estimate), without defragmenting.
  diff_mode:
    support: full
    details: The database size and size in use before and after (in check mode, the estimate).
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: none
    details: Every run defragments and reports C(changed=true); a second run frees next to nothing.
  platform:
    platforms: posix
options:
  member:
    description:
      - Name of the member to defragment (kubeadm sets the node name). It must be a member that answers.
    type: str
    required: true
  wait_timeout:
    description:
      - Seconds to wait, after the defragmentation, until the member answers again; a finite number of
        at least 1 and at most 86400.
    type: float
    default: 60
  defrag_timeout:
    description:
      - Seconds the defragmentation request may take. The member answers no request while it
        defragments, for a time that grows with its database size.
      - A finite number greater than 0 and at most 86400.
    type: float
    default: 300
notes:
  - Defragment one member at a time (a rolling playbook does), never all members at once, and compact
    first (M(kubemaint.control_plane.etcd_compact)), since only space freed by compaction is given back.
  - The gateway calls used (C(/v3/maintenance/status), C(/v3/maintenance/defragment), C(/v3/kv/range))
    behave alike in etcd 3.4, 3.5 and 3.6; in all three the member blocks reads and writes while it
    defragments. A NOSPACE alarm stays raised after a defragmentation; disarm it with
    M(kubemaint.control_plane.etcd_alarm).
  - When the request times out, the member may still be defragmenting; the module fails and says so.
seealso:
  - module: kubemaint.control_plane.etcd_compact
  - module: kubemaint.control_plane.etcd_alarm
  - module: kubemaint.control_plane.etcd_member_info
'''

EXAMPLES = r'''
# node_name: a host variable holding the node's etcd member name (kubeadm's node name)
- name: Defragment this node's etcd member
  kubemaint.control_plane.etcd_defrag:
    member: "{{ node_name }}"
  register: defrag

- name: How much space it gave back
  ansible.builtin.debug:
    msg: "{{ defrag.member }}: {{ defrag.db_size_before }} -> {{ defrag.db_size_after }} bytes in {{ defrag.seconds }} s"

- name: A large database takes longer
  kubemaint.control_plane.etcd_defrag:
    member: k-kube-lab-02
    defrag_timeout: 1800
'''

RETURN = r'''
changed:
  description: Whether the member was (or, in check mode, would be) defragmented; always true.
  returned: success
  type: bool
  sample: true
member:
  description: The member defragmented.
  returned: success
  type: str
  sample: lab-cp-01
endpoint:
  description: The member's client URL the requests went to.
  returned: success
  type: str
  sample: https://127.0.1.1:2379
is_learner:
  description: Whether the member is a learner.
  returned: success
  type: bool
  sample: false
db_size_before:
  description: Size of the member's backend database in bytes before.
  returned: success
  type: int
  sample: 25165824
db_size_in_use_before:
  description: Bytes of the database in use before.
  returned: success
  type: int
  sample: 4194304
db_size_after:
  description: Size of the database in bytes after.
  returned: success, not in check mode
  type: int
  sample: 4239360
db_size_in_use_after:
  description: Bytes of the database in use after.
  returned: success, not in check mode
  type: int
  sample: 4194304
freed:
  description: Bytes given back, RV(db_size_before) minus RV(db_size_after) (negative when the database grew meanwhile).
  returned: success, not in check mode
  type: int
  sample: 20926464
freed_estimate:
  description: Bytes a defragmentation would give back, RV(db_size_before) minus RV(db_size_in_use_before).
  returned: check mode
  type: int
  sample: 20971520
seconds:
  description: Seconds the defragmentation request blocked.
  returned: success, not in check mode
  type: float
  sample: 0.412
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

from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    DEFRAG_TIMEOUT,
    WAIT_TIMEOUT,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    run_defrag,
    run_etcd_module,
)


def main():
    run_etcd_module(
        run_defrag, numbers={'wait_timeout': WAIT_TIMEOUT, 'defrag_timeout': DEFRAG_TIMEOUT},
        member=dict(type='str', required=True),
        wait_timeout=dict(type='float', default=60.0),
        defrag_timeout=dict(type='float', default=300.0),
    )


if __name__ == '__main__':
    main()
