"""restore_quorum's decisions: the member with the most data, the tie rules, and the plan."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.restore import (
    choose_survivor,
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


def host(name, reachable=True, has_data=False):
    return {'host': 'node-' + name, 'member': name, 'reachable': reachable, 'has_data': has_data}


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
