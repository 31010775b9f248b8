# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

What restore_quorum decides, free of I/O: which member a cluster that lost quorum is rebuilt
from (the one with the most data), and the plan: nothing to do, rebuild from that member and
rejoin the other nodes one at a time, rejoin the nodes a cluster that has quorum again still
lacks (a run that stopped half way), or refuse and say why.

Input is etcd_member_info's result (every member's status is read from that member alone:
etcd answers status without quorum) and the control-plane hosts of the inventory, each with its
member name, whether Ansible reached it and, from static_pod_info, whether its etcd data
directory holds data.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import (
    has_member_data,
    runtime_text,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import inventory_endpoints, member_label
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import rejoin_manifests

PLAYBOOK = 'kubemaint.control_plane.restore_quorum'


def _id_number(member_id):
    try:
        return int(member_id or '0', 16)
    except (TypeError, ValueError):
        return 0


def _leads(member):
    """Whether the member leads by its own status (without quorum nobody does)."""
    return bool(member.get('is_leader')) or (
        bool(member.get('leader_seen')) and member.get('leader_seen') == member.get('id'))


def survivor_candidates(members):
    """Reachable voters that reported a raft status, best first: highest raft term, then highest
    applied index; ties go to the member that leads, then to the lowest member ID."""
    candidates = [m for m in members
                  if m.get('reachable') and not m.get('is_learner') and m.get('raft_term') is not None]
    return sorted(candidates, key=lambda m: (-int(m['raft_term']), -int(m.get('raft_applied_index') or 0),
                                             0 if _leads(m) else 1, _id_number(m.get('id'))))


def _figures(member):
    return 'raft term %s, applied index %s' % (member.get('raft_term'), member.get('raft_applied_index'))


def choose_survivor(members):
    """(member the cluster is rebuilt from, why) or (None, why not)."""
    candidates = survivor_candidates(members)
    if not candidates:
        return None, 'no voting member answered'
    best, others = candidates[0], candidates[1:]
    same = [m for m in others if (m['raft_term'], m.get('raft_applied_index')) ==
            (best['raft_term'], best.get('raft_applied_index'))]
    if not others:
        why = 'it is the only voting member that answered (%s)' % _figures(best)
    elif not same:
        runner_up = others[0]
        why = 'it has the most data (%s), ahead of %s (%s)' % (
            _figures(best), member_label(runner_up), _figures(runner_up))
    elif _leads(best) and not any(_leads(m) for m in same):
        why = 'it has as much data as %s (%s) and it leads' % (', '.join(member_label(m) for m in same), _figures(best))
    else:
        why = 'it has as much data as %s (%s); the lowest member ID (%s) breaks the tie' % (
            ', '.join(member_label(m) for m in same), _figures(best), best.get('id'))
    return best, why


def _host_entries(hosts):
    entries = []
    for host in hosts or []:
        name = host.get('host') or host.get('inventory_hostname')
        entries.append({'host': name, 'member': host.get('member') or name,
                        'reachable': bool(host.get('reachable', True)),
                        'has_data': host.get('has_data'),
                        'etcd_running': host.get('etcd_running'),
                        'endpoint': host.get('endpoint'), 'data_dir': host.get('data_dir'),
                        'db_size': host.get('db_size'), 'db_mtime': host.get('db_mtime'),
                        'runtime': host.get('runtime'),
                        'rejoin_refused': host.get('rejoin_refused') or []})
    return entries


def _keeps_member_data(entry):
    """Whether a host's etcd data directory holds what its member could come back from: data, and a WAL when that
    is known (etcd starts a member without one as a new member: what a crash loop on a wiped directory leaves)."""
    runtime = entry.get('runtime') or {}
    return bool(entry['has_data']) and has_member_data(runtime.get('data')) is not False


def _manifest_in_place(entry):
    runtime = entry.get('runtime')
    return bool(runtime.get('manifest_in_place')) if runtime else bool(entry.get('etcd_running'))


def _silent_text(entry):
    """A member that does not answer, as its node shows it: its pod, restarts, data directory and last log line."""
    runtime = entry.get('runtime')
    if not runtime:
        return '%s: %s' % (entry['host'], _db_text(entry) if entry['has_data'] else 'holds no data')
    pod = 'its etcd pod runs (manifest in place)' if _manifest_in_place(entry) else 'its etcd pod is stopped'
    if runtime.get('manifest_in_place') and not runtime.get('process'):
        pod += ' but no etcd process is up'
    return '%s: %s; %s' % (entry['host'], pod, runtime_text(runtime))


def _survivor_view(member, host):
    return {'member': member_label(member), 'host': host, 'id': member.get('id'),
            'endpoint': member.get('endpoint'), 'raft_term': member.get('raft_term'),
            'raft_applied_index': member.get('raft_applied_index')}


def restore_plan(info, hosts, discard_stopped_data=False, confirm=None, check_mode=False, member=None):
    """The plan for restore_quorum.

    `info` is etcd_member_info's result; `hosts` the control-plane hosts in inventory order, each
    {host, member, reachable, has_data (None: unknown), etcd_running, runtime (static_pod_info's etcd_runtime, or
    None)}; a host whose data directory holds no WAL keeps no member data (etcd would start it as a new member). Returns {action: none |
    restore | rejoin | refuse, has_quorum, survivor, reason, candidates, rejoin (hosts, in order),
    skipped [{host, member, why}], dropped (members without a host, which a new cluster drops),
    down (voters of a cluster with quorum that are down but keep their data: not this playbook's
    job), confirm (the value restore_quorum_confirm must have), message (what was decided),
    confirmed (whether `confirm` is that value), act (confirmed, not in check mode, something to do),
    lines (message, the candidates and how to confirm), blind (rebuilt from the member named by `member`
    because no member answered), silent (the reachable members that do not answer, each as its node shows it: pod,
    restarts, data directory, last log line), also_data (blind: the other reachable hosts whose etcd data directory holds
    data, with the size and time of their backend file)}.

    `member` (restore_quorum_member) names the member to rebuild from when no voting member answers
    (an etcd that restarted after quorum was lost serves nothing until quorum is back): its host must
    be reachable, run its etcd pod and hold data. While any member answers, the data decides, and a
    `member` other than that choice is refused.
    """
    named = str(member).strip() if member is not None else ''
    plan = _decide(info, hosts, discard_stopped_data, named)
    if plan['action'] in ('restore', 'rejoin'):
        _refuse_unrejoinable(plan, _host_entries(hosts))
    plan['confirmed'] = confirmed(plan, confirm)
    plan['act'] = plan['confirmed'] and not check_mode and plan['action'] in ('restore', 'rejoin')
    plan['lines'] = plan_lines(plan, confirm, check_mode)
    return plan


def _refuse_unrejoinable(plan, entries):
    """Every node the plan rejoins is checked before the first change: one that could not be rejoined
    (no etcd manifest found, an untrusted copy, a stray) would fail after the rebuild and leave a
    cluster of one."""
    blocked = [e for e in entries if e['host'] in plan['rejoin'] and e['rejoin_refused']]
    if not blocked:
        return
    plan['action'] = 'refuse'
    plan['message'].insert(0, 'Refused: %s cannot be rejoined: %s. Nothing was changed. Fix that on the node, then run '
                              '%s again.' % (', '.join(e['host'] for e in blocked),
                                             '; '.join('%s: %s' % (e['host'], '; '.join(e['rejoin_refused']))
                                                       for e in blocked), PLAYBOOK))


def _db_text(entry):
    if entry.get('db_size') is None:
        return '%s (holds data)' % entry['host']
    when = ''
    if entry.get('db_mtime') is not None:
        when = ', modified %s' % time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(float(entry['db_mtime'])))
    return '%s (backend file %s bytes%s)' % (entry['host'], entry['db_size'], when)


def _holding_data(entries):
    return [e for e in entries if e['reachable'] and e['has_data']]


def _refuse_named(plan, named, why):
    plan['action'] = 'refuse'
    plan['message'].append('Refused: restore_quorum_member=%s, but %s. Nothing was changed.' % (named, why))
    return plan


def _decide_blind(plan, entries, named, discard_stopped_data):
    """No voting member answered: rebuild from the member the operator named, once it is safe to."""
    entry = next((e for e in entries if e['member'] == named), None) or \
        next((e for e in entries if e['host'] == named), None)
    holding = ', '.join(_db_text(e) for e in _holding_data(entries)) or 'none'
    if entry is None:
        return _refuse_named(plan, named, 'no host of the group runs that member (members: %s; hosts whose etcd data '
                                          'directory holds data: %s)' % (', '.join(e['member'] for e in entries), holding))
    if not entry['reachable']:
        return _refuse_named(plan, named, 'its host %s is unreachable' % entry['host'])
    if entry['has_data'] is not True:
        return _refuse_named(plan, named, 'the etcd data directory of %s %s (hosts whose etcd data directory holds '
                                          'data: %s)' % (entry['host'], 'holds no data' if entry['has_data'] is False
                                                         else 'cannot be read', holding))
    if entry['etcd_running'] is not True:
        return _refuse_named(plan, named, 'the etcd manifest of %s is not in its manifests directory (its etcd is '
                                          'stopped): start it first (kubemaint.control_plane.recover), then run %s '
                                          'again' % (entry['host'], PLAYBOOK))
    plan['blind'] = True
    plan['survivor'] = {'member': entry['member'], 'host': entry['host'], 'id': None, 'endpoint': entry['endpoint'],
                        'raft_term': None, 'raft_applied_index': None}
    plan['confirm'] = entry['member']
    plan['reason'] = ('%s: named by restore_quorum_member; no etcd member answered, so the members\' data could not '
                      'be compared' % entry['member'])
    stopped_with_data = []
    for other in entries:
        if not other['reachable'] or other['host'] == entry['host']:
            continue
        if other['has_data']:
            if other['etcd_running'] is False and not discard_stopped_data:
                stopped_with_data.append(other['host'])
            else:
                plan['also_data'].append({'host': other['host'], 'member': other['member'],
                                          'db_size': other['db_size'], 'db_mtime': other['db_mtime']})
        plan['rejoin'].append(other['host'])
    if stopped_with_data:
        plan['action'] = 'refuse'
        plan['message'].append(
            'Refused: the etcd of %s is stopped but its data directory holds data; rebuilding the cluster from %s '
            'would move that data aside. Start it first (kubemaint.control_plane.recover: stopped members with their '
            'data may bring quorum back with nothing lost); when its data is damaged for good, run again with '
            '-e restore_quorum_discard_stopped_data=true.' % (', '.join(stopped_with_data), entry['member']))
        return plan
    plan['action'] = 'restore'
    plan['message'].append('etcd has NO quorum and no member answered. Rebuild from %s on %s, named by '
                           'restore_quorum_member (its data directory holds data: %s); the members\' data could '
                           'not be compared.' % (entry['member'], entry['host'], _db_text(entry)))
    if plan['also_data']:
        plan['message'].append('Also holding etcd data, which is moved aside (kept, never deleted) when the node '
                               'rejoins: %s. Make sure you named the member with the newest data (the last leader).'
                               % ', '.join(_db_text(e) for e in plan['also_data']))
    plan['message'].append('Plan: copy of the backend file (member/snap/db) of %s into its snapshot directory (etcd '
                           'does not answer, so no snapshot can be taken through it); restart it with '
                           '--force-new-cluster until it leads a cluster of one; restart it without the flag; then '
                           'rejoin, one at a time (data directory moved aside, added back as a learner, caught up, '
                           'promoted): %s.' % (entry['member'], ', '.join(plan['rejoin']) or 'no other node'))
    return plan


def _decide(info, hosts, discard_stopped_data, named=''):
    members = info.get('members') or []
    cluster = info.get('cluster') or {}
    has_quorum = bool(cluster.get('has_quorum'))
    entries = _host_entries(hosts)
    by_member = dict((m.get('name'), m) for m in members if m.get('name'))
    host_of = dict((e['member'], e['host']) for e in entries)
    plan = {'action': 'refuse', 'has_quorum': has_quorum, 'survivor': None, 'reason': '', 'rejoin': [],
            'skipped': [], 'dropped': [], 'down': [], 'confirm': None, 'accept': [], 'message': [],
            'blind': False, 'also_data': [], 'silent': [],
            'candidates': [dict(_survivor_view(m, host_of.get(m.get('name'))), leads=_leads(m))
                           for m in survivor_candidates(members)]}
    for entry in entries:
        if not entry['reachable']:
            plan['skipped'].append({'host': entry['host'], 'member': entry['member'],
                                    'why': 'unreachable: left as it is, rejoin it later by running %s again' % PLAYBOOK})

    if has_quorum:
        leader = cluster.get('leader') or {}
        leader_member = by_member.get(leader.get('name'))
        if leader_member is None:
            plan['reason'] = 'etcd has quorum but its leader is not known by name'
            plan['message'].append('Refused: %s; read the cluster again (kubemaint.control_plane.cluster_info).'
                                   % plan['reason'])
            return plan
        plan['survivor'] = _survivor_view(leader_member, host_of.get(leader_member.get('name')))
        plan['confirm'] = plan['survivor']['member']
        plan['accept'] = [m['name'] for m in members if m.get('name') and m.get('healthy') and not m.get('is_learner')]
        for entry in entries:
            if not entry['reachable']:
                continue
            member = by_member.get(entry['member'])
            if member is not None and not member.get('is_learner') and member.get('healthy'):
                continue
            if member is not None and not member.get('is_learner') and entry['has_data'] is not False:
                plan['down'].append({'host': entry['host'], 'member': entry['member'],
                                     'why': 'a voter that is down but keeps its data: start it '
                                            '(kubemaint.control_plane.start_node --limit %s, or '
                                            'kubemaint.control_plane.recover)' % entry['host']})
                continue
            plan['rejoin'].append(entry['host'])
        plan['action'] = 'rejoin' if plan['rejoin'] else 'none'
        plan['reason'] = 'etcd has quorum, led by %s' % plan['survivor']['member']
        if named and named not in plan['accept'] and named != plan['confirm']:
            plan['rejoin'], plan['down'] = [], []
            return _refuse_named(plan, named, 'etcd has quorum, led by %s, and %s is no healthy voter of it; '
                                              'restore_quorum_member is only for a cluster none of whose members '
                                              'answers (leave it out)' % (plan['survivor']['member'], named))
        if plan['rejoin']:
            plan['message'].append('etcd has quorum (leader %s); rejoin, one at a time: %s.'
                                   % (plan['survivor']['member'], ', '.join(plan['rejoin'])))
        elif plan['skipped']:
            plan['message'].append('etcd has quorum (leader %s) and every reachable node of the group is a healthy '
                                   'voter; the unreachable ones were not looked at.' % plan['survivor']['member'])
        else:
            plan['message'].append('Nothing to do: etcd has quorum (leader %s) and every reachable node of the group '
                                   'is a healthy voter%s.' % (plan['survivor']['member'],
                                                              ' or down with its data' if plan['down'] else ''))
        return plan

    chosen, why = choose_survivor(members)
    if chosen is None and named:
        return _decide_blind(plan, entries, named, discard_stopped_data)
    if chosen is None:
        plan['reason'] = why
        holding = _holding_data(entries)
        plan['message'].append(
            'Refused: no etcd member answered, so the members\' data cannot be compared. If the members are only '
            'stopped, kubemaint.control_plane.recover starts them. An etcd that restarted after quorum was lost does '
            'not answer until quorum is back: name the member to rebuild from (the last leader, or the one with the '
            'newest data) with -e restore_quorum_member=<member>; %s. The plan is then printed, and nothing changes '
            'without -e restore_quorum_confirm=<that member>. If every member lost its data, restore a snapshot '
            '(etcdutl snapshot restore).' % (
                'reachable hosts whose etcd data directory holds data: %s' % ', '.join(_db_text(e) for e in holding)
                if holding else 'no reachable host\'s etcd data directory holds data'))
        return plan
    if named and named != chosen.get('name'):
        plan['reason'] = '%s: %s' % (member_label(chosen), why)
        return _refuse_named(plan, named, 'etcd members answer, so the cluster is rebuilt from the member with the '
                                          'most data: %s (%s); restore_quorum_member is only for a cluster none of '
                                          'whose members answers (leave it out, or name %s)'
                                          % (member_label(chosen), why, member_label(chosen)))
    survivor_host = host_of.get(chosen.get('name'))
    plan['survivor'] = _survivor_view(chosen, survivor_host)
    plan['reason'] = '%s: %s' % (member_label(chosen), why)
    plan['confirm'] = plan['survivor']['member']
    if survivor_host is None or not [e for e in entries if e['host'] == survivor_host and e['reachable']]:
        plan['message'].append(
            'Refused: %s, but %s. Rebuilding from another member would lose data; make its host reachable and '
            'part of the group, then run %s again.' % (
                plan['reason'], 'its host is unreachable' if survivor_host else 'no host of the group runs it',
                PLAYBOOK))
        return plan
    keeping = []
    for entry in entries:
        if not entry['reachable'] or entry['host'] == survivor_host:
            continue
        member = by_member.get(entry['member'])
        answered = member is not None and member.get('reachable')
        if not answered:
            plan['silent'].append(_silent_text(entry))
            if _keeps_member_data(entry) and not discard_stopped_data:
                keeping.append(entry)
        plan['rejoin'].append(entry['host'])
    plan['dropped'] = [member_label(m) for m in members if m.get('name') not in host_of]
    if keeping:
        plan['action'] = 'refuse'
        in_place = [e['host'] for e in keeping if (e.get('runtime') or {}).get('manifest_in_place')]
        stopped = [e['host'] for e in keeping if e['host'] not in in_place]
        advice = []
        if stopped:
            advice.append('Start %s first (kubemaint.control_plane.recover: stopped members with their data may bring '
                          'quorum back with nothing lost)' % ', '.join(stopped))
        if in_place:
            advice.append('the etcd pod of %s runs (its manifest is in place), so starting it changes nothing: fix '
                          'what its last log line says' % ', '.join(in_place))
        plan['message'].append(
            'Refused: the etcd of %s does not answer but its data directory holds data; rebuilding the cluster '
            'from %s would move that data aside. %s; when its data is damaged for good, run again '
            'with -e restore_quorum_discard_stopped_data=true.'
            % (', '.join(e['host'] for e in keeping), plan['survivor']['member'], '; '.join(advice)))
        return plan
    plan['action'] = 'restore'
    plan['message'].append('etcd has NO quorum. Rebuild from %s on %s: %s.' % (
        plan['survivor']['member'], survivor_host, why))
    plan['message'].append('Plan: snapshot of %s; restart it with --force-new-cluster until it leads a cluster of '
                           'one; restart it without the flag; then rejoin, one at a time (data directory moved '
                           'aside, added back as a learner, caught up, promoted): %s.'
                           % (plan['survivor']['member'], ', '.join(plan['rejoin']) or 'no other node'))
    if plan['dropped']:
        plan['message'].append('Members no host of the group runs, which the new cluster drops: %s.'
                               % ', '.join(plan['dropped']))
    return plan


def plan_lines(plan, confirm=None, check_mode=False):
    """What the operator reads before anything happens, including how to confirm."""
    lines = list(plan.get('message') or [])
    if plan.get('candidates'):
        # One line per member: on one line, three lab members already took 144 columns (issue 25).
        lines.append('Members that answered, best first (raft term, then applied index):')
        lines.extend('  %s: term %s, applied %s%s.' % (c['member'], c['raft_term'], c['raft_applied_index'],
                                                       ', leads' if c.get('leads') else '')
                     for c in plan['candidates'])
    if plan.get('silent'):
        lines.append('Members that do not answer, as their nodes show them:')
        lines.extend('  %s.' % text for text in plan['silent'])
    for skipped in plan.get('skipped') or []:
        lines.append('Skipped: %s (%s).' % (skipped['host'], skipped['why']))
    for down in plan.get('down') or []:
        lines.append('Left alone: %s, %s.' % (down['host'], down['why']))
    if plan.get('action') in ('restore', 'rejoin'):
        if check_mode:
            lines.append('Check mode: nothing is changed.')
        elif not confirmed(plan, confirm):
            lines.append('Nothing was changed. To carry out this plan, run again with -e restore_quorum_confirm=%s'
                         % plan['confirm'])
    return lines


def confirmed(plan, confirm):
    """Whether restore_quorum_confirm names the member the plan rebuilds from; once quorum is back (a
    run that stopped half way), any healthy voter (leadership may have moved since the command to
    continue was printed)."""
    given = str(confirm).strip() if confirm is not None else ''
    return bool(given) and (given == plan.get('confirm') or given in (plan.get('accept') or []))


def leads_alone(info, member, after_term=None, alone=True):
    """True when `member` is the only member of its cluster, leads it and is healthy; with
    `after_term`, only once its raft term is higher (etcd restarted: a restart means an election).
    With `alone` false, other members may be there and lead: `member` is healthy in a cluster with
    quorum (with `after_term`, in a newer term)."""
    members = info.get('members') or []
    found = [m for m in members if m.get('name') == member]
    if not found or not found[0].get('healthy'):
        return False
    if alone and (len(members) != 1 or not _leads(found[0])):
        return False
    if not alone and not (info.get('cluster') or {}).get('has_quorum'):
        return False
    return after_term is None or int(found[0].get('raft_term') or 0) > int(after_term)


def hosts_from_inventory(host_vars, found_key, port=2379):
    """The hosts restore_plan takes, from the control-plane hosts' variables (in inventory order):
    the member is the host's node_name, else its inventory name; reachable and has_data come from
    the static_pod_info result registered as `found_key` (missing: the host was not reached)."""
    hosts = []
    for variables in host_vars or []:
        name = variables.get('inventory_hostname')
        found = variables.get(found_key)
        reached = isinstance(found, dict) and not found.get('unreachable') and not found.get('failed') \
            and 'running' in found
        data = (found.get('etcd_data') or {}) if reached else {}
        endpoint = inventory_endpoints([{'name': name, 'node_address': variables.get('node_address'),
                                         'ansible_host': variables.get('ansible_host')}], port)
        hosts.append({'host': name, 'member': variables.get('node_name') or name, 'reachable': reached,
                      'has_data': data.get('has_data'), 'endpoint': endpoint[0] if endpoint else None,
                      'data_dir': data.get('data_dir'), 'db_size': data.get('db_size'),
                      'db_mtime': data.get('db_mtime'),
                      'etcd_running': 'etcd' in found.get('running', []) if reached else None,
                      'runtime': found.get('etcd_runtime') if reached else None,
                      'rejoin_refused': rejoin_manifests(found, name)['refused'] if reached else []})
    return hosts
