# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Keyspace and backend maintenance over the gateway client: defragment one member, disarm alarms,
compact the keyspace, and the backend quota figures etcd_member_info reports. Plain Python, no
AnsibleModule: the decisions are pure functions, the rest takes a client and the endpoints.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    ALARM_KINDS,
    member_id_hex,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import (
    EtcdInputError,
    check_member_names,
    collect_cluster_state,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdCompactedError,
    EtcdError,
    EtcdFutureRevisionError,
    EtcdTimeoutError,
)

# etcd's backend quota when --quota-backend-bytes is unset or 0 (3.4, 3.5 and 3.6 alike); a negative
# value turns the quota off.
DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024
DEFAULT_QUOTA_SOURCE = 'etcd default'
# Between two probes of a member that has just been defragmented.
ANSWER_POLL_INTERVAL = 0.2


def _answering_cluster(client, endpoints):
    state = collect_cluster_state(client, endpoints)
    if not state['members']:
        raise EtcdInputError('no etcd endpoint answered (%s); nothing was done'
                             % '; '.join(state['endpoint_errors'].values()))
    return state


def _named_member(state, name, option):
    check_member_names(state, [name], option)
    return [member for member in state['members'] if member['name'] == name][0]


# ---- defragment

def defragment_member(client, endpoints, member, wait_timeout=60.0, defrag_timeout=300.0, check_mode=False):
    """Defragment the backend of the member named `member`, at its own client URL only.

    Reads its status (db size, in use) first, sends Defragment (which blocks that member for as long
    as it takes, at most `defrag_timeout` seconds here), waits until the member answers again and
    reads its status after. Learners may be defragmented as well. Raises EtcdInputError when the
    name is not a member or the member does not answer; nothing is sent then."""
    state = _answering_cluster(client, endpoints)
    target = _named_member(state, member, 'member')
    endpoint = target['endpoint']
    if endpoint is None:
        raise EtcdInputError('member %s has no client URL (added but never started): it cannot be defragmented; '
                             'nothing was done' % member)
    try:
        before = client.status(endpoint)
    except EtcdError as exc:
        raise EtcdInputError('member %s does not answer at %s (%s); nothing was done' % (member, endpoint, exc))
    result = {'changed': True, 'member': member, 'endpoint': endpoint, 'is_learner': target['is_learner'],
              'db_size_before': before['db_size'], 'db_size_in_use_before': before['db_size_in_use']}
    if check_mode:
        result['freed_estimate'] = max(0, before['db_size'] - before['db_size_in_use'])
        return result
    started = time.monotonic()
    try:
        client.defragment(endpoint, timeout=defrag_timeout)
    except EtcdTimeoutError as exc:
        raise EtcdError('%s: the defragmentation of %s did not finish within defrag_timeout (%s s): %s. The member '
                        'may still be defragmenting (it answers nothing meanwhile); check it with etcd_member_info '
                        'before running again' % (endpoint, member, defrag_timeout, exc), endpoint)
    result['seconds'] = round(time.monotonic() - started, 3)
    after = wait_until_answering(client, endpoint, target['is_learner'], wait_timeout)
    result.update({'db_size_after': after['db_size'], 'db_size_in_use_after': after['db_size_in_use'],
                   'freed': before['db_size'] - after['db_size']})
    return result


def wait_until_answering(client, endpoint, is_learner, wait_timeout):
    """Poll until the member answers Status and, a voter, a linearizable read; return that status."""
    deadline = time.monotonic() + wait_timeout
    while True:
        try:
            status = client.status(endpoint)
            if not is_learner:
                client.health_probe(endpoint)
            return status
        except EtcdError as exc:
            if time.monotonic() >= deadline:
                raise EtcdError('%s: the member was defragmented but does not answer again within wait_timeout '
                                '(%s s): %s' % (endpoint, wait_timeout, exc), endpoint)
        time.sleep(ANSWER_POLL_INTERVAL)


def defrag_diff(result):
    before = 'db_size: %d\ndb_size_in_use: %d\n' % (result['db_size_before'], result['db_size_in_use_before'])
    if 'db_size_after' in result:
        after = 'db_size: %d\ndb_size_in_use: %d\n' % (result['db_size_after'], result['db_size_in_use_after'])
    else:
        after = 'db_size: about %d (estimate)\ndb_size_in_use: %d\n' % (
            result['db_size_in_use_before'], result['db_size_in_use_before'])
    header = 'etcd backend of %s' % result['member']
    return {'before': before, 'after': after, 'before_header': header, 'after_header': header}


# ---- alarms

def alarm_kind_problems(alarms):
    """Why `alarms` is not a non-empty list of alarm kinds etcd knows, or []."""
    if not alarms:
        return ['alarms must name at least one of %s' % ', '.join(ALARM_KINDS)]
    unknown = [kind for kind in alarms if kind not in ALARM_KINDS]
    if unknown:
        return ['alarms names %s: etcd knows only %s' % (', '.join(repr(kind) for kind in unknown),
                                                         ', '.join(ALARM_KINDS))]
    return []


def describe_alarms(alarms, names):
    """Alarms as returned: member id in hex, member name ('' for an id not in the member list), kind."""
    return [{'member_id': member_id_hex(alarm['member_id']), 'member': names.get(alarm['member_id'], ''),
             'alarm': alarm['alarm']} for alarm in alarms]


def alarms_to_disarm(alarms, kinds, members=None):
    """The described alarms of the given kinds, on the named members (None: on any member)."""
    return [alarm for alarm in alarms
            if alarm['alarm'] in kinds and (members is None or alarm['member'] in members)]


def _alarm_endpoint(state):
    """A member that can serve the alarm calls (they go through raft): the leader first, then any voter that
    answers and sees a leader. Not "healthy": a member reports an active alarm among its errors."""
    voters = [m for m in state['members'] if m['reachable'] and m['leader_seen'] and not m['is_learner']]
    voters.sort(key=lambda m: not m['is_leader'])
    if not voters:
        raise EtcdInputError('no voting member that answers sees a leader (the cluster has no quorum?): alarms '
                             'cannot be read or disarmed; nothing was done')
    return voters[0]['endpoint']


def disarm_alarms(client, endpoints, kinds=('NOSPACE',), members=None, check_mode=False):
    """Disarm each active alarm of `kinds` on `members` (None: every member that carries one).
    Returns alarms_before, alarms_after (in check mode: as they would be), disarmed, changed."""
    problems = alarm_kind_problems(kinds)
    if problems:
        raise EtcdInputError('%s; nothing was done' % '; '.join(problems))
    state = _answering_cluster(client, endpoints)
    if members is not None:
        check_member_names(state, members, 'members')
    names = dict((int(member['id'], 16), member['name']) for member in state['members'])
    endpoint = _alarm_endpoint(state)
    before = describe_alarms(client.alarm_list(endpoint), names)
    chosen = alarms_to_disarm(before, kinds, members)
    result = {'changed': bool(chosen), 'endpoint': endpoint, 'alarms_before': before, 'disarmed': chosen}
    if check_mode or not chosen:
        result['alarms_after'] = [alarm for alarm in before if alarm not in chosen]
        return result
    for alarm in chosen:
        client.alarm_disarm(endpoint, alarm['member_id'], alarm['alarm'])
    result['alarms_after'] = describe_alarms(client.alarm_list(endpoint), names)
    return result


def alarms_text(alarms):
    return ''.join('%s %s %s\n' % (alarm['member'] or '-', alarm['member_id'], alarm['alarm']) for alarm in alarms)


def alarm_diff(result):
    return {'before': alarms_text(result['alarms_before']), 'after': alarms_text(result['alarms_after']),
            'before_header': 'etcd alarms', 'after_header': 'etcd alarms'}


# ---- compaction

def _current_revision(client, endpoints):
    """(endpoint, current revision) from the first endpoint that serves a linearizable read."""
    failures = []
    for endpoint in endpoints:
        try:
            return endpoint, client.health_probe(endpoint)['revision']
        except EtcdError as exc:
            failures.append(str(exc))
    raise EtcdInputError('no etcd endpoint served a linearizable read (no quorum?): %s; nothing was compacted'
                         % '; '.join(failures))


def compact_keyspace(client, endpoints, revision=None, physical=True, check_mode=False):
    """Compact the keyspace up to `revision` (default: the current revision).

    A revision at or below the one compacted to already is no change; one above the current
    revision is refused. That is found before anything is sent by reading at `revision - 1`, which
    etcd refuses exactly when `revision` is at or below the compacted revision (no call that etcd 3.4,
    3.5 and 3.6 share reports the compacted revision itself)."""
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int) or revision < 1):
        raise EtcdInputError('revision must be a whole number of at least 1, not %r; nothing was compacted'
                             % (revision,))
    endpoint, current = _current_revision(client, endpoints)
    target = current if revision is None else revision
    result = {'revision': target, 'current_revision': current, 'endpoint': endpoint, 'physical': bool(physical)}
    if target > current:
        raise EtcdInputError('revision %d is above the current revision %d of the keyspace: etcd cannot compact '
                             'revisions that do not exist yet; nothing was compacted' % (target, current))
    compacted_already = 'revision %d is at or below the revision the keyspace was compacted to already, ' \
                        'nothing to compact' % target
    if target > 1 and not client.revision_readable(endpoint, target - 1):
        result.update(changed=False, reason=compacted_already)
        return result
    result.update(changed=True, reason='%s the revisions below %d (current revision %d)' % (
        'would compact' if check_mode else 'compacted', target, current))
    if check_mode:
        return result
    try:
        client.compact(endpoint, target, physical=physical)
    except EtcdCompactedError:
        result.update(changed=False, reason=compacted_already)
    except EtcdFutureRevisionError as exc:
        raise EtcdInputError('revision %d is above the current revision (%s); nothing was compacted' % (target, exc))
    return result


# ---- backend quota (etcd_member_info)

def quota_from_flag(value):
    """The quota in bytes that etcd derives from a --quota-backend-bytes value: unset or 0 is etcd's
    default, a negative value turns the quota off (None). Raises ValueError for a non-integer."""
    if value is None or value == '':
        return DEFAULT_QUOTA_BYTES
    number = int(str(value).strip())
    if number == 0:
        return DEFAULT_QUOTA_BYTES
    return number if number > 0 else None


def add_quota_figures(members, quota_bytes):
    """Per member: db_size_free, quota_bytes, quota_usage (db size / quota, 4 places). Members that did
    not answer keep null figures, as their db size is null."""
    for member in members:
        size, in_use = member.get('db_size'), member.get('db_size_in_use')
        answered = size is not None and in_use is not None
        member['db_size_free'] = size - in_use if answered else None
        member['quota_bytes'] = quota_bytes
        member['quota_usage'] = round(float(size) / quota_bytes, 4) if answered and quota_bytes else None
    return members
