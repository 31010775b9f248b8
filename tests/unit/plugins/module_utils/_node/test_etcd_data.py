"""What a node's etcd data directory holds, read from the path its etcd manifest names."""
import os
import shutil

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_data import (
    backend_path,
    etcd_data_state,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import KubeadmNode

ETCD_MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'data',
                             'kubeadm-node', 'manifests', 'etcd.yaml')


def kubeadm_node(tmp_path):
    """A node rooted at tmp_path with kubeadm's etcd manifest (--data-dir=/var/lib/etcd) and no data yet."""
    manifests = tmp_path / 'etc' / 'kubernetes' / 'manifests'
    manifests.mkdir(parents=True)
    shutil.copy(ETCD_MANIFEST, str(manifests / 'etcd.yaml'))
    node = KubeadmNode(str(tmp_path / 'etc' / 'kubernetes'))
    return node, tmp_path / 'var' / 'lib' / 'etcd'


def test_backend_path_is_the_members_bbolt_file():
    assert backend_path('/var/lib/etcd') == '/var/lib/etcd/member/snap/db'


def test_a_backend_database_is_data_and_its_size_and_time_are_reported(tmp_path):
    node, data_dir = kubeadm_node(tmp_path)
    (data_dir / 'member' / 'snap').mkdir(parents=True)
    (data_dir / 'member' / 'snap' / 'db').write_bytes(b'12345')
    state = etcd_data_state(node, node.manifest_path('etcd'))
    assert state['data_dir'] == str(data_dir) and state['exists'] is True and state['has_data'] is True
    assert state['db_size'] == 5 and state['db_mtime'] == os.stat(backend_path(str(data_dir))).st_mtime


def test_a_wal_file_alone_is_data_an_empty_wal_directory_is_not(tmp_path):
    node, data_dir = kubeadm_node(tmp_path)
    wal = data_dir / 'member' / 'wal'
    wal.mkdir(parents=True)
    assert etcd_data_state(node, node.manifest_path('etcd'))['has_data'] is False
    (wal / '0000000000000000-0000000000000000.wal').write_bytes(b'wal')
    state = etcd_data_state(node, node.manifest_path('etcd'))
    assert state['has_data'] is True and state['db_size'] is None and state['db_mtime'] is None
    assert state['wal_files'] == 1 and state['wal_mtime'] == os.stat(str(wal / '0000000000000000-0000000000000000.wal')).st_mtime


def test_a_missing_data_directory_and_an_unreadable_manifest(tmp_path):
    node, data_dir = kubeadm_node(tmp_path)
    state = etcd_data_state(node, node.manifest_path('etcd'))
    assert state['exists'] is False and state['has_data'] is False
    assert state['wal_files'] == 0 and state['wal_mtime'] is None
    assert etcd_data_state(node, str(tmp_path / 'no-such.yaml')) is None
