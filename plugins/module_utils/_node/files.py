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
