import os

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import (
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
