"""_etcd/maintenance.py: defragment, alarms, compaction and quota figures over a fake gateway client."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import EtcdInputError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdCompactedError,
    EtcdConnectionError,
    EtcdError,
    EtcdTimeoutError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.maintenance import (
    DEFAULT_QUOTA_BYTES,
    add_quota_figures,
    alarm_diff,
    alarm_kind_problems,
    alarms_to_disarm,
    compact_keyspace,
    defrag_diff,
    defragment_member,
    disarm_alarms,
    quota_from_flag,
)

ENDPOINTS = ['https://a:2379']
NAMES = {1: 'a', 2: 'b', 3: 'c'}


class FakeEtcd:
    """Members a, b, c (ids 1..3; c a learner when asked); records every call that changes something."""

    def __init__(self, down=(), learner=False, alarms=(), revision=100, compacted=0, defrag_error=None):
        self.timeout = 1.0
        self.down = set(down)
        self.learner = learner
        self.alarms = list(alarms)
        self.revision = revision
        self.compacted = compacted
        self.defrag_error = defrag_error
        self.sizes = dict((name, [10000, 4000]) for name in NAMES.values())
        self.changes = []

    def _check(self, endpoint):
        if endpoint in self.down:
            raise EtcdConnectionError('%s: connection refused' % endpoint, endpoint)
        return endpoint.split('//')[1].split(':')[0]

    def member_list(self, endpoint, timeout=None):
        self._check(endpoint)
        return {'cluster_id': 99, 'member_id': 1, 'revision': self.revision, 'raft_term': 2, 'members': [
            {'id': i, 'name': name, 'peer_urls': [], 'client_urls': ['https://%s:2379' % name],
             'is_learner': self.learner and name == 'c'} for i, name in sorted(NAMES.items())]}

    def status(self, endpoint, timeout=None):
        name = self._check(endpoint)
        member_id = dict((v, k) for k, v in NAMES.items())[name]
        size, in_use = self.sizes[name]
        errors = ['memberID:%d alarm:%s' % (a['member_id'], a['alarm']) for a in self.alarms]
        return {'member_id': member_id, 'leader': 1, 'raft_term': 2, 'raft_index': 10, 'raft_applied_index': 10,
                'errors': errors, 'version': '3.5.1', 'db_size': size, 'db_size_in_use': in_use,
                'revision': self.revision, 'cluster_id': 99, 'is_learner': self.learner and name == 'c'}

    def health_probe(self, endpoint, timeout=None):
        self._check(endpoint)
        return {'revision': self.revision}

    def alarm_list(self, endpoint, timeout=None):
        self._check(endpoint)
        return list(self.alarms)

    def alarm_disarm(self, endpoint, member_id, alarm, timeout=None):
        self.changes.append(('disarm', endpoint, member_id, alarm))
        self.alarms = [a for a in self.alarms if (member_id_of(a), a['alarm']) != (member_id, alarm)]

    def defragment(self, endpoint, timeout=None):
        name = self._check(endpoint)
        self.changes.append(('defragment', endpoint, timeout))
        if self.defrag_error:
            raise self.defrag_error
        self.sizes[name][0] = self.sizes[name][1] + 100

    def revision_readable(self, endpoint, revision, timeout=None):
        return revision >= self.compacted

    def compact(self, endpoint, revision, physical=True, timeout=None):
        if revision <= self.compacted:
            raise EtcdCompactedError('compacted', endpoint)
        self.changes.append(('compact', endpoint, revision, physical))
        self.compacted = revision


def member_id_of(alarm):
    return '%016x' % alarm['member_id']


def test_defragment_one_member_reports_the_sizes():
    etcd = FakeEtcd()
    result = defragment_member(etcd, ENDPOINTS, 'b', defrag_timeout=77)
    assert etcd.changes == [('defragment', 'https://b:2379', 77)]
    assert (result['db_size_before'], result['db_size_in_use_before']) == (10000, 4000)
    assert (result['db_size_after'], result['db_size_in_use_after'], result['freed']) == (4100, 4000, 5900)
    assert result['changed'] is True and result['endpoint'] == 'https://b:2379' and result['seconds'] >= 0
    diff = defrag_diff(result)
    assert diff['before'].startswith('db_size: 10000\n') and diff['after'].startswith('db_size: 4100\n')


def test_defragment_check_mode_estimates_and_sends_nothing():
    etcd = FakeEtcd()
    result = defragment_member(etcd, ENDPOINTS, 'a', check_mode=True)
    assert etcd.changes == [] and result['changed'] is True and result['freed_estimate'] == 6000
    assert 'db_size_after' not in result and 'estimate' in defrag_diff(result)['after']


def test_defragment_a_learner_is_allowed():
    etcd = FakeEtcd(learner=True)
    assert defragment_member(etcd, ENDPOINTS, 'c')['is_learner'] is True
    assert etcd.changes[0][1] == 'https://c:2379'


@pytest.mark.parametrize('member,down,words', [
    ('nobody', (), 'nobody, which is not a member'),
    ('b', ('https://b:2379',), 'member b does not answer at https://b:2379'),
    ('a', ('https://a:2379',), 'no etcd endpoint answered'),
])
def test_defragment_refusals_change_nothing(member, down, words):
    etcd = FakeEtcd(down=down)
    with pytest.raises(EtcdInputError, match=words):
        defragment_member(etcd, ENDPOINTS, member)
    assert etcd.changes == []


def test_defragment_timeout_says_the_member_may_still_be_busy():
    etcd = FakeEtcd(defrag_error=EtcdTimeoutError('timed out'))
    with pytest.raises(EtcdError, match='may still be defragmenting'):
        defragment_member(etcd, ENDPOINTS, 'a', defrag_timeout=5)


@pytest.mark.parametrize('kinds,problem', [
    (['NOSPACE'], None), (['NOSPACE', 'CORRUPT'], None), ([], 'at least one'), (['nospace'], "'nospace'"),
])
def test_alarm_kind_problems(kinds, problem):
    problems = alarm_kind_problems(kinds)
    assert (problem in problems[0]) if problem else problems == []


ALARMS = [{'member_id': '0000000000000001', 'member': 'a', 'alarm': 'NOSPACE'},
          {'member_id': '0000000000000002', 'member': 'b', 'alarm': 'CORRUPT'},
          {'member_id': '0000000000000009', 'member': '', 'alarm': 'NOSPACE'}]


@pytest.mark.parametrize('kinds,members,expected', [
    (['NOSPACE'], None, [0, 2]),          # default: NOSPACE only, CORRUPT stays
    (['CORRUPT'], None, [1]),
    (['NOSPACE', 'CORRUPT'], ['a', 'b'], [0, 1]),
    (['NOSPACE'], ['b'], []),
])
def test_alarms_to_disarm(kinds, members, expected):
    assert alarms_to_disarm(ALARMS, kinds, members) == [ALARMS[i] for i in expected]


def test_disarm_alarms_four_ways():
    etcd = FakeEtcd(alarms=[{'member_id': 1, 'alarm': 'NOSPACE'}, {'member_id': 2, 'alarm': 'CORRUPT'}])
    check = disarm_alarms(etcd, ENDPOINTS, ['NOSPACE'], check_mode=True)
    assert check['changed'] is True and etcd.changes == []
    assert [a['member'] for a in check['disarmed']] == ['a'] and len(check['alarms_after']) == 1
    assert alarm_diff(check)['before'] == 'a 0000000000000001 NOSPACE\nb 0000000000000002 CORRUPT\n'
    apply = disarm_alarms(etcd, ENDPOINTS, ['NOSPACE'])
    assert apply['changed'] is True and etcd.changes == [('disarm', 'https://a:2379', '0000000000000001', 'NOSPACE')]
    assert apply['alarms_after'] == [{'member_id': '0000000000000002', 'member': 'b', 'alarm': 'CORRUPT'}]
    again = disarm_alarms(etcd, ENDPOINTS, ['NOSPACE'])
    assert again['changed'] is False and again['disarmed'] == [] and len(etcd.changes) == 1
    assert disarm_alarms(etcd, ENDPOINTS, ['NOSPACE'], check_mode=True)['changed'] is False


@pytest.mark.parametrize('kinds,members,words', [
    (['BOGUS'], None, "'BOGUS': etcd knows only NOSPACE, CORRUPT"),
    (['NOSPACE'], ['zz'], 'zz, which is not a member'),
])
def test_disarm_alarms_refuses_bad_input_before_anything(kinds, members, words):
    etcd = FakeEtcd(alarms=[{'member_id': 1, 'alarm': 'NOSPACE'}])
    with pytest.raises(EtcdInputError, match=words):
        disarm_alarms(etcd, ENDPOINTS, kinds, members)
    assert etcd.changes == [] and etcd.alarms


def test_compact_four_ways_and_refusals():
    etcd = FakeEtcd(revision=100, compacted=10)
    check = compact_keyspace(etcd, ENDPOINTS, check_mode=True)
    assert check['changed'] is True and check['revision'] == check['current_revision'] == 100
    assert 'would compact' in check['reason'] and etcd.changes == []
    apply = compact_keyspace(etcd, ENDPOINTS)
    assert apply['changed'] is True and etcd.changes == [('compact', 'https://a:2379', 100, True)]
    again = compact_keyspace(etcd, ENDPOINTS, revision=100)
    assert again['changed'] is False and 'compacted to already' in again['reason']
    assert compact_keyspace(etcd, ENDPOINTS, revision=50, check_mode=True)['changed'] is False
    with pytest.raises(EtcdInputError, match='above the current revision 100'):
        compact_keyspace(etcd, ENDPOINTS, revision=101)
    for bad in (0, -3, True, '7'):
        with pytest.raises(EtcdInputError, match='at least 1'):
            compact_keyspace(etcd, ENDPOINTS, revision=bad)
    assert len(etcd.changes) == 1


def test_compact_race_with_another_compaction_is_no_change():
    etcd = FakeEtcd(revision=100, compacted=10)
    etcd.revision_readable = lambda endpoint, revision, timeout=None: True  # compacted in between
    etcd.compacted = 100
    assert compact_keyspace(etcd, ENDPOINTS, revision=100)['changed'] is False


def test_compact_without_quorum_fails_clearly():
    with pytest.raises(EtcdInputError, match='no etcd endpoint served a linearizable read'):
        compact_keyspace(FakeEtcd(down=ENDPOINTS), ENDPOINTS)


@pytest.mark.parametrize('value,quota', [
    (None, DEFAULT_QUOTA_BYTES), ('', DEFAULT_QUOTA_BYTES), ('0', DEFAULT_QUOTA_BYTES),
    ('16777216', 16777216), (' 8589934592 ', 8589934592), ('-1', None),
])
def test_quota_from_flag(value, quota):
    assert quota_from_flag(value) == quota


def test_quota_from_flag_refuses_words():
    with pytest.raises(ValueError):
        quota_from_flag('8GiB')


def test_add_quota_figures_keeps_nulls_for_members_that_did_not_answer():
    members = [{'db_size': 1000, 'db_size_in_use': 400}, {'db_size': None, 'db_size_in_use': None}]
    add_quota_figures(members, 3000)
    assert members[0] == {'db_size': 1000, 'db_size_in_use': 400, 'db_size_free': 600, 'quota_bytes': 3000,
                          'quota_usage': 0.3333}
    assert (members[1]['db_size_free'], members[1]['quota_usage'], members[1]['quota_bytes']) == (None, None, 3000)
    assert add_quota_figures([{'db_size': 5, 'db_size_in_use': 5}], None)[0]['quota_usage'] is None
