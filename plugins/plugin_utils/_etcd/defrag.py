# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

The decisions and the words of etcd's defragmentation (issue 22): which member needs it (a lot of the file
is free, or the file nears its quota), in which order a rolling defragmentation takes the members
(followers first, the leader last once leadership moved away), when the cluster is not fit for it, the
table of what it freed, and the way out of a raised NOSPACE alarm (compact, defragment every member,
disarm once every member is under its quota, check a write) or why that way cannot work (the live data
itself fills the quota). The defrag and recover_nospace playbooks reach these through the defrag_plan,
defrag_table and nospace_plan filters; the unit tests call them directly.

Input is etcd_member_info's result (or its `members` list): per member name, id, is_learner, reachable,
healthy, is_leader, db_size, db_size_in_use and, when reported, db_size_free, quota_bytes, quota_usage and
alarms (the kinds raised for it); the cluster's alarms under `cluster`.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    cluster_view,
    member_caught_up,
    member_label,
    member_role,
    table_lines,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import quorum_summary
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.space import (
    GIB,
    MIB,
    SpaceInputError,
    human_size,
    member_space,
    number,
    percent,
)

DEFAULT_MIN_FREE_FRACTION = 0.45
DEFAULT_MIN_FREE_BYTES = 100 * MIB
DEFAULT_MAX_QUOTA_USAGE = 0.8
# etcd's own default for --quota-backend-bytes, and the most it advises.
DEFAULT_QUOTA_BYTES = 2 * GIB
MAX_ADVISED_QUOTA_BYTES = 8 * GIB
DEFAULT_LIVE_DATA_LIMIT = 0.9
DEFAULT_DISARM_BELOW = 0.9
NOSPACE = 'NOSPACE'
# A member name wider than this is cut in the tables, which keeps them under 90 columns.
NAME_WIDTH = 20


# Input the plans cannot work with (a threshold, a member's figure, a result); the message names the variable or the
# member at fault. One class with the figures' own, so that a caller catches one error.
DefragInputError = SpaceInputError


def _fraction(value, name, allow_zero=True):
    parsed = number(value, name)
    if parsed is None or parsed > 1 or parsed < 0 or (parsed == 0 and not allow_zero):
        raise DefragInputError('%s must be a number from %s to 1 (a fraction: 0.45 is 45%%), got %r'
                               % (name, '0' if allow_zero else 'above 0', value))
    return parsed


def _byte_count(value, name, allow_zero=True):
    parsed = number(value, name)
    if parsed is None or parsed < 0 or (parsed == 0 and not allow_zero):
        raise DefragInputError('%s must be a number of bytes%s, got %r'
                               % (name, ' (0 or more)' if allow_zero else ' above 0', value))
    return parsed


def defrag_thresholds(min_free_fraction=DEFAULT_MIN_FREE_FRACTION, min_free_bytes=DEFAULT_MIN_FREE_BYTES,
                      max_quota_usage=DEFAULT_MAX_QUOTA_USAGE):
    """The rule's thresholds, checked: DefragInputError naming the playbook variable when one is wrong."""
    return {
        'min_free_fraction': _fraction(min_free_fraction, 'defrag_min_free_fraction'),
        'min_free_bytes': _byte_count(min_free_bytes, 'defrag_min_free_bytes'),
        'max_quota_usage': _fraction(max_quota_usage, 'defrag_max_quota_usage'),
    }


def space_text(space):
    """'412 MiB of 1.0 GiB free (40%)'."""
    fraction = space['free'] / space['size'] if space['size'] else 0.0
    return '%s of %s free (%s)' % (human_size(space['free']), human_size(space['size']), percent(fraction))


def _quota_text(space):
    return 'quota %s used (%s of %s)' % (percent(space['usage']), human_size(space['size']),
                                         human_size(space['quota']) if space['quota'] else 'the quota')


def _apply_rule(space, thresholds):
    if space['size'] is None or space['free'] is None:
        return False, 'db size unknown (the member reported no db_size or db_size_in_use)'
    fraction = space['free'] / space['size'] if space['size'] else 0.0
    enough_fraction = fraction >= thresholds['min_free_fraction']
    enough_bytes = space['free'] >= thresholds['min_free_bytes']
    if enough_fraction and enough_bytes:
        return True, space_text(space)
    over_quota = space['usage'] is not None and space['usage'] > thresholds['max_quota_usage']
    if over_quota and space['free'] > 0:
        return True, '%s, over %s; %s free' % (_quota_text(space), percent(thresholds['max_quota_usage']),
                                               human_size(space['free']))
    if over_quota:
        return False, '%s, over %s, but nothing is free to reclaim: compact first' % (
            _quota_text(space), percent(thresholds['max_quota_usage']))
    short = []
    if not enough_fraction:
        short.append('under %s' % percent(thresholds['min_free_fraction']))
    if not enough_bytes:
        short.append('under %s' % human_size(thresholds['min_free_bytes']))
    return False, '%s: %s' % (space_text(space), ' and '.join(short))


def defrag_rule(member, min_free_fraction=DEFAULT_MIN_FREE_FRACTION, min_free_bytes=DEFAULT_MIN_FREE_BYTES,
                max_quota_usage=DEFAULT_MAX_QUOTA_USAGE):
    """(needs, reason): a member needs defragmenting when at least `min_free_fraction` of its file and at least
    `min_free_bytes` are free, or when its quota usage is above `max_quota_usage` and something is free. The
    reason is one short phrase with the figures, e.g. '412 MiB of 1.0 GiB free (40%)'."""
    return _apply_rule(member_space(member), defrag_thresholds(min_free_fraction, min_free_bytes, max_quota_usage))


def cluster_members(state):
    """The member dicts of etcd_member_info's result, of a cluster view, or of a plain list."""
    if isinstance(state, dict):
        state = state.get('members') or []
    if not isinstance(state, (list, tuple)):
        raise DefragInputError('expected etcd_member_info\'s result or its members list, got %s' % type(state).__name__)
    for member in state:
        if not isinstance(member, dict):
            raise DefragInputError('a member must be a dict (an entry of etcd_member_info\'s members), got %r'
                                   % (member,))
    return sorted(state, key=lambda member: (member.get('name') or '', member.get('id') or ''))


def _leader_name(state, members, leader):
    """The leader's name: `leader` (a name, an id, or a dict with either) when given, else the member that
    says it leads, else the cluster's leader as etcd_member_info reports it (a cluster view's is a name)."""
    if leader is None and isinstance(state, dict):
        cluster = state.get('cluster') if isinstance(state.get('cluster'), dict) else {}
        leader = cluster.get('leader') or state.get('leader')
        leading = [member for member in members if member.get('is_leader')]
        if leading:
            leader = leading[0].get('name')
    elif leader is None:
        leading = [member for member in members if member.get('is_leader')]
        leader = leading[0].get('name') if leading else None
    if isinstance(leader, dict):
        leader = leader.get('name') or leader.get('id')
    if not leader:
        return ''
    for member in members:
        if leader in (member.get('name'), member.get('id')):
            return member.get('name') or member.get('id')
    raise DefragInputError('the leader %r is not a member (members: %s)'
                           % (leader, ', '.join(member_label(member) for member in members) or 'none'))


def _alarm_entry(alarm, names_by_id):
    """(kind, member name) of an alarm as etcd_member_info's cluster alarms hold it ({alarm, member,
    member_id}) or as a cluster view writes it ('NOSPACE on cp1')."""
    if isinstance(alarm, dict):
        member = alarm.get('member') or names_by_id.get(alarm.get('member_id')) or alarm.get('member_id') or ''
        return str(alarm.get('alarm') or ''), str(member)
    kind, _on, member = str(alarm).partition(' on ')
    return kind.strip(), member.strip()


def raised_alarms(state, members, extra=None):
    """{kind: [member names]} of every alarm raised: the members' own lists, the cluster's and `extra`."""
    names_by_id = dict((member.get('id'), member_label(member)) for member in members)
    found = {}
    for member in members:
        alarms = member.get('alarms') or []
        if not isinstance(alarms, (list, tuple)):
            raise DefragInputError('member %s: alarms must be a list of alarm kinds, got %r' % (member_label(member), alarms))
        for kind in alarms:
            found.setdefault(str(kind), set()).add(member_label(member))
    listed = []
    if isinstance(state, dict):
        cluster = state.get('cluster') if isinstance(state.get('cluster'), dict) else {}
        listed.extend(cluster.get('alarms') or [])
    if extra is not None and not isinstance(extra, (list, tuple)):
        raise DefragInputError('alarms must be a list (etcd_member_info\'s cluster.alarms), got %r' % (extra,))
    listed.extend(extra or [])
    for alarm in listed:
        kind, member = _alarm_entry(alarm, names_by_id)
        if kind and kind != 'NONE':
            found.setdefault(kind, set())
            if member:
                found[kind].add(member)
    return dict((kind, sorted(names)) for kind, names in found.items())


def _on(names):
    return ' on %s' % ', '.join(names) if names else ''


def fitness_problems(members, leader):
    """Why the cluster is not fit for a member to block on defragmentation: nothing read, a member that does not
    answer, a voter that is not healthy, no quorum, no leader."""
    if not members:
        return ['etcd could not be read: no member answered']
    problems = []
    for member in members:
        if not member.get('reachable', True):
            problems.append('%s does not answer (%s): every member must answer before a member may block'
                            % (member_label(member), member.get('error') or 'no status'))
        elif not member.get('is_learner') and not member.get('healthy'):
            why = member.get('health_error') or 'its linearizable read failed'
            problems.append('voter %s is not healthy (%s)' % (member_label(member), why))
    summary = quorum_summary(members)
    if not summary['has_quorum']:
        problems.append('no quorum (%d of %d voters healthy, %d needed)' % (
            summary['healthy_voters'], summary['voting_members'], summary['quorum_size']))
    elif not leader:
        problems.append('no leader seen')
    return problems


def rolling_order(members, leader):
    """Member names one at a time: every other member by name, the leader last (its leadership is moved away
    before its turn, so that the cluster never waits on a blocked leader)."""
    names = [member_label(member) for member in members]
    return [name for name in names if name != leader] + [name for name in names if name == leader]


def _ordinal(number_):
    suffix = 'th' if 10 <= number_ % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number_ % 10, 'th')
    return '%d%s' % (number_, suffix)


def member_hosts(hosts):
    """{member name: inventory host} from the hosts' variables (each a dict with inventory_hostname and maybe
    node_name, kubeadm's node name and so the etcd member name; as `ansible_play_hosts_all | map('extract',
    hostvars)` gives them)."""
    found = {}
    for host in hosts or []:
        if isinstance(host, Mapping) and host.get('inventory_hostname'):  # hostvars give a Mapping, not a dict
            found.setdefault(str(host.get('node_name') or host['inventory_hostname']), str(host['inventory_hostname']))
    return found


def _turns(members, order, leader, reasons, hosts=None):
    by_name = dict((member_label(member), member) for member in members)
    by_member = member_hosts(hosts)
    turns = []
    for name in order:
        member = by_name[name]
        turns.append({'member': name, 'id': member.get('id') or '', 'endpoint': member.get('endpoint') or '',
                      'host': by_member.get(name, ''),
                      'is_leader': name == leader, 'is_learner': bool(member.get('is_learner')),
                      'move_leader': name == leader, 'reason': reasons.get(name, '')})
    return turns


def _turn_text(position, count, is_leader):
    if is_leader:
        return '%s, the leader: leadership moves away first' % ('last' if count > 1 else 'alone')
    return '%s of %d' % (_ordinal(position), count)


def defrag_plan(state, leader=None, min_free_fraction=DEFAULT_MIN_FREE_FRACTION,
                min_free_bytes=DEFAULT_MIN_FREE_BYTES, max_quota_usage=DEFAULT_MAX_QUOTA_USAGE, force=False, hosts=None):
    """The rolling defragmentation's plan, see the defrag_plan filter's RETURN for its shape."""
    thresholds = defrag_thresholds(min_free_fraction, min_free_bytes, max_quota_usage)
    members = cluster_members(state)
    leader = _leader_name(state, members, leader)
    refused = fitness_problems(members, leader)
    alarms = raised_alarms(state, members)
    if NOSPACE in alarms:
        refused.append('NOSPACE alarm raised%s: etcd accepts no write; a rolling defragmentation does not disarm it. '
                       'Recover with %s (it compacts, defragments every member and disarms the alarm)'
                       % (_on(alarms[NOSPACE]), playbook_command('recover_nospace')))
    for kind in sorted(kind for kind in alarms if kind != NOSPACE):
        refused.append('%s alarm raised%s: find and fix its cause before any maintenance' % (kind, _on(alarms[kind])))
    chosen, reasons, skipped, notes = [], {}, {}, {}
    for member in members:
        name = member_label(member)
        if member.get('is_learner'):
            skipped[name] = 'learner: the rolling defragmentation never defragments learners (defragment it once promoted)'
        elif not member.get('reachable', True) or not member.get('healthy'):
            notes[name] = 'does not answer' if not member.get('reachable', True) else 'not healthy'
        else:
            needs, reason = _apply_rule(member_space(member), thresholds)
            if force:
                needs, reason = True, 'forced; %s' % reason
            if needs:
                chosen.append(name)
                reasons[name] = reason
            else:
                skipped[name] = reason
    order = [name for name in rolling_order(members, leader) if name in chosen]
    lines = []
    for member in members:
        name = member_label(member)
        if name in notes:
            lines.append('%s: %s - nothing is defragmented while a member is down or unhealthy' % (name, notes[name]))
        elif name in skipped:
            lines.append('%s: skip, %s' % (name, skipped[name]))
        elif refused:
            lines.append('%s: would be defragmented (%s), but the plan is refused' % (name, reasons[name]))
        else:
            lines.append('%s: defragment %s (%s)' % (name, _turn_text(order.index(name) + 1, len(order), name == leader),
                                                     reasons[name]))
    if refused:
        summary = 'Defragmentation refused: %s.' % '; '.join(refused)
        order = []
    elif order:
        summary = 'Defragmenting %d of %d members one at a time, followers first%s.' % (
            len(order), len(members), ', the leader %s last after leadership moves away' % leader if leader in order
            else '')
    else:
        summary = 'Nothing to defragment: no member meets the rule (%s free and %s, or quota usage over %s).' % (
            percent(thresholds['min_free_fraction']), human_size(thresholds['min_free_bytes']),
            percent(thresholds['max_quota_usage']))
    return {
        'proceed': not refused,
        'order': order,
        'turns': _turns(members, order, leader, reasons, hosts),
        'leader': leader,
        'move_leader_before': leader if leader in order else '',
        'skipped': skipped,
        'refused': refused,
        'lines': lines,
        'summary': summary,
        'force': bool(force),
        'thresholds': thresholds,
    }


def _cell_name(name):
    return name if len(name) <= NAME_WIDTH else name[:NAME_WIDTH - 2] + '..'


def before_table(state):
    """Each member's db size, what is in use, what is free and its quota usage, then its alarms and a total."""
    members = cluster_members(state)
    rows, extra, total_size, total_free = [], [], 0.0, 0.0
    for member in members:
        space = member_space(member)
        rows.append([_cell_name(member_label(member)), member_role(member), human_size(space['size']), human_size(space['in_use']),
                     human_size(space['free']), percent(space['usage'])])
        total_size += space['size'] or 0
        total_free += space['free'] or 0
        extra.extend('%s: alarm %s raised' % (member_label(member), kind) for kind in member.get('alarms') or [])
    lines = table_lines([['MEMBER', 'ROLE', 'DB SIZE', 'IN USE', 'FREE', 'QUOTA']] + rows) + extra
    lines.append('total: %s in %d members, %s free' % (human_size(total_size), len(members), human_size(total_free)))
    return lines


def _result_name(result):
    for key in ('member', 'item'):
        value = result.get(key)
        if isinstance(value, dict):
            value = value.get('name') or value.get('member')
        if value:
            return str(value)
    return ''


def _results_by_member(results):
    if isinstance(results, dict) and isinstance(results.get('results'), list):
        results = results['results']
    if isinstance(results, dict):
        results = [dict(result, member=result.get('member') or name) if isinstance(result, dict) else result
                   for name, result in results.items()]
    if not isinstance(results, (list, tuple)):
        raise DefragInputError('results must be a list of etcd_defrag results (or a registered loop), got %s'
                               % type(results).__name__)
    found = {}
    for result in results:
        if not isinstance(result, dict):
            raise DefragInputError('an etcd_defrag result must be a dict, got %r' % (result,))
        name = _result_name(result)
        if not name:
            raise DefragInputError('an etcd_defrag result names no member (no member or item): %r' % (result,))
        if not result.get('skipped'):
            found[name] = result
    return found


def defrag_table(before, results=None):
    """Lines of a table under 90 columns. With `results` (etcd_defrag results: a list, a registered loop, or a
    dict by member): member, db size before and after, in use after, freed, seconds the member was blocked, and
    a total line. Without: the before table (check mode, the plan)."""
    if results is None:
        return before_table(before)
    members = cluster_members(before)
    done = _results_by_member(results)
    known = [member_label(member) for member in members]
    names = known + sorted(name for name in done if name not in known)
    by_name = dict((member_label(member), member) for member in members)
    rows, notes = [], []
    count, total_before, total_after, blocked, longest, estimated = 0, 0.0, 0.0, 0.0, (0.0, ''), None
    for name in names:
        space = member_space(by_name.get(name) or {'name': name})
        result = done.get(name)
        if result is None:
            rows.append([_cell_name(name), human_size(space['size']), 'not run', human_size(space['in_use']), '-', '-'])
            continue
        if result.get('failed'):
            rows.append([_cell_name(name), human_size(space['size']), 'FAILED', human_size(space['in_use']), '-', '-'])
            notes.append('%s: defragmentation failed: %s' % (name, result.get('msg') or 'no message'))
            continue
        size_before = number(result.get('db_size_before'), 'result of %s: db_size_before' % name)
        size_before = space['size'] if size_before is None else size_before
        estimate = number(result.get('freed_estimate'), 'result of %s: freed_estimate' % name)
        if estimate is not None and result.get('db_size_after') is None:
            # check mode: nothing was defragmented, the figures are what a real run would free
            in_use = number(result.get('db_size_in_use_before'), 'result of %s: db_size_in_use_before' % name)
            rows.append([_cell_name(name), human_size(size_before), '~' + human_size(size_before - estimate),
                         human_size(in_use), '~' + human_size(estimate), '-'])
            estimated = (estimated or 0) + estimate
            continue
        size_after = number(result.get('db_size_after'), 'result of %s: db_size_after' % name)
        in_use = number(result.get('db_size_in_use_after'), 'result of %s: db_size_in_use_after' % name)
        freed = number(result.get('freed'), 'result of %s: freed' % name)
        if freed is None and size_before is not None and size_after is not None:
            freed = size_before - size_after
        seconds = number(result.get('seconds'), 'result of %s: seconds' % name)
        rows.append([_cell_name(name), human_size(size_before), human_size(size_after), human_size(in_use),
                     human_size(freed), '-' if seconds is None else '%.1f s' % seconds])
        count += 1
        total_before += size_before or 0
        total_after += size_after or 0
        blocked += seconds or 0
        if seconds is not None and seconds >= longest[0]:
            longest = (seconds, name)
    lines = table_lines([['MEMBER', 'BEFORE', 'AFTER', 'IN USE', 'FREED', 'BLOCKED']] + rows) + notes
    total = 'total: %d member%s, %s freed (%s -> %s), blocked %.1f s' % (
        count, '' if count == 1 else 's', human_size(max(total_before - total_after, 0)), human_size(total_before), human_size(total_after),
        blocked)
    if longest[1]:
        total += ', longest %.1f s (%s)' % (longest[0], _cell_name(longest[1]))
    if estimated is not None and not count:
        total = 'total: nothing was defragmented (check mode); a run would free about %s' % human_size(estimated)
    failed = [name for name in names if (done.get(name) or {}).get('failed')]
    if failed:
        total += '; FAILED: %s' % ', '.join(failed)
    lines.append(total)
    return lines


def nospace_thresholds(quota_bytes=None, live_data_limit=DEFAULT_LIVE_DATA_LIMIT, disarm_below=DEFAULT_DISARM_BELOW):
    """The NOSPACE plan's parameters, checked: DefragInputError naming the playbook variable when one is wrong."""
    return {
        'quota_bytes': (None if quota_bytes in (None, '')
                        else _byte_count(quota_bytes, 'nospace_quota_bytes', allow_zero=False)),
        'live_data_limit': _fraction(live_data_limit, 'nospace_live_data_limit', allow_zero=False),
        'disarm_below': _fraction(disarm_below, 'nospace_disarm_below', allow_zero=False),
    }


def _quota_of(space, quota_bytes):
    return space['quota'] or quota_bytes or DEFAULT_QUOTA_BYTES


def disarm_verdict(state, quota_bytes=None, disarm_below=DEFAULT_DISARM_BELOW):
    """(ready, reason): NOSPACE may be disarmed once every member's db size is under `disarm_below` of its quota
    (a member's own quota_bytes, else `quota_bytes`, else etcd's default 2 GiB); disarmed earlier, it is raised
    again by the next write."""
    params = nospace_thresholds(quota_bytes, DEFAULT_LIVE_DATA_LIMIT, disarm_below)
    members = cluster_members(state)
    if not members:
        return False, 'etcd could not be read: no member answered'
    over = []
    for member in members:
        space = member_space(member)
        quota = _quota_of(space, params['quota_bytes'])
        if space['size'] is None:
            over.append('%s (db size unknown)' % member_label(member))
        elif space['size'] >= params['disarm_below'] * quota:
            over.append('%s (%s of a %s quota, %s)' % (
                member_label(member), human_size(space['size']), human_size(quota), percent(space['size'] / quota)))
    if over:
        return False, 'not every member is under %s of its quota: %s' % (percent(params['disarm_below']), ', '.join(over))
    return True, 'every member is under %s of its quota' % percent(params['disarm_below'])


def _suggested_quota(in_use):
    quota = 2 * GIB
    while quota < 2 * in_use and quota < MAX_ADVISED_QUOTA_BYTES:
        quota *= 2
    return quota


def _live_data_refusal(name, space, quota, limit):
    figures = ('the live data alone fills the quota: %s holds %s in use under a %s quota (%s, the limit is %s); '
               'the keyspace is compacted, so what is in use is live data, and defragmentation frees only what is '
               'not in use: it cannot bring etcd under its quota'
               % (name, human_size(space['in_use']), human_size(quota), percent(space['in_use'] / quota), percent(limit)))
    suggested = _suggested_quota(space['in_use'])
    if suggested <= quota or space['in_use'] >= limit * suggested:
        return ('%s. etcd advises a quota of at most %s: find what fills etcd (for example a flood of events or of one '
                'custom resource), delete it, then run %s'
                % (figures, human_size(MAX_ADVISED_QUOTA_BYTES), playbook_command('recover_nospace')))
    return ('%s. Raise --quota-backend-bytes (to %d, %s; etcd advises at most %s) on every control-plane node, one '
            'node at a time, with the kubemaint.control_plane.static_pod_flags module, waiting for each etcd to be '
            'healthy again; then run %s' % (figures, suggested, human_size(suggested),
                                            human_size(MAX_ADVISED_QUOTA_BYTES), playbook_command('recover_nospace')))


def nospace_plan(state, alarms=None, quota_bytes=None, live_data_limit=DEFAULT_LIVE_DATA_LIMIT,
                 disarm_below=DEFAULT_DISARM_BELOW, hosts=None, compacted=True):
    """The way out of a raised NOSPACE alarm, see the nospace_plan filter's RETURN for its shape.

    `compacted`: whether the figures were read after the keyspace was compacted and at least one member was
    defragmented. Before, what is in use still holds the history the compaction drops (and after the compaction,
    until a write commits, the pages it freed), so it says nothing of the live data: the live data refusal waits
    for such a read."""
    params = nospace_thresholds(quota_bytes, live_data_limit, disarm_below)
    members = cluster_members(state)
    leader = _leader_name(state, members, None)
    raised_by_kind = raised_alarms(state, members, alarms)
    raised = NOSPACE in raised_by_kind
    refused = fitness_problems(members, leader)
    for kind in sorted(kind for kind in raised_by_kind if kind != NOSPACE):
        refused.append('%s alarm raised%s: find and fix its cause first' % (kind, _on(raised_by_kind[kind])))
    # Every member holds the same keyspace, so the live data is at most the least any member has in use, and a
    # member defragmented after the compaction has nothing else in use (the others still count the pages the
    # compaction freed as used until a later write commits, and NOSPACE lets none through).
    lines, least = [], None
    for member in members:
        space = member_space(member)
        quota = _quota_of(space, params['quota_bytes'])
        name = member_label(member)
        if member.get('reachable', True) and space['in_use'] is None:
            refused.append('%s reported no db_size_in_use: whether compaction and defragmentation free enough cannot '
                           'be told' % name)
        elif space['in_use'] is not None and (least is None or space['in_use'] / quota < least[1]['in_use'] / least[2]):
            least = (name, space, quota)
        lines.append('%s%s: db %s of a %s quota (%s), %s in use, %s free%s' % (
            name, ' (leader)' if name == leader else ' (learner)' if member.get('is_learner') else '',
            human_size(space['size']), human_size(quota), percent(None if space['size'] is None else space['size'] / quota),
            human_size(space['in_use']), human_size(space['free']),
            ', NOSPACE raised' if name in raised_by_kind.get(NOSPACE, []) else ''))
    if compacted and least and least[1]['in_use'] >= params['live_data_limit'] * least[2]:
        refused.append(_live_data_refusal(least[0], least[1], least[2], params['live_data_limit']))
    ready, disarm_reason = disarm_verdict(members, params['quota_bytes'], params['disarm_below']) if members else (
        False, 'etcd could not be read: no member answered')
    order = rolling_order(members, leader) if raised and not refused else []
    steps = []
    if raised and not refused:
        steps = [
            {'action': 'compact', 'members': [],
             'text': 'compact the keyspace to the current revision (etcd allows it while NOSPACE is raised)'},
            {'action': 'defragment', 'members': order,
             'text': 'defragment every member one at a time: %s' % ', '.join(
                 '%s (leader, after leadership moves away)' % name if name == leader else name for name in order)},
            {'action': 'disarm', 'members': [],
             'text': 'disarm NOSPACE once every member\'s db size is under %s of its quota'
                     % percent(params['disarm_below'])},
            {'action': 'check_write', 'members': [], 'text': 'check that a write succeeds'},
        ]
    if not raised:
        summary = ('No NOSPACE alarm is raised: nothing to recover. %s defragments the members that need it.'
                   % playbook_command('defrag'))
    elif refused:
        summary = 'NOSPACE recovery refused: %s.' % '; '.join(refused)
    else:
        summary = 'NOSPACE is raised%s: %s.' % (_on(raised_by_kind[NOSPACE]), '; '.join(step['text'] for step in steps))
    return {
        'raised': raised,
        'members': raised_by_kind.get(NOSPACE, []),
        'alarms': raised_by_kind,
        'proceed': raised and not refused,
        'refused': refused,
        'steps': steps,
        'order': order,
        'turns': _turns(members, order, leader, dict((name, 'NOSPACE recovery') for name in order), hosts),
        'leader': leader,
        'disarm': {'ready': ready, 'reason': disarm_reason},
        'lines': lines,
        'summary': summary,
        'thresholds': params,
    }


def settled(state, member, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    """A member's turn is over: etcd answered, every member (learners too) is healthy and `member` caught up with
    the leader again. `state` is etcd_member_info's result. Alarms are not looked at: the plan refused them before
    the run (recover_nospace is there to clear NOSPACE), and the next turn's guard refuses a new one."""
    view = cluster_view(state, max_applied_lag)
    return bool(view['readable'] and all(m['healthy'] for m in view['members'])
                and member_caught_up(view, member, max_applied_lag))
