"""node_restart: the decisions and words of a node's in-place restart (the node_restart action) and the
rolling restart's closing lines (filter rolling_restart_summary)."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.filter.rolling_restart_summary import rolling_restart_summary
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import cluster_view, guard_verdict
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.node_restart import (
    bring_back_line,
    change_request,
    change_text,
    changed_line,
    in_place,
    proceed_line,
    progress_line,
    refusal,
    restarted_line,
    rollback_message,
    snapshot_line,
    summary_lines,
    turn_line,
    wait_slices,
)

PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']


def pods(running=None, stopped=None, strays=None, **extra):
    report = {'running': PODS if running is None else running, 'stopped': stopped or [], 'strays': strays or []}
    report.update(extra)
    return report


def member(name, leader=False, healthy=True, applied=100):
    return {'name': name, 'id': name * 4, 'is_learner': False, 'is_leader': leader, 'healthy': healthy,
            'reachable': healthy, 'raft_applied_index': applied if healthy else None,
            'endpoint': 'https://%s:2379' % name, 'errors': [] if healthy else ['connection refused'], 'alarms': [],
            'db_size': 20480}


def info(*members):
    return {'members': list(members), 'endpoints': ['https://a:2379'], 'cluster': {'alarms': []}}


HEALTHY = info(member('a', leader=True), member('b'), member('c'))
ONE_DOWN = info(member('a', leader=True), member('b'), member('c', healthy=False))


@pytest.mark.parametrize('report, fits, why', [
    (pods(), True, ''),
    (pods(running=PODS[:3], stopped=['kube-scheduler']), False, 'stopped: kube-scheduler'),
    (pods(strays=[{'path': '/etc/kubernetes/etcd.yaml.bak'}]), False, 'stray manifests: /etc/kubernetes/etcd.yaml.bak'),
    (pods(running=[]), False, 'no control-plane pod runs'),
    ({'unreachable': True, 'msg': 'ssh: connect refused'}, False, 'could not be read (ssh: connect refused)'),
    ({'failed': True}, False, 'could not be read (no answer)'),
    (None, False, 'could not be read (no answer)'),
])
def test_a_node_restarts_in_place_only_when_every_pod_runs_and_no_stray_lies_around(report, fits, why):
    answer = in_place(report)
    assert answer[0] is fits and why in answer[1]


def test_the_verdict_lines_say_the_refusal_once_and_name_the_override_only_in_the_advice():
    verdict = guard_verdict(cluster_view(ONE_DOWN), 'a', target_host='cp1', target_pods=pods(),
                            override_name='control_plane_node_allow_quorum_loss')
    assert not verdict['proceed']
    first, details = refusal(verdict)
    assert first.startswith('Quorum guard: refusing to stop the control plane of cp1: ')
    assert verdict['problems'][0] in first and 'Nothing was changed' in first and len(first) < 400
    assert 'control_plane_node_allow_quorum_loss=true' not in first
    assert sum('control_plane_node_allow_quorum_loss=true' in line for line in details) == 1
    assert all(line.startswith('Quorum guard, cp1: ') for line in details)
    assert verdict['seen'] in details[-2]

    overridden = guard_verdict(cluster_view(ONE_DOWN), 'a', target_host='cp1', target_pods=pods(),
                               allow_quorum_loss=True)
    line = proceed_line(overridden, 'control_plane_node_allow_quorum_loss')
    assert overridden['proceed'] and line.startswith('WARNING: control_plane_node_allow_quorum_loss=true overrides')
    assert line.endswith('Proceeding: etcd may lose quorum.')
    safe = guard_verdict(cluster_view(HEALTHY), 'a', target_host='cp1', target_pods=pods())
    assert proceed_line(safe, 'x') == 'Quorum guard: cp1 may stop. %s' % safe['seen']


@pytest.mark.parametrize('timeout, length, expected', [
    (300, 20, (20, 15)),
    (300, 1, (1, 300)),
    (25, 10, (10, 3)),
    (5, 20, (5, 1)),
    (0, 20, (1, 1)),
])
def test_a_wait_is_cut_into_slices_that_cover_it(timeout, length, expected):
    assert wait_slices(timeout, length) == expected


def test_the_progress_and_failure_lines():
    assert progress_line('cp1', 'the pods are not back yet', 2, 15, 20) == \
        'cp1: the pods are not back yet, 40 s of 300 s waited so far'
    line = bring_back_line('cp1', True, 300, 20)
    assert line.startswith('cp1 did not come back within 300 s (waited in slices of 20 s) and may be partly stopped.')
    assert 'ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit cp1' in line
    assert 'within' not in bring_back_line('cp1', False, 300, 20)


def test_the_restarted_line_names_the_leader_move_and_the_snapshot_and_check_mode_says_would():
    leader = {'changed': True, 'leader_before': {'name': 'a'}, 'leader': {'name': 'b'}}
    snapshot = {'path': '/var/lib/etcd-snapshots/s.db', 'endpoint': 'https://a:2379', 'revision': 7}
    line = restarted_line('cp1', 'a', PODS, leader, snapshot, False)
    assert line.startswith('cp1 restarted: etcd, kube-apiserver, kube-controller-manager, kube-scheduler stopped')
    assert 'etcd leadership moved from a to b before the stop' in line
    assert 'etcd snapshot written to /var/lib/etcd-snapshots/s.db on cp1 (from https://a:2379, revision 7)' in line
    checked = restarted_line('cp1', 'a', PODS, leader, snapshot, True)
    assert 'would be restarted (check mode: nothing was changed)' in checked and 'would move' in checked
    assert 'would be written to' in checked
    assert 'leadership' not in restarted_line('cp1', 'a', PODS, {'changed': False}, None, False)
    assert snapshot_line('cp1', None, False) == 'No etcd snapshot taken.'


@pytest.mark.parametrize('turn, check_mode, expected', [
    ({'restart': {'began_at': 100.0, 'started_at': 108.4}}, False,
     'restarted in 8 s (guard, snapshot, restart, caught up)'),
    ({'restart': {'began_at': 100.0, 'started_at': 123.0, 'long_way': True}}, False,
     'stopped and started the long way in 23 s'),
    ({'restart': {'began_at': 100.0, 'started_at': 101.0}}, True, 'would be restarted (check mode)'),
    ({'restart': {'began_at': 100.0, 'failed': True}}, False, 'not restarted by this run'),
    ({}, False, 'not restarted by this run'),
    ({'stopped_at': '200.0', 'started_at': '260.6'}, False, 'stopped and started after 61 s down'),
    ({'stopped_at': 200.0}, False, 'stopped by this run and not started again'),
])
def test_what_the_run_did_to_a_node(turn, check_mode, expected):
    assert turn_line('cp1', turn, check_mode).startswith(expected)


def test_the_summary_has_a_line_per_node_with_its_member_health_and_the_quorum_last():
    hostvars = {
        'cp1': {'node_name': 'a', '_control_plane_node_restart': {'began_at': 1.0, 'started_at': 9.0}},
        'cp2': {'node_name': 'b', '_control_plane_node_restart': {'began_at': 10.0, 'started_at': 17.0}},
        'cp3': {'node_name': 'c'},
    }
    lines = rolling_restart_summary(['cp1', 'cp2', 'cp3'], hostvars, ONE_DOWN)
    assert lines[:3] == [
        'cp1: restarted in 8 s (guard, snapshot, restart, caught up); etcd healthy, leader',
        'cp2: restarted in 7 s (guard, snapshot, restart, caught up); etcd healthy',
        'cp3: not restarted by this run; etcd NOT healthy',
    ]
    assert lines[3].startswith('etcd now: quorum yes, 2 of 3 voters healthy')
    unread = summary_lines([{'host': 'cp1', 'member': 'a', 'restart': {}}],
                           {'failed': True, 'msg': 'no endpoint answered', 'members': []}, False)
    assert unread[0] == 'cp1: not restarted by this run; etcd NOT healthy' and 'NO quorum' in unread[1]


def test_change_request_in_start_order_with_bare_flag_names():
    request = change_request({'kube-apiserver': {'set': {'--audit-log-maxage': 30}, 'absent': ['profiling']},
                              'etcd': {'set': {'quota-backend-bytes': 4294967296}}}, 'rolling_change_flags')
    assert request == [('etcd', {'quota-backend-bytes': 4294967296}, []),
                       ('kube-apiserver', {'audit-log-maxage': 30}, ['profiling'])]
    assert change_text(request) == ('etcd --quota-backend-bytes=4294967296; '
                                    'kube-apiserver --audit-log-maxage=30, without --profiling')
    assert change_text([('kube-apiserver', {'anonymous-auth': False}, [])]) == 'kube-apiserver --anonymous-auth=false'


@pytest.mark.parametrize('change,message', [
    (None, 'rolling_change_flags must be a mapping of component'),
    ({}, 'rolling_change_flags must be a mapping of component'),
    ({'kubelet': {'set': {'v': 2}}}, 'unknown component kubelet'),
    ({'etcd': {'add': {'v': 2}}}, r'rolling_change_flags.etcd must be a mapping with the keys set'),
    ({'etcd': {}}, r'rolling_change_flags.etcd must be a mapping'),
    ({'etcd': {'set': ['v']}}, 'set must be a mapping of flag to value'),
    ({'etcd': {'set': {'v': None}}}, r'rolling_change_flags.etcd.set.v: None is not a flag value'),
    ({'etcd': {'set': {'v': 2}, 'absent': ['--v']}}, 'v both set and absent'),
    ({'etcd': {'set': {}, 'absent': []}}, 'changes nothing'),
])
def test_change_request_refuses_bad_input(change, message):
    with pytest.raises(ValueError, match=message):
        change_request(change, 'rolling_change_flags')


def test_rollback_message_names_node_flags_backup_state_and_nodes_before():
    request = [('kube-apiserver', {'bad': True}, [])]
    message = rollback_message('cp-02', 'kube-apiserver', change_text(request), '/readyz answered HTTP 500',
                               {'kube-apiserver': '/b/kube-apiserver.yaml.1'},
                               {'kube-apiserver': (True, 'healthy')}, ['cp-01'], 60)
    for text in ('cp-02: kube-apiserver did not come up healthy within 60 s', '--bad=true',
                 '/readyz answered HTTP 500', 'rolled back on cp-02 from its backup /b/kube-apiserver.yaml.1',
                 'Nodes changed before keep the change: cp-01.', 'The run stops here'):
        assert text in message
    failed = rollback_message('cp-01', 'kube-apiserver', change_text(request), 'x', {'kube-apiserver': '/b/k.1'},
                              {'kube-apiserver': (False, 'still 500')}, [], 60)
    assert 'ROLLING BACK kube-apiserver on cp-01 FROM ITS BACKUP /b/k.1 FAILED: still 500' in failed
    assert 'Put it back by hand: cp -p /b/k.1 /etc/kubernetes/manifests/kube-apiserver.yaml,' in failed
    # the node's own manifests directory, not kubeadm's default
    elsewhere = rollback_message('cp-01', 'kube-apiserver', change_text(request), 'x', {'kube-apiserver': '/b/k.1'},
                                 {'kube-apiserver': (False, 'still 500')}, [], 60, '/srv/kubernetes/manifests/')
    assert 'cp -p /b/k.1 /srv/kubernetes/manifests/kube-apiserver.yaml,' in elsewhere
    assert 'No other node was changed.' in failed


def test_changed_line():
    assert changed_line('cp-01', 'cp-01', [], None, None, False) == 'cp-01 already runs the change: nothing to do.'
    line = changed_line('cp-01', 'cp-01', ['etcd'], None, {'path': '/s.db', 'endpoint': 'e', 'revision': 3}, False)
    assert 'etcd member cp-01 is healthy, a voter and caught up' in line and '/s.db' in line
    line = changed_line('cp-01', 'cp-01', ['kube-apiserver'], None, None, True)
    assert line.startswith('cp-01 would be changed (check mode') and 'snapshot' not in line


def test_rollback_message_of_a_tasks_file():
    hook = rollback_message('cp-01', None, 'the tasks file /t.yml', 'its task "x" failed', {'etcd': '/b/e.1'},
                            {'etcd': (True, 'healthy')}, [], 60)
    assert hook.startswith('cp-01: the change (the tasks file /t.yml) failed: its task "x" failed.')
    assert 'etcd was rolled back on cp-01 from its backup /b/e.1' in hook
