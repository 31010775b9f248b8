"""recover's plan across the play (what was found, whom to restore, whom to wait for), one host's turn, and what it
says at its end: hosts refused, where nothing was found, data lost, unreachable, whether the run fails."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recover_plan import (
    recover_plan,
    recover_summary,
    turn,
    turn_line,
)


def member(name, healthy=True, reachable=True, leader=False):
    return {'name': name, 'id': name * 4, 'is_learner': False, 'is_leader': leader, 'healthy': healthy,
            'reachable': reachable, 'raft_applied_index': 100 if reachable else None,
            'endpoint': 'https://%s:2379' % name, 'errors': [], 'alarms': [], 'db_size': 20480}


def state(*members):
    return {'members': list(members), 'endpoints': ['https://a:2379'], 'cluster': {'alarms': []}}


QUORUM = state(member('a', leader=True), member('b'), member('c'))
NO_QUORUM = state(member('a', healthy=False), member('b', healthy=False, reachable=False),
                  member('c', healthy=False, reachable=False))
HOSTS = {'a': 'cp1', 'b': 'cp2', 'c': 'cp3'}


def step(name, stash='/etc/kubernetes/manifests-stash'):
    return {'name': name, 'stash_dir': stash, 'path': '%s/%s.yaml' % (stash, name), 'other_copies': []}


def found(summary='nothing to restore (running: etcd)', steps=(), refused=(), data_lost=(), stopped=(),
          relocate=(), running=('etcd',), **extra):
    report = {'summary': summary, 'running': list(running), 'stopped': list(stopped),
              'plan': {'steps': list(steps), 'refused': list(refused), 'relocate': list(relocate),
                       'data_lost': list(data_lost)},
              'etcd_data': {'data_dir': '/var/lib/etcd', 'exists': True}, 'manifests_dir_exists': True}
    report.update(extra)
    return report


UNREACHABLE = {'unreachable': True, 'msg': 'ssh: connect to host cp3 port 22: No route to host'}
SKIPPED = {'skipped': True, 'changed': False, 'false_condition': 'inventory_hostname in _recover_plan.restore'}


def turned(has_quorum, refused=()):
    return {'changed': True, 'refused': list(refused), 'has_quorum': None if refused else has_quorum,
            'started_early': not refused and not has_quorum}


def test_plan_lists_what_was_found_in_play_order_and_restores_only_hosts_with_steps():
    reports = {'cp1': found('restore etcd', steps=[step('etcd')], stopped=['etcd'], running=[]),
               'cp2': found(), 'cp3': UNREACHABLE,
               'cp4': found('NOT restored', refused=['stash writable by group and others'], stopped=['etcd'])}
    plan = recover_plan(reports)
    assert plan['found'] == ['cp1: restore etcd', 'cp2: nothing to restore (running: etcd)',
                             'cp3: UNREACHABLE, skipped', 'cp4: NOT restored']
    assert plan['restore'] == ['cp1'] and plan['readers'] == ['cp1', 'cp2', 'cp4']
    assert plan['wait_for'] == [] and not plan['has_quorum']


def test_pods_started_before_quorum_are_waited_for_only_once_a_later_turn_saw_quorum():
    reports = dict((host, found(steps=[step('etcd')], stopped=['etcd'], running=[])) for host in ('cp1', 'cp2', 'cp3'))
    before = recover_plan(reports, {'cp1': turned(False), 'cp2': turned(True), 'cp3': turned(True)})
    assert before['has_quorum'] and before['wait_for'] == ['cp1']
    still = recover_plan(reports, {'cp1': turned(False), 'cp2': turned(False), 'cp3': SKIPPED})
    assert not still['has_quorum'] and still['wait_for'] == []
    refused = recover_plan(reports, {'cp1': turned(None, ['SAN of cp2']), 'cp2': turned(True), 'cp3': turned(True)})
    assert refused['wait_for'] == []


def test_a_turn_starts_etcd_first_moves_directories_and_recreates_a_manifests_directory_moved_away():
    report = found(steps=[step('etcd'), step('kube-apiserver'), step('kube-scheduler')],
                   relocate=[{'from': '/etc/kubernetes/manifests/manifests-1', 'to': '/etc/kubernetes/manifests-1'}],
                   manifests_dir_exists=False, manifests_dir_source={'mode': '0700', 'uid': 0, 'gid': 0})
    planned = turn(report)
    assert planned['etcd']['name'] == 'etcd'
    assert [s['name'] for s in planned['others']] == ['kube-apiserver', 'kube-scheduler']
    assert planned['relocate'] == [{'from': '/etc/kubernetes/manifests/manifests-1', 'to': '/etc/kubernetes/manifests-1'}]
    assert planned['manifests_dir'] == {'mode': '0700', 'uid': 0, 'gid': 0}
    only_apiserver = turn(found(steps=[step('kube-apiserver')]))
    assert only_apiserver['etcd'] is None and only_apiserver['manifests_dir'] is None
    assert turn(UNREACHABLE) == {'etcd': None, 'others': [], 'relocate': [], 'manifests_dir': None}


@pytest.mark.parametrize('has_quorum, line', [
    (True, 'etcd, kube-apiserver started; etcd has quorum'),
    (False, 'etcd, kube-apiserver started; etcd has no quorum yet'),
])
def test_turn_line(has_quorum, line):
    assert turn_line(['etcd', 'kube-apiserver'], has_quorum) == line


def test_nothing_to_say_when_every_host_is_back_with_quorum():
    reports = {'cp1': found(), 'cp2': found(), 'cp3': found()}
    summary = recover_summary(QUORUM, reports, HOSTS, {'cp1': SKIPPED, 'cp2': SKIPPED, 'cp3': SKIPPED})
    assert not summary['failed'] and summary['failure'] == ''
    assert summary['refused'] == [] and summary['unrestorable'] == [] and summary['lost'] == []


def test_refused_hosts_untrusted_stash_first_then_certificates_named_with_the_command_for_them():
    reports = {'cp1': found(steps=[step('etcd')], stopped=['etcd'], running=[]),
               'cp2': found('NOT restored', refused=['stash writable by group and others', 'stray manifest'],
                            stopped=['etcd']),
               'cp3': found()}
    restored = {'cp1': turned(None, ['etcd/server.crt names cp2', 'expired']), 'cp2': SKIPPED, 'cp3': SKIPPED}
    summary = recover_summary(QUORUM, reports, HOSTS, restored)
    assert summary['refused'] == ['cp2: stash writable by group and others; stray manifest',
                                  'cp1: etcd/server.crt names cp2; expired']
    assert summary['refused_hosts'] == ['cp2', 'cp1'] and summary['failed']
    assert summary['failure'].startswith(
        'recover left control-plane nodes down. Not restored, left stopped: cp2: stash writable by group and others; '
        'stray manifest | cp1: etcd/server.crt names cp2; expired. What to do: put back the pki of each node')
    assert summary['failure'].endswith('then run kubemaint.control_plane.recover again (or '
                                       'kubemaint.control_plane.start_node --limit cp2,cp1).')


def test_stopped_with_nothing_to_restore_from_is_unrestorable_but_data_loss_is_said_apart():
    reports = {'cp1': found(), 'cp2': found('etcd stopped, no copy of its manifest found', stopped=['etcd']),
               'cp3': found('NOT restored, its etcd data is lost', stopped=['etcd'], data_lost=['empty'],
                            etcd_data={'data_dir': '/var/lib/etcd', 'exists': True})}
    summary = recover_summary(QUORUM, reports, HOSTS)
    assert summary['unrestorable'] == ['etcd stopped, no copy of its manifest found']
    assert summary['lost'] == ['cp3'] and summary['failed']
    assert ('Nothing found to restore: etcd stopped, no copy of its manifest found. Put the manifests back into the '
            'manifests directory by hand') in summary['failure']
    assert summary['failure'].endswith('re-add it with ansible-playbook -b -i <inventory> '
                                       'kubemaint.control_plane.replace_member -e node=cp3.')


def test_without_quorum_the_run_fails_only_when_asked_and_names_the_unreachable():
    reports = {'cp1': found(), 'cp2': found(), 'cp3': UNREACHABLE}
    summary = recover_summary(NO_QUORUM, reports, HOSTS, fail_without_quorum=True)
    assert summary['failed'] and summary['unreachable'] == ['cp3']
    assert summary['failure'].startswith('recover left control-plane nodes down. etcd has NO quorum')
    assert 'Unreachable hosts: cp3' in summary['failure']
    quiet = recover_summary(NO_QUORUM, reports, HOSTS, fail_without_quorum=False)
    assert not quiet['failed'] and quiet['failure'] == '' and 'etcd has NO quorum' in quiet['message']
