# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

The decisions and the words of a node's in-place restart (the node_restart action, which rolling_restart
runs once per node): whether the node can restart in place, what the quorum guard's verdict says and
what it decided before the stop (leadership move, snapshot), how a long wait is cut into slices, and
the line that reports the node back. The action only runs the modules these name, on the node.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    _as_view,
    quorum_loss,
)


def in_place(pods):
    """(True, '') when every control-plane pod of the node runs and no stray copy of a manifest lies
    around, so that one module run can restart them; else (False, why): the node takes the long way
    (stop, then start), which brings stopped pods back and deals with strays."""
    pods = pods or {}
    if pods.get('failed') or pods.get('unreachable') or 'running' not in pods:
        return False, 'its control-plane pods could not be read (%s)' % (pods.get('msg') or 'no answer')
    stopped = list(pods.get('stopped') or [])
    strays = list(pods.get('strays') or [])
    running = list(pods.get('running') or [])
    if stopped:
        return False, 'stopped: %s' % ', '.join(sorted(stopped))
    if strays:
        return False, 'stray manifests: %s' % ', '.join(
            sorted(str(stray.get('path') or stray) if isinstance(stray, dict) else str(stray) for stray in strays))
    if not running:
        return False, 'no control-plane pod runs'
    return True, ''


def before_stop(verdict, view, pods, snapshot):
    """What the guard's verdict leads to before the stop, once it lets the node stop: move leadership
    away (the node's etcd runs, etcd has quorum and the read saw the node lead or saw no leader), and
    take a snapshot in the stop's own module run (asked for, and etcd has quorum). Without quorum (an
    overridden guard) neither is possible."""
    has_quorum = bool((view or {}).get('has_quorum'))
    etcd_runs = 'etcd' in ((pods or {}).get('running') or [])
    return {
        'move_leader': bool(verdict.get('move_leader')) and has_quorum and etcd_runs,
        'snapshot': bool(snapshot) and has_quorum,
    }


def proceed_line(verdict, override_name):
    """The one line that reports a verdict that lets the stop go ahead."""
    if verdict.get('overridden'):
        return ('WARNING: %s=true overrides the quorum guard for %s: %s. %s Proceeding: etcd may lose quorum.'
                % (override_name, verdict['host'], '; '.join(verdict['problems']), verdict['seen']))
    return 'Quorum guard: %s may stop. %s' % (verdict['host'], verdict['seen'])


def refusal(verdict):
    """(first line, details) of a refusal: the failure is one short line, said once; the other reasons,
    what the guard saw and what to do are printed once beside it."""
    first = ('Quorum guard: refusing to stop the control plane of %s: %s. Nothing was changed; the details are '
             'printed above.' % (verdict['host'], verdict['problems'][0]))
    details = ['Quorum guard, %s: %s' % (verdict['host'], problem) for problem in verdict['problems'][1:]]
    details.append('Quorum guard, %s: %s' % (verdict['host'], verdict['seen']))
    if verdict.get('advice'):
        details.append('Quorum guard, %s: %s' % (verdict['host'], verdict['advice']))
    return first, details


def wait_slices(wait_timeout, wait_slice):
    """(length of one slice, how many slices make up the whole wait): each module run waits one slice
    at most, so that a long wait prints a line per slice; the fast case costs one module run."""
    wait_timeout = max(1, int(wait_timeout))
    length = max(1, min(wait_timeout, int(wait_slice)))
    return length, int(math.ceil(float(wait_timeout) / length))


def progress_line(host, doing, slice_number, slices, length):
    """A line per slice of a long wait: how long it has waited, out of how long it may."""
    return '%s: %s, %d s of %d s waited so far' % (host, doing, slice_number * length, slices * length)


def snapshot_line(host, snapshot, check_mode):
    """Where the stop's snapshot went, or that none was taken."""
    if not snapshot:
        return 'No etcd snapshot taken.'
    return ('etcd snapshot %s %s on %s (from %s, revision %s) before etcd stopped.'
            % ('would be written to' if check_mode else 'written to', snapshot.get('path'), host,
               snapshot.get('endpoint'), snapshot.get('revision')))


def leader_line(leader_result, check_mode):
    """What the leadership move did, or '' when none was needed."""
    if not leader_result or not leader_result.get('changed'):
        return ''
    return 'etcd leadership %s from %s to %s before the stop; ' % (
        'would move' if check_mode else 'moved',
        (leader_result.get('leader_before') or {}).get('name') or '?',
        (leader_result.get('leader') or {}).get('name') or '?')


def restarted_line(host, member, running, leader_result, snapshot, check_mode):
    """The line that reports the node back (or, in check mode, what would be done)."""
    if check_mode:
        head = '%s would be restarted (check mode: nothing was changed): ' % host
        member_text = 'etcd member %s would be waited for until healthy, a voter and caught up.' % member
    else:
        head = '%s restarted: ' % host
        member_text = ('etcd member %s is healthy, a voter and caught up with the leader (a linearizable read '
                       'through it succeeded), the apiserver ready.' % member)
    return '%s%s stopped and started again; %s%s %s' % (
        head, ', '.join(running), leader_line(leader_result, check_mode), member_text,
        snapshot_line(host, snapshot, check_mode))


def bring_back_line(host, timed_out, wait_timeout, wait_slice):
    """What a failure after the first pod began to stop adds: the node may be partly stopped, and the
    command that brings it back once the cause is fixed."""
    within = ''
    if timed_out:
        within = ' within %d s (waited in slices of %d s)' % (wait_timeout, min(wait_timeout, wait_slice))
    return ('%s did not come back%s and may be partly stopped. Once the cause is fixed, bring it back with: '
            '%s (or kubemaint.control_plane.recover).'
            % (host, within, playbook_command('start_node', '--limit', host)))


def _seconds(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def turn_line(host, turn, check_mode):
    """What this run did to `host`, from its facts: `restart` (what node_restart returned, with the time
    the long way finished when it took that), `stopped_at` and `started_at` (the turn with maintenance
    tasks); times in seconds since the epoch."""
    restart = turn.get('restart') or {}
    stopped_at, started_at = _seconds(turn.get('stopped_at')), _seconds(turn.get('started_at'))
    if stopped_at is not None:
        if started_at is None:
            return 'stopped by this run and not started again'
        if check_mode:
            return 'would be stopped and started (check mode)'
        return 'stopped and started after %d s down' % round(started_at - stopped_at)
    began_at, back_at = _seconds(restart.get('began_at')), _seconds(restart.get('started_at'))
    if began_at is None or back_at is None or restart.get('failed'):
        return 'not restarted by this run'
    if check_mode:
        return 'would be restarted (check mode)'
    if restart.get('long_way'):
        return 'stopped and started the long way in %d s (stopped pods or stray manifests)' % round(back_at - began_at)
    return 'restarted in %d s (guard, snapshot, restart, caught up)' % round(back_at - began_at)


def summary_lines(turns, view, check_mode):
    """A line per node (what this run did, etcd's health of its member, whether it leads) and the
    cluster's quorum now. `turns` is a list of dicts: host, member, restart, stopped_at, started_at;
    `view` the etcd read after the last node (cluster_view or etcd_member_info's result)."""
    view = _as_view(view or {}, DEFAULT_MAX_APPLIED_LAG)
    members = dict((member.get('name'), member) for member in view.get('members') or [])
    lines = []
    for turn in turns:
        member = members.get(turn.get('member') or turn['host']) or {}
        lines.append('%s: %s; etcd %s%s' % (
            turn['host'], turn_line(turn['host'], turn, check_mode),
            'healthy' if member.get('healthy') else 'NOT healthy', ', leader' if member.get('is_leader') else ''))
    lines.append(quorum_loss(view)['message'])
    return lines
