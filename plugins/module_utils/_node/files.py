# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

File helpers every writer on a node shares: a content digest and a directory fsync, so that a
rename is durable before the next step relies on it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os


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
