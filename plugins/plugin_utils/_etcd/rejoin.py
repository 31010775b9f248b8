# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

What member_recovery's rejoin says it did, free of I/O: member_recovery_result (the actions its steps took, where
the old data went) from the steps' registered results, the line that reports it, and after a failure, the
result and the message naming the failed step and the command that brings the node back. The same for its
removal of a lost node's member (removal_result, removal_failure).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The rejoin's steps in the order they run, each with what it did when its registered result says changed.
STEP_ACTIONS = (
    ('stopped', 'pods stopped'),
    ('moved', None),  # the old data directory: said with where it went
    ('removed', None),  # the stale member: said with its id
    ('added', None),  # the learner: said with its new id
    ('flags', 'manifest given --initial-cluster-state=existing'),
    ('etcd_started', 'etcd started'),
    ('promoted', 'promoted'),
    ('pods_started', 'pods started'),
)
CHECK_MODE_NOTE = '; in check mode the add, start and promotion after the removal are not run'


def _changed(result):
    return isinstance(result, dict) and bool(result.get('changed'))


def rejoin_actions(results, moved_to=None, remove_id=None):
    """What the rejoin's steps did, in order, from their registered results (`results` maps stopped, removed,
    added, flags, etcd_started, promoted, pods_started and rest_started to them; a missing or skipped one did
    nothing); `moved_to` is where the old data directory went ('' when it stayed)."""
    results = results or {}
    actions = []
    for step, action in STEP_ACTIONS:
        if step == 'moved':
            if moved_to:
                actions.append('old data moved to %s' % moved_to)
        elif step == 'removed':
            if _changed(results.get('removed')):
                actions.append('stale member %s removed' % remove_id)
        elif step == 'added':
            added = results.get('added')
            if _changed(added):
                actions.append('added as a learner' + (' (id %s)' % added['id'] if added.get('id') else ''))
        elif step == 'pods_started':
            if _changed(results.get('pods_started')) or _changed(results.get('rest_started')):
                actions.append(action)
        elif _changed(results.get(step)):
            actions.append(action)
    return actions


def rejoin_result(plan, host, check_mode, results, moved_to=None):
    """member_recovery_result after a rejoin: {member, host, plan (the action decided), check_mode, actions,
    data_dir_moved_to (None when the old data stayed)}."""
    plan = plan or {}
    return {'member': plan.get('member'), 'host': host, 'plan': plan.get('action') or '', 'check_mode': bool(check_mode),
            'actions': rejoin_actions(results, moved_to, plan.get('remove_id')),
            'data_dir_moved_to': moved_to or None}


def rejoin_line(result):
    """The line that reports a rejoin: nothing to do, or what was done (would be, in check mode)."""
    actions = result.get('actions') or []
    if not actions and result.get('plan') == 'none':
        what = 'member %s is a healthy voter and every pod runs, nothing to do' % result.get('member')
    else:
        what = '%s%s' % ('would: ' if result.get('check_mode') else 'done: ', ', '.join(actions) or 'nothing')
        if result.get('check_mode') and result.get('plan') == 'rejoin':
            what += CHECK_MODE_NOTE
    return '%s: %s.' % (result.get('host'), what)


def moved_line(host, data_dir, moved_to, check_mode):
    """The line that says where the old data directory went (would go, in check mode); '' when it stayed."""
    if not moved_to:
        return ''
    return '%s: old etcd data %s from %s to %s (kept; delete it once the member is back and healthy).' % (
        host, 'would be moved' if check_mode else 'moved', data_dir, moved_to)


def rejoin_failure(plan, host, member, check_mode, failed_task, moved_to=None, retry_command=''):
    """After a failed rejoin: (member_recovery_result, the message the run fails with). The message names the
    failed task, where the old data went and the command that brings the node back (each step is skipped when
    done); the control plane may be stopped unless the plan was refused before anything changed."""
    plan = plan or {}
    actions = ['FAILED at "%s"' % failed_task] + (['old data moved to %s' % moved_to] if moved_to else [])
    result = {'member': member, 'host': host, 'plan': plan.get('action') or '', 'check_mode': bool(check_mode),
              'actions': actions, 'data_dir_moved_to': moved_to or None}
    message = '%s (etcd member %s) did not rejoin: the task "%s" failed (its error is above).' % (
        host, member, failed_task)
    if moved_to:
        message += ' Its old etcd data is in %s.' % moved_to
    if not plan.get('refused'):
        message += ' Its control plane may be stopped.'
    message += ' Once the cause is fixed, run again (each step is skipped when done): %s' % retry_command
    return result, message


def removal_result(plan, check_mode, removed=None):
    """member_recovery_result after the removal of a lost node's member: {member, plan, check_mode, actions,
    data_dir_moved_to (always None)}; `removed` is the removal's registered result."""
    plan = plan or {}
    return {'member': plan.get('member'), 'plan': plan.get('action') or '', 'check_mode': bool(check_mode),
            'actions': ['member %s removed' % plan.get('remove_id')] if _changed(removed) else [],
            'data_dir_moved_to': None}


def removal_failure(member, failed_task, retry_command=''):
    """The message a failed removal fails with: the member, the failed task and the command that runs it again."""
    return ('etcd member %s was not removed: the task "%s" failed (its error is above). Once the cause is fixed, run '
            'again: %s' % (member, failed_task, retry_command))
