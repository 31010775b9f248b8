#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: static_pod_flags
short_description: Add, change or remove command-line flags of a kubeadm control-plane static pod
version_added: 0.2.0
description:
  - Sets or removes flags in the command of a static pod manifest, for example etcd's
    C(--initial-cluster-state=existing) and C(--initial-cluster) when a member rejoins, or
    C(--force-new-cluster) while a cluster is rebuilt from one member.
  - Only the lines of the flags concerned change; every other byte of the manifest stays as it
    was (the file is edited as text, not rewritten from parsed YAML). The edited text is parsed
    again and must be the same pod with exactly the intended command, or nothing is written.
    New flags are inserted where kubeadm would put them (it sorts flags by name).
  - The manifest is edited where it is. In the manifests directory the kubelet notices the
    change and restarts the pod with the new flags. While the component is stopped by
    M(kubemaint.control_plane.static_pod_toggle) its manifest is in the stash and is edited there;
    the flags apply when it is started. A manifest in both places fails the task.
  - The edit is atomic. The new content is written to a hidden temporary file next to the manifest (the
    kubelet ignores dotfiles), fsynced and renamed over the manifest. Mode and owner are kept.
  - With O(backup=true) the previous manifest is kept first in O(backup_dir), outside the manifests
    directory (the kubelet would run a backup left inside it), with the manifest's mode.
  - Only manifests in kubeadm's format are edited (the flags in a block list under C(command:) of the
    first container); anything else fails with nothing changed.
author:
  - kubemaint.control_plane contributors (@kubemaint)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: A unified diff of the manifest's text.
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
  platform:
    platforms: posix
options:
  name:
    description:
      - The component whose manifest is edited.
    type: str
    required: true
    choices: [etcd, kube-apiserver, kube-controller-manager, kube-scheduler]
  flags:
    description:
      - Flags to set, by name without the leading dashes (V(initial-cluster-state)); each becomes
        C(--name=value) in the command. A flag already there with that value is left alone (a bare
        C(--name) counts as V(true)); with another value its line is replaced.
      - Values are strings, numbers or booleans (written as V(true)/V(false), the way kubeadm writes
        them). A null value is refused; list the flag in O(absent_flags) to remove it.
    type: dict
    default: {}
  absent_flags:
    description:
      - Flags to remove (every occurrence), by name without the leading dashes.
    type: list
    elements: str
    default: []
  kubernetes_dir:
    description:
      - The node's kubeadm directory; the defaults of O(manifests_dir), O(stash_dir) and O(backup_dir) are under it.
    type: path
    default: /etc/kubernetes
  manifests_dir:
    description:
      - The directory the kubelet runs static pods from. Defaults to C(manifests) under O(kubernetes_dir).
    type: path
  stash_dir:
    description:
      - Where M(kubemaint.control_plane.static_pod_toggle) keeps stopped manifests. Defaults to
        C(manifests-stash) under O(kubernetes_dir).
    type: path
  backup:
    description:
      - Keep the previous manifest in O(backup_dir) before changing it.
    type: bool
    default: true
  backup_always:
    description:
      - Keep the manifest in O(backup_dir) even when this task changes nothing (RV(backup_file) names it), so that
        a change made next by other means (a tasks file, C(kubeadm upgrade node)) can be undone with O(restore_from).
        Not in check mode.
    type: bool
    default: false
    version_added: 0.2.0
  backup_dir:
    description:
      - Where previous manifests are kept, as C(<name>.yaml.<UTC time>). Must be outside O(manifests_dir).
        Created with mode C(0700); an existing one must belong to the user the module runs as and not be
        writable by group or others.
      - Defaults to C(manifests-backup) under O(kubernetes_dir).
    type: path
  restore_from:
    description:
      - Put this backup (a file this module kept in O(backup_dir)) back as the manifest, byte for byte,
        instead of editing flags; mode and owner of the manifest are kept. Used to roll a change back.
      - Not together with O(flags) or O(absent_flags).
    type: path
    version_added: 0.2.0
  wait:
    description:
      - When the manifest is in the manifests directory, wait until a process on the node runs exactly its
        command (the kubelet replaced the old container; read from C(/proc)) and the component answers healthy
        (etcd a healthy voting member, kube-apiserver C(/readyz), the others C(/healthz)), even when nothing
        changed. A timeout fails the task with RV(timed_out) and RV(pod_state); the manifest stays as written.
      - Not in check mode.
    type: bool
    default: false
    version_added: 0.2.0
  wait_timeout:
    description:
      - Seconds to wait with O(wait).
    type: int
    default: 300
    version_added: 0.2.0
seealso:
  - module: kubemaint.control_plane.etcd_member
  - module: kubemaint.control_plane.static_pod_toggle
'''

EXAMPLES = r'''
- name: Let a re-added etcd member join the existing cluster
  kubemaint.control_plane.static_pod_flags:
    name: etcd
    flags:
      initial-cluster: "{{ added.etcd_initial_cluster }}"
      initial-cluster-state: existing

- name: Rebuild a one-member cluster from this member's data
  kubemaint.control_plane.static_pod_flags:
    name: etcd
    flags:
      force-new-cluster: true

- name: Add an apiserver flag and wait until the restarted apiserver is ready
  kubemaint.control_plane.static_pod_flags:
    name: kube-apiserver
    flags:
      audit-log-maxage: 30
    wait: true
  register: changed_flags

- name: Roll that change back
  kubemaint.control_plane.static_pod_flags:
    name: kube-apiserver
    restore_from: "{{ changed_flags.backup_file }}"
    wait: true
  when: changed_flags.backup_file

- name: And take the flag out again once it leads
  kubemaint.control_plane.static_pod_flags:
    name: etcd
    absent_flags:
      - force-new-cluster
'''

RETURN = r'''
changed:
  description: Whether the manifest changed (or, in check mode, would change).
  returned: always
  type: bool
  sample: true
path:
  description: The manifest edited.
  returned: success
  type: str
  sample: /etc/kubernetes/manifests/etcd.yaml
location:
  description: V(manifests) when the manifest is in the manifests directory (the pod restarts), V(stash) when the component is stopped.
  returned: success
  type: str
  sample: manifests
changes:
  description: One entry per flag added, changed or removed, with the command argument before and after.
  returned: success
  type: list
  elements: dict
  sample: [{flag: initial-cluster-state, action: added, before: null, after: --initial-cluster-state=existing}]
flags_before:
  description: Every flag of the command before the task (name without dashes to value; V(true) for a bare flag).
  returned: success
  type: dict
  sample: {initial-cluster-state: new, name: lab-cp-01}
flags_after:
  description: Every flag of the command after the task (in check mode, as it would be).
  returned: success
  type: dict
  sample: {initial-cluster-state: existing, name: lab-cp-01}
backup_file:
  description:
    - Where the previous manifest was kept; null when nothing changed (unless O(backup_always)), without O(backup),
      and in check mode.
  returned: success
  type: str
  sample: /etc/kubernetes/manifests-backup/etcd.yaml.20260101T120000Z
sha256_before:
  description: SHA-256 of the manifest before the task.
  returned: success
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
sha256_after:
  description: SHA-256 of the manifest after the task (in check mode, as it would be).
  returned: success
  type: str
  sample: 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
restored_from:
  description: The backup put back with O(restore_from).
  returned: with O(restore_from)
  type: str
  sample: /etc/kubernetes/manifests-backup/kube-apiserver.yaml.20260101T120000Z
  version_added: 0.2.0
timed_out:
  description: Whether O(wait) ran out of time (the pod did not run its manifest healthy in time).
  returned: with O(wait)
  type: bool
  sample: false
  version_added: 0.2.0
waited:
  description: Seconds O(wait) waited until the pod ran its manifest healthy.
  returned: with O(wait), on success, outside check mode, when the manifest is in the manifests directory
  type: float
  sample: 2.4
  version_added: 0.2.0
pod_state:
  description: What the wait saw last, in words (for a timeout, why the pod is not healthy).
  returned: with O(wait), when the wait failed
  type: str
  sample: "kube-apiserver not running its manifest healthy after 20 s ..."
  version_added: 0.2.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifest_edit import (
    FlagEditError,
    ManifestFlags,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import ManifestError, StaticPod
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.health import (
    WaitTimeout,
    wait_runs_healthy,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True,
                      choices=['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']),
            flags=dict(type='dict', default={}),
            absent_flags=dict(type='list', elements='str', default=[]),
            kubernetes_dir=dict(type='path', default='/etc/kubernetes'),
            manifests_dir=dict(type='path'),
            stash_dir=dict(type='path'),
            backup=dict(type='bool', default=True),
            backup_dir=dict(type='path'),
            backup_always=dict(type='bool', default=False),
            restore_from=dict(type='path'),
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=300),
        ),
        mutually_exclusive=[('restore_from', 'flags'), ('restore_from', 'absent_flags'), ('restore_from', 'backup_always')],
        supports_check_mode=True,
    )
    params = module.params
    try:
        editor = ManifestFlags(params['name'], kubernetes_dir=params['kubernetes_dir'],
                               manifests_dir=params['manifests_dir'], stash_dir=params['stash_dir'],
                               backup_dir=params['backup_dir'])
        if params['wait_timeout'] < 1:
            raise FlagEditError('wait_timeout=%s must be at least 1; nothing was changed' % params['wait_timeout'])
        if params['restore_from']:
            result = editor.restore(params['restore_from'], check_mode=module.check_mode)
        else:
            result = editor.ensure(params['flags'], params['absent_flags'], backup=params['backup'],
                                   check_mode=module.check_mode, backup_always=params['backup_always'])
    except FlagEditError as exc:
        module.fail_json(msg=str(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot write the %s manifest: %s' % (params['name'], exc))
    before, after = result.pop('before_text'), result.pop('after_text')
    if module._diff:
        result['diff'] = {'before': before, 'after': after,
                          'before_header': result['path'], 'after_header': result['path']}
    if params['wait'] and not module.check_mode and result['location'] == 'manifests':
        result['timed_out'] = False
        try:
            pod = StaticPod.from_text(after, result['path'])
            result['waited'] = round(wait_runs_healthy(params['name'], pod, editor.node, params['wait_timeout']), 3)
        except (WaitTimeout, ManifestError) as exc:
            result['timed_out'] = isinstance(exc, WaitTimeout)
            result['pod_state'] = str(exc)
            module.fail_json(msg='%s: %s' % (result['path'], exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
