"""restore_quorum's decisions: the member with the most data, the tie rules, and the plan."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.restore import (
    choose_survivor,
    hosts_from_inventory,
    leads_alone,
    restore_plan,
)


def member(name, term=5, applied=100, member_id=None, leads=False, learner=False, reachable=True, healthy=False):
    member_id = member_id or {'a': '000000000000000a', 'b': '000000000000000b', 'c': '000000000000000c',
                              'd': '000000000000000d', 'e': '000000000000000e'}[name]
    return {'name': name, 'id': member_id, 'is_learner': learner, 'reachable': reachable, 'healthy': healthy,
            'raft_term': term if reachable else None, 'raft_applied_index': applied if reachable else None,
            'is_leader': False, 'leader_seen': member_id if leads else None,
            'endpoint': 'https://%s:2379' % name}


def info(*members, **cluster):
    cluster.setdefault('has_quorum', False)
    return {'members': list(members), 'cluster': cluster}


def host(name, reachable=True, has_data=False, etcd_running=True, db_size=None, db_mtime=None):
    return {'host': 'node-' + name, 'member': name, 'reachable': reachable, 'has_data': has_data,
            'etcd_running': etcd_running, 'endpoint': 'https://%s:2379' % name, 'db_size': db_size,
            'db_mtime': db_mtime}


HOSTS = [host('a'), host('b'), host('c')]


@pytest.mark.parametrize('members, chosen, why', [
    # the raft term comes first: a member that saw a later election has seen later data
    ([member('a', term=4, applied=900), member('b', term=5, applied=100)], 'b', 'the most data'),
    ([member('a', applied=90), member('b', applied=100), member('c', reachable=False)], 'b', 'ahead of a'),
    # the same term and applied index: the member that leads, whatever its ID
    ([member('a'), member('b', leads=True)], 'b', 'and it leads'),
    # then the lowest member ID (numerically: 0x9 before 0x10)
    ([member('b', member_id='0000000000000010'), member('a', member_id='0000000000000009')], 'a',
     'lowest member ID (0000000000000009)'),
    ([member('c'), member('b'), member('a', applied=99)], 'b', 'lowest member ID'),
    # learners never vote, so a learner is never rebuilt from
    ([member('a', learner=True, applied=500), member('b')], 'b', 'the only voting member'),
])
def test_the_member_with_the_most_data_is_chosen_and_ties_are_broken(members, chosen, why):
    survivor, reason = choose_survivor(members)
    assert survivor['name'] == chosen
    assert why in reason


def test_no_member_answered_refuses_and_changes_nothing():
    plan = restore_plan(info(member('a', reachable=False), member('b', reachable=False)), HOSTS, confirm='a')
    assert plan['action'] == 'refuse' and not plan['act'] and plan['survivor'] is None
    assert 'no etcd member answered' in plan['lines'][0]
    assert '-e restore_quorum_member=<member>' in plan['lines'][0]


# No member answers (an etcd restarted after quorum was lost serves nothing): the operator names one.
NOBODY = info(member('a', reachable=False), member('b', reachable=False), member('c', reachable=False))


def test_no_member_answered_the_refusal_names_the_hosts_holding_data():
    hosts = [host('a', has_data=True, db_size=4096, db_mtime=0), host('b'), host('c')]
    plan = restore_plan(NOBODY, hosts)
    assert plan['action'] == 'refuse' and not plan['act']
    assert 'holds data: node-a (backend file 4096 bytes, modified 1970-01-01 00:00:00 UTC)' in plan['lines'][0]
    assert "no reachable host's etcd data directory holds data" in restore_plan(NOBODY, HOSTS)['lines'][0]


def test_no_member_answered_the_named_member_is_rebuilt_from_once_confirmed():
    hosts = [host('a'), host('b', has_data=True, db_size=8192), host('c')]
    plan = restore_plan(NOBODY, hosts, member='b')
    assert plan['action'] == 'restore' and plan['blind'] and not plan['act']
    assert plan['survivor']['member'] == 'b' and plan['survivor']['host'] == 'node-b'
    assert plan['survivor']['endpoint'] == 'https://b:2379' and plan['rejoin'] == ['node-a', 'node-c']
    assert plan['confirm'] == 'b' and plan['also_data'] == []
    assert 'no member answered. Rebuild from b on node-b, named by restore_quorum_member' in plan['lines'][0]
    assert any('copy of the backend file' in line for line in plan['lines'])
    assert plan['lines'][-1] == 'Nothing was changed. To carry out this plan, run again with -e restore_quorum_confirm=b'
    assert restore_plan(NOBODY, hosts, member='b', confirm='b')['act'] is True
    assert restore_plan(NOBODY, hosts, member='b', confirm='b', check_mode=True)['act'] is False
    assert restore_plan(NOBODY, hosts, member='b', confirm='a')['act'] is False
    # an inventory host name is taken for its member
    assert restore_plan(NOBODY, hosts, member='node-b', confirm='b')['act'] is True


def test_no_member_answered_the_other_hosts_holding_data_are_named():
    hosts = [host('a', has_data=True, db_size=100), host('b', has_data=True, db_size=200), host('c')]
    plan = restore_plan(NOBODY, hosts, member='a', confirm='a')
    assert plan['act'] and [e['host'] for e in plan['also_data']] == ['node-b']
    assert any('Also holding etcd data' in line and 'node-b (backend file 200 bytes' in line for line in plan['lines'])
    # a host whose etcd is stopped with its data may bring quorum back through recover: not thrown away unless told
    hosts[1]['etcd_running'] = False
    plan = restore_plan(NOBODY, hosts, member='a', confirm='a')
    assert plan['action'] == 'refuse' and 'node-b is stopped but its data directory holds data' in plan['lines'][0]
    assert restore_plan(NOBODY, hosts, member='a', confirm='a', discard_stopped_data=True)['act'] is True


@pytest.mark.parametrize('hosts, named, why', [
    ([host('a', has_data=True), host('b'), host('c')], 'x', 'no host of the group runs that member'),
    ([host('a', has_data=True, reachable=False), host('b'), host('c')], 'a', 'its host node-a is unreachable'),
    ([host('a'), host('b', has_data=True), host('c')], 'a',
     'node-a holds no data (hosts whose etcd data directory holds data: node-b (holds data))'),
    ([host('a', has_data=None), host('b'), host('c')], 'a', 'node-a cannot be read'),
    ([host('a', has_data=True, etcd_running=False), host('b'), host('c')], 'a', 'its etcd is stopped'),
])
def test_no_member_answered_a_named_member_that_cannot_be_rebuilt_from_is_refused(hosts, named, why):
    plan = restore_plan(NOBODY, hosts, member=named, confirm=named)
    assert plan['action'] == 'refuse' and not plan['act']
    assert plan['lines'][0].startswith('Refused: restore_quorum_member=%s' % named) and why in plan['lines'][0]


def test_while_members_answer_the_data_decides_and_another_named_member_is_refused():
    state = info(member('a', applied=90), member('b', applied=100), member('c', reachable=False))
    plan = restore_plan(state, HOSTS, member='a', confirm='a')
    assert plan['action'] == 'refuse' and not plan['act']
    assert 'the member with the most data: b' in plan['lines'][0]
    agreeing = restore_plan(state, HOSTS, member='b', confirm='b')
    assert agreeing['action'] == 'restore' and agreeing['act'] and not agreeing['blind']
    # with quorum (a second run), a healthy voter named is fine, anything else is refused
    back = info(healthy('a', leads=True), healthy('b'), healthy('c'), has_quorum=True, leader={'name': 'a'})
    assert restore_plan(back, HOSTS, member='b', confirm='b')['action'] == 'none'
    refused = restore_plan(back, HOSTS, member='x', confirm='x')
    assert refused['action'] == 'refuse' and 'led by a' in refused['lines'][0]


def test_lost_quorum_rebuilds_from_the_best_member_and_rejoins_the_others_in_order():
    state = info(member('a', applied=90), member('b', applied=100), member('c', reachable=False))
    plan = restore_plan(state, HOSTS)
    assert plan['action'] == 'restore' and plan['survivor']['host'] == 'node-b'
    assert plan['rejoin'] == ['node-a', 'node-c'] and plan['confirm'] == 'b'
    assert not plan['confirmed'] and not plan['act']
    assert plan['lines'][-1] == 'Nothing was changed. To carry out this plan, run again with -e restore_quorum_confirm=b'
    assert restore_plan(state, HOSTS, confirm='a')['act'] is False  # it names another member than the plan's
    assert restore_plan(state, HOSTS, confirm='b', check_mode=True)['act'] is False
    assert restore_plan(state, HOSTS, confirm=' b ')['act'] is True


def test_unreachable_hosts_are_skipped_and_named():
    hosts = [host('a'), host('b', reachable=False), host('c')]
    plan = restore_plan(info(member('a'), member('b', reachable=False), member('c', reachable=False)), hosts)
    assert plan['action'] == 'restore' and plan['rejoin'] == ['node-c']
    assert [s['host'] for s in plan['skipped']] == ['node-b']
    assert any(line.startswith('Skipped: node-b (unreachable') for line in plan['lines'])


def test_best_member_on_a_host_out_of_reach_is_refused():
    hosts = [host('a'), host('b', reachable=False), host('c')]
    plan = restore_plan(info(member('a', applied=10), member('b', applied=20), member('c', reachable=False)),
                        hosts, confirm='b')
    assert plan['action'] == 'refuse' and not plan['act']
    assert 'its host is unreachable' in plan['lines'][0]


def test_a_stopped_member_that_keeps_its_data_is_not_thrown_away_unless_told():
    hosts = [host('a'), host('b', has_data=True), host('c')]
    state = info(member('a'), member('b', reachable=False), member('c', reachable=False))
    plan = restore_plan(state, hosts, confirm='a')
    assert plan['action'] == 'refuse' and not plan['act']
    assert 'node-b does not answer but its data directory holds data' in plan['lines'][0]
    assert 'kubemaint.control_plane.recover' in plan['lines'][0]
    assert restore_plan(state, hosts, discard_stopped_data=True, confirm='a')['act'] is True


def crash_loop(wal_files):
    return {'name': 'b', 'manifest_in_place': True, 'process': None, 'restarts': 9,
            'log_reason': 'fatal: discovery failed (member 2 has already been bootstrapped)',
            'data': {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': True, 'db_size': 20480, 'db_mtime': 0,
                     'wal_files': wal_files, 'wal_mtime': 0 if wal_files else None}}


def test_issue_21_a_crash_looping_member_shows_its_node_and_is_never_sent_to_recover():
    state = info(member('a'), member('b', reachable=False), member('c', reachable=False))
    # wiped while running: the kubelet restarts it on an empty directory, which leaves a backend and no WAL
    wiped = [host('a'), dict(host('b', has_data=True), runtime=crash_loop(0)), host('c')]
    plan = restore_plan(state, wiped, confirm='a')
    assert plan['action'] == 'restore' and plan['act'] is True
    assert ('  node-b: its etcd pod runs (manifest in place) but no etcd process is up; restarted 9 times by the '
            'kubelet; data directory /var/lib/etcd holds backend 20480 bytes from 1970-01-01 00:00:00 UTC, NO WAL '
            "(not a member's data: etcd starts it as a new member); last log: fatal: discovery failed (member 2 has "
            'already been bootstrapped).') in plan['lines']
    assert '  node-c: holds no data.' in plan['lines']
    # with a WAL its data is kept unless told, but it runs by its manifest: recover and start_node cannot help
    keeping = [host('a'), dict(host('b', has_data=True), runtime=crash_loop(2)), host('c')]
    refused = restore_plan(state, keeping, confirm='a')
    assert refused['action'] == 'refuse'
    assert 'the etcd pod of node-b runs (its manifest is in place), so starting it changes nothing' in refused['lines'][0]
    text = ' '.join(refused['lines'])
    assert 'recover' not in text and 'start_node' not in text and 'WAL (2 files)' in text


@pytest.mark.parametrize('state', [
    info(member('a'), member('b', reachable=False), member('c', reachable=False)),
    info(member('a', leads=True, healthy=True), has_quorum=True, leader={'name': 'a'}),  # quorum back, b, c to rejoin
])
def test_a_node_that_could_not_be_rejoined_is_refused_before_the_first_change(state):
    """A node rejoined after the rebuild must be checked first: failing there would leave a cluster of one."""
    hosts = [host('a'), dict(host('b'), rejoin_refused=['no copy of its etcd manifest was found (looked in x)']),
             host('c')]
    plan = restore_plan(state, hosts, confirm='a')
    assert plan['action'] == 'refuse' and not plan['act'], plan
    assert plan['lines'][0] == ('Refused: node-b cannot be rejoined: node-b: no copy of its etcd manifest was found '
                                '(looked in x). Nothing was changed. Fix that on the node, then run '
                                'kubemaint.control_plane.restore_quorum again.')
    # a node that is not rejoined (skipped, unreachable) does not hold the others up
    hosts[1]['reachable'] = False
    assert restore_plan(state, hosts, confirm='a')['act'] is True


def test_the_manifests_a_rejoin_needs_are_read_from_each_hosts_pods():
    moved = {'kubernetes_dir': '/k', 'manifests_dir': '/k/manifests', 'manifests_dir_exists': False, 'running': [],
             'stopped': ['etcd'], 'strays': [], 'stash_directories': ['/k/manifests-1'],
             'copies': [{'component': 'etcd', 'directory': '/k/manifests-1', 'path': '/k/manifests-1/etcd.yaml',
                         'kind': 'beside', 'mtime': 1.0, 'trust_problems': []}]}
    hosts = hosts_from_inventory([{'inventory_hostname': 'node-a', 'pods': moved},
                                  {'inventory_hostname': 'node-b', 'pods': dict(moved, copies=[])},
                                  {'inventory_hostname': 'node-c'}], 'pods')
    assert [h['rejoin_refused'] for h in hosts] == [
        [], ['no copy of its etcd manifest was found (looked in /k/manifests-1)'], []]


def test_members_without_a_host_are_named_as_dropped():
    plan = restore_plan(info(member('a'), member('b', reachable=False), member('e', reachable=False)),
                        [host('a'), host('b')])
    assert plan['dropped'] == ['e'] and any('drops: e' in line for line in plan['lines'])


def healthy(name, **extra):
    entry = member(name, healthy=True, **extra)
    return entry


def test_every_node_a_healthy_voter_with_quorum_means_nothing_to_do():
    state = info(healthy('a', leads=True), healthy('b'), healthy('c'), has_quorum=True, leader={'name': 'a'})
    plan = restore_plan(state, HOSTS, confirm='a')
    assert plan['action'] == 'none' and not plan['act'] and plan['rejoin'] == []
    assert plan['lines'][0].startswith('Nothing to do')


def test_with_quorum_back_the_nodes_still_missing_are_rejoined():
    # a run that stopped after the new cluster of one: b and c are no members of it any more
    state = info(healthy('a', leads=True), has_quorum=True, leader={'name': 'a'})
    plan = restore_plan(state, HOSTS, confirm='a')
    assert plan['action'] == 'rejoin' and plan['rejoin'] == ['node-b', 'node-c'] and plan['act']
    # a learner left half way is rejoined too; a voter that is merely down with its data is left alone
    state = info(healthy('a', leads=True), member('b', learner=True), member('c', reachable=False),
                 has_quorum=True, leader={'name': 'a'})
    plan = restore_plan(state, [host('a'), host('b'), host('c', has_data=True)])
    assert plan['rejoin'] == ['node-b'] and [d['host'] for d in plan['down']] == ['node-c']


def test_leads_alone_needs_one_healthy_leading_member_and_a_new_term_when_asked():
    alone = info(healthy('a', leads=True, term=7))
    assert leads_alone(alone, 'a') and not leads_alone(alone, 'b')
    assert leads_alone(alone, 'a', after_term=6) and not leads_alone(alone, 'a', after_term=7)
    assert not leads_alone(info(healthy('a', leads=True), member('b')), 'a')
    assert not leads_alone(info(member('a', leads=True)), 'a')  # not healthy yet


def test_leads_alone_or_back_in_a_bigger_cluster():
    state = info(healthy('a', term=8), healthy('b', leads=True, term=8), has_quorum=True)
    assert not leads_alone(state, 'a') and leads_alone(state, 'a', after_term=7, alone=False)
    assert not leads_alone(state, 'a', after_term=8, alone=False)
    assert not leads_alone(info(healthy('a', term=8)), 'a', alone=False)  # no quorum


def test_once_quorum_is_back_any_healthy_voter_confirms():
    state = info(healthy('a', leads=True), healthy('b'), member('c', reachable=False), has_quorum=True,
                 leader={'name': 'a'})
    plan = restore_plan(state, HOSTS, confirm='b')
    assert plan['action'] == 'rejoin' and plan['act'] and plan['rejoin'] == ['node-c']
    assert not restore_plan(state, HOSTS, confirm='c')['act']


def test_with_quorum_an_unreachable_node_is_named_not_hidden_behind_nothing_to_do():
    state = info(healthy('a', leads=True), healthy('b'), member('c', reachable=False), has_quorum=True,
                 leader={'name': 'a'})
    plan = restore_plan(state, [host('a'), host('b'), host('c', reachable=False)], confirm='a')
    assert plan['action'] == 'none' and not plan['act'] and plan['confirmed']
    assert not plan['lines'][0].startswith('Nothing to do') and 'Skipped: node-c (unreachable' in ' '.join(plan['lines'])


def test_the_members_that_answered_are_one_line_each_best_first():
    """issue 25: on one line, three members with the lab's names took 144 columns."""
    names = dict((name, 'kubemaint-lab-%s-0123456789' % name) for name in 'abcde')
    members = [dict(member(name, term=12345, applied=1234567890 - ord(name), leads=name == 'a'), name=names[name])
               for name in 'abcde']
    hosts = [dict(host(name), member=names[name]) for name in 'abcde']
    lines = restore_plan(info(*members), hosts)['lines']
    start = lines.index('Members that answered, best first (raft term, then applied index):')
    assert lines[start + 1:start + 6] == ['  %s: term 12345, applied %d%s.' % (names[name], 1234567890 - ord(name),
                                                                               ', leads' if name == 'a' else '')
                                          for name in 'abcde']
    assert max(len(line) for line in lines[start:start + 6]) <= 100
