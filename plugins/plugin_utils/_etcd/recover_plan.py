# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

What the recover role decides, free of I/O: which hosts it restores (one at a time, in play order), what one
host's turn does (node_recover runs it), which hosts' pods it waits for once quorum is back, and what it says at
its end: the hosts refused (an untrusted stash, certificates that cannot work), those where nothing was found
to restore, those whose etcd data is lost, the unreachable ones, and whether the run fails.

`reports` maps every host of the play to its static_pod_info result (an unreachable host's result says
`unreachable`); `restored` maps a host to its node_recover result (a skipped result for a host not restored).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    recover_outcome,
)

UNREACHABLE = 'UNREACHABLE, skipped'

REFUSED_ADVICE = (
    'What to do: put back the pki of each node (or issue certificates for it on that node: run again with '
    '-e recover_repair_certificates=true to reissue from the CA keys on the node every certificate naming another '
    'node), make the stash directory and its files owned by the user the play runs as and not writable by group or '
    'others, move stray manifests out of the manifests directory; then run kubemaint.control_plane.recover again '
    '(or kubemaint.control_plane.start_node --limit %s).')
UNRESTORABLE_ADVICE = (
    'Put the manifests back into the manifests directory by hand, or where recover_stash_patterns finds them, and '
    'run kubemaint.control_plane.recover again.')


def _plan(report):
    """The host's restore plan, or None when its pods could not be read."""
    plan = (report or {}).get('plan')
    return plan if isinstance(plan, dict) else None


def _restored(result):
    """A node_recover result of a host that took its turn, else {} (skipped, never run)."""
    if not isinstance(result, dict) or result.get('skipped'):
        return {}
    return result


def turn(report):
    """What one host's turn restores, from its static_pod_info result: {'etcd': etcd's step or None, 'others':
    the other components' steps in start order, 'relocate': [{from, to}] (directories moved out of the
    manifests directory first), 'manifests_dir': {mode, uid, gid} to recreate the manifests directory (moved
    away as a whole) with, or None when it exists}."""
    report = report or {}
    plan = _plan(report) or {}
    steps = plan.get('steps') or []
    etcd = [step for step in steps if step.get('name') == 'etcd']
    source = report.get('manifests_dir_source') or {}
    recreate = None
    if steps and report.get('manifests_dir_exists') is False:
        recreate = {'mode': source.get('mode'), 'uid': source.get('uid'), 'gid': source.get('gid')}
    return {'etcd': etcd[0] if etcd else None,
            'others': [step for step in steps if step.get('name') != 'etcd'],
            'relocate': list(plan.get('relocate') or []) if steps else [],
            'manifests_dir': recreate}


def recover_plan(reports, restored=None):
    """recover's plan across the play, before and after the hosts' turns.

    Returns {'found': ['host: what was found', ...] (the play's hosts in order), 'restore': the hosts to restore,
    in play order, 'readers': the hosts whose pods could be read (they read the cluster at the end),
    'has_quorum': whether a restored etcd saw quorum, 'wait_for': the hosts whose pods came back before quorum,
    waited for once quorum is back (none while it is not)}.
    """
    reports = reports or {}
    restored = dict((host, _restored(result)) for host, result in (restored or {}).items())
    found = ['%s: %s' % (host, (report or {}).get('summary') or UNREACHABLE) for host, report in reports.items()]
    restore = [host for host, report in reports.items() if (_plan(report) or {}).get('steps')]
    readers = [host for host, report in reports.items() if 'running' in (report or {})]
    turns = [restored.get(host) or {} for host in restore]
    has_quorum = any(result.get('has_quorum') for result in turns)
    early = [host for host in restore if (restored.get(host) or {}).get('started_early')]
    return {'found': found, 'restore': restore, 'readers': readers, 'has_quorum': has_quorum,
            'wait_for': early if has_quorum else []}


def refused_hosts(reports, restored=None):
    """[(host, reasons)] of the hosts left stopped: first those whose stash cannot be trusted (never restored),
    then those whose certificates would keep them from coming back (refused in their turn), in play order."""
    reports = reports or {}
    restored = restored or {}
    untrusted = [(host, _plan(report)['refused']) for host, report in reports.items()
                 if (_plan(report) or {}).get('refused')]
    certificates = [(host, _restored(restored.get(host))['refused']) for host in reports
                    if host not in dict(untrusted) and _restored(restored.get(host)).get('refused')]
    return untrusted + certificates


def unrestorable(reports):
    """What was found on the hosts where something is stopped and nothing can restore it (no copy of its
    manifest found), neither refused nor with its etcd data lost."""
    lines = []
    for report in (reports or {}).values():
        plan = _plan(report)
        if plan is None or plan.get('steps') or plan.get('refused') or plan.get('data_lost'):
            continue
        if report.get('stopped'):
            lines.append(report.get('summary'))
    return lines


def recover_summary(state, reports, member_hosts=None, restored=None, fail_without_quorum=True,
                    max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    """recover_outcome (etcd's quorum, the hosts whose data is lost, the unreachable ones) with the rest of what
    recover says at its end: 'refused' (['host: reasons']), 'refused_hosts', 'unrestorable' (what was found on
    them), 'failed' (a host stays down, data is lost, or etcd has no quorum and `fail_without_quorum`) and
    'failure', the message the run fails with ('' when it does not fail)."""
    outcome = recover_outcome(state, reports, member_hosts, max_applied_lag)
    refused = refused_hosts(reports, restored)
    nothing = unrestorable(reports)
    quorum_matters = bool(outcome['lost']) or (bool(fail_without_quorum) and not outcome['has_quorum'])
    parts = []
    if refused:
        hosts = [host for host, _reasons in refused]
        parts.append('Not restored, left stopped: %s. %s' % (
            ' | '.join('%s: %s' % (host, '; '.join(reasons)) for host, reasons in refused),
            REFUSED_ADVICE % ','.join(hosts)))
    if nothing:
        parts.append('Nothing found to restore: %s. %s' % (' | '.join(nothing), UNRESTORABLE_ADVICE))
    if quorum_matters:
        parts.append(outcome['message'])
    failed = bool(refused or nothing or quorum_matters)
    outcome.update({
        'refused': ['%s: %s' % (host, '; '.join(reasons)) for host, reasons in refused],
        'refused_hosts': [host for host, _reasons in refused],
        'unrestorable': nothing,
        'failed': failed,
        'failure': ' '.join(['recover left control-plane nodes down.'] + parts) if failed else '',
    })
    return outcome


def turn_line(restored, has_quorum):
    """What a node's turn did, for its task result."""
    started = ', '.join(restored) or 'nothing'
    if has_quorum:
        return '%s started; etcd has quorum' % started
    return '%s started; etcd has no quorum yet' % started
