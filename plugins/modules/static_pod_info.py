#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: static_pod_info
short_description: Report which control-plane static pods run, stray manifests and stopped copies on a node
version_added: 0.2.0
description:
  - Reads, never writes, the node's manifests directory and the directories stopped manifests
    may lie in, and reports which control-plane components run (their C(<component>.yaml) is in
    the manifests directory), which are stopped, and which other files in the manifests
    directory define a control-plane pod a second time (strays such as C(etcd.yaml.bak), which the
    kubelet runs like any file there).
  - Finds stopped manifests in the collection's stash (followed when it is a symlink, as
    M(kubemaint.control_plane.static_pod_toggle) follows it), in directories beside the manifests
    directory that match O(stash_patterns) (the runbook's C(manifests-<date>)), and in
    directories moved one level down into the manifests directory (C(manifests/manifests-<date>/)).
  - Returns the restore plan the P(kubemaint.control_plane.recover#role) role follows; a copy
    whose file or directory is not owned by the user the module runs as, or is writable by
    group or others, is never planned for restore.
author:
  - kubemaint.control_plane contributors (@kubemaint)
extends_documentation_fragment:
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
  kubernetes_dir:
    description:
      - The node's kubeadm directory; the manifests directory is C(manifests) under it.
    type: path
    default: /etc/kubernetes
  stash_dir:
    description:
      - The stash directory M(kubemaint.control_plane.static_pod_toggle) uses, when not its
        default C(manifests-stash) under O(kubernetes_dir).
    type: path
  stash_patterns:
    description:
      - Shell patterns of directory names beside the manifests directory (under O(kubernetes_dir))
        that may hold stopped manifests.
    type: list
    elements: str
    default: ['manifests-*']
  pod_log_dir:
    description:
      - The kubelet's pod log directory, where the etcd container's logs lie as
        C(<namespace>_<pod>-<node>_<uid>/<container>/<restartCount>.log); read for RV(etcd_runtime).
      - Defaults to C(/var/log/pods), under the same root as O(kubernetes_dir) when that is
        C(<root>/etc/kubernetes). Must not lie inside the manifests or pki directory.
    type: path
    version_added: 0.2.0
  health:
    description:
      - Components to probe once each, when their manifest is in the manifests directory, as the collection's
        waits probe them (RV(health)); the quorum guard of the rolling playbooks refuses a node's turn while
        another node's pod is not healthy.
      - C(etcd) is healthy when a linearizable read through its advertised client URL succeeds and the member
        list names it as a voter; C(kube-apiserver) when C(/readyz) answers 200, verified against the cluster CA;
        C(kube-controller-manager) and C(kube-scheduler) when C(/healthz) answers 200.
      - Each probe waits 3 seconds at most.
    type: list
    elements: str
    choices: [etcd, kube-apiserver, kube-controller-manager, kube-scheduler]
    default: []
    version_added: 0.2.0
notes:
  - Read-only; never reports C(changed).
seealso:
  - module: kubemaint.control_plane.static_pod_toggle
'''

EXAMPLES = r'''
- name: See what runs and what is stopped on this node
  kubemaint.control_plane.static_pod_info:
  register: pods

- name: Refuse to go on while a backup copy sits in the manifests directory
  ansible.builtin.assert:
    that: pods.strays | length == 0
    fail_msg: "stray manifests: {{ pods.strays | map(attribute='path') | join(', ') }}"
'''

RETURN = r'''
kubernetes_dir:
  description: The kubeadm directory read.
  returned: always
  type: str
  sample: /etc/kubernetes
manifests_dir:
  description: The manifests directory read.
  returned: always
  type: str
  sample: /etc/kubernetes/manifests
manifests_dir_exists:
  description: Whether the manifests directory exists (the runbook moves it away as a whole).
  returned: always
  type: bool
  sample: true
manifests_dir_source:
  description: When the manifests directory is missing, the first directory stopped manifests were
    found in, with its mode, uid and gid (to recreate the manifests directory alike); else null.
  returned: always
  type: dict
  sample: {path: /etc/kubernetes/manifests-20240101, mode: '0755', uid: 0, gid: 0}
running:
  description: Components whose manifest is in the manifests directory, in the collection's order.
  returned: always
  type: list
  elements: str
  sample: [etcd, kube-apiserver, kube-controller-manager, kube-scheduler]
stopped:
  description: Components whose manifest is not in the manifests directory.
  returned: always
  type: list
  elements: str
  sample: []
strays:
  description: Other files in the manifests directory that define a control-plane pod.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/kubernetes/manifests/etcd.yaml.bak, component: etcd}]
stash_directories:
  description: Every directory searched for stopped manifests, the collection's stash first.
  returned: always
  type: list
  elements: str
  sample: [/etc/kubernetes/manifests-stash, /etc/kubernetes/manifests-20240101]
copies:
  description: Every stopped manifest found, with its directory, kind (C(stash), C(beside),
    C(inside)), modification time and the reasons it cannot be trusted (empty when it can).
  returned: always
  type: list
  elements: dict
  sample: [{component: etcd, path: /etc/kubernetes/manifests-stash/etcd.yaml, directory: /etc/kubernetes/manifests-stash,
            kind: stash, mtime: 1700000000.0, trust_problems: []}]
plan:
  description: What the recover role restores here.
  returned: always
  type: dict
  contains:
    steps:
      description: Components to restore in start order (etcd first), each with the directory to restore from.
      type: list
      elements: dict
      returned: always
      sample: [{name: etcd, stash_dir: /etc/kubernetes/manifests-stash, path: /etc/kubernetes/manifests-stash/etcd.yaml,
                other_copies: []}]
    relocate:
      description: Directories inside the manifests directory to move beside it before restoring from them.
      type: list
      elements: dict
      returned: always
      sample: [{from: /etc/kubernetes/manifests/manifests-20240101, to: /etc/kubernetes/manifests-20240101}]
    refused:
      description: Why nothing is restored on this node (untrusted copies, stray manifests); empty when fine.
      type: list
      elements: str
      returned: always
      sample: []
    data_lost:
      description:
        - Why etcd is not restored on this node although its manifest was found stopped, when its data
          directory is empty or missing (a restart cannot bring that member back); nothing else is restored
          on the node either. Empty when fine.
      type: list
      elements: str
      returned: always
      sample: []
etcd_data:
  description:
    - The etcd data directory named by the node's etcd manifest (C(--data-dir), running or stopped), whether it
      exists and whether it holds a member's data (a WAL file or the backend database); C(has_data) is null when
      it cannot be read. Null when no etcd manifest was found.
    - C(db_size) (bytes) and C(db_mtime) (seconds since the epoch) of the backend database
      C(<data_dir>/member/snap/db); null without one.
    - C(wal_files) (how many C(<data_dir>/member/wal/*.wal)) and C(wal_mtime) (the newest one's modification time,
      null without one), added in 0.2.0.
  returned: always
  type: dict
  sample: {data_dir: /var/lib/etcd, exists: true, has_data: true, db_size: 20480, db_mtime: 1710065700.5, wal_files: 1,
           wal_mtime: 1710065712.1}
health:
  description:
    - For each component named in O(health) whose manifest is in the manifests directory, one probe's answer
      (C(healthy)) and what it saw (C(detail)). Empty when O(health) names none.
  returned: always
  type: dict
  version_added: 0.2.0
  sample: {kube-apiserver: {healthy: false, detail: 'https://10.0.0.12:6443/readyz answered HTTP 500'}}
etcd_runtime:
  description:
    - Whether this node's etcd runs, read from the node (never from etcd), for the etcd manifest in place or else
      its stopped copy; null without an etcd manifest. A manifest in place with no etcd process is a crash loop or a
      pod the kubelet has not started.
    - C(process) is the etcd process whose command line names the manifest's C(--name) and C(--listen-client-urls)
      (its C(pid) and C(started), seconds since the epoch), null when none runs; C(processes) counts the matches.
    - C(restarts) is the kubelet's restart count (the highest C(<N>.log) of the newest pod log directory), null
      without a log; C(log_tail) the last lines of that log (at most 5, each at most 400 characters, etcd's JSON
      lines as C(level, msg (error))); C(log_reason) the line that says why etcd stopped (the last at level fatal or
      error, from the newest log or the one before it), else the last line.
    - C(data) is RV(etcd_data) for that manifest. C(error) says why the manifest cannot be read, else null.
    - C(initial_cluster_state) (the manifest's C(--initial-cluster-state), C(new) when it is absent, as etcd reads it)
      and C(initial_cluster) (its C(--initial-cluster)) say what etcd does when its data directory is empty.
  returned: always
  type: dict
  version_added: 0.2.0
  sample:
    manifest: /etc/kubernetes/manifests/etcd.yaml
    manifest_in_place: true
    name: cp-02
    client_urls: ['https://127.0.0.1:2379', 'https://10.0.0.12:2379']
    process: null
    processes: 0
    restarts: 7
    log_path: /var/log/pods/kube-system_etcd-cp-02_0b1c/etcd/7.log
    log_mtime: 1710065700.5
    log_tail: ['fatal: discovery failed (cannot fetch cluster info from peer urls)']
    log_reason: 'fatal: discovery failed (cannot fetch cluster info from peer urls)'
    data: {data_dir: /var/lib/etcd, exists: true, has_data: false, db_size: null, db_mtime: null, wal_files: 0,
           wal_mtime: null}
    error: null
summary:
  description: One line for the operator about what was found.
  returned: always
  type: str
  sample: "to restore: etcd, kube-apiserver (from /etc/kubernetes/manifests-stash)"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import (
    default_pod_log_dir,
    etcd_runtime,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    COMPONENTS,
    KubeadmNode,
    kubeadm_dir_problem,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.health import probe_running
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.recover import (
    describe_found,
    discover,
    etcd_manifest_of,
    restore_plan,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kubernetes_dir=dict(type='path', default='/etc/kubernetes'),
            stash_dir=dict(type='path'),
            stash_patterns=dict(type='list', elements='str', default=['manifests-*']),
            pod_log_dir=dict(type='path'),
            health=dict(type='list', elements='str', default=[], choices=list(COMPONENTS)),
        ),
        supports_check_mode=True,
    )
    node = KubeadmNode(module.params['kubernetes_dir'])
    pod_log_dir = module.params['pod_log_dir'] or default_pod_log_dir(node.kubernetes_dir)
    problem = kubeadm_dir_problem('pod_log_dir', pod_log_dir, node.kubernetes_dir)
    if problem:
        module.fail_json(msg=problem)
    try:
        found = discover(module.params['kubernetes_dir'], module.params['stash_patterns'], module.params['stash_dir'])
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the manifests under %s: %s' % (module.params['kubernetes_dir'], exc))
    found['etcd_runtime'] = etcd_runtime(node, etcd_manifest_of(found), 'etcd' in found['running'], pod_log_dir)
    found['health'] = probe_running(node, [c for c in COMPONENTS if c in module.params['health']])
    found['plan'] = restore_plan(found)
    found['summary'] = describe_found('', found)[2:]
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
