# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

The decisions the roles take on etcd's state, free of I/O: the cluster view the roles print
and decide on, whether a member is caught up with the leader, the etcd client URLs of the
inventory, the quorum guard's verdict (may this host stop, and every reason if not), what to
tell the operator when etcd has no quorum after a stop, and at the end of recover (which helps only
while enough members kept their data). The roles reach them through this
collection's filter plugins; the unit tests call them directly.

Input is etcd_member_info's result as the module returns it. Voters and quorum always come from
etcd's member list, never from the inventory; learners never count.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import (
    quorum_size,
    quorum_summary,
    voters,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.space import (
    human_size,
    member_space,
    percent,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import (
    has_member_data,
    runtime_text,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import COMPONENTS
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.runtime import member_of, split_brain_side

DEFAULT_MAX_APPLIED_LAG = 1000
# Above this share of its quota a member's db size is shown in the narrow table (and, over it, a line says so);
# at the quota etcd raises NOSPACE and accepts no write.
DEFAULT_QUOTA_WARNING = 0.8

# errors.EtcdCertFileNotReadable.reason: the module could not read its etcd client key or certificate (a run
# without become). Nothing was asked, so nothing is known about etcd; the error itself says to run with become.
CREDENTIALS_NOT_READABLE = 'cert_file_not_readable'
BECOME_ADVICE = 'run it again with become (-b, or become: true in the job template)'


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def member_label(member):
    """How a member is named to the operator: its name, else its id (a member never started has no name)."""
    return member.get('name') or member.get('id') or '(unknown member)'


def leader_applied_index(members):
    """Applied raft index of the member that leads; None without a leader or when it is unknown."""
    for member in members:
        if member.get('is_leader'):
            return member.get('raft_applied_index')
    return None


def applied_lag(member, leader_applied):
    """How many applied entries `member` trails the leader by; None when either index is unknown."""
    applied = member.get('raft_applied_index')
    if leader_applied is None or applied is None:
        return None
    return leader_applied - applied


def member_errors(member):
    """Every error the member reported or caused, as text, without repeats."""
    errors = list(member.get('errors') or [])
    for key in ('error', 'health_error'):
        value = member.get(key)
        if value and (key != 'health_error' or member.get('reachable')) and value not in errors:
            errors.append(value)
    return errors


def is_caught_up(member, leader_applied, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    """A member is caught up when it is healthy and its applied index is within
    `max_applied_lag` of the leader's (a cluster without a leader has nobody caught up)."""
    lag = applied_lag(member, leader_applied)
    return bool(member.get('healthy')) and lag is not None and lag <= int(max_applied_lag)


def _read_error(info):
    errors = info.get('endpoint_errors') or {}
    if errors:
        return '; '.join('%s' % message for message in errors.values())
    return info.get('msg') or 'no answer'


def credentials_not_readable(view):
    """True when etcd was not read because the module may not read its client key or certificate: the run
    lacks become. Then nothing is known about etcd, and starting nodes or recover would not help."""
    return not view.get('readable') and view.get('read_reason') == CREDENTIALS_NOT_READABLE


def cluster_view(info, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    """etcd_member_info's result reduced to what the roles print and decide on.

    `readable` is false when no endpoint answered; `read_error` then says why. Members are
    sorted by name; each carries `lag` (applied entries behind the leader) and `caught_up`.
    """
    info = info or {}
    raw_members = list(info.get('members') or [])
    leader_applied = leader_applied_index(raw_members)
    members = []
    for member in sorted(raw_members, key=lambda m: (m.get('name') or '', m.get('id') or '')):
        space = member_space(member)
        members.append({
            'name': member.get('name') or '',
            'id': member.get('id') or '',
            'cluster_id': member.get('cluster_id') or '',
            'endpoint': member.get('endpoint') or (list(member.get('client_urls') or []) or [''])[0] or '',
            'peer_urls': list(member.get('peer_urls') or []),
            'version': member.get('version') or '',
            'db_size': member.get('db_size'),
            'db_size_in_use': member.get('db_size_in_use'),
            'db_size_free': None if space['free'] is None else int(space['free']),
            'quota_bytes': None if space['quota'] is None else int(space['quota']),
            'quota_usage': space['usage'],
            'is_leader': bool(member.get('is_leader')),
            'is_learner': bool(member.get('is_learner')),
            'raft_term': member.get('raft_term'),
            'raft_index': member.get('raft_index'),
            'raft_applied_index': member.get('raft_applied_index'),
            'errors': member_errors(member),
            'alarms': list(member.get('alarms') or []),
            'reachable': bool(member.get('reachable')),
            'healthy': bool(member.get('healthy')),
            'lag': applied_lag(member, leader_applied),
            'caught_up': is_caught_up(member, leader_applied, max_applied_lag),
        })
    summary = quorum_summary(members)
    leader = [m for m in members if m['is_leader']]
    cluster_alarms = info.get('cluster', {}).get('alarms') if isinstance(info.get('cluster'), dict) else None
    if cluster_alarms:
        alarms = ['%s on %s' % (a.get('alarm'), a.get('member') or a.get('member_id')) if isinstance(a, dict) else str(a)
                  for a in cluster_alarms]
    else:
        alarms = ['%s on %s' % (alarm, member_label(m)) for m in members for alarm in m['alarms']]
    split = info.get('split_brain') if isinstance(info.get('split_brain'), dict) else None
    return {
        # etcd_member_info's split_brain (the members below are the majority's side), and the members whose endpoint
        # answers for another side: those replace_member rejoins
        'split_brain': split,
        'split_brain_members': split_brain_members(split, members),
        'readable': bool(raw_members),
        'read_error': None if raw_members else _read_error(info),
        # the failed module's reason code (errors.py), to tell a run without become from members that are down
        'read_reason': None if raw_members else info.get('reason'),
        'endpoints': list(info.get('endpoints') or []),
        'has_quorum': summary['has_quorum'],
        'leader': leader[0]['name'] if leader else '',
        'quorum_size': summary['quorum_size'],
        'voters': summary['voting_members'],
        'learners': summary['learners'],
        'healthy_voters': summary['healthy_voters'],
        'fault_tolerance': summary['fault_tolerance'],
        'alarms': alarms,
        'max_applied_lag': int(max_applied_lag),
        'members': members,
    }


def split_brain_members(split, members):
    """Names of the members (of the majority's list) whose endpoint answers for another side of a split brain."""
    return sorted(member['name'] or member['id'] for member in members if split_brain_side(split, member['endpoint']))


def split_brain_advice(view):
    """What to do about a split brain, naming each member to rejoin and its command; '' without one."""
    if not view.get('split_brain'):
        return ''
    names = view.get('split_brain_members') or []
    commands = ', then '.join(playbook_command('replace_member', '-e node=%s' % name) for name in names)
    return ('Rejoin %s to the majority\'s cluster, one at a time: %s (its etcd data directory is moved aside, never '
            'deleted; writes made on the other side since the split are not carried over). No node may stop until '
            'then.' % (', '.join(names) or 'the members of the other side', commands or
                       playbook_command('replace_member', '-e node=<node>')))


def _as_view(state, max_applied_lag):
    """Accept either etcd_member_info's raw result or a view made by cluster_view."""
    if isinstance(state, dict) and 'readable' in state and 'voters' in state:
        return state
    return cluster_view(state, max_applied_lag)


def member_caught_up(state, member_name, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    """Is `member_name` a healthy member of a cluster with quorum, within `max_applied_lag`
    applied entries of the leader? `state` is etcd_member_info's result or a cluster view."""
    view = _as_view(state, max_applied_lag)
    if not view['has_quorum']:
        return False
    for member in view['members']:
        if member['name'] == member_name:
            return member['caught_up'] if not member['is_leader'] else member['healthy']
    return False


def restore_settled(state, member_name, max_applied_lag=DEFAULT_MAX_APPLIED_LAG, quiet_tries=5):
    """recover's wait after starting a member's etcd is over when either the cluster has quorum
    and the member is caught up, or quorum cannot form yet with the voters running now (waiting
    then would wait for nothing: the next hosts must come back first).

    Quorum cannot form yet when etcd's member list, read from a member that answers, counts fewer
    running voters than quorum needs; or when the member does not answer for `quiet_tries` reads
    in a row (a restarted etcd serves no client before it has quorum). `state` carries
    `attempts`, the reads so far, as an `until` loop registers it.
    """
    view = _as_view(state, max_applied_lag)
    if member_caught_up(view, member_name, max_applied_lag):
        return True
    me = [m for m in view['members'] if m['name'] == member_name]
    if me and me[0]['reachable']:
        running_voters = len([m for m in view['members'] if not m['is_learner'] and m['reachable']])
        if running_voters < view['quorum_size']:
            return True
    attempts = state.get('attempts', 1) if isinstance(state, dict) else 1
    return not (me and me[0]['reachable']) and int(attempts or 1) >= int(quiet_tries)


def format_endpoint(address, port):
    """https://ADDRESS:PORT, with an IPv6 address in brackets."""
    address = '%s' % address
    if ':' in address and not address.startswith('['):
        address = '[%s]' % address
    return 'https://%s:%s' % (address, port)


def inventory_endpoints(hosts, port=2379):
    """etcd client URLs of the given hosts. `hosts` is a list of dicts with `name` and the
    host's variables `node_address`, `ansible_host` (the first set one is the address)."""
    urls = []
    for host in hosts or []:
        address = host.get('node_address') or host.get('ansible_host') or host.get('name')
        url = format_endpoint(address, port)
        if url not in urls:
            urls.append(url)
    return urls


def _host_name(report):
    return report.get('host') or report.get('item') or report.get('_ansible_delegated_vars', {}).get('ansible_host') or '?'


def pod_problems(report, is_target=False):
    """Reasons in one host's static_pod_info report (or a registered result of it) to refuse a stop."""
    host = _host_name(report)
    if report.get('unreachable'):
        return ['control-plane host %s is unreachable, its pods cannot be checked' % host]
    if report.get('failed') or 'running' not in report:
        return ['the pods of control-plane host %s cannot be checked: %s' % (host, report.get('msg') or 'no answer')]
    problems = []
    stopped = [c for c in COMPONENTS if c not in report.get('running', [])]
    if stopped and not is_target:
        problems.append('control-plane host %s has stopped pods (not in its manifests directory: %s)'
                        % (host, ', '.join(c + '.yaml' for c in stopped)))
    health = report.get('health') or {}
    for component in COMPONENTS:
        probed = health.get(component)
        if is_target or not isinstance(probed, dict) or probed.get('healthy'):
            continue
        problems.append('%s of control-plane host %s is not healthy: %s'
                        % (component, host, probed.get('detail') or 'no detail'))
    for stray in report.get('strays') or []:
        problems.append('stray manifest %s on %s defines the %s pod a second time (the kubelet runs every file in '
                        'the manifests directory, so a stop would leave it running): move it out of %s'
                        % (stray.get('path'), host, stray.get('component'), report.get('manifests_dir') or 'that directory'))
    return problems


def describe_view(view):
    """One line: quorum, healthy voters, leader and every member's state."""
    if not view['readable']:
        return 'etcd could not be read: %s.' % view['read_error']
    states = []
    for member in view['members']:
        state = 'healthy' if member['healthy'] else ('unhealthy' if member['reachable'] else 'unreachable')
        if member['is_learner']:
            state += ', learner'
        states.append('%s=%s' % (member_label(member), state))
    return ('etcd now: quorum %s, %d of %s healthy (quorum needs %d), leader %s; members: %s.'
            % ('yes' if view['has_quorum'] else 'NO', view['healthy_voters'], _plural(view['voters'], 'voter'),
               view['quorum_size'], view['leader'] or 'NONE', ', '.join(states)))


def alarm_kind(alarm):
    """The kind (NOSPACE, CORRUPT) of one of a cluster view's `alarms`, written '<kind> on <member>'."""
    return alarm.split(' ', 1)[0]


def guard_verdict(state, target_member, target_host=None, target_pods=None, peer_pods=None,
                  max_applied_lag=DEFAULT_MAX_APPLIED_LAG, allow_quorum_loss=False, pods_by_host=None,
                  override_name='allow_quorum_loss', ignore_alarms=None, snapshot=False):
    """May the control plane of `target_host` (etcd member `target_member`) stop now?

    Refuses when etcd cannot be read, when the target is not a member, when etcd has no quorum
    or would not keep a majority of its voters healthy and caught up without the target, when
    another voter is unreachable, unhealthy or trails the leader, when an alarm is raised, when
    another control-plane host cannot be checked, has stopped pods or a pod its report probed and
    found not healthy (static_pod_info's health), and when a stray manifest
    would keep a pod running. `target_pods` and `peer_pods` are static_pod_info results (or the
    registered results of a loop over it, unreachable ones included). `pods_by_host` maps hosts to
    static_pod_info results read on every host at once right before (a play over all of them, as
    rolling_restart reads them). A report of the target host among them or among `peer_pods` serves
    as `target_pods` when that is not given; every other report counts as a peer's.

    Returns {'safe', 'proceed', 'overridden', 'problems', 'seen', 'advice', 'host', 'member', 'move_leader',
    'snapshot'}: `proceed` is true when safe or when `allow_quorum_loss` overrides the problems, which it never
    does for a target that is no etcd member (a wrong node_name: the guard would judge another member);
    `advice` is what to do about the problems, naming the override (`override_name`) only where it
    applies. The decisions taken before the stop, so that no caller takes them again (see before_stop):
    `move_leader` and `snapshot` (asked for with `snapshot`).
    """
    view = _as_view(state, max_applied_lag)
    target_host = target_host or target_member
    problems = []
    not_a_member = False
    if credentials_not_readable(view):
        problems.append('etcd was not asked, so nothing can be judged: %s' % view['read_error'].rstrip('. '))
    elif not view['readable']:
        problems.append('no etcd endpoint answered (%s), so nothing can be judged' % view['read_error'])
    else:
        target = [m for m in view['members'] if m['name'] == target_member]
        if not target:
            not_a_member = True
            problems.append('%s is not an etcd member (members: %s): set node_name of %s to its etcd member name'
                            % (target_member, ', '.join(member_label(m) for m in view['members']), target_host))
        others = [m for m in voters(view['members']) if m['name'] != target_member]
        if not view['has_quorum']:
            problems.append('etcd has no quorum now (%d of %d voters healthy, %d needed)'
                            % (view['healthy_voters'], view['voters'], view['quorum_size']))
        else:
            remaining = len([m for m in others if m['healthy'] and m['caught_up']])
            if remaining < view['quorum_size']:
                problems.append('stopping %s would leave %s healthy and caught up with the leader, fewer than the '
                                '%d etcd needs for quorum' % (target_member, _plural(remaining, 'voter'), view['quorum_size']))
        for member in others:
            if not member['reachable']:
                problems.append('etcd member %s (%s) is unreachable%s' % (
                    member_label(member), member['endpoint'] or 'no client URL: added but never started',
                    (': ' + '; '.join(member['errors'])) if member['errors'] else ''))
            elif not member['healthy']:
                problems.append('etcd member %s is unhealthy%s' % (
                    member_label(member), (': ' + '; '.join(member['errors'])) if member['errors'] else ''))
            elif not member['caught_up']:
                if member['lag'] is None:
                    problems.append('etcd member %s cannot be compared with the leader (no leader or no applied index)'
                                    % member_label(member))
                else:
                    problems.append('etcd member %s trails the leader by %d applied entries (more than max_applied_lag=%d)'
                                    % (member_label(member), member['lag'], view['max_applied_lag']))
        # `ignore_alarms`: the kinds the caller is there to clear (recover_nospace defragments under NOSPACE)
        alarms = [alarm for alarm in view['alarms'] if alarm_kind(alarm) not in (ignore_alarms or ())]
        if alarms:
            problems.append('etcd alarm raised: %s' % ', '.join(sorted(set(alarms))))
    split = bool(view.get('split_brain'))
    if split:
        # no override: the majority's view cannot count members whose etcd serves another cluster
        problems.insert(0, view['split_brain']['text'].rstrip('.'))
    reports = [dict(pods_by_host[host] or {}, host=host) for host in sorted(pods_by_host or {})]
    reports.extend(peer_pods or [])
    own = [report for report in reports if _host_name(report) == target_host]
    if target_pods is None and own:
        target_pods = own[0]
    if target_pods is not None:
        report = dict(target_pods)
        report.setdefault('host', target_host)
        problems.extend(pod_problems(report, is_target=True))
    for report in reports:
        if _host_name(report) != target_host:
            problems.extend(pod_problems(report))
    safe = not problems
    overridden = bool(problems) and bool(allow_quorum_loss) and not not_a_member and not split
    verdict = {
        'host': target_host,
        'member': target_member,
        'safe': safe,
        'proceed': safe or overridden,
        'overridden': overridden,
        'problems': problems,
        'seen': describe_view(view),
        'advice': (split_brain_advice(view) if split else
                   _guard_advice(target_host, not_a_member, override_name, view) if problems else ''),
    }
    verdict.update(before_stop(view, target_member, target_pods, snapshot))
    return verdict


def before_stop(view, target_member, target_pods=None, snapshot=False):
    """What is done before the target stops, once the guard lets it: move leadership away when its etcd runs,
    etcd has quorum and the read saw the target lead or saw no leader (should the target become leader after
    the read, its graceful stop hands leadership over by itself); take a snapshot of its member in the stop's
    own module run when asked for and etcd has quorum. Without quorum (an overridden guard) neither is
    possible. `target_pods` is the target's static_pod_info result; None: not known, its etcd counts as
    running."""
    has_quorum = bool(view.get('has_quorum'))
    etcd_runs = target_pods is None or 'etcd' in (target_pods.get('running') or [])
    return {
        'move_leader': has_quorum and etcd_runs and view.get('leader', '') in ('', target_member),
        'snapshot': bool(snapshot) and has_quorum,
    }


def _guard_advice(host, not_a_member, override_name, view):
    if credentials_not_readable(view):
        return 'What to do: %s.' % BECOME_ADVICE
    if not_a_member:
        return ('What to do: set node_name of %s in the inventory to its etcd member name (one of the members '
                'above) and run this again; no override stops a node the guard cannot identify.' % host)
    return ('What to do: bring the stopped or unhealthy members back first (playbook '
            'kubemaint.control_plane.start_node or recover), wait until kubemaint.control_plane.cluster_info shows '
            'every voter healthy, then run this again. To stop it anyway set %s=true: etcd may lose quorum and the '
            'whole cluster stops accepting writes until enough members are back.' % override_name)


def member_host_map(member_hosts):
    """{member name: inventory host} from the control-plane hosts' variables (a host's member is its node_name,
    else its inventory name), or from such a mapping given as is."""
    if isinstance(member_hosts, dict):
        return dict(member_hosts)
    mapping = {}
    for host in member_hosts or []:
        name = host.get('inventory_hostname')
        mapping[host.get('node_name') or name] = name
    return mapping


def quorum_loss(state, member_hosts=None, max_applied_lag=DEFAULT_MAX_APPLIED_LAG, exclude=None):
    """After a stop: does etcd still have quorum, and if not, which nodes must come back?

    `member_hosts` maps member names to inventory hosts; hosts in `exclude` (whose etcd cannot come back) are
    not among those to start. Returns {'has_quorum', 'missing' (how many more voters must be healthy), 'down'
    (hosts, else member names, of the voters that are not healthy), 'message'}.
    """
    view = _as_view(state, max_applied_lag)
    member_hosts = member_hosts or {}
    down = [member_hosts.get(m['name'], member_label(m)) for m in voters(view['members']) if not m['healthy']]
    if view['has_quorum']:
        return {'has_quorum': True, 'missing': 0, 'down': down, 'message': describe_view(view)}
    voter_count = view['voters']
    missing = max(quorum_size(voter_count) - view['healthy_voters'], 1) if voter_count else 1
    if credentials_not_readable(view):
        message = 'etcd could not be read: %s' % view['read_error']
    elif not view['readable']:
        message = ('etcd has NO quorum: no member answered (%s). Start the stopped control-plane nodes: '
                   '%s (or start_node --limit NODE).' % (view['read_error'], playbook_command('recover')))
    else:
        to_start = [host for host in down if host not in (exclude or [])]
        message = ('etcd has NO quorum: %d of %s healthy, %d needed; the whole cluster is read-only. Start at least '
                   '%d of: %s (%s, or kubemaint.control_plane.recover for all of them).'
                   % (view['healthy_voters'], _plural(voter_count, 'voter'), view['quorum_size'], missing,
                      ', '.join(to_start) or 'none', playbook_command('start_node', '--limit', ','.join(to_start) or 'NODE')))
    return {'has_quorum': False, 'missing': missing, 'down': down, 'message': message}


def _lost_data(report, view=None):
    """Where a host's etcd data went missing, from its static_pod_info result, or None when it is not lost: a stopped
    etcd whose data directory is empty or missing, or an etcd whose manifest is in place, whose member is not
    healthy and whose data directory holds no WAL (it starts as a new member: the crash loop of a wiped node)."""
    report = report or {}
    if (report.get('plan') or {}).get('data_lost'):
        data = report.get('etcd_data') or {}
        return '%s is %s' % (data.get('data_dir') or 'its etcd data directory',
                             'empty' if data.get('exists') else 'missing')
    runtime = report.get('etcd_runtime') or {}
    member = member_of(view, runtime.get('name'))
    if runtime.get('manifest_in_place') and has_member_data(runtime.get('data')) is False \
            and not (member or {}).get('healthy'):
        return 'its etcd does not answer and its data directory holds no member data (%s)' % runtime_text(runtime)
    return None


def _hosts_text(hosts):
    return hosts[0] if len(hosts) == 1 else '%s and %s' % (', '.join(hosts[:-1]), hosts[-1])


def _it(hosts):
    return 'it' if len(hosts) == 1 else 'them'


def recover_outcome(state, reports, member_hosts=None, max_applied_lag=DEFAULT_MAX_APPLIED_LAG):
    """What recover says at its end about etcd: the quorum after its restores, and the members whose data is lost.

    `state` is the cluster read after the restores, `reports` maps every host of the play to its static_pod_info
    result (unreachable ones included), `member_hosts` maps member names to inventory hosts. A member whose data
    directory is empty or missing cannot come back by starting it; when the voters that can come back are fewer
    than quorum needs, recover cannot help (`recoverable` false) and the message names only restore_quorum, never
    starting nodes or running recover again. While etcd keeps quorum a lost member is re-added by replace_member.

    Returns {'has_quorum', 'recoverable', 'lost' (hosts whose etcd data is lost), 'unreachable', 'message' (empty
    when etcd has quorum and no data is lost)}.
    """
    view = _as_view(state, max_applied_lag)
    member_hosts = member_hosts or {}
    reports = reports or {}
    lost = dict((host, _lost_data(report, view)) for host, report in reports.items() if _lost_data(report, view))
    hosts = sorted(lost)
    unreachable = sorted(host for host, report in reports.items()
                         if not report or report.get('unreachable') or 'running' not in report)
    if view['readable'] and view['voters']:
        voter_hosts = [member_hosts.get(m['name'], member_label(m)) for m in voters(view['members'])]
        can_run = len([host for host in voter_hosts if host not in lost])
        total, needed = len(voter_hosts), view['quorum_size']
        counted = _plural(total, 'voter')
    else:  # nothing answered: count the control-plane hosts of the inventory instead
        total = len(set(member_hosts.values()) | set(reports))
        can_run, needed = total - len(lost), quorum_size(total)
        counted = '%s of the inventory' % _plural(total, 'control-plane host')
    recoverable = view['has_quorum'] or can_run >= needed
    details = '; '.join('%s: %s' % (host, lost[host]) for host in hosts)
    replace = '; '.join(playbook_command('replace_member', '-e node=%s' % host) for host in hosts)
    if not recoverable:
        message = ('recover cannot help: the etcd data of %s is lost, so at most %d of %s can run and '
                   'quorum needs %d. Rebuild etcd from the member with the most data: %s (it prints its plan and '
                   'changes nothing until run again with -e restore_quorum_confirm=<member>). Data lost: %s.'
                   % (_hosts_text(hosts), can_run, counted, needed, playbook_command('restore_quorum'), details))
    elif view['has_quorum']:
        message = ('recover cannot bring back %s: etcd data lost (%s); a restart would start an empty member. etcd '
                   'keeps quorum: re-add %s with %s.' % (_hosts_text(hosts), details, _it(hosts), replace)) if hosts else ''
    else:
        message = quorum_loss(view, member_hosts, max_applied_lag, exclude=hosts)['message']
        if unreachable:
            message += (' Unreachable hosts: %s; make them reachable (or start their etcd by hand) and run '
                        'kubemaint.control_plane.recover again.' % ', '.join(unreachable))
        if hosts:
            message += (' The etcd data of %s is lost (%s): once etcd has quorum, re-add %s with %s.'
                        % (_hosts_text(hosts), details, _it(hosts), replace))
    return {'has_quorum': bool(view['has_quorum']), 'recoverable': recoverable, 'lost': hosts,
            'unreachable': unreachable, 'message': message}


def member_role(member):
    """leader, follower or learner; unreachable when the member did not answer."""
    if not member.get('reachable'):
        return 'unreachable'
    if member.get('is_learner'):
        return 'learner'
    return 'leader' if member.get('is_leader') else 'follower'


NARROW_COLUMNS = ('MEMBER', 'ENDPOINT', 'ROLE', 'BEHIND', 'HEALTHY')
DETAIL_COLUMNS = ('MEMBER', 'ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'FREE', 'QUOTA', 'LEADER', 'LEARNER', 'TERM',
                  'APPLIED', 'HEALTHY')
# Added to the narrow table when space matters (an alarm, or a member over the quota warning): about 87 columns then.
SPACE_COLUMNS = ('DB SIZE', 'QUOTA')
# What restore_quorum chooses by (raft term, then applied index), beside role and health: under 90 columns on a
# kubeadm node, where the detailed table takes about 120.
RECOVERY_COLUMNS = ('MEMBER', 'ENDPOINT', 'ROLE', 'TERM', 'APPLIED', 'HEALTHY')


def space_matters(view, quota_warning=DEFAULT_QUOTA_WARNING):
    """An alarm is raised or a member's db size is over `quota_warning` of its quota: the narrow table then shows
    db sizes and quota usage."""
    return bool(view['alarms']) or any(m['alarms'] or (m.get('quota_usage') or 0) > quota_warning
                                       for m in view['members'])


def space_line(member, quota_warning=DEFAULT_QUOTA_WARNING):
    """'quota 85% used (1.7 GiB of 2.0 GiB), 300 MiB free' for a member over `quota_warning`, else ''."""
    usage = member.get('quota_usage')
    if usage is None or usage <= quota_warning:
        return ''
    return 'quota %s used (%s of %s), %s free: etcd raises NOSPACE and accepts no write at the quota' % (
        percent(usage), human_size(member.get('db_size')), human_size(member.get('quota_bytes')),
        human_size(member.get('db_size_free')))


def table_lines(rows):
    """`rows` (the header first, every row a list of text cells) as the lines of a markdown-like table."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ['| ' + ' | '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + ' |' for row in rows]
    lines.insert(1, '|' + '|'.join('-' * (width + 2) for width in widths) + '|')
    return lines


def status_table(state, max_applied_lag=DEFAULT_MAX_APPLIED_LAG, details=False, recovery=False,
                 quota_warning=DEFAULT_QUOTA_WARNING):
    """The member table and the quorum summary, as lines.

    By default the table is narrow: each member's name, endpoint, role, how many applied entries it
    trails the leader by, and its health. `details` gives the runbook's `etcdctl endpoint status`
    columns instead (id, version, db size, free space, quota usage, leader, learner, raft term, applied
    index); `recovery` (which `details` overrides) the raft term and applied index a rebuild chooses by in
    place of the lag. The narrow table adds db size and quota usage when they matter (space_matters). Either
    way each member's errors, alarms and a quota usage over `quota_warning` follow the table as lines of
    their own, so a long TLS or connection error never widens every row.
    """
    view = _as_view(state, max_applied_lag)
    quota_warning = float(quota_warning)
    show_space = not details and not recovery and space_matters(view, quota_warning)
    header = list(DETAIL_COLUMNS if details else RECOVERY_COLUMNS if recovery else NARROW_COLUMNS)
    if show_space:
        header[-1:-1] = SPACE_COLUMNS
    rows = [header]
    problems = []

    def dash(value):
        return '-' if value is None else '%s' % value

    for m in view['members']:
        name = m['name'] or '(unstarted)'
        healthy = 'true' if m['healthy'] else 'false'
        if details:
            rows.append([name, m['endpoint'], m['id'],
                         m['version'] if m['reachable'] else 'unreachable',
                         human_size(m['db_size']), human_size(m.get('db_size_free')), percent(m.get('quota_usage')),
                         'true' if m['is_leader'] else 'false', 'true' if m['is_learner'] else 'false',
                         dash(m['raft_term']), dash(m['raft_applied_index']), healthy])
        elif recovery:
            rows.append([name, m['endpoint'], member_role(m), dash(m['raft_term']), dash(m['raft_applied_index']),
                         healthy])
        else:
            rows.append([name, m['endpoint'], member_role(m), dash(m['lag'])]
                        + ([human_size(m['db_size']), percent(m.get('quota_usage'))] if show_space else []) + [healthy])
        problems.extend('%s: %s' % (name, problem) for problem in m['errors'] + m['alarms'])
        if not recovery and space_line(m, quota_warning):
            problems.append('%s: %s' % (name, space_line(m, quota_warning)))
    lines = table_lines(rows)
    lines.extend(problems)
    if not view['readable']:
        lines.append('etcd could not be read: %s' % view['read_error'])
        return lines
    lines.append('quorum: %s (%d of %d voters healthy, quorum needs %d, can lose %d more); leader: %s%s'
                 % ('yes' if view['has_quorum'] else 'NO', view['healthy_voters'], view['voters'], view['quorum_size'],
                    max(view['fault_tolerance'], 0), view['leader'] or 'NONE',
                    ('; alarms: ' + ', '.join(view['alarms'])) if view['alarms'] else ''))
    if view.get('split_brain'):
        lines.append(view['split_brain']['text'])
    return lines
