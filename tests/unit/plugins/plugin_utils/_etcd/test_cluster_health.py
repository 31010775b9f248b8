"""cluster_health: cluster_info's verdict. Healthy only when etcd was read, has quorum, every member
(learners too) is healthy and no alarm is raised; otherwise every problem is named once, with what to do."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import cluster_view
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.cluster_health import (
    cluster_health,
    join_precheck,
)


def member(name, healthy=True, reachable=True, leader=False, learner=False, alarms=None):
    return {'name': name, 'id': '%016x' % (hash(name) & 0xffffffffffffffff), 'healthy': healthy, 'reachable': reachable,
            'is_leader': leader, 'is_learner': learner, 'raft_applied_index': 10, 'alarms': alarms or []}


def view(*members, **extra):
    result = cluster_view({'members': list(members)})
    result.update(extra)
    return result


HEALTHY = [member('cp1', leader=True), member('cp2'), member('cp3')]


def test_a_healthy_cluster_passes():
    assert cluster_health(view(*HEALTHY)) == {'healthy': True, 'problems': [], 'message': ''}


@pytest.mark.parametrize('members,problems', [
    ([member('cp1', leader=True), member('cp2'), member('cp3', healthy=False, reachable=False)],
     ['a member is not healthy: cp3 (unreachable)']),
    ([member('cp1', leader=True), member('cp2'), member('cp3'), member('cp4', healthy=False, learner=True)],
     ['a member is not healthy: cp4, learner (unhealthy)']),
    ([member('cp1', healthy=False), member('cp2', healthy=False, reachable=False),
      member('cp3', healthy=False, reachable=False)],
     ['NO quorum (0 of 3 voters healthy, 2 needed): etcd accepts no write',
      '3 members are not healthy: cp1 (unhealthy), cp2 (unreachable), cp3 (unreachable)']),
    ([member('cp1', leader=True, alarms=['NOSPACE']), member('cp2'), member('cp3')],
     ['alarm raised: NOSPACE on cp1']),
])
def test_every_problem_is_named(members, problems):
    verdict = cluster_health(view(*members))
    assert not verdict['healthy'] and verdict['problems'] == problems
    assert verdict['message'].startswith('etcd is not healthy: %s. ' % '; '.join(problems))
    assert verdict['message'].endswith('(-e cluster_info_fail=false reports without failing.)')


def test_the_advice_fits_the_problem():
    down = cluster_health(view(member('cp1', leader=True), member('cp2'), member('cp3', healthy=False, reachable=False)))
    assert 'kubemaint.control_plane.recover' in down['message'] and 'alarm disarm' not in down['message']
    alarm = cluster_health(view(member('cp1', leader=True, alarms=['NOSPACE']), member('cp2'), member('cp3')))
    assert 'kubemaint.control_plane.recover ' not in alarm['message'] and 'recover.' not in alarm['message']
    assert ('NOSPACE: etcd accepts no write until space is freed; ansible-playbook -b -i <inventory> '
            'kubemaint.control_plane.recover_nospace compacts' in alarm['message'])
    corrupt = cluster_health(view(member('cp1', leader=True, alarms=['CORRUPT']), member('cp2'), member('cp3')))
    assert 'disarmed' in corrupt['message'] and 'recover_nospace' not in corrupt['message']


def test_an_unreadable_cluster_names_the_reader_and_the_endpoints():
    verdict = cluster_health(dict(cluster_view({'members': [], 'endpoint_errors': {'https://10.0.0.1:2379': 'refused'}}),
                                  reader='cp1', endpoints=['https://10.0.0.1:2379']))
    assert not verdict['healthy'] and verdict['problems'] == ['etcd could not be read: refused']
    assert verdict['message'].startswith('Could not read etcd through cp1: refused. Check that the endpoints '
                                         'https://10.0.0.1:2379 are right (cluster_state_etcd_endpoints)')
    assert not cluster_health(None)['healthy']


# What etcd_member_info returns when it may not read the etcd client key (a run without become; client.py).
KEY_NOT_READABLE = {
    'failed': True, 'reason': 'cert_file_not_readable',
    'msg': 'client key /etc/kubernetes/pki/etcd/server.key (option client_key) is not readable by the remote user '
           'kubemaint (uid 1500): Permission denied. Run with become (-b, or become: true in the job template): '
           'kubeadm keeps these files readable by root only.'}


def test_a_key_the_remote_user_may_not_read_says_become_not_endpoints_or_recover():
    """Issue 25: cluster_info run without become named the endpoints and recover; neither is at fault."""
    verdict = cluster_health(dict(cluster_view(KEY_NOT_READABLE), reader='cp1', endpoints=['https://10.0.0.1:2379']))
    assert not verdict['healthy'] and verdict['problems'] == ['etcd could not be read: %s' % KEY_NOT_READABLE['msg']]
    assert verdict['message'] == 'Could not read etcd through cp1: %s' % KEY_NOT_READABLE['msg']
    for advice in ('endpoints', 'recover', 'start_node', 'exist under kubernetes_dir'):
        assert advice not in verdict['message']
    # any other reason keeps the advice on endpoints and stopped members
    other = dict(KEY_NOT_READABLE, reason='cert_file_unusable', msg='client key /x (option client_key) is not readable: '
                                                                    'No such file or directory')
    assert 'Check that the endpoints' in cluster_health(dict(cluster_view(other), reader='cp1'))['message']


def pods_of(name, process=None, restarts=0, reason=None):
    return {'running': ['etcd'], 'etcd_runtime': {'manifest_in_place': True, 'name': name, 'process': process,
                                                  'restarts': restarts, 'log_reason': reason}}


def test_a_crash_loop_is_named_with_its_restarts_and_why_and_recover_is_not_offered():
    members = [member('cp1', leader=True), member('cp2'), member('cp3', healthy=False, reachable=False)]
    pods = {'h1': pods_of('cp1', process={'pid': 1}), 'h2': pods_of('cp2', process={'pid': 2}),
            'h3': pods_of('cp3', restarts=6, reason='flag provided but not defined: -bogus-flag')}
    verdict = cluster_health(view(*members), pods)
    assert verdict['problems'][-1] == ('the etcd of h3 is in a CRASH LOOP (restarted 6 times: flag provided but not '
                                       'defined: -bogus-flag)')
    assert 'fix what its log says' in verdict['message'] and 'on h3.' in verdict['message']
    assert 'recover' not in verdict['message']
    # a member that is down for another reason (its pods stopped) still gets recover's advice
    pods['h3'] = {'running': [], 'etcd_runtime': dict(pods['h3']['etcd_runtime'], manifest_in_place=False)}
    assert 'kubemaint.control_plane.recover' in cluster_health(view(*members), pods)['message']


def test_a_split_brain_is_named_with_the_member_to_rejoin_and_never_recover(split_view):
    """Issue 21: the majority keeps quorum, but cp1's etcd serves a cluster of its own."""
    the_view = split_view
    assert the_view['split_brain_members'] == ['cp1'] and the_view['has_quorum']
    verdict = cluster_health(the_view)
    assert not verdict['healthy']
    assert verdict['problems'] == ["SPLIT BRAIN: the etcd of cp1 answers for another cluster than the majority's"]
    assert ("Rejoin cp1 to the majority's cluster, one at a time: ansible-playbook -b -i <inventory> "
            "kubemaint.control_plane.replace_member -e node=cp1 (its etcd data directory is moved aside, never "
            "deleted;") in verdict['message']
    assert 'recover' not in verdict['message'] and 'start_node' not in verdict['message']


READYZ = {'cp1': {'status': 200}, 'cp2': {'status': -1, 'msg': 'Status code was -1'}, 'cp3': {'status': 200}}


def test_join_precheck_passes_with_quorum_and_a_ready_apiserver():
    view = {'readable': True, 'has_quorum': True, 'healthy_voters': 3, 'voters': 3, 'quorum_size': 2, 'leader': 'a'}
    verdict = join_precheck(view, READYZ)
    assert verdict['ok'] and verdict['ready'] == ['cp1', 'cp3']
    assert verdict['message'] == ('Join precheck passed: etcd has quorum (3 of 3 voters healthy, leader a); apiserver '
                                  'ready on cp1, cp3.')


def test_join_precheck_refuses_without_quorum_or_without_a_ready_apiserver():
    no_quorum = {'readable': True, 'has_quorum': False, 'healthy_voters': 1, 'voters': 3, 'quorum_size': 2,
                 'leader': None}
    verdict = join_precheck(no_quorum, READYZ)
    assert not verdict['ok']
    assert verdict['message'].startswith('Join precheck failed: etcd has NO quorum (1 of 3 voters healthy, 2 needed, '
                                         'leader none): nothing can be written to etcd')
    assert 'apiserver ready on cp1, cp3. What to do: bring the control plane back first' in verdict['message']
    quorum = dict(no_quorum, has_quorum=True, healthy_voters=3, leader='a')
    skipped = {'cp1': {'skipped': True}, 'cp2': {'status': 503}}
    verdict = join_precheck(quorum, skipped)
    assert not verdict['ok'] and verdict['ready'] == []
    assert verdict['message'].startswith('Join precheck failed: etcd has quorum; no apiserver is ready. What to do')
    unread = join_precheck({'readable': False, 'read_error': 'connection refused'}, READYZ)
    assert unread['message'].startswith('Join precheck failed: etcd could not be read (connection refused); apiserver')
