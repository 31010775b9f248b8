# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

File helpers every writer on a node shares: a content digest, a directory fsync, so that a
rename is durable before the next step relies on it, and the one atomic file writer that
manifests, stash records, certificates, keys and kubeconfigs go through.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os

# Temporary files are dotfiles: the kubelet runs every other file of the manifests directory.
TMP_PREFIX = '.kubemaint-tmp-'


def sha256_file(path):
    """Hex SHA-256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path):
    """Make the entries of directory `path` (renames, new files) durable. Errors propagate:
    a caller that moved the only copy of a file must know the move may not survive a crash."""
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path, data, mode, owner=None, times=None, owner_required=False):
    """Create or replace `path` with `data` so that a crash leaves the old file or the new one, never a part.

    The bytes go to a dotfile beside `path` (TMP_PREFIX + its name), created with `mode` so that they
    are never readable by more than `mode` allows, then get `owner` ((uid, gid); None: ours) and
    `times` ((atime, mtime); None: now), are fsynced and renamed over `path`, and the directory is
    fsynced. `data` is bytes or a binary file object, read in blocks. A chown that fails (not root)
    leaves the file ours unless `owner_required`, which raises instead. The dotfile is removed on any
    failure and the error propagates with `path` untouched.
    """
    directory = os.path.dirname(path) or '.'
    tmp = os.path.join(directory, TMP_PREFIX + os.path.basename(path))
    try:
        if os.path.lexists(tmp):  # left by a run that was killed: never ours to keep
            os.unlink(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, 'wb') as handle:
            if isinstance(data, (bytes, bytearray)):
                handle.write(data)
            else:
                for block in iter(lambda: data.read(1 << 16), b''):
                    handle.write(block)
            handle.flush()
            if owner is not None and tuple(owner) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(handle.fileno(), owner[0], owner[1])
                except OSError:
                    if owner_required:
                        raise
            os.fchmod(handle.fileno(), mode)  # after the chown, which may clear set-id bits; and past the umask
            os.fsync(handle.fileno())
        if times is not None:
            os.utime(tmp, tuple(times))
        os.rename(tmp, path)
    except BaseException:
        try:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        except OSError:
            pass  # the failure being raised matters more than a dotfile left behind
        raise
    fsync_dir(directory)


def os_error_text(exc):
    """'No space left on device (/path)': the reason and the file(s), for messages that must name both."""
    reason = getattr(exc, 'strerror', None) or str(exc)
    paths = [path for path in (getattr(exc, 'filename', None), getattr(exc, 'filename2', None)) if path]
    return '%s (%s)' % (reason, ', '.join(str(path) for path in paths)) if paths else reason


def trust_problems(path):
    """Why `path` (a directory or file whose content decides what the kubelet runs as root, or an
    etcd snapshot) cannot be trusted: owned by someone other than the user we run as (root on a
    node), or writable by group or others. Symlinks are followed, as every reader here follows
    them. An empty list means it is fit to read from or write to; a missing path gives one entry."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return ['%s: cannot be read (%s)' % (path, exc.strerror or exc)]
    problems = []
    if st.st_uid != os.geteuid():
        problems.append('%s is owned by uid %d, not by uid %d (the user this runs as)' % (path, st.st_uid, os.geteuid()))
    if st.st_mode & 0o022:
        problems.append('%s is writable by %s (mode %04o)'
                        % (path, ' and '.join(who for who, bit in (('group', 0o020), ('others', 0o002)) if st.st_mode & bit),
                           st.st_mode & 0o7777))
    return problems
