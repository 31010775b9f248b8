#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_lock
short_description: Take, refresh, release or read the control plane's maintenance lock in etcd
version_added: 0.2.0
description:
  - A cluster-wide lock that keeps two maintenance runs (two operators, two AWX jobs) from working
    on the control plane at the same time. The quorum guard reads etcd and the stop follows some
    seconds later, so two runs that checked at once could each stop a node and take quorum away.
  - The lock is one etcd key under C(/kubemaint.control_plane/), written in a transaction only
    while it is absent and attached to a lease of O(ttl) seconds. Its value names the holder
    (user, controller host, AWX job id, playbook, node, since when) and a random O(token) that
    identifies the run.
  - O(state=acquired) takes the lock. With the O(token) that holds it, it renews the lease
    (a refresh, C(changed=false)). When another run holds it, it waits up to O(wait_timeout)
    seconds and then fails with a message naming that run, unless O(break_lock=true).
  - O(state=released) removes the lock held by O(token) and revokes its lease; nothing to do when
    the lock is free; a lock held by another token is left alone (with a warning).
  - O(state=query) only reads the lock.
  - A run that dies (controller killed) stops refreshing; etcd deletes the key when the lease
    expires, so the lock frees itself within O(ttl) seconds. Refresh the lock at every step
    boundary; O(ttl) must cover the longest step between two refreshes.
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
    details: Reads the lock (and waits like a real run would), and reports what would be done without writing.
  diff_mode:
    support: full
    details: The lock record before and after.
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
    details: A second O(state=acquired) with the same O(token) renews the lease, which is reported as no change.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(acquired) takes the lock, or refreshes it when O(token) holds it.
      - V(released) removes the lock held by O(token).
      - V(query) reads the lock and changes nothing.
    type: str
    required: true
    choices: [acquired, released, query]
  key:
    description:
      - The lock's etcd key. Must lie under C(/kubemaint.control_plane/) (path segments of letters,
        digits, C(.), C(_), C(-)), so that the lock can never write or delete another key.
    type: str
    default: /kubemaint.control_plane/lock
  token:
    description:
      - Identifies the run holding the lock (an identifier, not a secret).
      - With O(state=acquired), omit it the first time. A new random token is then made and returned;
        pass the returned token to every later refresh and to the release.
      - Required with O(state=released) unless O(break_lock=true).
    type: str
  ttl:
    description:
      - Seconds the lease lives without a refresh, a whole number from 2 to 3600. After a controller is killed the lock
        stays this long at most; it must be longer than the longest step between two refreshes.
      - A refresh with another O(ttl) moves the lock to a new lease of that TTL (C(changed=true)).
      - etcd raises a TTL below its own minimum (1.5 election timeouts) to that minimum.
    type: float
    default: 300
  wait_timeout:
    description:
      - With O(state=acquired), seconds to wait (polling every second) while another run holds the
        lock, 0 to 3600. 0 fails at once.
      - A wait longer than 10 seconds is cut into slices of 10 seconds, one module run each (the
        action plugin of the same name does it on the controller). Between two slices the task prints
        one progress line naming the holder (its summary, never its token) and the seconds waited so
        far (C(waiting for the maintenance lock, held by ...) then C(10 s of 60 s)); the task's result
        is that of one long wait (RV(waited) is the total, RV(lock_before) as the first slice found the
        lock). The task's C(no_log) leaves the holder out of those lines.
    type: float
    default: 0
  break_lock:
    description:
      - Take over (O(state=acquired)) or remove (O(state=released)) the lock whoever holds it, and
        revoke that holder's lease. The other run's next refresh then fails.
      - Only for a lock whose run is known to be dead and whose lease is too long to wait for. Two
        runs working on the control plane at once can take etcd quorum away.
    type: bool
    default: false
  holder:
    description:
      - Who takes the lock, written into it and shown to anyone who finds it held.
      - Ignored by O(state=released) and O(state=query).
    type: dict
    default: {}
    suboptions:
      user:
        description: The operator (controller user, or AWX user).
        type: str
      controller:
        description: The host the playbook runs on.
        type: str
      awx_job_id:
        description: The AWX / Automation Platform job id, when run from AWX.
        type: str
      playbook:
        description: The playbook or play name.
        type: str
      node:
        description: The node the run is working on.
        type: str
notes:
  - Uses the etcd gRPC-JSON gateway calls C(/v3/kv/txn), C(/v3/kv/range), C(/v3/lease/grant),
    C(/v3/lease/keepalive), C(/v3/lease/timetolive) and C(/v3/lease/revoke); the endpoints are
    tried in order, so give every member when the local one may be down.
  - Needs a quorum. Without one, no lock can be taken, refreshed or released.
seealso:
  - module: kubemaint.control_plane.etcd_member_info
'''

EXAMPLES = r'''
- name: Take the maintenance lock (wait up to a minute for another run)
  kubemaint.control_plane.etcd_lock:
    state: acquired
    ttl: 300
    wait_timeout: 60
    holder:
      user: "{{ lookup('ansible.builtin.env', 'USER') }}"
      controller: "{{ lookup('ansible.builtin.pipe', 'uname -n') }}"
      awx_job_id: "{{ awx_job_id | default(tower_job_id) | default('') }}"
      playbook: "{{ ansible_play_name }}"
      node: "{{ inventory_hostname }}"
  register: lock

- name: Refresh it between two steps
  kubemaint.control_plane.etcd_lock:
    state: acquired
    token: "{{ lock.token }}"

- name: Release it
  kubemaint.control_plane.etcd_lock:
    state: released
    token: "{{ lock.token }}"

- name: Show who holds the lock
  kubemaint.control_plane.etcd_lock:
    state: query
  register: current

- name: Remove a dead run's lock at once instead of waiting for its lease
  kubemaint.control_plane.etcd_lock:
    state: released
    break_lock: true
'''

RETURN = r'''
changed:
  description: Whether the lock was taken, moved to a new lease, broken or released (in check mode, would be).
  returned: always
  type: bool
  sample: true
action:
  description:
    - What was done (in check mode, would be done).
    - V(taken) (the lock was free), V(refreshed) (held by O(token), lease renewed),
      V(renewed) (held by O(token), moved to a new lease because O(ttl) changed or the lease had run out),
      V(broken) (taken over or removed with O(break_lock)), V(released), V(absent) (nothing to release),
      V(leave) (held by another token, left alone), V(query); V(wait) on failure after waiting.
  returned: always
  type: str
  sample: taken
token:
  description: The token of this run (made up when O(state=acquired) came without one).
  returned: always
  type: str
  sample: 0f9c1c2b8d8e4a3f9a6b8c7d6e5f4a3b
lock:
  description:
    - The lock after the task (in check mode, as it would be). C(held) is false when it is free;
      then only C(key), C(held) and C(summary) are present.
  returned: always, and on failure when another run holds the lock
  type: dict
  sample:
    key: /kubemaint.control_plane/lock
    held: true
    readable: true
    mine: true
    token: 0f9c1c2b8d8e4a3f9a6b8c7d6e5f4a3b
    user: alice
    controller: bastion-01
    awx_job_id: '1234'
    playbook: Restart the control plane node by node
    node: k-kube-lab-02
    started: '2026-11-28T07:12:03Z'
    lease_id: 694d8e0b8d0a3c05
    ttl: 300
    expires_in: 299
    create_revision: 1041
    mod_revision: 1041
    summary: >-
      held by alice on bastion-01 (AWX job 1234), playbook Restart the control plane node by node,
      node k-kube-lab-02, since 2026-11-28T07:12:03Z; lease expires in 299 s unless refreshed
lock_before:
  description: The lock as read before the task (same fields as RV(lock)).
  returned: success
  type: dict
  sample: {key: /kubemaint.control_plane/lock, held: false, summary: free}
previous_holder:
  description: The lock that O(break_lock) removed (same fields as RV(lock)).
  returned: when action is broken
  type: dict
  sample: {key: /kubemaint.control_plane/lock, held: true, user: bob, node: k-kube-lab-01}
waited:
  description: Seconds spent waiting for another holder (O(state=acquired)), over all slices of the wait.
  returned: when state is acquired, and on failure after waiting
  type: float
  sample: 0.0
endpoints:
  description: The endpoints asked, in order.
  returned: success
  type: list
  elements: str
  sample: [https://127.0.1.1:2379]
endpoints_source:
  description: Where the endpoints came from.
  returned: success
  type: str
  sample: endpoints option
ca_cert:
  description: CA certificate used.
  returned: success
  type: str
  sample: /etc/kubernetes/pki/etcd/ca.crt
client_cert:
  description: Client certificate used.
  returned: success
  type: str
  sample: /etc/kubernetes/pki/etcd/server.crt
client_key:
  description: Path of the client key used (never its content).
  returned: success
  type: str
  sample: /etc/kubernetes/pki/etcd/server.key
timeout:
  description: Per-request timeout in seconds.
  returned: success
  type: float
  sample: 5.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.lock import (
    DEFAULT_LOCK_KEY,
    DEFAULT_TTL,
    lock_request_from_module,
    run_etcd_lock,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    client_from_module,
    connection_result,
    etcd_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            state=dict(type='str', required=True, choices=['acquired', 'released', 'query']),
            key=dict(type='str', default=DEFAULT_LOCK_KEY, no_log=False),
            token=dict(type='str', no_log=False),
            ttl=dict(type='float', default=DEFAULT_TTL),
            wait_timeout=dict(type='float', default=0.0),
            break_lock=dict(type='bool', default=False),
            holder=dict(type='dict', default={}, options=dict(
                user=dict(type='str'),
                controller=dict(type='str'),
                awx_job_id=dict(type='str'),
                playbook=dict(type='str'),
                node=dict(type='str'),
            )),
        ),
        supports_check_mode=True,
    )
    request = lock_request_from_module(module)
    client, connection = client_from_module(module)
    run_etcd_lock(module, client, connection, request, connection_result(connection))


if __name__ == '__main__':
    main()
