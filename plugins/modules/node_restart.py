#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_restart
short_description: Restart a control-plane node's static pods in place behind the quorum guard, in one task
version_added: 0.2.0
description:
  - The whole in-place restart of one control-plane node in one task, as the playbook
    C(kubemaint.control_plane.rolling_restart) runs it for each node. The quorum guard's live read of etcd
    and its verdict; etcd leadership moved away from the node when it leads; a snapshot of its member; every
    control-plane pod stopped (apiserver, controller-manager and scheduler, then etcd) and started again, etcd
    first, until its member is healthy, a voter and caught up with the leader and the apiserver is ready.
  - A failure releases the maintenance lock held by O(lock_token), since the run ends there. A failure after a pod
    began to stop names the node and the command that brings it back.
  - An action plugin. It runs on the controller and runs the collection's modules on the node, over the task's own
    connection and privilege escalation (M(kubemaint.control_plane.static_pod_info) unless O(pods) is given,
    M(kubemaint.control_plane.etcd_member_info), M(kubemaint.control_plane.etcd_leader) only when leadership must
    move, and M(kubemaint.control_plane.static_pod_toggle)). The node needs what those modules need.
  - Nothing stops when the guard refuses. The refusal is one short failure line; the other reasons, what the guard
    saw and what to do are printed once, above it. When the guard lets the node stop, its verdict is printed as one
    line, and the node's return as one more.
  - A node whose pods do not all run, or that has a stray copy of a manifest, is not touched; the result says
    RV(long_way=true) and the caller stops and starts it with M(kubemaint.control_plane.static_pod_toggle).
  - Each wait lasts one O(wait_slice) at most per module run; a restart that takes longer goes on in slices up to
    O(wait_timeout), and each further slice prints a line saying how long it has waited.
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
    details: Reads etcd and weighs the guard for real; reports the leader it would choose, the snapshot it would
      write and the pods it would restart, and changes nothing.
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: none
    details: A restart is an action; every run restarts the pods again.
  platform:
    platforms: posix
options:
  member:
    description: The etcd member name of this node (C(node_name) in the inventory).
    type: str
    required: true
  pods:
    description:
      - The M(kubemaint.control_plane.static_pod_info) result of this node, read right before (a play over every
        control-plane host reads them at once). Without it, or when that read failed, the node's pods are read first.
    type: dict
  pods_by_host:
    description:
      - M(kubemaint.control_plane.static_pod_info) results of every control-plane host by inventory name, read right
        before, unreachable ones included. The guard refuses when another host cannot be checked, has stopped pods
        or a pod that its read probed (O(kubemaint.control_plane.static_pod_info#module:health)) found not healthy.
    type: dict
    default: {}
  peer_pods:
    description:
      - Registered results of a loop of M(kubemaint.control_plane.static_pod_info) over the other control-plane hosts
        (with C(delegate_to)), for the hosts O(pods_by_host) leaves out.
    type: list
    elements: raw
    default: []
  max_applied_lag:
    description: How many applied raft entries another voter may trail the leader by for the stop to go ahead.
    type: int
    default: 1000
  allow_quorum_loss:
    description:
      - Proceed although the guard found reasons to refuse (they are still printed, as a warning). The restart may
        take etcd quorum away and make the whole cluster read-only. Never for a node that is no etcd member.
    type: bool
    default: false
  override_name:
    description: The variable that sets O(allow_quorum_loss) for the caller, named in the guard's advice.
    type: str
    default: allow_quorum_loss
  leader_prefer:
    description:
      - Members to hand leadership to first when it must move away from this node (those etcd does not know are
        left out). A rolling restart names the members it restarted already.
    type: list
    elements: str
    default: []
  snapshot:
    description: Take a snapshot of this node's etcd member right before etcd stops, in the stop's own module run;
      only while etcd has quorum. When it cannot be taken nothing stops.
    type: bool
    default: true
  snapshot_dest:
    description: Where the snapshot goes on the node (see M(kubemaint.control_plane.static_pod_toggle)).
    type: path
  snapshot_keep:
    description: How many snapshots to keep in that directory.
    type: int
    default: 3
  reason:
    description: Why the pods are restarted; written to the stash record.
    type: str
    default: kubemaint.control_plane maintenance
  wait_timeout:
    description: Seconds the pods may take to stop and to come back in all.
    type: int
    default: 300
  wait_slice:
    description: Seconds one module run waits at most; a longer wait prints a line per slice.
    type: int
    default: 20
  lock_key:
    description: The etcd key of the maintenance lock (see M(kubemaint.control_plane.etcd_lock)).
    type: str
    default: /kubemaint.control_plane/lock
  lock_token:
    description:
      - The token of the maintenance lock this run holds. A failure releases the lock; empty, no lock is touched.
    type: str
    default: ''
  change:
    description:
      - Instead of restarting every pod, change static pod flags on this node, by component
        (V(etcd), V(kube-apiserver), V(kube-controller-manager), V(kube-scheduler)), each to a mapping with
        the keys C(set) (flag name to value) and C(absent) (list of flag names), with
        M(kubemaint.control_plane.static_pod_flags) (backup kept).
      - When every manifest carries the change already, nothing runs (no guard, no leadership move) and the
        task is not changed. Otherwise the quorum guard runs on a live read, leadership moves away when etcd's
        manifest changes on the leader, a snapshot is taken when etcd's manifest changes, then each component
        (etcd first) is changed and waited for until a process runs its new manifest healthy (etcd a voter caught
        up with the leader), in slices of O(wait_slice) up to O(wait_timeout).
      - A component that is not healthy in time is rolled back from its backup, with every component this task
        changed before it, waited for until the old pods run healthy, and the task fails naming the node, the
        flags, the backups, the pod's last state and O(changed_before).
      - In check mode every manifest's change is shown (with C(--diff)) and nothing is touched.
    type: dict
    version_added: 0.2.0
  change_name:
    description: What the caller calls O(change), named in the messages about it.
    type: str
    default: change
    version_added: 0.2.0
  changed_before:
    description: With O(change), the nodes the caller changed before this one, named when this one is rolled back.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  settle:
    description: With O(change), seconds to wait after the node's change is healthy, before the task returns.
    type: float
    default: 0
    version_added: 0.2.0
  change_prepare:
    description:
      - Before a tasks file changes this node's manifests (C(kubeadm upgrade node), the operator's own edit),
        the checks of O(change) as if etcd's manifest changes (every pod runs, the quorum guard, leadership moved away
        from the leader, a snapshot), then a backup of every manifest (RV(backups)). Nothing is changed.
    type: bool
    default: false
    version_added: 0.2.0
  change_backups:
    description:
      - After that tasks file ran, the RV(backups) of O(change_prepare). Every manifest that differs from its
        backup is waited for as with O(change) (a new pod healthy, etcd caught up), and when one is not healthy in
        time every changed manifest is rolled back from its backup and the task fails, as with O(change).
    type: dict
    version_added: 0.2.0
  change_failed:
    description:
      - With O(change_backups), the tasks file failed (this says how); every changed manifest is rolled back at
        once and the task fails naming the node and this.
    type: str
    default: ''
    version_added: 0.2.0
notes:
  - The quorum guard reads etcd from this node, through O(endpoints); give every member's client URL so that the
    read does not depend on this node's own member.
seealso:
  - module: kubemaint.control_plane.static_pod_toggle
  - module: kubemaint.control_plane.etcd_leader
  - plugin: kubemaint.control_plane.quorum_guard
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Restart this node in place behind the quorum guard
  kubemaint.control_plane.node_restart:
    member: "{{ node_name | default(inventory_hostname) }}"
    endpoints:
      - https://10.0.0.11:2379
      - https://10.0.0.12:2379
      - https://10.0.0.13:2379
  become: true
  register: restarted

- name: Add an apiserver flag on this node behind the same guard, rolled back when the apiserver is not ready in time
  kubemaint.control_plane.node_restart:
    member: "{{ node_name | default(inventory_hostname) }}"
    change:
      kube-apiserver:
        set:
          audit-log-maxage: 30
    settle: 5
  become: true
'''

RETURN = r'''
long_way:
  description: The node was not touched because some of its pods do not run or a manifest has a stray copy.
  returned: success
  type: bool
  sample: false
msg:
  description: What was done, or why the node restarts the long way, or (on failure) what went wrong.
  returned: always
  type: str
  sample: "lab-cp-01 restarted: etcd, kube-apiserver, kube-controller-manager, kube-scheduler stopped and started again; ..."
guard:
  description: The quorum guard's verdict (see P(kubemaint.control_plane.quorum_guard#filter)).
  returned: when the restart went ahead
  type: dict
leader:
  description: The result of M(kubemaint.control_plane.etcd_leader), or null when leadership did not have to move.
  returned: when the restart went ahead
  type: dict
snapshot:
  description: The snapshot taken before etcd stopped (see M(kubemaint.control_plane.static_pod_toggle)), or null.
  returned: when the restart went ahead, and on a failure after it was taken
  type: dict
components:
  description:
    - The components as M(kubemaint.control_plane.static_pod_toggle) returns them.
    - With O(change), the names of the components whose manifest changed (or would change).
  returned: success, unless RV(long_way)
  type: list
  elements: raw
backups:
  description: With O(change), the backup of each manifest changed, by component.
  returned: with O(change), when a manifest changed
  type: dict
  sample: {kube-apiserver: /etc/kubernetes/manifests-backup/kube-apiserver.yaml.20260101T120000Z}
  version_added: 0.2.0
rolled_back:
  description: With O(change), on failure, the components put back from their backups and healthy again.
  returned: failure of a change
  type: list
  elements: str
  version_added: 0.2.0
pod_state:
  description: With O(change), on failure, what the component that did not come up healthy showed last.
  returned: failure of a change
  type: str
  version_added: 0.2.0
stop_began:
  description: On failure, whether a pod of the node may have stopped (then the node may be partly stopped).
  returned: failure
  type: bool
  sample: false
stage:
  description: On failure of the restart, the half that failed (see M(kubemaint.control_plane.static_pod_toggle)).
  returned: failure of the restart
  type: str
timed_out:
  description: On failure, true when the wait ran out of O(wait_timeout).
  returned: failure after the pods began to stop
  type: bool
began_at:
  description: When the task began, in seconds since the epoch (controller clock).
  returned: always
  type: float
started_at:
  description: When the node was back, in seconds since the epoch (controller clock).
  returned: success, unless RV(long_way)
  type: float
steps:
  description:
    - The module runs on the node, in order, each with how long it took (seconds, controller clock), to show
      where a node's time goes.
    - The V(restart) step has its C(parts) - the snapshot, the stop and the start, as
      M(kubemaint.control_plane.static_pod_toggle) returns them in RV(kubemaint.control_plane.static_pod_toggle#module:timings);
      the rest of the step is the module run itself.
  returned: always
  type: list
  elements: dict
  contains:
    step:
      description: V(pods read), V(guard read), V(leader move), V(restart), V(wait) (one more slice of a long
        wait) or V(lock release) (after a failure).
      type: str
      returned: always
      sample: guard read
    module:
      description: The collection's module that ran.
      type: str
      returned: always
      sample: etcd_member_info
    began_at:
      description: When it began, in seconds since the epoch.
      type: float
      returned: always
    seconds:
      description: How long it took.
      type: float
      returned: always
      sample: 0.41
  sample: [{step: guard read, module: etcd_member_info, began_at: 1765068000.1, seconds: 0.41},
           {step: restart, module: static_pod_toggle, began_at: 1765068000.6, seconds: 2.9,
            parts: [{what: stopped, began_at: 1765068000.9, seconds: 1.1}, {what: started, began_at: 1765068002.0,
                    seconds: 1.3}]}]
'''
