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
  returned: always
  type: dict
  sample: {data_dir: /var/lib/etcd, exists: true, has_data: true, db_size: 20480, db_mtime: 1710065700.5}
summary:
  description: One line for the operator about what was found.
  returned: always
  type: str
  sample: "to restore: etcd, kube-apiserver (from /etc/kubernetes/manifests-stash)"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.recover import (
    describe_found,
    discover,
    restore_plan,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kubernetes_dir=dict(type='path', default='/etc/kubernetes'),
            stash_dir=dict(type='path'),
            stash_patterns=dict(type='list', elements='str', default=['manifests-*']),
        ),
        supports_check_mode=True,
    )
    try:
        found = discover(module.params['kubernetes_dir'], module.params['stash_patterns'], module.params['stash_dir'])
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the manifests under %s: %s' % (module.params['kubernetes_dir'], exc))
    found['plan'] = restore_plan(found)
    found['summary'] = describe_found('', found)[2:]
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
