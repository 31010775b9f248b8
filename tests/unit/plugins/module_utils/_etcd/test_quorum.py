import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import (
    fault_tolerance,
    has_quorum,
    healthy_voters,
    members_safe_to_stop,
    quorum_after_stopping,
    quorum_size,
    quorum_summary,
    unknown_member_names,
    voters,
)

# voters -> (quorum size, fault tolerance with every voter healthy), as etcd's FAQ table has it
QUORUM_TABLE = {1: (1, 0), 2: (2, 0), 3: (2, 1), 4: (3, 1), 5: (3, 2), 6: (4, 2), 7: (4, 3), 8: (5, 3), 9: (5, 4)}


def cluster(voter_count, down=0, learners=0, learners_down=0):
    members = [{'name': 'v%d' % i, 'is_learner': False, 'healthy': i >= down} for i in range(voter_count)]
    members += [{'name': 'l%d' % i, 'is_learner': True, 'healthy': i >= learners_down} for i in range(learners)]
    return members


@pytest.mark.parametrize('count', sorted(QUORUM_TABLE))
def test_quorum_size_and_tolerance_table(count):
    size, tolerance = QUORUM_TABLE[count]
    assert quorum_size(count) == size
    assert fault_tolerance(count, count) == tolerance
    assert has_quorum(count, count)


@pytest.mark.parametrize('count,down', [(count, down) for count in sorted(QUORUM_TABLE) for down in range(count + 1)])
def test_down_voters_reduce_tolerance_then_lose_quorum(count, down):
    size, tolerance = QUORUM_TABLE[count]
    summary = quorum_summary(cluster(count, down=down))
    assert summary['voting_members'] == count
    assert summary['healthy_voters'] == count - down
    assert summary['quorum_size'] == size
    assert summary['has_quorum'] == (down <= tolerance)
    assert summary['fault_tolerance'] == (tolerance - down if down <= tolerance else 0)


@pytest.mark.parametrize('count', sorted(QUORUM_TABLE))
@pytest.mark.parametrize('learner_count', [1, 2, 3])
def test_learners_never_count(count, learner_count):
    with_learners = quorum_summary(cluster(count, learners=learner_count))
    without = quorum_summary(cluster(count))
    for key in ('voting_members', 'healthy_voters', 'quorum_size', 'has_quorum', 'fault_tolerance'):
        assert with_learners[key] == without[key]
    assert with_learners['learners'] == learner_count
    assert len(voters(cluster(count, learners=learner_count))) == count


def test_healthy_learners_cannot_save_quorum():
    members = cluster(3, down=2, learners=3)
    assert not quorum_summary(members)['has_quorum']
    assert len(healthy_voters(members)) == 1


def test_zero_voters_have_no_quorum():
    assert quorum_size(0) == 0
    assert not has_quorum(0, 0)
    assert fault_tolerance(0, 0) == 0
    assert quorum_summary([])['has_quorum'] is False


@pytest.mark.parametrize('count', sorted(QUORUM_TABLE))
def test_projection_stopping_members_one_by_one(count):
    members = cluster(count)
    size, tolerance = QUORUM_TABLE[count]
    names = [member['name'] for member in members]
    for stopped in range(count + 1):
        assert quorum_after_stopping(members, names[:stopped]) == (stopped <= tolerance)


def test_three_members_one_stopped_none_safe_to_stop():
    members = cluster(3)
    assert members_safe_to_stop(members) == ['v0', 'v1', 'v2']
    projection = quorum_summary(members, ['v0'])
    assert projection['has_quorum'] and projection['fault_tolerance'] == 0
    assert members_safe_to_stop(members, ['v0']) == []
    assert not quorum_after_stopping(members, ['v0', 'v2'])


def test_down_member_stays_safe_to_stop_and_learners_always_are():
    members = cluster(3, down=1, learners=1)
    # v0 is down already: stopping it changes nothing; the learner never counts
    assert members_safe_to_stop(members) == ['v0', 'l0']


def test_five_members_with_one_down():
    members = cluster(5, down=1)
    assert members_safe_to_stop(members) == ['v0', 'v1', 'v2', 'v3', 'v4']
    assert members_safe_to_stop(members, ['v1']) == ['v0']
    assert not quorum_after_stopping(members, ['v1', 'v2'])


def test_no_quorum_nothing_safe():
    assert members_safe_to_stop(cluster(3, down=2)) == []


def test_assume_stopped_unknown_names():
    assert unknown_member_names(cluster(3), ['v1', 'x', 'y']) == ['x', 'y']
    assert unknown_member_names(cluster(3), []) == []


def _member(name, healthy=True, reachable=True, learner=False):
    return {'name': name, 'id': name, 'healthy': healthy, 'reachable': reachable, 'is_learner': learner,
            'endpoint': 'https://%s:2379' % name, 'health_error': None if healthy else 'context deadline exceeded'}


def test_stop_member_problems_names_the_frozen_member_and_the_lost_quorum():
    from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import stop_member_problems
    healthy = {'members': [_member('a'), _member('b'), _member('c')]}
    assert stop_member_problems(healthy, 'c') == []
    frozen = {'members': [_member('a'), _member('b', healthy=False, reachable=False), _member('c')]}
    problems = stop_member_problems(frozen, 'c')
    assert problems[0] == 'etcd member b (https://b:2379) does not answer: context deadline exceeded'
    assert problems[1] == 'stopping c would leave 1 of 3 voters healthy, fewer than the 2 etcd needs for quorum'
    # a learner that is down costs no quorum and is no reason to refuse
    learner_down = {'members': [_member('a'), _member('b'), _member('c'), _member('l', False, False, learner=True)]}
    assert stop_member_problems(learner_down, 'c') == []
    # five voters, one down: stopping another keeps quorum, but the down one is still named
    five = {'members': [_member(n) for n in 'abcd'] + [_member('e', healthy=False)]}
    assert stop_member_problems(five, 'a') == ['etcd member e (https://e:2379) is unhealthy: context deadline exceeded']
    assert stop_member_problems({'members': [], 'endpoint_errors': {'https://x:2379': 'refused'}}, 'a') == [
        'no etcd endpoint answered (https://x:2379: refused), so peer health cannot be read']
    # an etcd that is no member of the cluster that answered (removed, or a cluster of its own) costs it nothing
    assert stop_member_problems(healthy, 'x') == []
