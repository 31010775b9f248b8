# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

A node's etcd data directory as it lies on disk, read-only: where a member's backend database is
and whether the data directory the etcd manifest names holds a member's data. static_pod_info
(through recover's discovery) and etcd_snapshot's copy of the backend of a member that does not
answer both read it here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    ManifestError,
    StaticPod,
)


def backend_path(data_dir):
    """The backend database of the etcd member whose data directory is data_dir."""
    return os.path.join(data_dir, 'member', 'snap', 'db')


def etcd_data_state(node, manifest_path):
    """Whether the etcd data directory the manifest names (--data-dir, on this node) holds a member's
    data: a WAL file or a backend database. has_data is None when that cannot be read; db_size and
    db_mtime describe the backend database (member/snap/db), None without one (an operator choosing
    the member to rebuild from compares them); wal_files counts the WAL files (member/wal/*.wal) and
    wal_mtime is the newest one's modification time, None without one."""
    try:
        pod = StaticPod.from_file(manifest_path)
    except ManifestError:
        return None
    data_dir = node.path(pod.flag('data-dir') or '/var/lib/etcd')
    wal = os.path.join(data_dir, 'member', 'wal')
    db = backend_path(data_dir)
    db_size = db_mtime = wal_mtime = None
    wal_files = 0
    try:
        has_db = os.path.isfile(db)
        if has_db:
            info = os.stat(db)
            db_size, db_mtime = info.st_size, info.st_mtime
        if os.path.isdir(wal):
            wal_paths = [os.path.join(wal, name) for name in os.listdir(wal) if name.endswith('.wal')]
            wal_files = len(wal_paths)
            wal_mtime = max(os.stat(path).st_mtime for path in wal_paths) if wal_paths else None
        has_data = has_db or wal_files > 0
    except OSError:
        has_data = None
    return {'data_dir': data_dir, 'exists': os.path.isdir(data_dir), 'has_data': has_data,
            'db_size': db_size, 'db_mtime': db_mtime, 'wal_files': wal_files, 'wal_mtime': wal_mtime}
