# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

What the etcd modules do, on top of the gateway client: collect the state of the whole
cluster (every member by etcd's member list, queried in parallel), move leadership, save
snapshots and keep the last N. Plain Python, no AnsibleModule: the modules are thin.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import os
import re
import stat
import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    member_id_hex,
    run_parallel,
    validate_endpoint,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdConnectionError,
    EtcdError,
    EtcdSplitBrainError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import (
    members_safe_to_stop,
    quorum_summary,
    unknown_member_names,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    SNAPSHOT_KEEP,
    absolute_path_problem,
    file_name_part_problem,
    number_problem,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import (
    fsync_dir,
    os_error_text,
    trust_problems,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_data import backend_path

# Head room over the per-request timeout for thread start-up and TLS set-up on a busy node.
THREAD_SLACK = 1.0
# Between two rounds of Status reads while a moved leadership is confirmed: a handful of small requests.
LEADER_POLL_INTERVAL = 0.05
NO_LEADER_PROBE_TIMEOUT = 3.0


SNAPSHOT_DIR_MODE = 0o700
PARTIAL_SUFFIX = '.part'


class EtcdInputError(Exception):
    """The task asked for something impossible (unknown member, learner as leader, ...)."""


class SnapshotWriteError(EtcdInputError):
    """The snapshot could not be written on the node (full disk, permissions); the message names the file."""


def _error_fields(error):
    if error is None:
        return {'error': None, 'error_reason': None}
    return {'error': str(error), 'error_reason': getattr(error, 'reason', 'error')}


def _with_endpoint(error, endpoint):
    if error is not None and not getattr(error, 'endpoint', None):
        error.endpoint = endpoint
        error.message = '%s: %s' % (endpoint, error.message)
        error.args = (error.message,)
    return error


def _member_endpoint(member):
    for url in member['client_urls']:
        try:
            return validate_endpoint(url)
        except EtcdError:
            continue
    return None


def _pick_member_list(lists, statuses):
    """Prefer the view of a member that sees a leader, then the newest raft term."""
    def rank(endpoint):
        status = statuses.get(endpoint)
        has_leader = bool(status and status.get('leader'))
        term = max(lists[endpoint]['raft_term'], status['raft_term'] if status else 0)
        return (has_leader, term)
    best = max(lists, key=rank)
    return best, lists[best]


def _answered_cluster(endpoint, lists, statuses):
    """The cluster ID an endpoint answered with (its member list's header, else its Status's); None if neither."""
    for answer in (lists.get(endpoint), statuses.get(endpoint)):
        if answer and answer.get('cluster_id'):
            return answer['cluster_id']
    return None


def split_sides(lists, statuses):
    """Which cluster each answering endpoint serves: a split brain when they are not all one.

    `lists` and `statuses` map endpoints to their MemberList and Status answers (parsed). Endpoints are grouped by
    the cluster ID they answer with; within one cluster ID, an endpoint whose own member list holds fewer of the
    main list's voters than that list's quorum (a member restarted alone with --force-new-cluster) is a side of its
    own. The majority side is the one answered for by the most endpoints, then with the longest member list, a
    leader, the newest term. Returns the sides, the majority first, each {'cluster_id', 'endpoints', 'member_ids',
    'members' (names in its own list), 'leader' (the member ID its members see lead, or None)}; one side when
    every endpoint agrees, none when nothing answered.
    """
    by_cluster = {}
    for endpoint in sorted(set(lists) | set(statuses)):
        cluster_id = _answered_cluster(endpoint, lists, statuses)
        if cluster_id is not None:
            by_cluster.setdefault(cluster_id, []).append(endpoint)
    sides = []
    for cluster_id, endpoints in by_cluster.items():
        main = max((ep for ep in endpoints if ep in lists), default=None,
                   key=lambda ep: (len(lists[ep]['members']), (statuses.get(ep) or {}).get('raft_term') or 0))
        voters = set(m['id'] for m in lists[main]['members'] if not m['is_learner']) if main else set()
        quorum = len(voters) // 2 + 1
        groups = {}
        for endpoint in endpoints:
            ids = set(m['id'] for m in lists[endpoint]['members']) if endpoint in lists else voters
            key = 'main' if main is None or len(ids & voters) >= quorum else endpoint
            groups.setdefault(key, []).append(endpoint)
        for group in groups.values():
            own = max((ep for ep in group if ep in lists), default=None, key=lambda ep: len(lists[ep]['members']))
            members = lists[own]['members'] if own else []
            leaders = [(statuses.get(ep) or {}).get('leader') for ep in group]
            sides.append({
                'cluster_id': cluster_id,
                'endpoints': sorted(group),
                'member_ids': sorted(m['id'] for m in members),
                'members': sorted(m['name'] or member_id_hex(m['id']) for m in members),
                'leader': next((leader for leader in leaders if leader), None),
                'term': max([(statuses.get(ep) or {}).get('raft_term') or 0 for ep in group]),
            })
    sides.sort(key=lambda side: (-len(side['endpoints']), -len(side['member_ids']), side['leader'] is None,
                                 -side['term'], side['endpoints']))
    return sides


def split_brain_summary(sides):
    """etcd_member_info's `split_brain` for the sides of split_sides: None for one side (or none); else the sides
    (cluster ID in hex, the endpoints answering for it, the members its own list holds) and a line that says it."""
    if len(sides) < 2:
        return None
    out = [{'cluster_id': member_id_hex(side['cluster_id']), 'endpoints': side['endpoints'],
            'members': side['members'], 'majority': number == 0} for number, side in enumerate(sides)]
    others = '; '.join('%s answers for cluster %s (members: %s)' % (
        ', '.join(side['endpoints']), side['cluster_id'], ', '.join(side['members']) or 'none listed')
        for side in out[1:])
    return {
        'sides': out,
        'text': 'SPLIT BRAIN: %s answer for cluster %s (members: %s), but %s. The members on the other side serve '
                'their own data: their apiservers read and write another etcd than the majority\'s.'
                % (', '.join(out[0]['endpoints']), out[0]['cluster_id'], ', '.join(out[0]['members']), others),
    }


def _leader_by_votes(statuses, known_ids):
    """The leader most reachable members report, newest term first; None when nobody sees one."""
    votes = {}
    for status in statuses:
        leader = status.get('leader')
        if leader and leader in known_ids:
            term, count = votes.get(leader, (0, 0))
            votes[leader] = (max(term, status['raft_term']), count + 1)
    if not votes:
        return None
    return max(votes, key=lambda leader: (votes[leader][0], votes[leader][1]))


# How etcd's Status lists a raised alarm among a member's errors ("memberID:<id> alarm:NOSPACE ", 3.4 to 3.6)
NOSPACE_ERROR = re.compile(r'\balarm:NOSPACE\b')


def member_faults(status):
    """The errors of a member's Status that make it unhealthy: all but the NOSPACE alarm, which every member
    lists while it is raised although each still answers and keeps quorum (it is reported as an alarm; taken
    for a fault, it showed a full cluster as one without quorum)."""
    return [error for error in status.get('errors') or [] if not NOSPACE_ERROR.search(error)]


def _ask_endpoints(client, endpoints, timeout):
    """Every endpoint's member list and Status, in parallel: (lists, statuses, latencies, errors), each by endpoint."""
    asked = {}
    for endpoint in endpoints:
        asked[('members', endpoint)] = (lambda ep=endpoint: client.member_list(ep, timeout))
        asked[('status', endpoint)] = (lambda ep=endpoint: client.status(ep, timeout))
    answers = run_parallel(asked, timeout + THREAD_SLACK)
    lists, statuses, latencies, errors = {}, {}, {}, {}
    for endpoint in endpoints:
        members, members_error, _seconds = answers[('members', endpoint)]
        status, status_error, seconds = answers[('status', endpoint)]
        if members is not None:
            lists[endpoint] = members
        if status is not None:
            statuses[endpoint] = status
            latencies[endpoint] = seconds
        error = members_error or status_error
        if error is not None:
            errors[endpoint] = _with_endpoint(error, endpoint)
    return lists, statuses, latencies, errors


def majority_endpoints(client, endpoints, timeout=None):
    """The endpoints to send a request to that must reach the cluster the roles read (the maintenance lock).

    In a split brain an endpoint of another side answers for another cluster: a lock taken there is invisible to
    every run that reaches the majority's side first. Every endpoint is asked (member list and Status, in
    parallel); those of the majority's side (split_sides) come first in their given order, then those that did not
    answer (they may be the majority's), and those of another side are left out. One endpoint, or answers from one
    cluster only: the endpoints as given.
    """
    endpoints = list(endpoints)
    if len(endpoints) < 2:
        return endpoints
    lists, statuses, _latencies, _errors = _ask_endpoints(
        client, endpoints, client.timeout if timeout is None else timeout)
    sides = split_sides(lists, statuses)
    if len(sides) < 2:
        return endpoints
    majority = set(sides[0]['endpoints'])
    other = set(endpoint for side in sides[1:] for endpoint in side['endpoints'])
    return ([endpoint for endpoint in endpoints if endpoint in majority]
            + [endpoint for endpoint in endpoints if endpoint not in majority and endpoint not in other])


def collect_cluster_state(client, endpoints, timeout=None, assume_stopped=()):
    """State of the cluster and of every member, as etcd_member_info returns it.

    Round 1 asks every given endpoint for its member list and status in parallel; round 2
    asks every member (by the member list) that round 1 did not reach for its status and does
    the linearizable health read, again in parallel, so one dead member costs one timeout.
    Raises nothing for members that are down: that is reported. `endpoint_errors` lists the
    failures of the given endpoints; `members` is empty when none of them answered.
    """
    timeout = client.timeout if timeout is None else timeout
    started = time.monotonic()
    lists, statuses_by_endpoint, latency_by_endpoint, endpoint_errors = _ask_endpoints(client, endpoints, timeout)

    # A split brain: only the majority's side is read as the cluster; an endpoint of another side answers for
    # another cluster (it may even carry the same member ID), so it counts as a member that cannot be reached.
    sides = split_sides(lists, statuses_by_endpoint) if lists else []
    for side in sides[1:]:
        for endpoint in side['endpoints']:
            endpoint_errors[endpoint] = EtcdSplitBrainError(
                '%s answers for another etcd cluster (cluster %s, members: %s) than the majority\'s (cluster %s): '
                'split brain' % (endpoint, member_id_hex(side['cluster_id']), ', '.join(side['members']) or 'none',
                                 member_id_hex(sides[0]['cluster_id'])), endpoint)
            lists.pop(endpoint, None)
            statuses_by_endpoint.pop(endpoint, None)

    state = {
        'endpoints': list(endpoints),
        'endpoint_errors': dict((ep, str(err)) for ep, err in endpoint_errors.items()),
        'endpoint_error_objects': endpoint_errors,
        'split_brain': split_brain_summary(sides),
    }
    if not lists:
        state.update(_empty_cluster(assume_stopped))
        state['elapsed'] = round(time.monotonic() - started, 3)
        return state

    source_endpoint, member_list = _pick_member_list(lists, statuses_by_endpoint)
    status_by_id = {}
    for endpoint, status in statuses_by_endpoint.items():
        status_by_id[status['member_id']] = (endpoint, status, latency_by_endpoint[endpoint])

    members = member_list['members']
    round2 = {}
    for member in members:
        endpoint = _member_endpoint(member)
        member['endpoint'] = endpoint
        known = status_by_id.get(member['id'])
        if known is None and endpoint is not None and endpoint not in endpoint_errors:
            round2[('status', member['id'])] = (lambda ep=endpoint: client.status(ep, timeout))
        # a member that sees no leader is either in an election (over within about two election
        # timeouts, 2 s by default) or without quorum: a shorter probe covers the first case
        # without making the second wait a full timeout
        probe_timeout = min(timeout, NO_LEADER_PROBE_TIMEOUT) if known is not None and not known[1]['leader'] \
            else timeout
        if endpoint is not None and not member['is_learner'] and endpoint not in endpoint_errors:
            round2[('health', member['id'])] = (lambda ep=endpoint, t=probe_timeout: client.health_probe(ep, t))
    healthy_source = source_endpoint if statuses_by_endpoint.get(source_endpoint, {}).get('leader') else None
    if healthy_source:
        round2[('alarms', None)] = (lambda: client.alarm_list(healthy_source, timeout))
    answers2 = run_parallel(round2, timeout + THREAD_SLACK) if round2 else {}

    alarms_value, alarms_error, _seconds = answers2.get(('alarms', None), (None, None, 0))
    for member in members:
        endpoint = member['endpoint']
        known = status_by_id.get(member['id'])
        status, error, seconds = None, None, None
        if known is not None:
            status, seconds = known[1], known[2]
        elif endpoint is None:
            error = EtcdConnectionError('member has no client URL (added but never started)')
            error.reason = 'not_started'
        elif endpoint in endpoint_errors:
            error = endpoint_errors[endpoint]
        else:
            status, error, seconds = answers2[('status', member['id'])]
            error = _with_endpoint(error, endpoint)
        member['status'] = status
        member['status_error'] = error
        member['latency'] = seconds
        health, health_error = None, None
        if ('health', member['id']) in answers2:
            health, health_error, _seconds = answers2[('health', member['id'])]
            health_error = _with_endpoint(health_error, endpoint)
        faults = member_faults(status) if status is not None else []
        if status is None:
            member['healthy'] = False
            member['health_error'] = str(error) if error else None
        elif member['is_learner']:
            # learners refuse linearizable reads; they are healthy when they follow a leader
            member['healthy'] = bool(status['leader']) and not faults
            member['health_error'] = None if member['healthy'] else 'learner sees no leader or reports errors'
        else:
            member['healthy'] = health is not None and not faults
            member['health_error'] = (str(health_error) if health_error else
                                      ('; '.join(faults) if faults else
                                       (None if health is not None else 'sees no leader')))

    known_ids = set(member['id'] for member in members)
    leader_id = _leader_by_votes([m['status'] for m in members if m['status']], known_ids)
    alarms = alarms_value or []
    state.update(_summarize(member_list, members, leader_id, alarms, assume_stopped))
    state['member_list_from'] = source_endpoint
    state['alarms_error'] = str(alarms_error) if alarms_error else None
    state['elapsed'] = round(time.monotonic() - started, 3)
    return state


def _empty_cluster(assume_stopped):
    cluster = {
        'cluster_id': None,
        'leader': None,
        'member_count': 0,
        'reachable_members': 0,
        'alarms': [],
        'safe_to_stop': [],
    }
    cluster.update(quorum_summary([], ()))
    return {'cluster': cluster, 'members': [], 'projection': _projection([], assume_stopped)}


def _projection(members, assume_stopped):
    projection = quorum_summary(members, assume_stopped)
    projection['assume_stopped'] = list(assume_stopped or [])
    projection['safe_to_stop'] = members_safe_to_stop(members, assume_stopped)
    return projection


def _summarize(member_list, members, leader_id, alarms, assume_stopped):
    names = dict((member['id'], member['name']) for member in members)
    out_members = []
    for member in members:
        status = member['status'] or {}
        error = member['status_error']
        out = {
            'id': member_id_hex(member['id']),
            'name': member['name'],
            'peer_urls': member['peer_urls'],
            'client_urls': member['client_urls'],
            'is_learner': member['is_learner'],
            'endpoint': member['endpoint'],
            'reachable': member['status'] is not None,
            'healthy': member['healthy'],
            'health_error': member['health_error'],
            'version': status.get('version'),
            'db_size': status.get('db_size'),
            'db_size_in_use': status.get('db_size_in_use'),
            'is_leader': bool(leader_id is not None and member['id'] == leader_id),
            'leader_seen': member_id_hex(status['leader']) if status.get('leader') else None,
            'cluster_id': member_id_hex(status['cluster_id']) if status.get('cluster_id') else None,
            'raft_term': status.get('raft_term'),
            'raft_index': status.get('raft_index'),
            'raft_applied_index': status.get('raft_applied_index'),
            'errors': status.get('errors', []),
            'alarms': [alarm['alarm'] for alarm in alarms if alarm['member_id'] == member['id']],
            'latency_ms': round(member['latency'] * 1000, 1) if member['latency'] is not None else None,
        }
        out.update(_error_fields(error))
        out_members.append(out)
    cluster = {
        'cluster_id': member_id_hex(member_list['cluster_id']),
        'leader': ({'id': member_id_hex(leader_id), 'name': names.get(leader_id, '')}
                   if leader_id is not None else None),
        'member_count': len(out_members),
        'reachable_members': len([m for m in out_members if m['reachable']]),
        'alarms': [{'member_id': member_id_hex(a['member_id']), 'member': names.get(a['member_id'], ''),
                    'alarm': a['alarm']} for a in alarms],
        'safe_to_stop': members_safe_to_stop(out_members, ()),
    }
    cluster.update(quorum_summary(out_members, ()))
    return {'cluster': cluster, 'members': out_members, 'projection': _projection(out_members, assume_stopped)}


def config_errors(state):
    """Errors of the given endpoints that point at bad input rather than a member being down."""
    return [error for error in state['endpoint_error_objects'].values()
            if not isinstance(error, EtcdConnectionError)]


def check_member_names(state, names, option):
    unknown = unknown_member_names(state['members'], names)
    if unknown:
        raise EtcdInputError('%s names %s, which %s of this etcd cluster (members: %s)' % (
            option, ', '.join(unknown), 'is not a member' if len(unknown) == 1 else 'are not members',
            ', '.join(m['name'] or m['id'] for m in state['members'])))


def public_state(state):
    """The state without internal objects, ready for exit_json."""
    return dict((key, value) for key, value in state.items() if key != 'endpoint_error_objects')


def _by_name(state, name):
    for member in state['members']:
        if member['name'] == name:
            return member
    return None


def choose_leader_target(state, member=None, avoid=None, prefer=None):
    """(target member dict or None when nothing must change, reason text). Raises EtcdInputError.

    With `avoid`, a healthy voter named in `prefer` takes over first (a rolling restart prefers the
    members it restarted already, so that leadership does not land on the next node to restart);
    among several, and when none is healthy, the most caught-up one."""
    leader = state['cluster']['leader']
    if member is not None:
        check_member_names(state, [member], 'member')
        target = _by_name(state, member)
        if target['is_learner']:
            raise EtcdInputError('member %s is a learner: a learner cannot become leader; promote it first '
                                 '(etcdctl member promote %s)' % (member, target['id']))
        if leader is not None and leader['name'] == member:
            return None, '%s is already the leader' % member
        if leader is None:
            raise EtcdInputError('the cluster has no leader (no quorum?): cannot move leadership to %s' % member)
        if not target['healthy']:
            raise EtcdInputError('member %s is not healthy (%s): refusing to make it leader'
                                 % (member, target['error'] or target['health_error']))
        return target, 'move leadership from %s to %s' % (leader['name'], member)
    avoid = list(avoid or [])
    check_member_names(state, avoid, 'avoid')
    if leader is None:
        raise EtcdInputError('the cluster has no leader (no quorum?): cannot move leadership away from %s'
                             % ', '.join(avoid))
    if leader['name'] not in avoid:
        return None, 'the leader %s is not in avoid' % leader['name']
    candidates = [m for m in state['members']
                  if m['healthy'] and not m['is_learner'] and m['name'] not in avoid]
    if not candidates:
        raise EtcdInputError('no healthy voting member outside avoid (%s) can take leadership from %s'
                             % (', '.join(avoid), leader['name']))
    prefer = list(prefer or [])
    check_member_names(state, prefer, 'prefer')
    preferred = [m for m in candidates if m['name'] in prefer]
    # the most caught-up voter takes over with the shortest pause; name breaks ties reproducibly
    target = sorted(preferred or candidates, key=lambda m: (-(m['raft_applied_index'] or 0), m['name']))[0]
    return target, 'move leadership from %s to %s (most caught-up healthy voter outside avoid%s)' % (
        leader['name'], target['name'], ', of those preferred' if preferred else '')


def ensure_leader(client, endpoints, member=None, avoid=None, check_mode=False, wait_timeout=30.0, prefer=None):
    state = collect_cluster_state(client, endpoints)
    if not state['members']:
        raise EtcdInputError('no etcd endpoint answered (%s)' % '; '.join(state['endpoint_errors'].values()))
    before = state['cluster']['leader']
    target, reason = choose_leader_target(state, member, avoid, prefer)
    result = {'changed': target is not None, 'leader_before': before, 'reason': reason,
              'leader': before if target is None else {'id': target['id'], 'name': target['name']}}
    if target is None or check_mode:
        return result
    leader_member = _by_name(state, before['name'])
    client.move_leader(leader_member['endpoint'], target['id'])
    result['leader'] = wait_for_leader(client, state, target, wait_timeout)
    return result


def wait_for_leader(client, state, target, wait_timeout):
    """Poll until every reachable voter reports `target` as leader; return {'id', 'name'}."""
    deadline = time.monotonic() + wait_timeout
    voters = [m for m in state['members'] if not m['is_learner'] and m['endpoint']]
    seen = {}
    while True:
        calls = dict((m['name'], (lambda ep=m['endpoint']: client.status(ep))) for m in voters)
        answers = run_parallel(calls, client.timeout + THREAD_SLACK)
        seen = dict((name, member_id_hex(value['leader']) if value and value['leader'] else None)
                    for name, (value, _error, _seconds) in answers.items() if value is not None)
        if seen.get(target['name']) == target['id'] and all(v == target['id'] for v in seen.values()):
            return {'id': target['id'], 'name': target['name']}
        if time.monotonic() >= deadline:
            raise EtcdError('leadership was handed to %s but not confirmed within %s s (leaders seen: %s)'
                            % (target['name'], wait_timeout, seen))
        time.sleep(LEADER_POLL_INTERVAL)


def snapshot_file_name(prefix, now=None):
    now = now or datetime.datetime.utcnow()
    return '%s-%s.db' % (prefix, now.strftime('%Y%m%dT%H%M%SZ'))


def free_snapshot_path(dest_dir, prefix):
    """dest_dir/<prefix>-<UTC time>.db, with -2, -3... appended while that name is taken."""
    name = snapshot_file_name(prefix)
    path = os.path.join(dest_dir, name)
    counter = 1
    while os.path.lexists(path):
        counter += 1
        path = os.path.join(dest_dir, name[:-3] + '-%d.db' % counter)
    return path


def existing_snapshots(dest_dir, prefix):
    """Snapshots this module wrote (prefix-*.db) in dest_dir, oldest first. Temporary files of
    interrupted snapshots are dotfiles ending in .part and never count."""
    if not os.path.isdir(dest_dir):
        return []
    found = []
    for name in os.listdir(dest_dir):
        if name.startswith(prefix + '-') and name.endswith('.db'):
            path = os.path.join(dest_dir, name)
            if os.path.isfile(path):
                found.append((os.stat(path).st_mtime_ns, name, path))
    return [entry[2] for entry in sorted(found)]


def partial_snapshots(dest_dir, prefix):
    """Temporary files a killed run left (.<prefix>-<time>.db.<random>.part, see EtcdClient.snapshot)."""
    if not os.path.isdir(dest_dir):
        return []
    return sorted(os.path.join(dest_dir, name) for name in os.listdir(dest_dir)
                  if name.startswith('.' + prefix + '-') and name.endswith(PARTIAL_SUFFIX)
                  and os.path.isfile(os.path.join(dest_dir, name)))


def snapshots_to_remove(existing, keep, new_path=None):
    """With `keep` N (None/0: keep all) and the new snapshot counted, the oldest paths to delete."""
    paths = list(existing) + ([new_path] if new_path and new_path not in existing else [])
    if not keep or len(paths) <= keep:
        return []
    return paths[:len(paths) - keep]


def holds_only_snapshots(dest_dir):
    """Whether dest_dir holds nothing but etcd snapshots (*.db) and their temporaries (.*.part): a
    directory for snapshots, whose mode is ours to set (never /var/backups or /, say)."""
    return all(name.endswith('.db') or (name.startswith('.') and name.endswith(PARTIAL_SUFFIX))
               for name in os.listdir(dest_dir))


def snapshot_dir_problems(dest_dir, prefix):
    """Why snapshots cannot be kept in dest_dir: bad arguments, a directory (or a snapshot in it) that
    another user owns or that group or others may write (whoever can write there can swap the
    snapshot a restore will use). [] when fine, or when dest_dir does not exist yet."""
    problems = [problem for problem in (absolute_path_problem('dest', dest_dir),
                                        file_name_part_problem('prefix', prefix)) if problem]
    if problems:
        return problems
    if os.path.lexists(dest_dir) and not os.path.isdir(dest_dir):
        return ['dest %s exists and is not a directory' % dest_dir]
    if not os.path.isdir(dest_dir):
        return []
    problems = trust_problems(dest_dir)
    for path in existing_snapshots(dest_dir, prefix):
        problems.extend(trust_problems(path))
    return problems


def save_snapshot(client, endpoints, dest_dir, prefix='etcd-snapshot', keep=None, check_mode=False):
    """Snapshot from the first given endpoint that answers; write it under dest_dir; prune.

    Everything is checked before the first request: `keep`, `prefix` (the file stays in dest_dir),
    dest_dir absolute and trusted. dest_dir is created with mode 0700, or tightened to 0700 when
    it is ours, looser and holds nothing but snapshots (a shared directory keeps its mode and gets a
    warning: the snapshots themselves are 0600); temporary files of interrupted snapshots are removed.
    """
    problem = number_problem('keep', keep, SNAPSHOT_KEEP)
    if problem:
        raise EtcdInputError(problem)
    problems = snapshot_dir_problems(dest_dir, prefix)
    if problems:
        raise EtcdInputError('refusing to keep snapshots in %s: %s. Nothing was changed.'
                             % (dest_dir, '; '.join(problems)))
    failures = []
    source = None
    for endpoint in endpoints:
        try:
            status = client.status(endpoint)
        except EtcdError as exc:
            failures.append(str(_with_endpoint(exc, endpoint)))
            continue
        source = (endpoint, status)
        break
    if source is None:
        raise EtcdInputError('no etcd endpoint answered, no snapshot taken: %s' % '; '.join(failures))
    endpoint, status = source
    path = free_snapshot_path(dest_dir, prefix)
    if os.path.dirname(os.path.normpath(path)) != os.path.normpath(dest_dir):
        raise EtcdInputError('the snapshot file %s would not be in dest %s; nothing was changed' % (path, dest_dir))
    loose = os.path.isdir(dest_dir) and stat.S_IMODE(os.stat(dest_dir).st_mode) != SNAPSHOT_DIR_MODE
    tighten = loose and holds_only_snapshots(dest_dir)
    result = {'changed': True, 'path': path, 'endpoint': endpoint,
              'member_id': member_id_hex(status['member_id']), 'revision': status['revision'],
              'raft_index': status['raft_index'], 'size': None, 'sha256': None,
              'dest_mode_tightened': tighten, 'removed_partial': partial_snapshots(dest_dir, prefix),
              'warnings': []}
    if loose and not tighten:
        result['warnings'].append('dest %s has mode %04o and holds other files than snapshots, so its mode was left '
                                  'as it is; the snapshots are written with mode 0600. A directory of its own for '
                                  'the snapshots is better.' % (dest_dir, stat.S_IMODE(os.stat(dest_dir).st_mode)))
    existing = existing_snapshots(dest_dir, prefix)
    removed = snapshots_to_remove(existing, keep, path)
    result['removed'] = removed
    if check_mode:
        return result
    try:
        if not os.path.isdir(dest_dir):
            os.makedirs(dest_dir, SNAPSHOT_DIR_MODE)
        if tighten:
            os.chmod(dest_dir, SNAPSHOT_DIR_MODE)
        for partial in result['removed_partial']:
            os.unlink(partial)
    except (IOError, OSError) as exc:
        raise SnapshotWriteError('cannot prepare the snapshot directory %s: %s; no snapshot taken'
                                 % (dest_dir, os_error_text(exc)))
    try:
        saved = client.snapshot(endpoint, path)
    except (IOError, OSError) as exc:
        raise SnapshotWriteError('cannot write the snapshot %s: %s; no snapshot was kept and no partial file '
                                 'left' % (path, os_error_text(exc)))
    result.update({'size': saved['size'], 'sha256': saved['sha256'], 'embedded_sha256': saved['embedded_sha256']})
    for old in removed:
        os.unlink(old)
    result['kept'] = existing_snapshots(dest_dir, prefix)
    return result


def copy_backend(data_dir, dest_dir, prefix='etcd-backend', check_mode=False):
    """Copy a member's backend database (<data_dir>/member/snap/db) into dest_dir as a new
    <prefix>-<UTC time>.db, mode 0600, for a member that does not answer (no snapshot can be taken
    through it). Never overwrites a file (the copy is linked into place only where no file is); dest_dir
    is checked and created as for a snapshot. The copy holds no appended hash: restore it with
    `etcdutl snapshot restore --skip-hash-check`. Fails, keeping nothing, when the source changed
    during the copy (a running etcd wrote to it)."""
    problems = snapshot_dir_problems(dest_dir, prefix)
    if problems:
        raise EtcdInputError('refusing to keep a copy of the etcd backend in %s: %s. Nothing was changed.'
                             % (dest_dir, '; '.join(problems)))
    source = backend_path(data_dir)
    if not os.path.isfile(source):
        raise EtcdInputError('no etcd backend database at %s, nothing to copy. Nothing was changed.' % source)
    path = free_snapshot_path(dest_dir, prefix)
    before = os.stat(source)
    result = {'changed': True, 'path': path, 'source': source, 'source_size': before.st_size,
              'source_mtime': before.st_mtime, 'size': None, 'sha256': None}
    if check_mode:
        return result
    partial = os.path.join(dest_dir, '.%s%s' % (os.path.basename(path), PARTIAL_SUFFIX))
    try:
        if not os.path.isdir(dest_dir):
            os.makedirs(dest_dir, SNAPSHOT_DIR_MODE)
        digest = hashlib.sha256()
        out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with open(source, 'rb') as handle:
                for block in iter(lambda: handle.read(1 << 20), b''):
                    digest.update(block)
                    os.write(out, block)
            os.fchmod(out, 0o600)
            os.fsync(out)
        finally:
            os.close(out)
        after = os.stat(source)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            os.unlink(partial)
            raise SnapshotWriteError('the etcd backend %s changed while it was copied (etcd wrote to it); no copy '
                                     'was kept. Run again.' % source)
        os.link(partial, path)  # fails rather than replace a file that appeared meanwhile
        os.unlink(partial)
        fsync_dir(dest_dir)
    except (IOError, OSError) as exc:
        if os.path.lexists(partial):
            os.unlink(partial)
        raise SnapshotWriteError('cannot copy the etcd backend %s to %s: %s; no copy was kept'
                                 % (source, path, os_error_text(exc)))
    result.update({'size': before.st_size, 'sha256': digest.hexdigest()})
    return result
