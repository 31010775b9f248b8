"""etcd_snapshot against the lab: accepted by etcdutl, mode 0600, keeps the last N; issue 14's
directory, prefix and interrupted-snapshot rules."""
import hashlib
import os
import stat
import subprocess

from tests.integration.etcd_helpers import conn, etcd_frozen, etcdctl_json, leader_name
from tests.integration.helpers import run_module


def test_snapshot_keep_last_n(lab, tmp_path):
    node = lab.nodes[0]
    dest = str(tmp_path / 'snapshots')
    lab.etcdctl(node, 'put', 'kubemaint-snapshot-test', 'hello')

    check = run_module('etcd_snapshot', conn(node, dest=dest, keep=2), check_mode=True)
    assert not check['failed'], check.get('msg')
    assert check['changed'] is True and not os.path.exists(dest)

    paths = []
    for _attempt in range(3):
        result = run_module('etcd_snapshot', conn(node, dest=dest, keep=2))
        assert not result['failed'], result.get('msg')
        assert result['changed'] is True
        paths.append(result['path'])
        assert os.stat(result['path']).st_mode & 0o777 == 0o600
        assert os.path.getsize(result['path']) == result['size']
    assert len(set(paths)) == 3
    left = sorted(os.listdir(dest))
    assert left == sorted(os.path.basename(p) for p in paths[1:]), left
    assert result['removed'] == [paths[0]]
    assert os.stat(dest).st_mode & 0o777 == 0o700

    status = subprocess.run([lab.etcdutl_bin, 'snapshot', 'status', paths[-1], '-w', 'json'],
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stderr
    assert '"totalKey"' in status.stdout
    # restore checks the sha256 etcd appended, as for a snapshot etcdctl saved
    restored = subprocess.run([lab.etcdutl_bin, 'snapshot', 'restore', paths[-1],
                               '--data-dir', str(tmp_path / 'restored')], capture_output=True, text=True, timeout=60, check=False)
    assert restored.returncode == 0, restored.stderr
    assert os.path.isdir(str(tmp_path / 'restored' / 'member' / 'wal'))
    members = etcdctl_json(lab, node, 'member', 'list')
    assert int(result['member_id'], 16) in [m['ID'] for m in members['members']]


def test_snapshot_bad_dest_and_endpoint(lab, tmp_path):
    node = lab.nodes[0]
    afile = tmp_path / 'file'
    afile.write_text('x')
    bad = run_module('etcd_snapshot', conn(node, dest=str(afile)))
    assert bad['failed'] and 'not a directory' in bad['msg']
    dead = run_module('etcd_snapshot', conn(node, dest=str(tmp_path / 's'),
                                            endpoints=['https://%s:2999' % node.address]))
    assert dead['failed'] and 'connection refused' in dead['msg']
    assert not os.path.exists(str(tmp_path / 's'))


def test_snapshot_prefix_and_dest_are_checked_before_anything(lab, tmp_path):
    node = lab.nodes[0]
    dest = str(tmp_path / 'inside')
    for args, words in (({'prefix': '../escaped'}, 'prefix must be a plain file name part'),
                        ({'prefix': 'a/b'}, 'prefix must be a plain file name part'),
                        ({'dest': 'relative/snapshots'}, "dest must be an absolute path, not 'relative/snapshots'"),
                        ({'keep': -1}, 'keep must be at least 0')):
        result = run_module('etcd_snapshot', conn(node, **dict({'dest': dest}, **args)))
        assert result['failed'] and words in result['msg'], result.get('msg')
        assert 'Traceback' not in result['_stdout'] + result['_stderr']
    assert os.listdir(str(tmp_path)) == []       # nothing escaped dest, nothing created


def test_snapshot_directory_trust_mode_and_interrupted_parts(lab, tmp_path):
    node = lab.nodes[0]
    dest = str(tmp_path / 'snapshots')
    os.mkdir(dest)
    os.chmod(dest, 0o777)
    refused = run_module('etcd_snapshot', conn(node, dest=dest))
    assert refused['failed'] and 'writable by group and others' in refused['msg'], refused.get('msg')
    assert os.listdir(dest) == [] and stat.S_IMODE(os.stat(dest).st_mode) == 0o777

    os.chmod(dest, 0o755)        # ours and not writable by others: tightened, as a new one is created
    part = os.path.join(dest, '.etcd-snapshot-20240101T000000Z.db.x1y2.part')   # a killed run's stream
    with open(part, 'wb') as handle:
        handle.write(b'etcd data' * 100)
    check = run_module('etcd_snapshot', conn(node, dest=dest, keep=1), check_mode=True)
    assert check['removed_partial'] == [part] and check['dest_mode_tightened'] is True
    assert os.path.exists(part) and stat.S_IMODE(os.stat(dest).st_mode) == 0o755
    result = run_module('etcd_snapshot', conn(node, dest=dest, keep=1))
    assert not result['failed'], result.get('msg')
    assert result['removed_partial'] == [part] and result['removed'] == []
    assert os.listdir(dest) == [os.path.basename(result['path'])]
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o700


def test_snapshot_dest_defaults_to_the_node_root(lab):
    """No dest: /var/lib/etcd-snapshots on the node of kubernetes_dir (the lab's <root>/var/lib/...)."""
    node = lab.nodes[2]
    prefix = 'kubemaint-default-dest'
    result = run_module('etcd_snapshot', conn(node, prefix=prefix))
    try:
        assert not result['failed'], result.get('msg')
        assert os.path.dirname(result['path']) == node.snapshot_dir
        assert os.path.basename(result['path']).startswith(prefix + '-')
    finally:
        for name in os.listdir(node.snapshot_dir):
            if name.startswith(prefix):
                os.unlink(os.path.join(node.snapshot_dir, name))


def test_copy_of_the_backend_file_for_a_member_that_does_not_answer(lab, tmp_path):
    """source=data_dir copies <data-dir>/member/snap/db without asking etcd (frozen here, as one that does
    not answer): 0600, never over a file, restorable with --skip-hash-check; check mode writes nothing."""
    node = next(n for n in lab.nodes if n.name != leader_name(lab, lab.nodes[0]))
    dest = str(tmp_path / 'copies')
    args = conn(node, dest=dest, source='data_dir', prefix='etcd-backend')
    with etcd_frozen(node):
        check = run_module('etcd_snapshot', args, check_mode=True)
        first = run_module('etcd_snapshot', args)
        second = run_module('etcd_snapshot', args)
    assert not check['failed'] and check['changed'] and check['path'].startswith(dest + '/'), check
    assert not first['failed'], first.get('msg')
    assert first['source'] == os.path.join(node.data_dir, 'member', 'snap', 'db')
    assert second['path'] != first['path'] and sorted(os.listdir(dest)) == sorted(
        os.path.basename(p) for p in (first['path'], second['path']))
    assert stat.S_IMODE(os.stat(first['path']).st_mode) == 0o600 and os.path.getsize(first['path']) == first['size']
    restored = subprocess.run([lab.etcdutl_bin, 'snapshot', 'restore', first['path'], '--skip-hash-check',
                               '--data-dir', str(tmp_path / 'restored')], capture_output=True, text=True, timeout=60,
                              check=False)
    assert restored.returncode == 0, restored.stderr
    missing = run_module('etcd_snapshot', conn(node, kubernetes_dir=str(tmp_path / 'nowhere'), dest=dest,
                                               source='data_dir'))
    assert missing['failed'] and 'no readable etcd manifest' in missing['msg']


def tree(*directories):
    """Every entry under the directories: mode, owner and content hash, to show nothing changed."""
    found = {}
    for directory in directories:
        for root, dirs, files in os.walk(directory):
            for name in sorted(dirs + files):
                path = os.path.join(root, name)
                info = os.lstat(path)
                digest = None
                if stat.S_ISREG(info.st_mode):
                    with open(path, 'rb') as handle:
                        digest = hashlib.sha256(handle.read()).hexdigest()
                found[path] = (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, digest)
        found[directory] = stat.S_IMODE(os.stat(directory).st_mode)
    return found


def test_dest_inside_manifests_or_pki_is_refused_and_nothing_changes(lab, tmp_path):
    """Issue 21: a snapshot must never land where the kubelet runs every file, or among the node's keys;
    `..` and a symlink that lead there are seen through."""
    node = lab.nodes[0]
    manifests = os.path.join(node.kubernetes_dir, 'manifests')
    pki = os.path.join(node.kubernetes_dir, 'pki')
    link = str(tmp_path / 'to-pki')
    os.symlink(pki, link)
    before = tree(manifests, pki)
    for dest, words in ((manifests, 'is inside the manifests directory'),
                        (os.path.join(manifests, 'snapshots'), 'is inside the manifests directory'),
                        (os.path.join(node.kubernetes_dir, 'backups', '..', 'pki', 'etcd'), "is inside kubeadm's pki"),
                        (os.path.join(link, 'snapshots'), 'resolves to %s' % os.path.join(pki, 'snapshots'))):
        for source in ('etcd', 'data_dir'):
            refused = run_module('etcd_snapshot', conn(node, dest=dest, source=source))
            assert refused['failed'] and words in refused['msg'], refused.get('msg')
            assert 'Nothing was changed' in refused['msg'] and 'Traceback' not in refused['_stdout'] + refused['_stderr']
            assert refused['changed'] is False
    assert tree(manifests, pki) == before
    assert not os.path.exists(os.path.join(manifests, 'snapshots')) and not os.path.exists(os.path.join(pki, 'snapshots'))
