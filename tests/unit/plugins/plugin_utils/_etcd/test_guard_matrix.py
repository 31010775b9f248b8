"""The quorum guard's decision matrix.

Clusters of 1 to 9 voters with 0 to 2 learners; every member up, down (its pods stopped),
unreachable (network: etcd and the host cannot be reached), unhealthy or lagging; alarms; stray
manifests on the node to stop or on another one; the override on and off. An oracle written here
from Raft's definition, independently of the guard's code, decides what is safe: after the stop a
majority of the voters (learners never vote) must still be healthy and caught up with the leader.
The guard must never allow an unsafe stop, and every refusal must name its reasons, all of them
and nothing else.

Small clusters get every combination of member states; larger ones every multiset of states over
the voters (the guard does not care which voter is in which state, only how many and whether the
node to stop is one of them), so the matrix stays exhaustive in what matters and runs in seconds.
"""
import itertools

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import guard_verdict

MAX_LAG = 1000
# clusters of up to this many members get every combination of member states
SMALL = 4
LEADER_APPLIED = 50000
STATES = ('up', 'down', 'unreachable', 'unhealthy', 'lagging')
COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']
# (alarm raised, where a stray manifest lies): cycled over the member states, so that every state
# combination of the small clusters meets each of them with several targets
EXTRAS = [(False, None), (True, None), (False, 'target'), (False, 'other'), (True, 'other'), (False, None)]


# ------------------------------------------------------------------ the cluster as etcd reports it

def build_members(voter_states, learner_states, realistic):
    """etcd_member_info's members for these states. realistic: without a majority of voters able
    to serve, nobody is healthy and there is no leader, as on a real cluster."""
    members = []
    for kind, states in (('v', voter_states), ('l', learner_states)):
        for index, state in enumerate(states):
            name = '%s%d' % (kind, index)
            reachable = state in ('up', 'unhealthy', 'lagging')
            members.append({
                'name': name, 'id': '%016x' % (len(members) + 1), 'is_learner': kind == 'l',
                'endpoint': 'https://%s:2379' % name, 'reachable': reachable,
                'healthy': state in ('up', 'lagging'),
                'raft_applied_index': (LEADER_APPLIED - 5 * MAX_LAG if state == 'lagging' else LEADER_APPLIED - 3)
                if reachable else None,
                'is_leader': False, 'errors': ['corrupt'] if state == 'unhealthy' else [],
                'error': None if reachable else 'connection refused', 'health_error': None, 'alarms': [],
                '_state': state,
            })
    voters = [m for m in members if not m['is_learner']]
    serving = [m for m in voters if m['healthy']]
    if realistic and len(serving) < len(voters) // 2 + 1:
        for member in members:
            member['healthy'] = False
            member['health_error'] = 'sees no leader' if member['reachable'] else None
        return members
    leaders = [m for m in serving if m['_state'] == 'up']
    if leaders:
        leaders[0]['is_leader'] = True
        leaders[0]['raft_applied_index'] = LEADER_APPLIED
    return members


def pod_reports(members, target, stray_on):
    """static_pod_info's results for the hosts (one per member, named like it)."""
    reports = {}
    other_done = False
    for member in members:
        host = member['name']
        if member['_state'] == 'unreachable':
            reports[host] = {'item': host, 'unreachable': True, 'msg': 'ssh: connect to host %s: timed out' % host}
            continue
        running = [] if member['_state'] == 'down' else list(COMPONENTS)
        strays = []
        if (stray_on == 'target' and host == target) or (stray_on == 'other' and host != target and not other_done):
            strays = [{'path': '/etc/kubernetes/manifests/etcd.yaml.bak', 'component': 'etcd'}]
            other_done = other_done or host != target
        reports[host] = {'item': host, 'running': running, 'stopped': [c for c in COMPONENTS if c not in running],
                         'strays': strays, 'manifests_dir': '/etc/kubernetes/manifests'}
    return reports


# ------------------------------------------------------------------ the oracle

def raft_safe(members, target):
    """Raft: a write commits when a majority of the voters has it; the cluster stays available after
    the stop only if a majority of the voters, the stopped one left out, is healthy and caught up."""
    voters = [m for m in members if not m['is_learner']]
    majority = len(voters) // 2 + 1
    leader = [m for m in members if m['is_leader'] and m['raft_applied_index'] is not None]
    if not leader:
        return False
    head = leader[0]['raft_applied_index']
    fit = [v for v in voters if v['name'] != target and v['healthy'] and v['raft_applied_index'] is not None
           and head - v['raft_applied_index'] <= MAX_LAG]
    return len(fit) >= majority


def expected_reasons(members, target, reports, alarm):
    """(name, words that must appear together in one problem) for every reason to refuse."""
    reasons = []
    names = [m['name'] for m in members]
    if target not in names:
        reasons.append(('unknown', [target, 'is not an etcd member']))
    if not raft_safe(members, target):
        reasons.append(('quorum', []))  # either "no quorum now" or "would leave"
    leader = [m for m in members if m['is_leader']]
    for member in members:
        if member['is_learner'] or member['name'] == target:
            continue
        if not member['reachable']:
            reasons.append(('member', [member['name'], 'is unreachable']))
        elif not member['healthy']:
            reasons.append(('member', [member['name'], 'is unhealthy']))
        elif not leader:
            reasons.append(('member', [member['name'], 'cannot be compared with the leader']))
        elif leader[0]['raft_applied_index'] - member['raft_applied_index'] > MAX_LAG:
            reasons.append(('member', [member['name'], 'trails the leader by']))
    if alarm:
        reasons.append(('alarm', ['etcd alarm raised', 'NOSPACE']))
    for host, report in reports.items():
        if report.get('unreachable'):
            reasons.append(('host', [host, 'is unreachable, its pods cannot be checked']))
            continue
        if host != target and report['stopped']:
            reasons.append(('host', [host, 'has stopped pods']))
        for stray in report['strays']:
            reasons.append(('stray', [stray['path'], host]))
    return reasons


def matches(problem, reason):
    kind, words = reason
    if kind == 'quorum':
        return 'etcd has no quorum now' in problem or 'would leave' in problem
    return all(word in problem for word in words)


# ------------------------------------------------------------------ the cases

def small_clusters():
    """Every combination of states, for clusters of up to 4 members."""
    for voters in range(1, 5):
        for learners in range(0, 3):
            if voters + learners > SMALL:
                continue
            for states in itertools.product(STATES, repeat=voters + learners):
                yield states[:voters], states[voters:]


def large_clusters():
    """Every multiset of states over 4 to 9 voters, learners in a rotating state."""
    number = 0
    for voters in range(4, 10):
        for combo in itertools.combinations_with_replacement(STATES, voters):
            for learners in range(0, 3):
                if voters + learners <= SMALL:
                    continue
                number += 1
                yield combo, tuple(STATES[(number + i) % len(STATES)] for i in range(learners))


def targets(voter_states, learner_states):
    """Every member when small; else one voter per distinct state, every learner; and one unknown name."""
    if len(voter_states) + len(learner_states) <= SMALL:
        names = ['v%d' % i for i in range(len(voter_states))]
    else:
        firsts = {}
        for index, state in enumerate(voter_states):
            firsts.setdefault(state, 'v%d' % index)
        names = sorted(firsts.values())
    return names + ['l%d' % i for i in range(len(learner_states))] + ['ghost']


def run_case(voter_states, learner_states, target, realistic, alarm, stray_on, stats):
    members = build_members(voter_states, learner_states, realistic)
    reports = pod_reports(members, target, stray_on)
    info = {'members': members, 'endpoints': ['https://v0:2379'],
            'cluster': {'alarms': [{'alarm': 'NOSPACE', 'member': 'v0', 'member_id': '1'}] if alarm else []}}
    peers = [report for host, report in reports.items() if host != target]
    own = reports.get(target, {'item': target, 'running': list(COMPONENTS), 'stopped': [], 'strays': []})
    verdict = guard_verdict(info, target, target_host=target, target_pods=own, peer_pods=peers, max_applied_lag=MAX_LAG)
    forced = guard_verdict(info, target, target_host=target, target_pods=own, peer_pods=peers, max_applied_lag=MAX_LAG,
                           allow_quorum_loss=True)
    stats['cases'] += 2
    safe = raft_safe(members, target) and target in [m['name'] for m in members] and stray_on != 'target'
    where = (voter_states, learner_states, target, realistic, alarm, stray_on)
    if verdict['proceed'] and not safe:
        stats['unsafe_allowed'].append(where)
    if not safe:
        stats['unsafe'] += 1
    reasons = expected_reasons(members, target, reports, alarm)
    problems = verdict['problems']
    for reason in reasons:
        if not any(matches(problem, reason) for problem in problems):
            stats['unnamed'].append((where, reason, problems))
    for problem in problems:
        if not any(matches(problem, reason) for reason in reasons):
            stats['spurious'].append((where, problem))
    assert verdict['safe'] == (not problems) == verdict['proceed'], where
    # The override passes every problem but one: a target that is no etcd member is never stopped.
    member = target in [m['name'] for m in members]
    assert forced['proceed'] == member and forced['problems'] == problems, where
    assert forced['overridden'] == (bool(problems) and member), where
    if not member:
        assert 'allow_quorum_loss=true' not in verdict['advice'] and 'set node_name of' in verdict['advice'], where
    else:
        assert ('set allow_quorum_loss=true' in verdict['advice']) == bool(problems), where


def test_guard_decision_matrix(guard_matrix_report):
    stats = {'cases': 0, 'unsafe': 0, 'unsafe_allowed': [], 'unnamed': [], 'spurious': []}
    number = 0
    for source, realistic_modes in ((small_clusters(), (True, False)), (large_clusters(), (True,))):
        for voter_states, learner_states in source:
            for target in targets(voter_states, learner_states):
                for realistic in realistic_modes:
                    alarm, stray_on = EXTRAS[number % len(EXTRAS)]
                    number += 1
                    run_case(voter_states, learner_states, target, realistic, alarm, stray_on, stats)
    guard_matrix_report.update(cases=stats['cases'], unsafe=stats['unsafe'], unsafe_allowed=len(stats['unsafe_allowed']))
    assert stats['unsafe_allowed'] == [], stats['unsafe_allowed'][:5]
    assert stats['unnamed'] == [], stats['unnamed'][:5]
    assert stats['spurious'] == [], stats['spurious'][:5]
    assert stats['cases'] > 50000 and stats['unsafe'] > 10000


def test_every_extra_meets_every_state_of_a_three_voter_cluster():
    """The rotation of EXTRAS must not skip a combination where it matters most: 3 voters."""
    stats = {'cases': 0, 'unsafe': 0, 'unsafe_allowed': [], 'unnamed': [], 'spurious': []}
    for states in itertools.product(STATES, repeat=3):
        for target in ('v0', 'v1', 'v2'):
            for alarm, stray_on in set(EXTRAS):
                run_case(states, (), target, True, alarm, stray_on, stats)
    assert stats['unsafe_allowed'] == [] and stats['unnamed'] == [] and stats['spurious'] == []
