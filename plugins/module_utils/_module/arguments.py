# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The checks every module runs on its arguments before it reads or changes anything, in one
place: numbers finite and within bounds (Ansible's `float` type accepts `inf` and `nan`, its
`int` type any size), paths absolute (a relative path would be taken from the module's
temporary working directory on the node), and file name parts that keep a file inside its
directory. A module calls `check_arguments(module, ...)`, which fails with every problem named
and nothing changed; the pure `argument_problems` serves tests and other callers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import os

# (minimum, maximum, minimum allowed?) per kind of option; the bounds are what makes sense on a
# node, and keep every later computation (deadlines, socket timeouts) far from overflow.
REQUEST_TIMEOUT = (0, 3600, False)          # seconds per etcd request: > 0
WAIT_TIMEOUT = (1, 86400, True)             # seconds to wait for a state: 1 s to a day
LEADER_WAIT_TIMEOUT = (0, 3600, False)
DEFRAG_TIMEOUT = (0, 86400, False)          # seconds one defragmentation may block a member
QUOTA_BYTES = (0, 2 ** 50, False)           # etcd backend quota in bytes
SNAPSHOT_KEEP = (0, 100000, True)           # 0 keeps every snapshot
DAYS = (0, 36500, True)


def number_problem(name, value, bounds):
    """Why `value` is not a finite number within `bounds` (see above), or None. None values pass."""
    if value is None:
        return None
    minimum, maximum, minimum_allowed = bounds
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return '%s must be a number, not %r' % (name, value)
    if isinstance(value, bool) or not math.isfinite(number):
        return '%s must be a finite number, not %r' % (name, value)
    low_ok = number >= minimum if minimum_allowed else number > minimum
    if not low_ok or number > maximum:
        return '%s must be %s %s and at most %s, not %s' % (
            name, 'at least' if minimum_allowed else 'greater than', minimum, maximum, value)
    return None


def absolute_path_problem(name, value):
    """Why `value` is not an absolute path, or None. None values (option not set) pass."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or '\0' in value:
        return '%s must be an absolute path, not %r' % (name, value)
    if not os.path.isabs(value):
        return ('%s must be an absolute path, not %r (a relative path would be taken from the module\'s '
                'temporary working directory on the node)' % (name, value))
    return None


def file_name_part_problem(name, value):
    """Why `value` cannot start a file name that stays inside its directory, or None."""
    if value is None:
        return None
    if (not isinstance(value, str) or not value or '/' in value or '\0' in value or value.startswith('.')
            or (os.altsep and os.altsep in value)):
        return ('%s must be a plain file name part (no "/", not empty, not starting with "."), not %r: the '
                'file must stay inside its directory' % (name, value))
    return None


def argument_problems(params, numbers=None, absolute_paths=(), file_name_parts=()):
    """Every problem with `params` (a module's params dict), in option order; [] when all is well.

    `numbers`: {option: bounds}; `absolute_paths`: options that must be absolute paths when set;
    `file_name_parts`: options that begin a file name and must keep the file in its directory.
    """
    problems = []
    for name, bounds in sorted((numbers or {}).items()):
        problems.append(number_problem(name, params.get(name), bounds))
    for name in absolute_paths:
        problems.append(absolute_path_problem(name, params.get(name)))
    for name in file_name_parts:
        problems.append(file_name_part_problem(name, params.get(name)))
    return [problem for problem in problems if problem]


def check_arguments(module, numbers=None, absolute_paths=(), file_name_parts=()):
    """fail_json naming every bad argument before the module reads or changes anything."""
    problems = argument_problems(module.params, numbers, absolute_paths, file_name_parts)
    if problems:
        module.fail_json(msg='invalid arguments, nothing was changed: %s' % '; '.join(problems),
                         changed=False, invalid_arguments=problems)
