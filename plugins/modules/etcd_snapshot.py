#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_snapshot
short_description: Save an integrity-checked etcd snapshot on the node and keep the last N
version_added: 0.1.0
description:
  - Streams a snapshot from the first endpoint that answers through etcd's gateway and writes
    it as C(<dest>/<prefix>-<UTC time>.db), mode 0600, exactly as C(etcdctl snapshot save) would
    (the database followed by the sha256 etcd appends; C(etcdutl snapshot restore) checks it).
  - The appended sha256 and the database header are checked before the file is renamed into
    place; a cut or corrupted stream leaves no file behind.
  - With O(keep), removes the oldest C(<prefix>-*.db) files in O(dest) so that O(keep) remain.
  - Always reports C(changed) (a new snapshot is a change).
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
    details: Reports the path it would write and the files it would remove.
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: none
    details: Every run takes a new snapshot.
  platform:
    platforms: posix
options:
  dest:
    description:
      - Directory for the snapshots, an absolute path. Created with mode 0700 when missing; an
        existing one owned by the user the module runs as and holding nothing but snapshots is
        tightened to 0700 (see RV(dest_mode_tightened)); a shared directory holding other files
        keeps its mode, with a warning (the snapshots themselves are always 0600).
      - A O(dest) that is, or is inside, the C(manifests) or C(pki) directory of O(kubernetes_dir) (symlinks and
        C(..) resolved) is refused before anything is read or written.
      - A directory, or a snapshot in it, that is writable by group or others or owned by another
        user is refused, because whoever can write there could plant or swap a snapshot that is
        later restored.
      - Default C(/var/lib/etcd-snapshots) on the node of O(kubernetes_dir) (under the same root when
        O(kubernetes_dir) is C(<root>/etc/kubernetes), as in a lab); the snapshot's full path is in RV(path).
    type: path
  prefix:
    description:
      - File name prefix; also selects the files O(keep) counts and prunes.
      - A plain file name part (no C(/), not starting with C(.)), so that the snapshot stays in O(dest).
    type: str
    default: etcd-snapshot
  source:
    description:
      - V(etcd) streams the snapshot from etcd through its gateway (it must answer).
      - V(data_dir) copies the backend database of this node's etcd member, C(<data-dir>/member/snap/db) with the
        data directory named by C(--data-dir) in the node's etcd manifest, into O(dest) as C(<prefix>-<UTC time>.db),
        mode 0600, without asking etcd, for a member that does not answer (an etcd that restarted after quorum
        was lost serves nothing until quorum is back). The copy holds no appended sha256, so restore it with
        C(etcdutl snapshot restore --skip-hash-check). It never overwrites a file; O(keep) is not applied. It
        fails, keeping nothing, when the database changed during the copy. Connection options are not used.
    type: str
    choices: [etcd, data_dir]
    default: etcd
    version_added: 0.2.0
  keep:
    description:
      - How many snapshots with this O(prefix) to keep in O(dest), the new one included.
      - V(0) keeps them all. At most 100000.
      - Temporary files of interrupted snapshots (C(.<prefix>-*.part), left by a killed run) are
        removed by the next run and never count.
    type: int
    default: 0
'''

EXAMPLES = r'''
- name: Snapshot etcd before stopping the node, keep the last 5
  kubemaint.control_plane.etcd_snapshot:
    dest: /var/backups/etcd
    keep: 5
  register: snapshot
'''

RETURN = r'''
changed:
  description: Always true outside check mode errors.
  returned: always
  type: bool
  sample: true
path:
  description: The snapshot file (in check mode, the file it would write).
  returned: always
  type: str
  sample: /var/backups/etcd/etcd-snapshot-20240310T101500Z.db
endpoint:
  description: The endpoint the snapshot was taken from.
  returned: when O(source=etcd)
  type: str
  sample: https://127.0.1.1:2379
member_id:
  description: Id of the member that served the snapshot, in hex, 16 digits with leading zeros.
  returned: when O(source=etcd)
  type: str
  sample: 5d7db493b5095e61
revision:
  description: Store revision reported by that member just before the snapshot.
  returned: when O(source=etcd)
  type: int
  sample: 1234
raft_index:
  description: Raft index reported by that member just before the snapshot.
  returned: when O(source=etcd)
  type: int
  sample: 2345
size:
  description: File size in bytes (null in check mode).
  returned: always
  type: int
  sample: 20512
sha256:
  description: sha256 of the whole file (null in check mode).
  returned: always
  type: str
  sample: 1623bac65bdff080b30a687f533c745bf23ab1d0b64d21ba0f3a40c17e7dcf99
embedded_sha256:
  description: The sha256 of the database that etcd appended to the stream, verified.
  returned: success and not check mode
  type: str
  sample: f97e0301e433f5f5afd54554068d450a1762cf6caef45a6a84acd3ddd7202d22
removed:
  description: Older snapshots removed because of O(keep) (in check mode, that would be removed).
  returned: when O(source=etcd)
  type: list
  elements: str
  sample: [/var/backups/etcd/etcd-snapshot-20240309T101500Z.db]
removed_partial:
  description: >-
    Temporary files of interrupted snapshots with this prefix (left by a run that was killed) that
    were removed (in check mode, that would be removed). They never count for O(keep).
  returned: when O(source=etcd)
  type: list
  elements: str
  sample: [/var/backups/etcd/.etcd-snapshot-20240309T101500Z.db.k2j4x9.part]
dest_mode_tightened:
  description: >-
    Whether O(dest) existed with a mode other than 0700, held nothing but snapshots, and was (in check
    mode, would be) set to 0700.
  returned: when O(source=etcd)
  type: bool
  sample: false
kept:
  description: The snapshots with this prefix left in O(dest), oldest first.
  returned: success and not check mode
  type: list
  elements: str
  sample: [/var/backups/etcd/etcd-snapshot-20240310T101500Z.db]
endpoints:
  description: The endpoints tried, in order.
  returned: when O(source=etcd)
  type: list
  elements: str
  sample: [https://127.0.1.1:2379]
endpoints_source:
  description: Where the endpoints came from.
  returned: when O(source=etcd)
  type: str
  sample: --advertise-client-urls in /etc/kubernetes/manifests/etcd.yaml
ca_cert:
  description: CA certificate used.
  returned: when O(source=etcd)
  type: str
  sample: /etc/kubernetes/pki/etcd/ca.crt
client_cert:
  description: Client certificate used.
  returned: when O(source=etcd)
  type: str
  sample: /etc/kubernetes/pki/etcd/server.crt
client_key:
  description: Path of the client key used (never its content).
  returned: when O(source=etcd)
  type: str
  sample: /etc/kubernetes/pki/etcd/server.key
timeout:
  description: Per-request timeout in seconds.
  returned: when O(source=etcd)
  type: float
  sample: 5.0
source:
  description: The backend database that was copied (O(source=data_dir)).
  returned: when O(source=data_dir)
  type: str
  sample: /var/lib/etcd/member/snap/db
source_size:
  description: Its size in bytes when the copy started.
  returned: when O(source=data_dir)
  type: int
  sample: 20480
source_mtime:
  description: Its modification time (seconds since the epoch) when the copy started.
  returned: when O(source=data_dir)
  type: float
  sample: 1710065700.5
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    SNAPSHOT_KEEP,
    check_arguments,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    default_snapshot_dir,
    kubeadm_dir_problem,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    client_from_module,
    etcd_argument_spec,
    run_backend_copy,
    run_snapshot,
)


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            dest=dict(type='path'),
            prefix=dict(type='str', default='etcd-snapshot'),
            keep=dict(type='int', default=0),
            source=dict(type='str', choices=['etcd', 'data_dir'], default='etcd'),
        ),
        supports_check_mode=True,
    )
    if not module.params['dest']:
        module.params['dest'] = default_snapshot_dir(module.params['kubernetes_dir'])
    check_arguments(module, numbers={'keep': SNAPSHOT_KEEP}, absolute_paths=('dest',), file_name_parts=('prefix',))
    problem = kubeadm_dir_problem('dest', module.params['dest'], module.params['kubernetes_dir'])
    if problem:
        module.fail_json(msg='refusing to keep snapshots there: %s. Nothing was changed.' % problem, changed=False)
    if module.params['source'] == 'data_dir':
        run_backend_copy(module)
    client, connection = client_from_module(module)
    run_snapshot(module, client, connection)


if __name__ == '__main__':
    main()
