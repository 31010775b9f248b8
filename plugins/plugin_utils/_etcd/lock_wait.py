# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

The etcd_lock action plugin's arithmetic: a wait for another run's maintenance lock is cut into
slices of WAIT_SLICE seconds, one module run each, so that the operator sees a progress line between
two slices instead of one silent task for the whole wait_timeout. These functions decide whether to
slice, how long the next slice is, and make one result of the slices' results. Pure.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.lock import MAX_WAIT_TIMEOUT, diff_text, held_message

# Seconds one etcd_lock module run may wait for another holder.
WAIT_SLICE = 10.0


def _seconds(value):
    """A number of seconds, or None when `value` is none (left to the module to refuse)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def wants_slices(module_args, wait_slice=WAIT_SLICE):
    """Whether the task waits longer than one slice: state=acquired with a wait_timeout above it.
    Anything else (another state, no wait, a value the module will refuse, out of range too) is one
    module run, so that the module refuses it as it would without slices."""
    if module_args.get('state') != 'acquired':
        return False
    wait_timeout = _seconds(module_args.get('wait_timeout', 0))
    return wait_timeout is not None and wait_slice < wait_timeout <= MAX_WAIT_TIMEOUT


def next_slice(wait_timeout, waited, wait_slice=WAIT_SLICE):
    """Seconds the next module run may wait: one slice, or what is left of wait_timeout; 0 when none is left."""
    return max(0.0, min(float(wait_slice), float(wait_timeout) - float(waited)))


def still_held(result):
    """Whether a module run ended because another run held the lock for its whole wait."""
    return bool(result.get('failed')) and result.get('action') == 'wait'


def slice_waited(result, asked):
    """Seconds a module run waited: its `waited`; a run that failed after waiting waited at least what
    it was asked to (an older module's failure carries no `waited`)."""
    waited = _seconds(result.get('waited'))
    if waited is None or waited < 0:
        waited = 0.0
    if still_held(result):
        waited = max(waited, float(asked))
    return waited


def progress_line(host, result, waited, wait_timeout, show_holder=True):
    """One line between two slices: who holds the lock (its summary, never its token) and how long so far."""
    summary = (result.get('lock') or {}).get('summary') if show_holder else None
    held = summary if summary else 'held by another run'
    return '%s: waiting for the maintenance lock, %s: %d s of %d s' % (
        host, held, int(round(waited)), int(round(float(wait_timeout))))


def combine(results, waited, wait_timeout, key=None):
    """One result for the slices' `results` (in order): the last one, with `waited` the total and
    `lock_before` as the first run found the lock. When the lock was still held at the end, the
    failure message is the module's, counting the whole wait."""
    combined = dict(results[-1])
    combined['waited'] = round(float(waited), 3)
    first = results[0]
    if len(results) > 1 and still_held(first) and first.get('lock') and not combined.get('failed'):
        combined['lock_before'] = first['lock']
        if isinstance(combined.get('diff'), dict):
            combined['diff'] = dict(combined['diff'], before=diff_text(first['lock']))
    if still_held(combined) and combined.get('lock', {}).get('summary'):
        lock = dict(combined['lock'])
        lock.setdefault('key', key)
        combined['msg'] = held_message(lock, waited)
        # ansible-core 2.19 keeps the module's own message (the last slice's wait) in `exception`, and
        # prints that one; without it, the failure is told from `msg`. No traceback is lost: the module
        # failed on purpose, not on an exception.
        combined.pop('exception', None)
    invocation = combined.get('invocation')
    if isinstance(invocation, dict) and isinstance(invocation.get('module_args'), dict):
        combined['invocation'] = dict(invocation, module_args=dict(invocation['module_args'],
                                                                   wait_timeout=float(wait_timeout)))
    return combined
