"""What member_recovery's rejoin says it did: its actions from the steps' registered results, the report line,
and after a failure, its result and the message naming the failed step."""
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.rejoin import (
    moved_line,
    removal_failure,
    removal_result,
    rejoin_actions,
    rejoin_failure,
    rejoin_line,
    rejoin_result,
)

CHANGED = {'changed': True}
SKIPPED = {'changed': False, 'skipped': True}
REJOIN = {'member': 'node-c', 'action': 'rejoin', 'remove_id': 'c0ffee', 'refused': []}


def test_a_whole_rejoin_says_every_step_in_order():
    results = {'stopped': CHANGED, 'removed': CHANGED, 'added': {'changed': True, 'id': 'beef'}, 'flags': CHANGED,
               'etcd_started': CHANGED, 'promoted': CHANGED, 'pods_started': CHANGED, 'rest_started': SKIPPED}
    result = rejoin_result(REJOIN, 'cp3', False, results, '/var/lib/etcd.replaced-20261207T000000Z')
    assert result['actions'] == ['pods stopped', 'old data moved to /var/lib/etcd.replaced-20261207T000000Z',
                                 'stale member c0ffee removed', 'added as a learner (id beef)',
                                 'manifest given --initial-cluster-state=existing', 'etcd started', 'promoted',
                                 'pods started']
    assert result['data_dir_moved_to'] == '/var/lib/etcd.replaced-20261207T000000Z'
    assert (result['member'], result['host'], result['plan'], result['check_mode']) == ('node-c', 'cp3', 'rejoin', False)
    assert rejoin_line(result).startswith('cp3: done: pods stopped, old data moved to ')


def test_nothing_to_do_and_check_mode_are_said_as_such():
    healthy = rejoin_result({'member': 'node-c', 'action': 'none'}, 'cp3', False, {'rest_started': SKIPPED})
    assert healthy['actions'] == [] and healthy['data_dir_moved_to'] is None
    assert rejoin_line(healthy) == 'cp3: member node-c is a healthy voter and every pod runs, nothing to do.'
    rest = rejoin_result({'member': 'node-c', 'action': 'none'}, 'cp3', False, {'rest_started': CHANGED})
    assert rejoin_line(rest) == 'cp3: done: pods started.'
    checked = rejoin_result(REJOIN, 'cp3', True, {'stopped': CHANGED, 'removed': CHANGED, 'added': SKIPPED}, '')
    assert rejoin_line(checked) == ('cp3: would: pods stopped, stale member c0ffee removed; in check mode the add, '
                                    'start and promotion after the removal are not run.')
    assert rejoin_line(rejoin_result({'member': 'x', 'action': 'promote'}, 'cp3', False, {})) == 'cp3: done: nothing.'


def test_an_add_without_an_id_and_missing_results_did_nothing():
    assert rejoin_actions({'added': {'changed': True}}) == ['added as a learner']
    assert rejoin_actions(None) == [] and rejoin_actions({'stopped': 'garbage'}) == []


def test_a_failure_names_the_task_the_old_data_and_the_command():
    result, message = rejoin_failure(REJOIN, 'cp3', 'node-c', False, 'Promote the learner', '/var/lib/etcd.old',
                                     'ansible-playbook -b -i <inventory> kubemaint.control_plane.replace_member -e node=cp3')
    assert result['actions'] == ['FAILED at "Promote the learner"', 'old data moved to /var/lib/etcd.old']
    assert message == ('cp3 (etcd member node-c) did not rejoin: the task "Promote the learner" failed (its error is '
                       'above). Its old etcd data is in /var/lib/etcd.old. Its control plane may be stopped. Once the '
                       'cause is fixed, run again (each step is skipped when done): ansible-playbook -b -i <inventory> '
                       'kubemaint.control_plane.replace_member -e node=cp3')
    refused = dict(REJOIN, refused=['etcd has no quorum'])
    result, message = rejoin_failure(refused, 'cp3', 'node-c', True, 'Refuse', '', 'retry')
    assert result['actions'] == ['FAILED at "Refuse"'] and result['data_dir_moved_to'] is None and result['check_mode']
    assert 'may be stopped' not in message and message.endswith('(its error is above). Once the cause is fixed, run '
                                                                'again (each step is skipped when done): retry')


def test_the_line_that_says_where_the_old_data_went():
    assert moved_line('cp-b', '/var/lib/etcd', '/var/lib/etcd.replaced-20260101T000000Z', False) == (
        'cp-b: old etcd data moved from /var/lib/etcd to /var/lib/etcd.replaced-20260101T000000Z (kept; delete it '
        'once the member is back and healthy).')
    assert 'old etcd data would be moved from /var/lib/etcd' in moved_line('cp-b', '/var/lib/etcd', '/x', True)
    assert moved_line('cp-b', '/var/lib/etcd', '', False) == ''


def test_a_removal_says_the_member_it_removed_and_a_failure_the_command():
    plan = {'member': 'b', 'action': 'remove', 'remove_id': 'ff01'}
    assert removal_result(plan, False, {'changed': True}) == {
        'member': 'b', 'plan': 'remove', 'check_mode': False, 'actions': ['member ff01 removed'],
        'data_dir_moved_to': None}
    assert removal_result({'member': 'b', 'action': 'none'}, True, {'changed': False, 'skipped': True})['actions'] == []
    assert removal_result(plan, True, None)['check_mode'] is True
    assert removal_failure('b', 'Remove member b', 'ansible-playbook x') == (
        'etcd member b was not removed: the task "Remove member b" failed (its error is above). Once the cause is '
        'fixed, run again: ansible-playbook x')
