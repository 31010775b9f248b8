# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

etcd quorum arithmetic, free of I/O. A member is a dict with at least `name`, `is_learner`
and `healthy` (a linearizable read through it succeeded). Learners never vote, so they
never count toward quorum, neither as members nor as healthy members.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def voters(members):
    """The voting members (everything that is not a learner)."""
    return [member for member in members if not member.get('is_learner')]


def learners(members):
    return [member for member in members if member.get('is_learner')]


def healthy_voters(members, assume_stopped=()):
    """Healthy voters, leaving out the ones named in `assume_stopped`."""
    stopped = set(assume_stopped or ())
    return [member for member in voters(members)
            if member.get('healthy') and member.get('name') not in stopped]


def quorum_size(voter_count):
    """Voters that must agree for raft to commit: a strict majority (0 voters -> 0)."""
    if voter_count <= 0:
        return 0
    return voter_count // 2 + 1


def has_quorum(voter_count, healthy_voter_count):
    return voter_count > 0 and healthy_voter_count >= quorum_size(voter_count)


def fault_tolerance(voter_count, healthy_voter_count):
    """How many more voters may fail before quorum is lost (0 when it is lost already)."""
    if not has_quorum(voter_count, healthy_voter_count):
        return 0
    return healthy_voter_count - quorum_size(voter_count)


def quorum_summary(members, assume_stopped=()):
    """Quorum figures for `members`, as if the members named in `assume_stopped` were stopped.

    Stopping a member does not change the number of voters (it is still a member), only the
    number of healthy ones.
    """
    voter_count = len(voters(members))
    healthy_count = len(healthy_voters(members, assume_stopped))
    return {
        'voting_members': voter_count,
        'learners': len(learners(members)),
        'healthy_voters': healthy_count,
        'quorum_size': quorum_size(voter_count),
        'has_quorum': has_quorum(voter_count, healthy_count),
        'fault_tolerance': fault_tolerance(voter_count, healthy_count),
    }


def quorum_after_stopping(members, assume_stopped):
    """Would the cluster keep quorum with the members named in `assume_stopped` stopped?"""
    return quorum_summary(members, assume_stopped)['has_quorum']


def members_safe_to_stop(members, assume_stopped=()):
    """Names of the members (not already in `assume_stopped`) that could each be stopped next,
    alone, with the cluster keeping quorum. Empty when quorum is already lost."""
    stopped = list(assume_stopped or ())
    if not quorum_after_stopping(members, stopped):
        return []
    return [member.get('name') for member in members
            if member.get('name') not in stopped
            and quorum_after_stopping(members, stopped + [member.get('name')])]


def unknown_member_names(members, names):
    """The names in `names` that no member carries, in the order given."""
    known = set(member.get('name') for member in members)
    return [name for name in names or () if name not in known]


def stop_member_problems(state, member_name):
    """Why etcd member `member_name` must not be stopped now, from `state` (collect_cluster_state's answer,
    read right before the stop); [] when it may. Pure.

    Refuses when nobody answered, when another voter does not answer or
    is unhealthy (a member frozen since an earlier read), and when the cluster would be left without
    quorum once the member is stopped. Learners never count.
    """
    members = state.get('members') or []
    if not members:
        errors = state.get('endpoint_errors') or {}
        return ['no etcd endpoint answered (%s), so peer health cannot be read'
                % ('; '.join('%s: %s' % item for item in sorted(errors.items())) or 'no endpoints')]
    # A node whose etcd is no member of the cluster that answered (removed, or bootstrapped a cluster of its
    # own) costs that cluster nothing when it stops: only the voters below count.
    problems = []
    for member in voters(members):
        if member.get('name') == member_name or member.get('healthy'):
            continue
        detail = member.get('health_error') or member.get('error') or ''
        problems.append('etcd member %s (%s) %s%s' % (
            member.get('name') or member.get('id'), member.get('endpoint') or 'no client URL',
            'is unhealthy' if member.get('reachable') else 'does not answer', (': ' + detail) if detail else ''))
    after = quorum_summary(members, [member_name])
    if not after['has_quorum']:
        problems.append('stopping %s would leave %d of %d voters healthy, fewer than the %d etcd needs for quorum'
                        % (member_name, after['healthy_voters'], after['voting_members'], after['quorum_size']))
    return problems
