# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

The decisions and the words of a node's in-place restart (the node_restart action, which rolling_restart
runs once per node): whether the node can restart in place, what the quorum guard's verdict says (it
carries the decisions taken before the stop: leadership move, snapshot), how a long wait is cut into slices, and
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


def snapshot_line(host, snapshot, check_mode, before='etcd stopped'):
    """Where the stop's snapshot went, or that none was taken."""
    if not snapshot:
        return 'No etcd snapshot taken.'
    return ('etcd snapshot %s %s on %s (from %s, revision %s) before %s.'
            % ('would be written to' if check_mode else 'written to', snapshot.get('path'), host,
               snapshot.get('endpoint'), snapshot.get('revision'), before))


def leader_line(leader_result, check_mode, before='the stop'):
    """What the leadership move did, or '' when none was needed."""
    if not leader_result or not leader_result.get('changed'):
        return ''
    return 'etcd leadership %s from %s to %s before %s; ' % (
        'would move' if check_mode else 'moved',
        (leader_result.get('leader_before') or {}).get('name') or '?',
        (leader_result.get('leader') or {}).get('name') or '?', before)


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


# A node's flag change (node_restart with `change`, which rolling_change runs once per node): the same
# guard, leadership move and snapshot as the restart, then static_pod_flags per component in start order.
CHANGE_ORDER = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')


def change_request(change, name='change'):
    """The change asked for, checked: a list of (component, flags to set, flags to remove) in start order
    (etcd first, as kubeadm upgrades a node). `change` maps a component to {set: {flag: value}, absent:
    [flag]}. Raises ValueError naming `name` and what is wrong; an empty change is refused too."""
    if not isinstance(change, dict) or not change:
        raise ValueError('%s must be a mapping of component (%s) to {set: {flag: value}, absent: [flag]}, got %r'
                         % (name, ', '.join(CHANGE_ORDER), change))
    unknown = sorted(str(component) for component in change if component not in CHANGE_ORDER)
    if unknown:
        raise ValueError('%s: unknown component %s; choose from %s' % (name, ', '.join(unknown), ', '.join(CHANGE_ORDER)))
    request = []
    for component in CHANGE_ORDER:
        if component not in change:
            continue
        entry = change[component]
        where = '%s.%s' % (name, component)
        if not isinstance(entry, dict) or set(entry) - set(('set', 'absent')) or not entry:
            raise ValueError('%s must be a mapping with the keys set (flag: value) and/or absent (list of flags), '
                             'got %r' % (where, entry))
        set_flags = entry.get('set') or {}
        absent = entry.get('absent') or []
        if not isinstance(set_flags, dict) or not isinstance(absent, list):
            raise ValueError('%s: set must be a mapping of flag to value and absent a list of flags, got %r'
                             % (where, entry))
        for flag, value in set_flags.items():
            if value is None or isinstance(value, (dict, list)):
                raise ValueError('%s.set.%s: %r is not a flag value (a string, number or boolean; list the flag '
                                 'under absent to remove it)' % (where, flag, value))
        clash = sorted(set(_bare(flag) for flag in set_flags) & set(_bare(flag) for flag in absent))
        if clash:
            raise ValueError('%s: %s both set and absent' % (where, ', '.join(clash)))
        if not set_flags and not absent:
            raise ValueError('%s changes nothing: give set and/or absent' % where)
        request.append((component, dict((_bare(flag), value) for flag, value in set_flags.items()),
                        [_bare(flag) for flag in absent]))
    return request


def _bare(flag):
    text = str(flag).strip()
    return text[2:] if text.startswith('--') else text


def _value_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def change_text(request):
    """The change in words, as flags: 'kube-apiserver --audit-log-maxage=30, without --profiling'."""
    parts = []
    for component, set_flags, absent in request:
        words = ['--%s=%s' % (flag, _value_text(value)) for flag, value in sorted(set_flags.items())]
        words += ['without --%s' % flag for flag in absent]
        parts.append('%s %s' % (component, ', '.join(words)))
    return '; '.join(parts)


def rollback_message(host, component, change_words, failure, backups, restored, changed_before, wait_timeout,
                     manifests_dir='/etc/kubernetes/manifests'):
    """The failure of a change (`change_words`: change_text's, or the tasks file that made it) that did not come
    up healthy on `host`: what, which change, what the pod showed last, the backups and whether they were put
    back (`restored`: {component: (ok, detail)}, in the order they were), and the nodes changed before (they
    keep the change). A backup not put back is named with the command that puts it back into `manifests_dir`,
    the node's own."""
    if component:
        head = '%s: %s did not come up healthy within %d s with the change (%s); last seen: %s.' % (
            host, component, wait_timeout, change_words, failure)
    else:
        head = '%s: the change (%s) failed: %s.' % (host, change_words, failure)
    lines = [head]
    for name in CHANGE_ORDER:
        if name not in restored:
            continue
        ok, detail = restored[name]
        if ok:
            lines.append('%s was rolled back on %s from its backup %s and runs healthy again (%s).'
                         % (name, host, backups[name], detail))
        else:
            lines.append('ROLLING BACK %s on %s FROM ITS BACKUP %s FAILED: %s. Put it back by hand: '
                         'cp -p %s %s/%s.yaml, then check the pod.'
                         % (name, host, backups[name], detail, backups[name], manifests_dir.rstrip('/'), name))
    if changed_before:
        lines.append('Nodes changed before keep the change: %s.' % ', '.join(changed_before))
    else:
        lines.append('No other node was changed.')
    lines.append('The run stops here; the nodes after %s were not touched.' % host)
    return ' '.join(lines)


def changed_line(host, member, components, leader_result, snapshot, check_mode):
    """The line that reports a node's change done (or, in check mode, what would be done)."""
    if not components:
        return '%s already runs the change: nothing to do.' % host
    etcd_snapshot = snapshot_line(host, snapshot, check_mode, "etcd's manifest changed") if snapshot else ''
    if check_mode:
        return ('%s would be changed (check mode: nothing was changed): %s. %s%s'
                % (host, ', '.join(components), leader_line(leader_result, check_mode, 'the change'), etcd_snapshot))
    etcd_text = (' etcd member %s is healthy, a voter and caught up with the leader.' % member
                 if 'etcd' in components else '')
    return ('%s changed: %s restarted by the kubelet with the new manifest and healthy.%s %s%s'
            % (host, ', '.join(components), etcd_text, leader_line(leader_result, check_mode, 'the change'), etcd_snapshot)).strip()
