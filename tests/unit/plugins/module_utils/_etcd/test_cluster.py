"""_etcd/cluster.py: the pure parts (leader choice, member list choice, snapshot bookkeeping and the
snapshot directory rules) and collect_cluster_state/save_snapshot over a fake client."""
import datetime
import errno
import os
import stat

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd import cluster as _cluster
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdConnectionError,
    EtcdTLSVerifyError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import (
    EtcdInputError,
    SnapshotWriteError,
    check_member_names,
    choose_leader_target,
    collect_cluster_state,
    config_errors,
    copy_backend,
    existing_snapshots,
    partial_snapshots,
    public_state,
    save_snapshot,
    snapshot_dir_problems,
    snapshot_file_name,
    snapshots_to_remove,
)


def status(member_id, leader, term=2, applied=10):
    return {'member_id': member_id, 'leader': leader, 'raft_term': term, 'raft_index': applied,
            'raft_applied_index': applied, 'errors': [], 'version': '3.5.1', 'db_size': 1, 'db_size_in_use': 1,
            'revision': 7, 'cluster_id': 99, 'is_learner': False}


def test_pick_member_list_prefers_a_member_that_sees_a_leader_then_the_newest_term():
    lists = {'a': {'raft_term': 9}, 'b': {'raft_term': 3}, 'c': {'raft_term': 4}}
    statuses = {'a': {'leader': None, 'raft_term': 9}, 'b': {'leader': 1, 'raft_term': 3},
                'c': {'leader': 1, 'raft_term': 4}}
    assert _cluster._pick_member_list(lists, statuses)[0] == 'c'
    assert _cluster._pick_member_list(lists, {})[0] == 'a'


@pytest.mark.parametrize('statuses,expected', [
    ([], None),
    ([{'leader': None, 'raft_term': 1}], None),
    ([{'leader': 1, 'raft_term': 2}, {'leader': 1, 'raft_term': 2}, {'leader': 2, 'raft_term': 2}], 1),
    ([{'leader': 1, 'raft_term': 2}, {'leader': 2, 'raft_term': 3}], 2),      # the newer term wins
    ([{'leader': 42, 'raft_term': 5}, {'leader': 1, 'raft_term': 2}], 1),     # 42 is not a member
])
def test_leader_by_votes(statuses, expected):
    assert _cluster._leader_by_votes(statuses, {1, 2, 3}) == expected


def member(name, healthy=True, learner=False, applied=10):
    return {'name': name, 'id': '%016x' % (hash(name) & 0xffff), 'healthy': healthy, 'is_learner': learner,
            'raft_applied_index': applied, 'error': None, 'health_error': None if healthy else 'down',
            'endpoint': 'https://%s:2379' % name}


def state(leader='a', members=None):
    members = members or [member('a'), member('b', applied=12), member('c', applied=12)]
    return {'members': members,
            'cluster': {'leader': {'name': leader, 'id': '1'} if leader else None}}


@pytest.mark.parametrize('kwargs,target,words', [
    ({'member': 'a'}, None, 'already the leader'),
    ({'member': 'b'}, 'b', 'move leadership from a to b'),
    ({'avoid': ['b']}, None, 'not in avoid'),
    ({'avoid': ['a']}, 'b', 'most caught-up'),               # b and c tie on applied index: name decides
    ({'avoid': ['a', 'b']}, 'c', 'from a to c'),
])
def test_choose_leader_target(kwargs, target, words):
    chosen, reason = choose_leader_target(state(), **kwargs)
    assert (chosen['name'] if chosen else None) == target and words in reason


def test_choose_leader_target_prefers_the_highest_applied_index():
    members = [member('a'), member('b', applied=5), member('c', applied=6)]
    assert choose_leader_target(state(members=members), avoid=['a'])[0]['name'] == 'c'


@pytest.mark.parametrize('members, avoid, prefer, target', [
    # a rolling restart at its second node (b leads): a is restarted, c is next; a trails a little
    ([member('a', applied=9), member('b'), member('c', applied=12)], ['b'], ['a'], 'a'),
    ([member('a', applied=9), member('b'), member('c', applied=12)], ['b'], [], 'c'),
    # the preferred one is down, or avoided: any other, most caught-up first
    ([member('a', healthy=False), member('b'), member('c')], ['b'], ['a'], 'c'),
    ([member('a'), member('b'), member('c', applied=12)], ['a', 'b'], ['a'], 'c'),
    # several preferred: the most caught-up of them
    ([member('a', applied=3), member('b'), member('c', applied=4), member('d', applied=20)], ['b'], ['a', 'c'], 'c'),
])
def test_choose_leader_target_hands_over_to_a_preferred_member_first(members, avoid, prefer, target):
    chosen, reason = choose_leader_target(state(leader=avoid[-1], members=members), avoid=avoid, prefer=prefer)
    assert chosen['name'] == target
    assert ('of those preferred' in reason) == (target in prefer)


def test_choose_leader_target_refuses_a_preferred_name_that_is_no_member():
    with pytest.raises(EtcdInputError, match='prefer names zz, which is not a member'):
        choose_leader_target(state(), avoid=['a'], prefer=['zz'])


@pytest.mark.parametrize('the_state,kwargs,message', [
    (state(), {'member': 'zz'}, 'member names zz, which is not a member'),
    (state(members=[member('a'), member('b', learner=True)]), {'member': 'b'}, 'is a learner'),
    (state(leader=None), {'member': 'b'}, 'has no leader'),
    (state(members=[member('a'), member('b', healthy=False)]), {'member': 'b'}, 'not healthy'),
    (state(leader=None), {'avoid': ['a']}, 'has no leader'),
    (state(members=[member('a'), member('b', healthy=False), member('c', learner=True)]), {'avoid': ['a']},
     'no healthy voting member outside avoid'),
])
def test_choose_leader_target_refusals(the_state, kwargs, message):
    with pytest.raises(EtcdInputError, match=message):
        choose_leader_target(the_state, **kwargs)


def test_check_member_names_and_public_state():
    check_member_names(state(), ['a', 'b'], 'assume_stopped')
    with pytest.raises(EtcdInputError, match='assume_stopped names x, y, which are not members'):
        check_member_names(state(), ['x', 'a', 'y'], 'assume_stopped')
    assert public_state({'a': 1, 'endpoint_error_objects': {}}) == {'a': 1}


def test_config_errors_are_the_ones_that_are_not_a_member_down():
    down = EtcdConnectionError('refused')
    tls = EtcdTLSVerifyError('bad CA')
    assert config_errors({'endpoint_error_objects': {'x': down, 'y': tls}}) == [tls]


# ---------------------------------------------------------------- snapshots

def test_snapshot_file_name():
    assert snapshot_file_name('etcd', datetime.datetime(2024, 3, 10, 10, 15, 0)) == 'etcd-20240310T101500Z.db'


@pytest.mark.parametrize('count,keep,removed', [
    (0, 2, 0), (1, 2, 0), (2, 2, 1), (5, 2, 4), (5, 0, 0), (5, None, 0), (3, 1, 3),
])
def test_snapshots_to_remove_counts_the_new_one(count, keep, removed):
    existing = ['/d/s-%d.db' % i for i in range(count)]
    result = snapshots_to_remove(existing, keep, '/d/new.db')
    assert result == existing[:removed]


def touch(path, mode=0o600, mtime=None):
    with open(path, 'wb') as handle:
        handle.write(b'x')
    os.chmod(path, mode)
    if mtime:
        os.utime(path, (mtime, mtime))
    return path


def test_existing_and_partial_snapshots(tmp_path):
    d = str(tmp_path)
    old = touch(os.path.join(d, 'etcd-snapshot-20240101T000000Z.db'), mtime=1000)
    new = touch(os.path.join(d, 'etcd-snapshot-20240102T000000Z.db'), mtime=2000)
    part = touch(os.path.join(d, '.etcd-snapshot-20240103T000000Z.db.abc123.part'))
    touch(os.path.join(d, '.other-20240103T000000Z.db.abc123.part'))
    touch(os.path.join(d, 'other-20240101T000000Z.db'))
    assert existing_snapshots(d, 'etcd-snapshot') == [old, new]
    assert partial_snapshots(d, 'etcd-snapshot') == [part]
    assert existing_snapshots(d + '/missing', 'etcd-snapshot') == []


@pytest.mark.parametrize('setup,words', [
    (lambda d: os.chmod(d, 0o777), 'writable by group and others'),
    (lambda d: os.chmod(d, 0o770), 'writable by group'),
    (lambda d: os.chown(d, 65534, 0), 'owned by uid 65534'),
    (lambda d: os.chmod(touch(os.path.join(d, 'etcd-snapshot-1.db')), 0o666), 'etcd-snapshot-1.db is writable'),
    (lambda d: os.chown(touch(os.path.join(d, 'etcd-snapshot-1.db')), 65534, 0), 'owned by uid 65534'),
])
def test_snapshot_dir_problems(tmp_path, setup, words):
    d = str(tmp_path / 'snapshots')
    os.mkdir(d, 0o700)
    assert snapshot_dir_problems(d, 'etcd-snapshot') == []
    setup(d)
    assert words in '; '.join(snapshot_dir_problems(d, 'etcd-snapshot'))


def test_snapshot_dir_problems_arguments(tmp_path):
    assert 'plain file name part' in snapshot_dir_problems(str(tmp_path), '../escaped')[0]
    assert 'absolute path' in snapshot_dir_problems('relative/dir', 'etcd-snapshot')[0]
    assert 'not a directory' in snapshot_dir_problems(touch(str(tmp_path / 'f')), 'etcd-snapshot')[0]
    assert snapshot_dir_problems(str(tmp_path / 'not-yet'), 'etcd-snapshot') == []


class FakeClient:
    """The gateway client's snapshot side: writes a file like EtcdClient.snapshot, or fails."""
    timeout = 1.0

    def __init__(self, fail=None):
        self.fail = fail
        self.calls = 0

    def status(self, endpoint, timeout=None):
        return status(1, 1)

    def snapshot(self, endpoint, path, timeout=None):
        self.calls += 1
        if self.fail:
            raise self.fail
        touch(path)
        return {'size': 1, 'sha256': 'ab', 'embedded_sha256': 'cd'}


def tree(root):
    return sorted((directory, tuple(sorted(files)), oct(stat.S_IMODE(os.stat(directory).st_mode)))
                  for directory, _dirs, files in os.walk(root))


@pytest.mark.parametrize('prefix', ['../escaped', 'a/b', '.hidden', ''])
def test_save_snapshot_refuses_a_prefix_that_leaves_dest(tmp_path, prefix):
    dest = str(tmp_path / 'snapshots')
    client = FakeClient()
    with pytest.raises(EtcdInputError, match='plain file name part'):
        save_snapshot(client, ['https://e:2379'], dest, prefix=prefix)
    assert client.calls == 0 and os.listdir(str(tmp_path)) == []


def test_save_snapshot_removes_interrupted_parts_and_tightens_its_directory(tmp_path):
    dest = str(tmp_path / 'snapshots')
    os.mkdir(dest)
    os.chmod(dest, 0o755)                      # pre-existing and ours: tightened, reported
    part = touch(os.path.join(dest, '.etcd-snapshot-20240101T000000Z.db.x1.part'))
    kept_old = touch(os.path.join(dest, 'etcd-snapshot-20240101T000000Z.db'), mtime=1000)
    before = tree(str(tmp_path))
    check = save_snapshot(FakeClient(), ['https://e:2379'], dest, keep=2, check_mode=True)
    assert check['removed_partial'] == [part] and check['dest_mode_tightened'] is True and check['removed'] == []
    assert tree(str(tmp_path)) == before
    result = save_snapshot(FakeClient(), ['https://e:2379'], dest, keep=2)
    assert not os.path.exists(part) and result['removed'] == []    # the .part never counted for keep
    assert result['kept'] == [kept_old, result['path']]
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o700
    again = save_snapshot(FakeClient(), ['https://e:2379'], dest, keep=2, check_mode=True)
    assert again['dest_mode_tightened'] is False and again['removed_partial'] == []


def test_save_snapshot_leaves_a_shared_directory_mode_alone_and_warns(tmp_path):
    dest = str(tmp_path / 'backups')
    os.mkdir(dest)
    os.chmod(dest, 0o755)
    touch(os.path.join(dest, 'passwd.backup'))         # /var/backups, say: not ours to chmod
    result = save_snapshot(FakeClient(), ['https://e:2379'], dest)
    assert result['dest_mode_tightened'] is False and stat.S_IMODE(os.stat(dest).st_mode) == 0o755
    assert 'mode 0755 and holds other files' in result['warnings'][0]


def test_save_snapshot_refuses_an_untrusted_directory_before_asking_etcd(tmp_path):
    dest = str(tmp_path / 'snapshots')
    os.mkdir(dest)
    os.chmod(dest, 0o777)
    client = FakeClient()
    with pytest.raises(EtcdInputError, match='refusing to keep snapshots in %s: .*writable by group and others' % dest):
        save_snapshot(client, ['https://e:2379'], dest)
    assert client.calls == 0 and stat.S_IMODE(os.stat(dest).st_mode) == 0o777


def test_save_snapshot_on_a_full_disk_names_the_file(tmp_path):
    dest = str(tmp_path / 'snapshots')
    client = FakeClient(fail=OSError(errno.ENOSPC, 'No space left on device'))
    with pytest.raises(SnapshotWriteError, match=r'cannot write the snapshot %s/etcd-snapshot-\d+T\d+Z\.db: No space '
                                                 r'left on device; no snapshot was kept' % dest):
        save_snapshot(client, ['https://e:2379'], dest)


# ---------------------------------------------------------------- collect_cluster_state over a fake gateway

class FakeCluster:
    """Three members a, b, c (ids 1..3, c a learner when asked); `down` endpoints refuse connections."""

    def __init__(self, down=(), learner=False, leader=1):
        self.timeout = 1.0
        self.down = set(down)
        self.learner = learner
        self.leader = leader

    def _check(self, endpoint):
        if endpoint in self.down:
            raise EtcdConnectionError('%s: connection refused' % endpoint, endpoint)

    def member_list(self, endpoint, timeout=None):
        self._check(endpoint)
        return {'cluster_id': 99, 'member_id': 1, 'revision': 1, 'raft_term': 2, 'members': [
            {'id': i, 'name': name, 'peer_urls': [], 'client_urls': ['https://%s:2379' % name],
             'is_learner': self.learner and name == 'c'} for i, name in ((1, 'a'), (2, 'b'), (3, 'c'))]}

    def status(self, endpoint, timeout=None):
        self._check(endpoint)
        member_id = {'https://a:2379': 1, 'https://b:2379': 2, 'https://c:2379': 3}[endpoint]
        return status(member_id, self.leader)

    def health_probe(self, endpoint, timeout=None):
        self._check(endpoint)
        if not self.leader:
            raise EtcdConnectionError('%s: no leader' % endpoint, endpoint)
        return {}

    def alarm_list(self, endpoint, timeout=None):
        return []


def test_collect_cluster_state_reports_a_member_down_without_failing():
    result = collect_cluster_state(FakeCluster(down={'https://b:2379'}), ['https://a:2379'])
    cluster = result['cluster']
    assert (cluster['voting_members'], cluster['healthy_voters'], cluster['has_quorum']) == (3, 2, True)
    assert cluster['leader'] == {'id': '0000000000000001', 'name': 'a'}
    down = [m for m in result['members'] if m['name'] == 'b'][0]
    assert down['reachable'] is False and down['error_reason'] == 'connection_refused'
    assert down['cluster_id'] is None
    # the cluster id each member answers with, from its own Status header
    assert [m['cluster_id'] for m in result['members'] if m['reachable']] == ['0000000000000063'] * 2


def test_collect_cluster_state_learner_and_no_leader():
    result = collect_cluster_state(FakeCluster(learner=True, leader=None), ['https://a:2379'])
    assert result['cluster']['voting_members'] == 2 and result['cluster']['learners'] == 1
    assert result['cluster']['leader'] is None and result['cluster']['has_quorum'] is False


def test_collect_cluster_state_with_no_endpoint_answering():
    result = collect_cluster_state(FakeCluster(down={'https://a:2379'}), ['https://a:2379'],
                                   assume_stopped=['a'])
    assert result['members'] == [] and result['cluster']['member_count'] == 0
    assert 'connection refused' in result['endpoint_errors']['https://a:2379']
    assert result['projection']['assume_stopped'] == ['a']


class SplitCluster(FakeCluster):
    """The lab's split brain (issue 21): a's data directory wiped, its etcd bootstrapped a cluster of its own with
    the same member ID (cluster 77, members: a, term 2) while b and c keep the majority's (cluster 99, leader c).
    With `forced`, a was restarted alone with --force-new-cluster instead: the same cluster ID, a list of itself."""

    def __init__(self, forced=False):
        super().__init__(leader=3)
        self.forced = forced

    def member_list(self, endpoint, timeout=None):
        if endpoint == 'https://a:2379':
            return {'cluster_id': 99 if self.forced else 77, 'member_id': 1, 'revision': 1, 'raft_term': 2,
                    'members': [{'id': 1, 'name': 'a', 'peer_urls': [], 'client_urls': ['https://a:2379'],
                                 'is_learner': False}]}
        return super().member_list(endpoint, timeout)

    def status(self, endpoint, timeout=None):
        self._check(endpoint)
        if endpoint == 'https://a:2379':
            return dict(status(1, 1), cluster_id=99 if self.forced else 77)
        return status({'https://b:2379': 2, 'https://c:2379': 3}[endpoint], 3)


@pytest.mark.parametrize('forced', [False, True])
def test_collect_cluster_state_in_a_split_brain_reads_the_majority_and_names_the_other_side(forced):
    endpoints = ['https://a:2379', 'https://b:2379', 'https://c:2379']
    result = collect_cluster_state(SplitCluster(forced), endpoints)
    # the majority's cluster only: a answers, healthy in its own cluster, but is no reachable member of this one
    assert result['cluster']['cluster_id'] == '0000000000000063'
    assert (result['cluster']['voting_members'], result['cluster']['healthy_voters']) == (3, 2)
    assert result['cluster']['leader'] == {'id': '0000000000000003', 'name': 'c'}
    a = [m for m in result['members'] if m['name'] == 'a'][0]
    assert a['reachable'] is False and a['healthy'] is False and a['error_reason'] == 'split_brain'
    other = '000000000000004d' if not forced else '0000000000000063'
    assert a['error'] == ('https://a:2379 answers for another etcd cluster (cluster %s, members: a) than the '
                          "majority's (cluster 0000000000000063): split brain" % other)
    split = result['split_brain']
    assert [(side['cluster_id'], side['endpoints'], side['members'], side['majority']) for side in split['sides']] == [
        ('0000000000000063', ['https://b:2379', 'https://c:2379'], ['a', 'b', 'c'], True),
        (other, ['https://a:2379'], ['a'], False)]
    assert split['text'].startswith('SPLIT BRAIN: https://b:2379, https://c:2379 answer for cluster 0000000000000063 '
                                    '(members: a, b, c), but https://a:2379 answers for cluster %s (members: a).'
                                    % other)
    # given a's endpoint alone, nothing tells it from a cluster of one: the playbooks ask every node's endpoint
    alone = collect_cluster_state(SplitCluster(forced), ['https://a:2379'])
    assert alone['split_brain'] is None and [m['name'] for m in alone['members']] == ['a']


def test_a_split_brain_with_the_majoritys_quorum_lost_still_reads_the_majoritys_side():
    """One endpoint answers on each side (c is down): the side whose own list holds the cluster's members is the
    majority's, so restore_quorum never rebuilds from the other side's data unless the operator names it."""
    split = SplitCluster()
    split.down = {'https://c:2379'}
    result = collect_cluster_state(split, ['https://a:2379', 'https://b:2379', 'https://c:2379'])
    assert result['cluster']['cluster_id'] == '0000000000000063'
    assert [(m['name'], m['reachable']) for m in result['members']] == [('a', False), ('b', True), ('c', False)]
    assert [side['members'] for side in result['split_brain']['sides']] == [['a', 'b', 'c'], ['a']]


class CountingSplit(SplitCluster):
    """SplitCluster that counts the requests it answers."""

    def __init__(self, forced=False):
        super().__init__(forced)
        self.asked = []

    def member_list(self, endpoint, timeout=None):
        self.asked.append(endpoint)
        return super().member_list(endpoint, timeout)


def test_majority_endpoints_leave_out_the_other_side_and_keep_those_that_did_not_answer():
    endpoints = ['https://a:2379', 'https://b:2379', 'https://c:2379']
    assert _cluster.majority_endpoints(SplitCluster(), endpoints) == ['https://b:2379', 'https://c:2379']
    assert _cluster.majority_endpoints(SplitCluster(forced=True), endpoints) == ['https://b:2379', 'https://c:2379']
    # c is down: b's side holds the cluster's members, so it is the majority's; c may be of it, so it stays, last
    lost = SplitCluster()
    lost.down = {'https://c:2379'}
    assert _cluster.majority_endpoints(lost, ['https://c:2379', 'https://a:2379', 'https://b:2379']) == [
        'https://b:2379', 'https://c:2379']
    # one cluster: the endpoints as given, in their order, even when one does not answer
    assert _cluster.majority_endpoints(FakeCluster(down={'https://a:2379'}), endpoints) == endpoints
    # a single endpoint is not even asked: there is nothing to choose
    counting = CountingSplit()
    assert _cluster.majority_endpoints(counting, ['https://a:2379']) == ['https://a:2379'] and counting.asked == []


def test_split_sides_agreeing_endpoints_and_a_lagging_member_list_are_one_side():
    members = [{'id': i, 'name': n, 'is_learner': False} for i, n in ((1, 'a'), (2, 'b'), (3, 'c'))]
    lists = {'a': {'cluster_id': 9, 'members': members}, 'b': {'cluster_id': 9, 'members': members},
             # c has not applied the add of d yet, and still lists the member removed before: still the same cluster
             'c': {'cluster_id': 9, 'members': members[:2] + [{'id': 5, 'name': 'old', 'is_learner': False}]}}
    statuses = {'a': {'cluster_id': 9, 'leader': 1, 'raft_term': 3}}
    sides = _cluster.split_sides(lists, statuses)
    assert len(sides) == 1 and sides[0]['endpoints'] == ['a', 'b', 'c'] and sides[0]['leader'] == 1
    assert _cluster.split_brain_summary(sides) is None
    assert _cluster.split_sides({}, {}) == [] and _cluster.split_brain_summary([]) is None


def backend(tmp_path, content=b'bolt database'):
    data_dir = tmp_path / 'etcd'
    (data_dir / 'member' / 'snap').mkdir(parents=True)
    (data_dir / 'member' / 'snap' / 'db').write_bytes(content)
    return str(data_dir)


def test_copy_backend_writes_a_new_0600_file_and_never_overwrites(tmp_path):
    data_dir = backend(tmp_path)
    dest = str(tmp_path / 'snapshots')
    planned = copy_backend(data_dir, dest, check_mode=True)
    assert planned['changed'] and not os.path.exists(dest) and planned['sha256'] is None
    first = copy_backend(data_dir, dest)
    assert os.path.basename(first['path']).startswith('etcd-backend-') and first['size'] == len(b'bolt database')
    assert stat.S_IMODE(os.stat(first['path']).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o700
    with open(first['path'], 'rb') as handle:
        assert handle.read() == b'bolt database'
    second = copy_backend(data_dir, dest)  # the same second: a new name, the first copy kept
    assert second['path'] != first['path'] and os.path.isfile(first['path'])
    assert sorted(os.listdir(dest)) == sorted(os.path.basename(p) for p in (first['path'], second['path']))


def test_copy_backend_refuses_without_a_database_or_into_a_loose_directory(tmp_path):
    with pytest.raises(EtcdInputError, match='no etcd backend database'):
        copy_backend(str(tmp_path / 'missing'), str(tmp_path / 'snapshots'))
    loose = tmp_path / 'loose'
    loose.mkdir()
    os.chmod(str(loose), 0o777)
    with pytest.raises(EtcdInputError, match='refusing to keep a copy'):
        copy_backend(backend(tmp_path), str(loose))
    assert os.listdir(str(loose)) == []


class ErringCluster(FakeCluster):
    """Every member's Status lists `errors`, as etcd lists a raised alarm."""

    def __init__(self, errors):
        super().__init__()
        self.errors = errors

    def status(self, endpoint, timeout=None):
        return dict(super().status(endpoint, timeout), errors=list(self.errors))


def test_a_raised_nospace_alarm_leaves_the_members_healthy_and_any_other_error_does_not():
    nospace = collect_cluster_state(ErringCluster(['memberID:1 alarm:NOSPACE ']), ['https://a:2379'])
    assert nospace['cluster']['healthy_voters'] == 3 and nospace['cluster']['has_quorum'] is True
    assert all(member['healthy'] for member in nospace['members'])
    corrupt = collect_cluster_state(ErringCluster(['memberID:1 alarm:NOSPACE ', 'memberID:2 alarm:CORRUPT ']),
                                    ['https://a:2379'])
    assert corrupt['cluster']['healthy_voters'] == 0 and corrupt['cluster']['has_quorum'] is False
    assert corrupt['members'][0]['health_error'] == 'memberID:2 alarm:CORRUPT '
