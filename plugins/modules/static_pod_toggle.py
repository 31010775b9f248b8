#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: static_pod_toggle
short_description: Stop and start kubeadm control-plane static pods without losing a manifest
version_added: 0.1.0
description:
  - Stops control-plane static pods by moving their manifests from the kubelet's manifests
    directory to a stash directory outside it, and starts them by moving them back; the
    per-component, crash-safe version of the runbook's C(mv manifests manifests-DATE) and
    C(rsync -av manifests-DATE/ manifests/).
  - Where a manifest is, is the state. Each move is one atomic rename followed by an fsync of
    both directories, so the module can be killed at any point and a rerun converges.
    Ownership and mode of the manifests are kept; the stash directory is created with mode
    C(0700) (and tightened to C(0700) when something is stashed into it).
  - Never deletes the only copy of a manifest. If a manifest is in both places with the same
    content, the stray copy is removed (the one in the manifests directory for
    O(state=stopped), the stashed one for O(state=started)). If the contents differ the module
    fails naming both paths and their SHA-256 and changes nothing.
  - Every requested manifest is checked (exists in one place, readable, YAML, a Pod) before
    anything is moved; any problem fails the run with nothing changed.
  - A small record in the stash directory (C(stash-record.json)) says when and why each
    manifest was stashed.
  - Stray copies. The kubelet runs every file of the manifests directory that is not a dotfile,
    whatever its name. A file there that defines a control-plane pod already defined by another
    file (C(etcd.yaml.bak), a copy under another name) is reported in RV(strays), in check mode
    too. Stopping a component moves its strays into C(<stash_dir>/strays/) (mode C(0700)) with it,
    so that the component does not come back from the copy. Strays are never deleted and never
    moved back.
  - Trust. The kubelet runs the manifests as root, so a stash directory, or a manifest in it or
    about to be moved there, that is owned by another user than the one the module runs as, or
    that group or others may write, is refused (for O(state=stopped) and O(state=started) alike)
    with the path and the reason, and nothing is changed. Symlinks are followed and their target
    is judged. See C(docs/security.md).
  - Every argument is checked before anything moves (paths absolute, O(wait_timeout) bounded).
  - "A manifest whose pod is another component than the file's name says (a stashed C(etcd.yaml) whose
    C(component) label or C(metadata.name) is C(kube-apiserver), for example) is refused, naming the file and
    the pod it holds, before anything moves."
  - The stash directory is never a directory the system or kubeadm shares (C(/), C(/etc), C(/tmp), C(/var/lib)
    and the like, O(kubernetes_dir) itself) nor anything inside the C(manifests) or C(pki) directory (symlinks
    and C(..) resolved). For O(state=stopped) an existing stash directory must already be this collection's
    stash, holding nothing but stashed control-plane manifests, C(stash-record.json) and C(strays/), and must not
    have the sticky bit; any other directory is refused, naming it, and its mode is never changed.
  - "Right before etcd's manifest leaves the manifests directory (O(state=stopped) or O(state=restarted)), the
    member list and every member's health are read again, from O(snapshot_endpoints) and then this node's
    member (its own URL and certificates): the stop is refused, naming the member, when another voting
    member does not answer or is unhealthy, or when stopping this member would leave etcd without quorum
    (a guard's earlier read can be stale: a member may have frozen since). O(allow_quorum_loss) turns the
    refusal into a warning. Not in check mode."
  - An error after some components were moved (a full disk, for example) names the file and the
    components this run already stopped or started.
  - Stopping several components follows the order kube-apiserver, kube-controller-manager,
    kube-scheduler, etcd; starting follows etcd, kube-apiserver, kube-controller-manager,
    kube-scheduler. etcd moves alone (last to stop, first to start); kube-apiserver,
    kube-controller-manager and kube-scheduler move together, as the kubelet starts them at boot.
    With O(wait=true) every component of a group must have stopped or started before the next group
    is moved, so etcd is down only once nothing else on the node runs, and healthy before anything
    else starts.
author:
  - kubemaint.control_plane contributors (@kubemaint)
extends_documentation_fragment:
  - kubemaint.control_plane.node
  - kubemaint.control_plane.node.manifests
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists, per component, which file holds its manifest before and after.
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: partial
    details: V(stopped) and V(started) are idempotent; V(restarted) restarts every time.
  platform:
    platforms: posix
options:
  name:
    description:
      - Components to stop or start, or V(all) for all four.
    type: list
    elements: str
    required: true
    choices: [etcd, kube-apiserver, kube-controller-manager, kube-scheduler, all]
  state:
    description:
      - V(stopped) moves the manifests to the stash directory, V(started) moves them back.
      - V(restarted) stops the components and starts them again in the same run (each stopped, in stop
        order, then each started, in start order), so that nothing runs between the stop and the start;
        it always reports a change, as a service restart does. The
        C(kubemaint.control_plane.rolling_restart) playbook restarts etcd so when it has no maintenance tasks.
    type: str
    required: true
    choices: [stopped, started, restarted]
  stash_dir:
    description:
      - Where stopped manifests are kept, an absolute path. Must be outside O(manifests_dir), because the kubelet runs
        every non-hidden file it finds there, backups included. Best on the same filesystem,
        so that moves are single atomic renames (across filesystems the module copies,
        fsyncs, renames into place and only then removes the source).
      - Defaults to C(manifests-stash) under O(kubernetes_dir).
    type: path
  wait:
    description:
      - Wait until each component really stopped (none of its ports, read from its manifest's
        flags, accepts connections) or really started (its health endpoint answers healthy)
        before moving the next group (etcd, or the other three together).
      - "Started means: etcd answers C(/health) on its first advertised client URL with its
        own certificates (C(--cert-file), C(--key-file), C(--trusted-ca-file)) and lists itself as
        a voting member; kube-apiserver answers C(/readyz) on C(--advertise-address):C(--secure-port),
        verified against C(pki/ca.crt); kube-controller-manager and kube-scheduler answer
        C(/healthz) on C(--bind-address):C(--secure-port) (default 10257 and 10259)."
      - "For kube-controller-manager and kube-scheduler: with C(--tls-cert-file) set, that
        certificate is the only trust anchor. Without it (kubeadm's default) they serve a
        self-signed certificate generated in memory, which nothing on disk can verify; then a
        completed TLS handshake and HTTP 200 count as started, as for the kubelet's own probe.
        No credentials are sent on that connection."
      - Starting etcd on a node waits for a healthy cluster, so starting one member while a
        majority is still down times out; start enough members, one module call per node.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each component, from 1 to 86400. Checked, like every other argument,
        before anything is moved.
      - "A wait that runs out fails with RV(timed_out=true) after the moves were done; running the
        same task again goes on waiting. So a long wait can run in slices that each print a line,
        C(until: result is not failed or not result.timed_out) with O(wait_timeout) set to the slice
        (the roles of this collection wait so; not with O(state=restarted), whose rerun restarts again)."
    type: int
    default: 300
  reason:
    description:
      - Why the manifests are stashed; written to the stash record with the time.
    type: str
  snapshot:
    description:
      - Before stopping a running etcd (O(state=stopped) or O(state=restarted) with etcd in O(name)), save a
        snapshot of this node's etcd member first, as M(kubemaint.control_plane.etcd_snapshot) does (integrity-checked,
        mode 0600, into O(snapshot_dest), the oldest pruned to O(snapshot_keep)). It is streamed from the member's first
        C(--advertise-client-urls) with the member's own C(--cert-file), C(--key-file) and C(--trusted-ca-file), TLS
        verified, the same connection the wait for etcd's start uses.
      - Taken before anything is moved, in the same module run as the stop (no separate task in between). When it
        cannot be taken the module fails with RV(stage=snapshot) and nothing is stopped.
      - When that member does not answer (running, but hung or unhealthy), the snapshot is streamed from the first of
        O(snapshot_endpoints) that does, with the same certificates.
      - No snapshot when etcd is not stopped by this run (already stopped, or not in O(name)); RV(snapshot) is then null.
      - In check mode etcd is asked for its status and RV(snapshot) says where the snapshot would be written.
    type: bool
    default: false
    version_added: 0.2.0
  snapshot_dest:
    description:
      - Directory for the snapshot of O(snapshot), an absolute path, with the rules of the O(kubemaint.control_plane.etcd_snapshot#module:dest)
        option of M(kubemaint.control_plane.etcd_snapshot) (created 0700, refused when others may write to it, or when
        it is inside the C(manifests) or C(pki) directory).
      - Default C(/var/lib/etcd-snapshots) on the node of O(kubernetes_dir) (under the same root when
        O(kubernetes_dir) is C(<root>/etc/kubernetes), as in a lab).
    type: path
    version_added: 0.2.0
  snapshot_endpoints:
    description:
      - Client URLs of other etcd members (C(https://host:port)) to take the snapshot of O(snapshot) from when this
        node's member does not answer, tried in this order. This node's own URL may be among them (it is tried once).
      - Also asked, before this node's member, for the member list when peer health is read right before etcd stops.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  snapshot_keep:
    description:
      - With O(snapshot), how many C(etcd-snapshot-*.db) files to keep in O(snapshot_dest), the new one included;
        older ones are removed. V(0) keeps every snapshot.
    type: int
    default: 0
    version_added: 0.2.0
  allow_quorum_loss:
    description:
      - Let etcd stop although the read right before the stop found another voting member unhealthy or not
        answering, or found that the stop leaves etcd without quorum; a warning says what was found. The
        override of the roles' quorum guard (C(control_plane_node_allow_quorum_loss)) is passed here.
      - etcd stops accepting writes until enough members run again.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Run it on the control-plane node (C(become) when the manifests belong to root).
  - The kubelet stops a pod within seconds of its manifest leaving the manifests directory,
    sending SIGTERM and waiting the pod's grace period.
seealso:
  - module: kubemaint.control_plane.etcd_member_info
'''

EXAMPLES = r'''
- name: Stop the whole control plane of this node (apiserver first, etcd last)
  kubemaint.control_plane.static_pod_toggle:
    name: all
    state: stopped
    reason: kernel patching, CHG-1234
  become: true

- name: Bring it back (etcd first, each one healthy before the next)
  kubemaint.control_plane.static_pod_toggle:
    name: all
    state: started
    wait_timeout: 600
  become: true

- name: List stray copies of control-plane manifests (etcd.yaml.bak and the like); changes nothing
  kubemaint.control_plane.static_pod_toggle:
    name: all
    state: started
  check_mode: true
  register: manifests_view

- name: Refuse to go on while a stray copy would keep a component running
  ansible.builtin.assert:
    that: manifests_view.strays | length == 0
    fail_msg: "stray manifests: {{ manifests_view.strays | map(attribute='path') | join(', ') }}"

- name: Restart etcd, nothing in between the stop and the start (each one waited for)
  kubemaint.control_plane.static_pod_toggle:
    name: etcd
    state: restarted
  become: true

- name: Stop the control plane, saving a snapshot of this node's etcd member right before etcd stops
  kubemaint.control_plane.static_pod_toggle:
    name: all
    state: stopped
    snapshot: true
    snapshot_keep: 5
  become: true
  register: stopped_pods

- name: Say where the snapshot went
  ansible.builtin.debug:
    msg: "etcd snapshot: {{ stopped_pods.snapshot.path if stopped_pods.snapshot else 'none (etcd was not running)' }}"

- name: Restart only the scheduler, without waiting
  kubemaint.control_plane.static_pod_toggle:
    name: kube-scheduler
    state: "{{ item }}"
    wait: false
  loop: [stopped, started]
'''

RETURN = r'''
timed_out:
  description: On failure, true when the only problem was a wait that ran out of O(wait_timeout) (the manifests
    were moved; the same call again goes on waiting), false for any other failure.
  returned: failure
  type: bool
  sample: true
  version_added: 0.2.0
stage:
  description: With O(state=restarted), on failure, the half of the restart that failed. V(stopped) means the
    components were not all stopped yet (to finish the restart, stop them and then start them); V(started) means
    they were all stopped and the failure came while starting them. V(snapshot) (also with O(state=stopped)) means
    the snapshot of O(snapshot) could not be taken and nothing was moved.
  returned: failure with O(state=restarted), or when the snapshot of O(snapshot) failed
  type: str
  sample: started
  version_added: 0.2.0
snapshot:
  description: The snapshot O(snapshot) took before etcd was stopped (in check mode, would take), or null when none
    was taken; also on a failure after it was taken (a wait that ran out, for example). The keys are those
    M(kubemaint.control_plane.etcd_snapshot) returns about the file.
  returned: always, except when the arguments are refused
  type: dict
  version_added: 0.2.0
  contains:
    path:
      description: The snapshot file.
      returned: always
      type: str
      sample: /var/lib/etcd-snapshots/etcd-snapshot-20260101T120000Z.db
    endpoint:
      description: The URL it was streamed from (this node's member, or one of O(snapshot_endpoints)).
      returned: always
      type: str
      sample: https://10.0.0.11:2379
    member_id:
      description: The ID of that member, in hex.
      returned: always
      type: str
      sample: 8e9e05c52164694d
    revision:
      description: The store revision the member reported right before the snapshot.
      returned: always
      type: int
      sample: 1042
    size:
      description: Bytes written, the appended sha256 included (null in check mode).
      returned: always
      type: int
      sample: 2125856
    sha256:
      description: SHA-256 of the file (null in check mode).
      returned: always
      type: str
      sample: 0c4f2d2a2a4e1bd8a3a4b0b1d5d6e1a7f1b1e3c1d2e3f4a5b6c7d8e9f0a1b2c3
    removed:
      description: Older snapshots removed to honour O(snapshot_keep) (in check mode, that would be removed).
      returned: always
      type: list
      elements: str
      sample: []
state:
  description: The state requested.
  returned: always
  type: str
  sample: stopped
manifests_dir:
  description: The manifests directory used.
  returned: always
  type: str
  sample: /etc/kubernetes/manifests
stash_dir:
  description: The stash directory used.
  returned: always
  type: str
  sample: /etc/kubernetes/manifests-stash
record_path:
  description: The stash record file (when and why each manifest was stashed).
  returned: always
  type: str
  sample: /etc/kubernetes/manifests-stash/stash-record.json
strays:
  description: >-
    Every stray copy of a control-plane manifest in the manifests directory, found before the run:
    a file the kubelet would run (not a dotfile) other than C(<component>.yaml) that defines a
    control-plane pod which another file (the component's manifest, in the manifests directory or
    stashed, or another copy) defines too.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/kubernetes/manifests/etcd.yaml.bak, component: etcd, action: stash,
            stash_path: /etc/kubernetes/manifests-stash/strays/etcd.yaml.bak}]
  contains:
    path:
      description: The stray file in the manifests directory.
      returned: always
      type: str
      sample: /etc/kubernetes/manifests/etcd.yaml.bak
    component:
      description: The control-plane component it defines.
      returned: always
      type: str
      sample: etcd
    action:
      description: V(stash) when this run moves (in check mode, would move) it away with its component, else V(none).
      returned: always
      type: str
      sample: stash
    stash_path:
      description: Where it is moved to, or null when it stays.
      returned: always
      type: str
      sample: /etc/kubernetes/manifests-stash/strays/etcd.yaml.bak
timings:
  description:
    - The parts of the run, in order, to show where its time goes; a part that did not happen is left out.
    - V(snapshot) is the snapshot taken before etcd stopped; V(stopped) and V(started) are the manifests
      moved and, with O(wait), the wait for the pods (with O(state=restarted), both, the stop first).
  returned: success
  type: list
  elements: dict
  version_added: 0.2.0
  sample: [{what: snapshot, began_at: 1765068000.61, seconds: 0.21}, {what: stopped, began_at: 1765068000.82,
            seconds: 1.05}, {what: started, began_at: 1765068001.87, seconds: 1.62}]
components:
  description: One entry per component, in the order they were handled; with O(state=restarted) two per component,
    the stop and then the start.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The component.
      returned: always
      type: str
      sample: etcd
    state_before:
      description: V(started) (manifest in the manifests directory), V(stopped) (stashed) or
        V(both) (identical copies in both places).
      returned: always
      type: str
      sample: started
    state_after:
      description: The state after the run (in check mode, the state a real run would reach).
      returned: always
      type: str
      sample: stopped
    action:
      description: V(none), V(stash), V(restore), V(remove-stray-manifest) or V(remove-stray-stash).
      returned: always
      type: str
      sample: stash
    changed:
      description: Whether this component was (or in check mode would be) changed.
      returned: always
      type: bool
      sample: true
    manifest_path:
      description: Where the manifest is when the component is started.
      returned: always
      type: str
      sample: /etc/kubernetes/manifests/etcd.yaml
    stash_path:
      description: Where the manifest is when the component is stopped.
      returned: always
      type: str
      sample: /etc/kubernetes/manifests-stash/etcd.yaml
    path:
      description: Where the manifest is after the run.
      returned: always
      type: str
      sample: /etc/kubernetes/manifests-stash/etcd.yaml
    sha256:
      description: SHA-256 of the manifest (unchanged by the move).
      returned: always
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    waited:
      description: Seconds from the move of the component's group (etcd alone, or the other three together) until
        the component was confirmed stopped or started; null without waiting or in check mode.
      returned: always
      type: float
      sample: 2.514
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import validate_endpoint
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import EtcdError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    SNAPSHOT_KEEP,
    WAIT_TIMEOUT,
    check_arguments,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    default_snapshot_dir,
    kubeadm_dir_problem,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.toggle import (
    ToggleError,
    restart_static_pods,
    toggle_static_pods,
)


def warn_snapshot(module, snapshot):
    """The snapshot's warnings (a shared snapshot directory left as it is) as the module's own."""
    for warning in (snapshot or {}).pop('warnings', []):
        module.warn(warning)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='list', elements='str', required=True,
                      choices=['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'all']),
            state=dict(type='str', required=True, choices=['stopped', 'started', 'restarted']),
            kubernetes_dir=dict(type='path', default='/etc/kubernetes'),
            manifests_dir=dict(type='path'),
            stash_dir=dict(type='path'),
            wait=dict(type='bool', default=True),
            wait_timeout=dict(type='int', default=300),
            reason=dict(type='str'),
            snapshot=dict(type='bool', default=False),
            snapshot_dest=dict(type='path'),
            snapshot_endpoints=dict(type='list', elements='str', default=[]),
            snapshot_keep=dict(type='int', default=0),
            allow_quorum_loss=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    check_arguments(module, numbers={'wait_timeout': WAIT_TIMEOUT, 'snapshot_keep': SNAPSHOT_KEEP},
                    absolute_paths=('kubernetes_dir', 'manifests_dir', 'stash_dir', 'snapshot_dest'))
    params = dict((key, module.params[key]) for key in (
        'kubernetes_dir', 'manifests_dir', 'stash_dir', 'wait', 'wait_timeout', 'reason', 'allow_quorum_loss'))
    params['etcd_endpoints'] = module.params['snapshot_endpoints']
    for endpoint in module.params['snapshot_endpoints']:
        try:
            validate_endpoint(endpoint)
        except EtcdError as exc:
            module.fail_json(msg='snapshot_endpoints: %s. Nothing was changed.' % exc)
    if module.params['snapshot']:
        dest = module.params['snapshot_dest'] or default_snapshot_dir(module.params['kubernetes_dir'])
        problem = kubeadm_dir_problem('snapshot_dest', dest, module.params['kubernetes_dir'], module.params['manifests_dir'])
        if problem:
            module.fail_json(msg='%s. Nothing was changed.' % problem)
        params['snapshot'] = {
            'dest': dest,
            'keep': module.params['snapshot_keep'],
            'endpoints': module.params['snapshot_endpoints'],
        }
    try:
        if module.params['state'] == 'restarted':
            result = restart_static_pods(module.params['name'], check_mode=module.check_mode, diff=module._diff, **params)
        else:
            result = toggle_static_pods(module.params['name'], module.params['state'], check_mode=module.check_mode,
                                        diff=module._diff, **params)
    except ToggleError as exc:
        warn_snapshot(module, exc.snapshot)
        extra = {'stage': exc.stage} if exc.stage else {}
        module.fail_json(msg=str(exc), changed=exc.changed and not module.check_mode, components=exc.results,
                         strays=exc.strays, timed_out=exc.timed_out, snapshot=exc.snapshot, **extra)
    warn_snapshot(module, result.get('snapshot'))
    # module.warn(), not a warnings key: exit_json(warnings=...) is deprecated
    for warning in result.pop('warnings', []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
