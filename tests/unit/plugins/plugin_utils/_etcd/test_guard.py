"""The guard module's other decisions: the cluster view, caught up, recover's wait, endpoints, quorum loss."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    cluster_view,
    format_endpoint,
    guard_verdict,
    inventory_endpoints,
    member_caught_up,
    quorum_loss,
    recover_outcome,
    restore_settled,
    status_table,
)


def member(name, applied=100, leader=False, learner=False, healthy=True, reachable=True, **extra):
    entry = {'name': name, 'id': name * 4, 'is_learner': learner, 'is_leader': leader, 'healthy': healthy,
             'reachable': reachable, 'raft_applied_index': applied if reachable else None,
             'endpoint': 'https://%s:2379' % name, 'errors': [], 'alarms': [], 'db_size': 20480}
    entry.update(extra)
    return entry


def info(*members, **extra):
    result = {'members': list(members), 'endpoints': ['https://a:2379'], 'cluster': {'alarms': []}}
    result.update(extra)
    return result


def test_view_counts_voters_from_the_member_list_and_never_learners():
    view = cluster_view(info(member('c', 90), member('a', 100, leader=True), member('b', 100),
                             member('l', 0, learner=True)))
    assert [m['name'] for m in view['members']] == ['a', 'b', 'c', 'l']
    assert (view['voters'], view['learners'], view['quorum_size'], view['healthy_voters']) == (3, 1, 2, 3)
    assert view['has_quorum'] and view['leader'] == 'a' and view['fault_tolerance'] == 1
    assert [m['lag'] for m in view['members']] == [0, 0, 10, 100]


def test_view_of_nothing_readable_says_why():
    view = cluster_view({'members': [], 'endpoint_errors': {'https://a:2379': 'https://a:2379: connection refused'}})
    assert not view['readable'] and 'connection refused' in view['read_error']
    assert not view['has_quorum'] and view['voters'] == 0
    assert 'etcd could not be read' in status_table(view)[-1]
    verdict = guard_verdict(view, 'a')
    assert not verdict['proceed'] and 'no etcd endpoint answered' in verdict['problems'][0]


@pytest.mark.parametrize('applied, lag, expected', [(100, 1000, True), (0, 100, True), (0, 99, False)])
def test_caught_up_within_the_lag(applied, lag, expected):
    state = info(member('a', 100, leader=True), member('b', applied), member('c', 100))
    assert member_caught_up(state, 'b', lag) is expected


def test_nobody_is_caught_up_without_quorum_or_when_unknown():
    state = info(member('a', 100, leader=True), member('b', healthy=False, reachable=False),
                 member('c', healthy=False, reachable=False))
    assert not member_caught_up(state, 'a')
    assert not member_caught_up(info(member('a', 100, leader=True)), 'ghost')


def test_recover_stops_waiting_when_quorum_cannot_be_reached_yet():
    # 5 voters, only the restored one answers: quorum needs 3, waiting for it now is pointless
    alone = info(member('a', healthy=False), *[member(n, healthy=False, reachable=False) for n in 'bcde'])
    assert restore_settled(alone, 'a')
    # 3 of 5 answer but no leader yet: an election is under way, keep waiting
    electing = info(*[member(n, healthy=False) for n in 'abc'], *[member(n, healthy=False, reachable=False) for n in 'de'])
    assert not restore_settled(electing, 'a')
    # the restored member does not answer yet (a restarted etcd waits for quorum before serving)
    waiting = info(member('b', healthy=False), member('a', healthy=False, reachable=False))
    assert not restore_settled(waiting, 'a')
    assert restore_settled(dict(waiting, attempts=5), 'a', quiet_tries=5)
    # a learner running never makes up a quorum
    with_learner = info(member('a', healthy=False), member('b', healthy=False, reachable=False),
                        member('c', healthy=False, reachable=False), member('l', healthy=False, learner=True))
    assert restore_settled(with_learner, 'a')
    assert restore_settled(info(member('a', 100, leader=True), member('b', 100), member('c', 5)), 'b')


def test_recover_moves_on_when_nobody_answers_for_a_while():
    # a restarted etcd serves no client before it has quorum: silence means quorum cannot form yet
    silent = {'members': [], 'endpoint_errors': {'https://a:2379': 'handshake timed out'}}
    assert not restore_settled(dict(silent, attempts=4), 'a', quiet_tries=5)
    assert restore_settled(dict(silent, attempts=5), 'a', quiet_tries=5)


def test_endpoints_from_the_inventory():
    hosts = [{'name': 'cp1', 'node_address': '10.0.0.1'}, {'name': 'cp2', 'ansible_host': 'fd00::2'},
             {'name': 'cp3'}, {'name': 'cp1', 'node_address': '10.0.0.1'}]
    assert inventory_endpoints(hosts, 2379) == ['https://10.0.0.1:2379', 'https://[fd00::2]:2379', 'https://cp3:2379']
    assert format_endpoint('[::1]', 12379) == 'https://[::1]:12379'


def test_quorum_loss_names_the_hosts_to_start():
    state = info(member('a', 100, healthy=False), member('b', healthy=False, reachable=False),
                 member('c', healthy=False, reachable=False))
    loss = quorum_loss(state, {'a': 'cp1', 'b': 'cp2', 'c': 'cp3'})
    assert not loss['has_quorum'] and loss['missing'] == 2 and loss['down'] == ['cp1', 'cp2', 'cp3']
    assert 'Start at least 2 of: cp1, cp2, cp3' in loss['message']
    assert 'ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit cp1,cp2,cp3' in loss['message']
    fine = quorum_loss(info(member('a', 100, leader=True), member('b'), member('c', healthy=False, reachable=False)))
    assert fine['has_quorum'] and fine['down'] == ['c'] and 'quorum yes' in fine['message']


KEY_NOT_READABLE = {'failed': True, 'reason': 'cert_file_not_readable',
                    'msg': 'client key /k/server.key (option client_key) is not readable by the remote user kubemaint '
                           '(uid 1500): Permission denied. Run with become (-b, or become: true in the job template): '
                           'kubeadm keeps these files readable by root only.'}


def test_a_key_the_remote_user_may_not_read_is_no_quorum_loss_and_no_reason_to_start_nodes():
    """Issue 25: without become nothing was asked; the guard and the quorum check say to run with become."""
    view = cluster_view(KEY_NOT_READABLE)
    assert not view['readable'] and view['read_reason'] == 'cert_file_not_readable'
    assert cluster_view(info(member('a', leader=True)))['read_reason'] is None
    verdict = guard_verdict(view, 'a', target_host='cp1')
    assert not verdict['proceed'] and verdict['problems'] == [
        'etcd was not asked, so nothing can be judged: ' + KEY_NOT_READABLE['msg'].rstrip('.')]
    assert verdict['advice'] == 'What to do: run it again with become (-b, or become: true in the job template).'
    loss = quorum_loss(view, {'a': 'cp1'})
    assert loss['message'] == 'etcd could not be read: ' + KEY_NOT_READABLE['msg']
    for wrong in ('NO quorum', 'start_node', 'recover', 'no member answered'):
        assert wrong not in loss['message'] + verdict['advice']


def pods(data_lost=False, unreachable=False, data_dir='/var/lib/etcd'):
    """A static_pod_info result as recover registers it: etcd stopped, its data lost or not."""
    if unreachable:
        return {'unreachable': True, 'msg': 'ssh: connect to host timed out'}
    return {'running': [], 'stopped': ['etcd'], 'etcd_data': {'data_dir': data_dir, 'exists': True, 'has_data': not data_lost},
            'plan': {'steps': [], 'refused': [], 'relocate': [], 'data_lost': ['lost'] if data_lost else []}}


HOSTS = {'a': 'cp1', 'b': 'cp2', 'c': 'cp3', 'd': 'cp4', 'e': 'cp5'}
CONTRADICTIONS = ('Start at least', 'start_node', 'recover again', 'recover for all', 'replace_member')


def test_recover_cannot_help_when_too_many_members_lost_their_data_and_names_only_restore_quorum():
    """Issue 25: two of three members' data gone. The survivor runs without quorum (unhealthy); starting nodes or
    running recover again cannot bring quorum back, so the message names restore_quorum alone, with its command."""
    state = info(member('a', 100, healthy=False), member('b', healthy=False, reachable=False),
                 member('c', healthy=False, reachable=False))
    outcome = recover_outcome(state, {'cp1': pods(), 'cp2': pods(True), 'cp3': pods(True, data_dir='/data/etcd')},
                              HOSTS)
    assert not outcome['has_quorum'] and not outcome['recoverable'] and outcome['lost'] == ['cp2', 'cp3']
    message = outcome['message']
    assert message.startswith('recover cannot help: the etcd data of cp2 and cp3 is lost, so at most 1 of 3 voters can '
                              'run and quorum needs 2. Rebuild etcd from the member with the most data: ansible-playbook -b '
                              '-i <inventory> kubemaint.control_plane.restore_quorum (')
    assert message.endswith('Data lost: cp2: /var/lib/etcd is empty; cp3: /data/etcd is empty.')
    for wrong in CONTRADICTIONS:
        assert wrong not in message, wrong


def crash_looping(name, wal_files=0, process=None):
    """A static_pod_info result of a node whose pods all run by their manifests, its etcd restarted by the kubelet."""
    return {'running': ['etcd', 'kube-apiserver'], 'stopped': [], 'etcd_data': {},
            'plan': {'steps': [], 'refused': [], 'relocate': [], 'data_lost': []},
            'etcd_runtime': {'name': name, 'manifest_in_place': True, 'process': process, 'restarts': 12,
                             'log_reason': 'fatal: discovery failed (member 1 has already been bootstrapped)',
                             'data': {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': True, 'db_size': 20480,
                                      'db_mtime': 0, 'wal_files': wal_files, 'wal_mtime': None}}}


def test_issue_21_two_wiped_members_crash_loop_with_their_manifests_in_place_only_restore_quorum_is_named():
    """The kubelet restarts etcd on a wiped data directory: its manifest is in place, it leaves a fresh backend and no
    WAL, and crash-loops. Starting pods that run cannot help; recover names restore_quorum, with what each holds."""
    state = info(member('a', 100, healthy=False), member('b', healthy=False, reachable=False),
                 member('c', healthy=False, reachable=False))
    outcome = recover_outcome(state, {'cp1': crash_looping('a', wal_files=1, process={'pid': 7}),
                                      'cp2': crash_looping('b'), 'cp3': crash_looping('c')}, HOSTS)
    assert not outcome['recoverable'] and outcome['lost'] == ['cp2', 'cp3']
    message = outcome['message']
    assert message.startswith('recover cannot help: the etcd data of cp2 and cp3 is lost')
    assert 'kubemaint.control_plane.restore_quorum' in message
    assert ('cp2: its etcd does not answer and its data directory holds no member data (restarted 12 times by the '
            'kubelet; data directory /var/lib/etcd holds backend 20480 bytes from 1970-01-01 00:00:00 UTC, NO WAL') in message
    assert 'last log: fatal: discovery failed (member 1 has already been bootstrapped)' in message
    for wrong in CONTRADICTIONS:
        assert wrong not in message, wrong
    # a member that answers healthy is never lost, whatever its directory shows (files deleted while it runs)
    healthy = info(member('a', 100, leader=True), member('b'), member('c', healthy=False, reachable=False))
    assert recover_outcome(healthy, {'cp1': crash_looping('a'), 'cp2': crash_looping('b'),
                                     'cp3': crash_looping('c', wal_files=3)}, HOSTS)['lost'] == []


def test_without_quorum_but_enough_voters_left_the_others_are_started_and_the_lost_one_re_added_later():
    # five voters, two healthy, cp3 lost, cp4 and cp5 down with their data (cp5 unreachable): starting one is enough
    state = info(member('a', leader=False), member('b'), member('c', healthy=False, reachable=False),
                 member('d', healthy=False, reachable=False), member('e', healthy=False, reachable=False))
    state['members'][0]['healthy'] = state['members'][1]['healthy'] = False  # no leader: no linearizable read
    outcome = recover_outcome(state, {'cp1': pods(), 'cp2': pods(), 'cp3': pods(True), 'cp4': pods(),
                                      'cp5': pods(unreachable=True)}, HOSTS)
    assert outcome['recoverable'] and outcome['lost'] == ['cp3'] and outcome['unreachable'] == ['cp5']
    message = outcome['message']
    assert 'Start at least 3 of: cp1, cp2, cp4, cp5 (' in message and 'cp3' not in message.split('. The etcd data')[0]
    assert 'Unreachable hosts: cp5; make them reachable' in message and 'restore_quorum' not in message
    assert message.endswith('The etcd data of cp3 is lost (cp3: /var/lib/etcd is empty): once etcd has quorum, re-add it '
                            'with ansible-playbook -b -i <inventory> kubemaint.control_plane.replace_member -e node=cp3.')


def test_with_quorum_a_lost_member_is_re_added_and_without_loss_nothing_is_said():
    state = info(member('a', 100, leader=True), member('b'), member('c', healthy=False, reachable=False))
    outcome = recover_outcome(state, {'cp1': pods(), 'cp2': pods(), 'cp3': pods(True)}, HOSTS)
    assert outcome['has_quorum'] and outcome['recoverable']
    assert outcome['message'] == ('recover cannot bring back cp3: etcd data lost (cp3: /var/lib/etcd is empty); a restart '
                                  'would start an empty member. etcd keeps quorum: re-add it with ansible-playbook -b '
                                  '-i <inventory> kubemaint.control_plane.replace_member -e node=cp3.')
    assert recover_outcome(state, {'cp1': pods(), 'cp2': pods(), 'cp3': pods()}, HOSTS)['message'] == ''


def test_nothing_answered_counts_the_inventory_and_a_key_without_become_is_no_data_loss():
    nothing = {'members': [], 'endpoint_errors': {'https://a:2379': 'https://a:2379: connection refused'}}
    three = {'a': 'cp1', 'b': 'cp2', 'c': 'cp3'}
    outcome = recover_outcome(nothing, {'cp1': pods(), 'cp2': pods(True), 'cp3': pods(True)}, three)
    assert not outcome['recoverable']
    assert 'at most 1 of 3 control-plane hosts of the inventory can run and quorum needs 2' in outcome['message']
    assert 'ansible-playbook -b -i <inventory> kubemaint.control_plane.restore_quorum' in outcome['message']
    outcome = recover_outcome(nothing, {'cp1': pods(), 'cp2': pods(), 'cp3': pods(True)}, three)
    assert outcome['recoverable'] and 'no member answered' in outcome['message'] and '-e node=cp3' in outcome['message']
    unread = recover_outcome(KEY_NOT_READABLE, {'cp1': pods()}, {'a': 'cp1'})
    assert unread['recoverable'] and unread['message'] == 'etcd could not be read: ' + KEY_NOT_READABLE['msg']


def test_status_table_lines():
    lines = status_table(info(member('a', 100, leader=True), member('b', healthy=False, reachable=False, error='refused'),
                              cluster={'alarms': [{'alarm': 'NOSPACE', 'member': 'a'}]}), details=True)
    assert lines[0].startswith('| MEMBER ') and lines[1].startswith('|---')
    assert '| 20 KiB ' in lines[2] and 'unreachable' in lines[3] and 'refused' not in lines[3]
    assert 'b: refused' in lines[4:-1]
    assert lines[-1] == ('quorum: NO (1 of 2 voters healthy, quorum needs 2, can lose 0 more); leader: a; '
                         'alarms: NOSPACE on a')


def cells(line):
    return [cell.strip() for cell in line.split('|')[1:-1]]


def test_status_table_is_narrow_by_default_and_shows_role_and_lag():
    state = info(member('cp-a', 100, leader=True), member('cp-b', 90), member('cp-c', 95, learner=True),
                 member('cp-d', healthy=False, reachable=False, error='connection refused'))
    for member_row in state['members']:
        member_row['endpoint'] = 'https://10.120.10.%d:2379' % (len(member_row['name']) + 100)
    lines = status_table(state)
    table = [line for line in lines if line.startswith('|')]
    assert cells(table[0]) == ['MEMBER', 'ENDPOINT', 'ROLE', 'BEHIND', 'HEALTHY']
    assert [cells(line)[2:4] for line in table[2:]] == [
        ['leader', '0'], ['follower', '10'], ['learner', '5'], ['unreachable', '-']]
    assert max(len(line) for line in table) <= 80, table
    assert 'cp-d: connection refused' in lines
    detailed = [line for line in status_table(state, details=True) if line.startswith('|')]
    assert 'ID' in cells(detailed[0]) and len(detailed[0]) > len(table[0])
    assert status_table(state)[-1] == status_table(state, details=True)[-1]


def test_guard_messages_for_the_operator():
    state = info(member('a', 100, leader=True), member('b', 100), member('c', 100))
    pods = {'item': 'cp2', 'running': ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
            'strays': [{'path': '/etc/kubernetes/manifests/etcd.yaml.bak', 'component': 'etcd'}],
            'manifests_dir': '/etc/kubernetes/manifests'}
    verdict = guard_verdict(state, 'a', target_host='cp1', peer_pods=[pods, {'item': 'cp3', 'unreachable': True}])
    assert verdict['problems'] == [
        'stray manifest /etc/kubernetes/manifests/etcd.yaml.bak on cp2 defines the etcd pod a second time (the kubelet '
        'runs every file in the manifests directory, so a stop would leave it running): move it out of '
        '/etc/kubernetes/manifests',
        'control-plane host cp3 is unreachable, its pods cannot be checked']
    assert verdict['seen'] == ('etcd now: quorum yes, 3 of 3 voters healthy (quorum needs 2), leader a; '
                               'members: a=healthy, b=healthy, c=healthy.')
    assert guard_verdict(state, 'a')['safe']


def test_status_table_stays_narrow_with_long_errors_below_it():
    long_error = 'https://b:2379: ' + ', '.join(['x509: certificate signed by unknown authority'] * 4)
    lines = status_table(info(member('a', 100, leader=True, raft_term=2),
                              member('b', healthy=False, reachable=False, error=long_error),
                              member('c', 100, raft_term=2)), details=True)
    table = [line for line in lines if line.startswith('|')]
    assert len(table) == 5 and len({len(line) for line in table}) == 1
    assert len(table[0]) < 120, table[0]
    assert [cell.strip() for cell in table[0].split('|')[1:-1]] == [
        'MEMBER', 'ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'FREE', 'QUOTA', 'LEADER', 'LEARNER', 'TERM', 'APPLIED',
        'HEALTHY']
    assert lines[len(table)] == 'b: ' + long_error
    assert lines[-1].startswith('quorum: yes (2 of 3 voters healthy')


def test_guard_asks_for_a_leader_move_unless_another_member_was_seen_leading():
    state = info(member('a', 100, leader=True), member('b', 100), member('c', 100))
    assert guard_verdict(state, 'a')['move_leader'] is True
    assert guard_verdict(state, 'b')['move_leader'] is False
    no_leader = info(member('a', 100), member('b', 100), member('c', 100))
    assert guard_verdict(no_leader, 'b')['move_leader'] is True


ETCD_RUNS = {'running': ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], 'strays': []}
ETCD_STOPPED = {'running': ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], 'strays': []}


@pytest.mark.parametrize('state, target_pods, snapshot, expected', [
    # the node leads, its etcd runs, quorum: both
    (info(member('a', leader=True), member('b'), member('c')), ETCD_RUNS, True, (True, True)),
    # its pods not known: its etcd counts as running
    (info(member('a', leader=True), member('b'), member('c')), None, True, (True, True)),
    # no snapshot asked for
    (info(member('a', leader=True), member('b'), member('c')), ETCD_RUNS, False, (True, False)),
    # its etcd does not run: nothing to move leadership from; the snapshot still comes from the others
    (info(member('a', leader=True), member('b'), member('c')), ETCD_STOPPED, True, (False, True)),
    # without quorum (a stop only an override lets through) neither is possible
    (info(member('a'), member('b', healthy=False), member('c', healthy=False)), ETCD_RUNS, True, (False, False)),
    # nothing could be read
    ({'members': [], 'endpoint_errors': {'x': 'refused'}}, ETCD_RUNS, True, (False, False)),
])
def test_the_verdict_carries_the_leader_move_and_the_snapshot(state, target_pods, snapshot, expected):
    verdict = guard_verdict(state, 'a', target_host='a', target_pods=target_pods, allow_quorum_loss=True,
                            snapshot=snapshot)
    assert (verdict['move_leader'], verdict['snapshot']) == expected


def test_the_quorum_guard_filter_takes_the_snapshot_wish_as_ansible_gives_it():
    from ansible_collections.kubemaint.control_plane.plugins.filter.quorum_guard import quorum_guard
    state = info(member('a', leader=True), member('b'), member('c'))
    assert quorum_guard(state, 'a', snapshot='true')['snapshot'] is True
    assert quorum_guard(state, 'a')['snapshot'] is False


ALL_RUNNING = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']


def test_guard_weighs_pods_read_on_every_host_at_once_like_a_loop_over_them():
    state = info(member('a', 100, leader=True), member('b', 100), member('c', 100))
    stray = {'path': '/etc/kubernetes/manifests/etcd.yaml.bak', 'component': 'etcd'}
    read = {
        # the target's own entry: a stray of its own refuses, its stopped pods do not
        'cp1': {'running': ['etcd'], 'strays': [stray], 'manifests_dir': '/m'},
        'cp2': {'running': ALL_RUNNING[:3], 'strays': []},
        'cp3': {'unreachable': True, 'msg': 'ssh: connect to host cp3 port 22: Connection refused'},
    }
    verdict = guard_verdict(state, 'a', target_host='cp1', pods_by_host=read)
    assert verdict['problems'] == [
        'stray manifest /etc/kubernetes/manifests/etcd.yaml.bak on cp1 defines the etcd pod a second time (the kubelet '
        'runs every file in the manifests directory, so a stop would leave it running): move it out of /m',
        'control-plane host cp2 has stopped pods (not in its manifests directory: kube-scheduler.yaml)',
        'control-plane host cp3 is unreachable, its pods cannot be checked']
    assert not verdict['safe'] and not verdict['proceed']
    # the same reports as a loop's registered results give the same verdict
    looped = guard_verdict(state, 'a', target_host='cp1', target_pods=read['cp1'],
                           peer_pods=[dict(read['cp2'], item='cp2'), dict(read['cp3'], item='cp3')])
    assert looped['problems'] == verdict['problems']
    # target_pods, when given, wins over the target's entry; a failed read of a peer refuses
    clean = {'running': ALL_RUNNING, 'strays': []}
    failed = guard_verdict(state, 'a', target_host='cp1', target_pods=clean,
                           pods_by_host={'cp1': read['cp1'], 'cp2': clean, 'cp3': {'failed': True, 'msg': 'boom'}})
    assert failed['problems'] == ['the pods of control-plane host cp3 cannot be checked: boom']
    assert guard_verdict(state, 'a', target_host='cp1', pods_by_host={'cp1': clean, 'cp2': clean, 'cp3': clean})['safe']


def test_guard_refuses_while_another_hosts_probed_pod_is_not_healthy_never_for_the_targets_own():
    """Issue 23: before a node's turn, every other node's pods healthy (static_pod_info's health, read on every
    host at once); the target's own pods are what its turn changes or restarts."""
    state = info(member('a', 100, leader=True), member('b', 100), member('c', 100))
    healthy = {'healthy': True, 'detail': 'answered 200'}
    unready = {'healthy': False, 'detail': 'https://10.0.0.2:6443/readyz answered HTTP 500'}
    read = {
        'cp1': {'running': ALL_RUNNING, 'strays': [], 'health': {'kube-apiserver': unready}},
        'cp2': {'running': ALL_RUNNING, 'strays': [], 'health': {'kube-scheduler': {'healthy': False}, 'etcd': healthy,
                                                                 'kube-apiserver': unready}},
        'cp3': {'running': ALL_RUNNING, 'strays': [], 'health': {'kube-apiserver': healthy}},
    }
    verdict = guard_verdict(state, 'a', target_host='cp1', pods_by_host=read)
    assert verdict['problems'] == [
        'kube-apiserver of control-plane host cp2 is not healthy: https://10.0.0.2:6443/readyz answered HTTP 500',
        'kube-scheduler of control-plane host cp2 is not healthy: no detail']
    assert not verdict['proceed']
    assert guard_verdict(state, 'a', target_host='cp1', pods_by_host=read, allow_quorum_loss=True)['overridden']
    # a read without health (every caller but the rolling playbooks) weighs what it always did
    read['cp2'] = {'running': ALL_RUNNING, 'strays': []}
    assert guard_verdict(state, 'a', target_host='cp1', pods_by_host=read)['safe']


def test_the_recovery_table_shows_what_a_rebuild_chooses_by_within_100_columns():
    """Issue 25: restore_quorum printed the 116-column detailed table (134 in the default callback's list). Its table
    has the raft term and applied index it chooses by, beside role and health: on a kubeadm node with addresses of
    15 characters and names of 13, every table line fits 88 columns, and 100 as the default callback prints it (a
    list item: 8 spaces, two quotes and a comma)."""
    state = info(member('k-kube-lab-01', 100, leader=True, raft_term=12345),
                 member('k-kube-lab-02', 1234567, raft_term=12345), member('k-kube-lab-03', 95, learner=True),
                 member('k-kube-lab-04', healthy=False, reachable=False, error='https://10.101.11.243:2379: refused'))
    for number, member_row in enumerate(state['members']):
        member_row['endpoint'] = 'https://10.101.11.%d:2379' % (240 + number)
    lines = status_table(state, recovery=True)
    table = [line for line in lines if line.startswith('|')]
    assert cells(table[0]) == ['MEMBER', 'ENDPOINT', 'ROLE', 'TERM', 'APPLIED', 'HEALTHY']
    assert [cells(line)[2:5] for line in table[2:]] == [
        ['leader', '12345', '100'], ['follower', '12345', '1234567'], ['learner', '-', '95'],
        ['unreachable', '-', '-']]
    assert max(len(line) for line in table) <= 88, table
    assert max(len('        "%s",' % line) for line in table) <= 100
    assert 'k-kube-lab-04: https://10.101.11.243:2379: refused' in lines
    assert lines[-1] == status_table(state)[-1]
    # details wins, as before
    assert 'ID' in cells(status_table(state, details=True, recovery=True)[0])


GIB = 1024 ** 3
MIB = 1024 ** 2


def kubeadm_like(*members):
    """Members named and addressed as on the lab (lab-cp-01, https://127.0.1.1:2379), with a 2 GiB quota."""
    for number, entry in enumerate(members, 1):
        entry.update(endpoint='https://127.0.1.%d:2379' % number, quota_bytes=2 * GIB)
    return info(*members)


def test_cluster_view_carries_the_db_figures_with_what_is_missing_derived():
    view = cluster_view(info(member('a', db_size=GIB, db_size_in_use=600 * MIB, quota_bytes=2 * GIB),
                             member('b', db_size=GIB, db_size_in_use=GIB, db_size_free=10, quota_usage=0.25),
                             member('c', healthy=False, reachable=False, db_size=None)))
    figures = [(m['db_size_in_use'], m['db_size_free'], m['quota_bytes'], m['quota_usage']) for m in view['members']]
    assert figures == [(600 * MIB, 424 * MIB, 2 * GIB, 0.5), (GIB, 10, None, 0.25), (None, None, None, None)]


def test_narrow_table_shows_space_only_when_it_matters():
    calm = kubeadm_like(member('lab-cp-01', leader=True, db_size=GIB, db_size_in_use=GIB),
                        member('lab-cp-02', db_size=GIB, db_size_in_use=GIB), member('lab-cp-03', db_size=GIB))
    assert cells(status_table(calm)[0]) == ['MEMBER', 'ENDPOINT', 'ROLE', 'BEHIND', 'HEALTHY']
    assert not any('quota' in line for line in status_table(calm))
    full = kubeadm_like(member('lab-cp-01', leader=True, db_size=1740 * MIB, db_size_in_use=1640 * MIB),
                        member('lab-cp-02', db_size=GIB, db_size_in_use=GIB), member('lab-cp-03', db_size=GIB))
    lines = status_table(full)
    assert cells(lines[0]) == ['MEMBER', 'ENDPOINT', 'ROLE', 'BEHIND', 'DB SIZE', 'QUOTA', 'HEALTHY']
    assert cells(lines[2])[4:] == ['1.7 GiB', '84%', 'true'] and cells(lines[3])[4:] == ['1.0 GiB', '50%', 'true']
    assert max(len(line) for line in lines if line.startswith('|')) < 90
    assert ('lab-cp-01: quota 84% used (1.7 GiB of 2.0 GiB), 100 MiB free: etcd raises NOSPACE and accepts no write '
            'at the quota') in lines
    assert cells(status_table(full, quota_warning=0.9)[0]) == ['MEMBER', 'ENDPOINT', 'ROLE', 'BEHIND', 'HEALTHY']
    assert cells(status_table(full, recovery=True)[0]) == ['MEMBER', 'ENDPOINT', 'ROLE', 'TERM', 'APPLIED', 'HEALTHY']


def test_an_alarm_shows_space_in_the_narrow_table_and_details_always_do():
    alarmed = kubeadm_like(member('lab-cp-01', leader=True, db_size=2 * GIB, db_size_in_use=GIB, alarms=['NOSPACE']),
                           member('lab-cp-02', db_size=GIB, db_size_in_use=GIB), member('lab-cp-03', db_size=GIB))
    lines = status_table(alarmed)
    assert cells(lines[0])[4:6] == ['DB SIZE', 'QUOTA'] and cells(lines[2])[4:6] == ['2.0 GiB', '100%']
    assert 'lab-cp-01: NOSPACE' in lines and lines[-1].endswith('alarms: NOSPACE on lab-cp-01')
    from_cluster = kubeadm_like(member('lab-cp-01', leader=True), member('lab-cp-02'))
    from_cluster['cluster']['alarms'] = [{'alarm': 'CORRUPT', 'member': 'lab-cp-02'}]
    assert cells(status_table(from_cluster)[0])[4:6] == ['DB SIZE', 'QUOTA']
    calm = kubeadm_like(member('lab-cp-01', leader=True, db_size=GIB, db_size_in_use=400 * MIB), member('lab-cp-02'))
    detailed = status_table(calm, details=True)
    assert cells(detailed[0])[4:7] == ['DB SIZE', 'FREE', 'QUOTA']
    assert cells(detailed[2])[4:7] == ['1.0 GiB', '624 MiB', '50%'] and cells(detailed[3])[4:7] == ['20 KiB', '-', '0%']


def test_the_alarms_a_caller_is_there_to_clear_do_not_refuse_but_any_other_still_does():
    raised = info(member('a', leader=True), member('b'), member('c'),
                  cluster={'alarms': [{'alarm': 'NOSPACE', 'member': 'a'}, {'alarm': 'NOSPACE', 'member': 'b'}]})
    assert not guard_verdict(raised, 'b')['proceed']
    assert 'etcd alarm raised: NOSPACE on a, NOSPACE on b' in guard_verdict(raised, 'b')['problems']
    assert guard_verdict(raised, 'b', ignore_alarms=['NOSPACE'])['proceed']
    raised['cluster']['alarms'].append({'alarm': 'CORRUPT', 'member': 'c'})
    verdict = guard_verdict(raised, 'b', ignore_alarms=['NOSPACE'])
    assert not verdict['proceed'] and 'etcd alarm raised: CORRUPT on c' in verdict['problems']


def test_a_split_brain_refuses_every_stop_without_override_and_the_table_says_it(split_view):
    the_view = split_view
    for target in ('cp1', 'cp2', 'cp3'):
        verdict = guard_verdict(the_view, target, allow_quorum_loss=True)
        assert not verdict['proceed'] and not verdict['overridden'], target
        assert verdict['problems'][0].startswith('SPLIT BRAIN: https://b:2379, https://c:2379 answer for cluster ')
        assert 'kubemaint.control_plane.replace_member -e node=cp1' in verdict['advice']
        assert 'allow_quorum_loss' not in verdict['advice']
    lines = status_table(the_view)
    assert lines[-1].startswith('SPLIT BRAIN: ') and lines[-2].startswith('quorum: yes')
