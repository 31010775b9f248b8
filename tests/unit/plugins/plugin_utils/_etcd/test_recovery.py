"""member_recovery's decision matrix: nothing, promote, rejoin or remove, and every refusal."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import (
    find_own_member,
    node_etcd_settings,
    recovery_plan,
)

FLAGS = {'initial-advertise-peer-urls': 'https://10.0.0.2:2380', 'data-dir': '/var/lib/etcd', 'name': 'b'}


def member(name, healthy=True, learner=False, peer=None, leader=False, member_id=None):
    return {'name': name, 'id': member_id or ('%s' % name or 'x') * 4, 'healthy': healthy, 'is_learner': learner,
            'is_leader': leader, 'peer_urls': [peer or 'https://10.0.0.%d:2380' % (ord(name[0]) - 96 if name else 9)]}


def info(*members):
    return {'members': list(members)}


def test_settings_reroot_the_data_dir_below_the_node_root():
    settings = node_etcd_settings(FLAGS, '/lab/cp-02/etc/kubernetes')
    assert settings == {'peer_urls': ['https://10.0.0.2:2380'], 'data_dir': '/lab/cp-02/var/lib/etcd'}
    assert node_etcd_settings({}, '/etc/kubernetes') == {'peer_urls': [], 'data_dir': '/var/lib/etcd'}


def test_own_member_by_name_else_a_nameless_one_with_its_peer_url():
    nameless = member('', healthy=False, learner=True, peer='https://10.0.0.2:2380', member_id='ff')
    assert find_own_member([member('a'), nameless], 'b', ['https://10.0.0.2:2380']) is nameless
    assert find_own_member([member('a'), member('b')], 'b', [])['name'] == 'b'
    assert find_own_member([member('a')], 'b', ['https://10.0.0.2:2380']) is None


@pytest.mark.parametrize('case,members,action,remove', [
    ('healthy_voter', [member('a', leader=True), member('b'), member('c')], 'none', False),
    ('running_learner', [member('a', leader=True), member('b', learner=True), member('c')], 'promote', False),
    ('stale_voter', [member('a', leader=True), member('b', healthy=False), member('c')], 'rejoin', True),
    ('stale_learner', [member('a', leader=True), member('b', healthy=False, learner=True), member('c')], 'rejoin', True),
    ('added_not_started', [member('a'), member('', healthy=False, learner=True, peer='https://10.0.0.2:2380'),
                           member('c')], 'rejoin', True),
    ('not_a_member', [member('a', leader=True), member('c')], 'rejoin', False),
    ('other_peer_url', [member('a'), member('b', peer='https://10.0.0.7:2380'), member('c')], 'rejoin', True),
])
def test_rejoin_matrix(case, members, action, remove):
    plan = recovery_plan(info(*members), 'b', FLAGS)
    assert plan['refused'] == [], case
    assert plan['action'] == action, case
    assert bool(plan['remove_id']) is remove, case
    assert plan['peer_urls'] == ['https://10.0.0.2:2380'] and plan['data_dir'] == '/var/lib/etcd'
    assert plan['reason']


@pytest.mark.parametrize('case,members,flags,text', [
    ('no_quorum', [member('a'), member('b', healthy=False), member('c', healthy=False)], FLAGS, 'etcd has no quorum'),
    ('other_voter_down', [member('a'), member('b', healthy=False), member('c', healthy=False), member('d'),
                          member('e')], FLAGS, 'voting member c (id cccc, voter, not healthy) is not healthy'),
    ('other_learner', [member('a'), member('c'), member('l', learner=True)], FLAGS, 'already has a learner'),
    ('peer_url_taken', [member('a'), member('x', peer='https://10.0.0.2:2380'), member('c')], FLAGS,
     'belongs to another member, x'),
    ('no_peer_url', [member('a'), member('c')], {}, 'no --initial-advertise-peer-urls'),
    ('unreadable', [], FLAGS, 'etcd could not be read'),
])
def test_rejoin_refusals(case, members, flags, text):
    plan = recovery_plan(info(*members), 'b', flags)
    assert any(text in reason for reason in plan['refused']), (case, plan['refused'])


def test_removing_a_healthy_voter_with_other_urls_is_refused_when_it_costs_quorum():
    # 3 voters, c down: replacing b's healthy member (peer URL changed) would leave 1 of 2 healthy
    plan = recovery_plan(info(member('a'), member('b', peer='https://10.0.0.7:2380'), member('c', healthy=False)),
                         'b', FLAGS)
    assert any('would leave 1 of 2 voters healthy' in reason for reason in plan['refused']), plan['refused']


@pytest.mark.parametrize('case,members,action,text', [
    ('lost_voter', [member('a'), member('b', healthy=False), member('c')], 'remove', ''),
    ('already_gone', [member('a'), member('c')], 'none', ''),
    ('still_running', [member('a'), member('b'), member('c')], 'none', 'its etcd still runs'),
    ('costs_quorum', [member('a'), member('b', healthy=False), member('c', healthy=False)], 'none', 'no quorum'),
    # removing a member that is down never lowers the healthy count: 3 of 5 healthy, then 3 of 4
    ('two_down_of_five', [member('a'), member('b', healthy=False), member('c', healthy=False), member('d'),
                          member('e')], 'remove', ''),
])
def test_remove_matrix(case, members, action, text):
    plan = recovery_plan(info(*members), 'b', rejoin=False)
    assert plan['action'] == action, case
    if text:
        assert any(text in reason for reason in plan['refused']), (case, plan['refused'])
    else:
        assert plan['refused'] == [], case
    assert plan['data_dir'] is None and 'member b' in plan['seen']
