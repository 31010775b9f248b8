import io
import os
import stat

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import (
    TMP_PREFIX,
    write_atomically,
    fsync_dir,
    sha256_file,
    trust_problems,
)


def test_sha256_file_matches_hashlib(tmp_path):
    import hashlib
    path = tmp_path / 'f'
    path.write_bytes(b'x' * 3000000)
    assert sha256_file(str(path)) == hashlib.sha256(b'x' * 3000000).hexdigest()


def test_fsync_dir_raises_for_a_missing_directory(tmp_path):
    fsync_dir(str(tmp_path))
    with pytest.raises(OSError):
        fsync_dir(str(tmp_path / 'missing'))


@pytest.mark.parametrize('mode,words', [
    (0o700, []), (0o755, []), (0o600, []),
    (0o775, ['group']), (0o757, ['others']), (0o777, ['group and others']), (0o666, ['group and others']),
])
def test_trust_problems_modes(tmp_path, mode, words):
    path = tmp_path / 'd'
    path.mkdir()
    os.chmod(str(path), mode)
    problems = trust_problems(str(path))
    assert len(problems) == len(words)
    for problem, word in zip(problems, words):
        assert 'writable by %s' % word in problem and str(path) in problem and '%04o' % mode in problem


def test_trust_problems_follows_symlinks_and_names_missing(tmp_path):
    target = tmp_path / 'open'
    target.mkdir()
    os.chmod(str(target), 0o777)
    link = tmp_path / 'link'
    link.symlink_to(target)
    assert trust_problems(str(link))
    assert 'cannot be read' in trust_problems(str(tmp_path / 'missing'))[0]


@pytest.mark.skipif(os.geteuid() != 0, reason='changing a file owner needs root (CI runs as root)')
def test_trust_problems_foreign_owner(tmp_path):
    path = tmp_path / 'f'
    path.write_text('x')
    os.chmod(str(path), 0o600)
    os.chown(str(path), 65534, 65534)
    problems = trust_problems(str(path))
    assert len(problems) == 1 and 'uid 65534' in problems[0]


def test_write_atomically_replaces_with_mode_owner_and_times(tmp_path):
    path = tmp_path / 'etcd.yaml'
    path.write_bytes(b'old')
    write_atomically(str(path), io.BytesIO(b'x' * 200000), 0o640, owner=(0, 8765), times=(1000, 2000))
    info = os.stat(str(path))
    assert path.read_bytes() == b'x' * 200000
    assert (stat.S_IMODE(info.st_mode), info.st_gid, int(info.st_mtime)) == (0o640, 8765, 2000)
    assert os.listdir(str(tmp_path)) == ['etcd.yaml']


def test_write_atomically_never_leaves_a_part_or_a_dotfile(tmp_path, monkeypatch):
    path = tmp_path / 'apiserver.key'
    path.write_bytes(b'old key')
    (tmp_path / (TMP_PREFIX + 'apiserver.key')).write_bytes(b'left by a killed run')

    def full_disk(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError):
        write_atomically(str(path), b'new key', 0o600)
    monkeypatch.undo()
    assert path.read_bytes() == b'old key' and os.listdir(str(tmp_path)) == ['apiserver.key']


def test_write_atomically_raises_when_an_owner_must_be_kept_and_cannot(tmp_path, monkeypatch):
    def refuse(fd, uid, gid):
        raise OSError(1, 'Operation not permitted')

    monkeypatch.setattr(os, 'fchown', refuse)
    kept = tmp_path / 'admin.conf'
    write_atomically(str(kept), b'ours', 0o600, owner=(4321, 4321))  # not required: the file stays ours
    assert kept.read_bytes() == b'ours'
    with pytest.raises(OSError):
        write_atomically(str(tmp_path / 'ca.key'), b'key', 0o600, owner=(4321, 4321), owner_required=True)
    assert sorted(os.listdir(str(tmp_path))) == ['admin.conf']
