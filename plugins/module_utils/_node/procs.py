# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The node's processes as /proc shows them, read-only: every process's command line, and when one
started (in clock ticks since boot). etcd_runtime looks for the etcd of a manifest there, and the
health waits for the process that runs a changed manifest.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

PROC_ROOT = '/proc'


def process_arguments(proc_root=PROC_ROOT):
    """{pid: argv} of every process this node shows in /proc (processes gone meanwhile, or not ours to
    read, are skipped)."""
    processes = {}
    try:
        names = os.listdir(proc_root)
    except OSError:
        return processes
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(os.path.join(proc_root, name, 'cmdline'), 'rb') as handle:
                raw = handle.read()
        except (IOError, OSError):
            continue
        if raw:
            processes[int(name)] = [part.decode('utf-8', 'replace') for part in raw.rstrip(b'\0').split(b'\0')]
    return processes


def start_ticks(pid, proc_root=PROC_ROOT):
    """When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or None when it is gone."""
    try:
        with open(os.path.join(proc_root, str(pid), 'stat')) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[19])
    except (IOError, OSError, IndexError, ValueError):
        return None


def ticks_to_seconds(ticks):
    return float(ticks) / os.sysconf('SC_CLK_TCK')
