"""The collection's filters: each file exposes the filter it is named after, documents it, and
hands the work to module_utils with the inputs a role has at hand."""
import importlib
import os

import pytest
import yaml

FILTER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'plugins', 'filter')
NAMES = sorted(name[:-3] for name in os.listdir(FILTER_DIR) if name.endswith('.py'))


def load(name):
    return importlib.import_module('ansible_collections.kubemaint.control_plane.plugins.filter.' + name)


@pytest.mark.parametrize('name', NAMES)
def test_filter_is_named_after_its_file_and_documented(name):
    module = load(name)
    assert list(module.FilterModule().filters()) == [name]
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['name'] == name and doc['short_description'] and doc['version_added'] == '0.2.0'
    assert all(isinstance(line, str) for line in doc['description'])
    assert yaml.safe_load(module.RETURN)['_value']['description']
    assert name in module.EXAMPLES


def test_endpoints_from_hostvars():
    hosts = [{'inventory_hostname': 'cp1', 'node_address': '10.0.0.1'}, {'inventory_hostname': 'cp2'}]
    assert load('etcd_endpoints').etcd_endpoints(hosts, '2379') == ['https://10.0.0.1:2379', 'https://cp2:2379']


def test_quorum_loss_maps_members_to_hosts_by_node_name():
    members = [{'name': 'node-a', 'is_learner': False, 'healthy': False, 'reachable': False},
               {'name': 'node-b', 'is_learner': False, 'healthy': False, 'reachable': True, 'raft_applied_index': 3}]
    hosts = [{'inventory_hostname': 'cp1', 'node_name': 'node-a'}, {'inventory_hostname': 'cp2', 'node_name': 'node-b'}]
    loss = load('etcd_quorum_loss').etcd_quorum_loss({'members': members}, hosts)
    assert loss['down'] == ['cp1', 'cp2'] and not loss['has_quorum']


def test_recover_outcome_names_hosts_by_node_name_and_reads_data_loss_from_each_hosts_pods():
    members = [{'name': 'node-%s' % name, 'is_learner': False, 'healthy': False, 'reachable': name == 'a'}
               for name in 'abc']
    hosts = [{'inventory_hostname': 'cp%d' % number, 'node_name': 'node-%s' % name}
             for number, name in ((1, 'a'), (2, 'b'), (3, 'c'))]
    lost = {'running': [], 'plan': {'data_lost': ['gone']}, 'etcd_data': {'data_dir': '/var/lib/etcd', 'exists': False}}
    reports = {'cp1': {'running': ['etcd'], 'plan': {'data_lost': []}}, 'cp2': lost, 'cp3': lost}
    outcome = load('etcd_recover_outcome').etcd_recover_outcome({'members': members}, reports, hosts)
    assert outcome['lost'] == ['cp2', 'cp3'] and not outcome['recoverable']
    assert 'the etcd data of cp2 and cp3 is lost' in outcome['message'] and 'node-b' not in outcome['message']


def test_guard_override_accepts_the_strings_extra_vars_give():
    view = {'members': [], 'endpoint_errors': {'x': 'refused'}}
    overridden = load('quorum_guard').quorum_guard(view, 'a', allow_quorum_loss='true', override_name='x_allow')
    assert overridden['overridden'] and overridden['line'].startswith('WARNING: x_allow=true overrides the quorum guard')
    refused = load('quorum_guard').quorum_guard(view, 'a', allow_quorum_loss='false')
    assert not refused['proceed'] and refused['line'] == ''


def test_guard_filter_passes_pods_read_on_every_host():
    member = {'name': 'a', 'is_learner': False, 'healthy': True, 'reachable': True, 'is_leader': True,
              'raft_applied_index': 5}
    verdict = load('quorum_guard').quorum_guard({'members': [member]}, 'a', host='cp1',
                                                pods_by_host={'cp1': {'running': ['etcd'], 'strays': []},
                                                              'cp2': {'unreachable': True}})
    assert verdict['problems'][-1] == 'control-plane host cp2 is unreachable, its pods cannot be checked'


def test_status_table_details_accept_the_strings_extra_vars_give():
    members = [{'name': 'node-a', 'id': '8e9e05c52164694d', 'is_learner': False, 'is_leader': True, 'healthy': True,
                'reachable': True, 'raft_applied_index': 3, 'endpoint': 'https://10.0.0.1:2379'}]
    table = load('etcd_status_table').etcd_status_table
    assert '| ROLE ' in table({'members': members})[0] and '8e9e05c52164694d' not in '\n'.join(table({'members': members}))
    assert '8e9e05c52164694d' in table({'members': members}, details='true')[2]
    assert '| ROLE ' in table({'members': members}, details='false')[0]


def test_lock_refresh_due_after_a_third_of_the_ttl_and_whenever_unsure():
    due = load('maintenance_lock_refresh_due').maintenance_lock_refresh_due
    assert not due(1000.0, 300, now=1000.0 + 99.9)
    assert due(1000.0, 300, now=1100.0)
    assert due('', 300, now=1000.0)  # never renewed (or not held): renew
    assert due('1000.0', 300, now=1050.0) is False  # a fact may arrive as a string
    assert due(1000.0, 300, now=999.0)  # the clock went backwards
    assert due(1000.0, 0, now=1000.0) and due('nan', 300, now=1000.0) and due(None, 300, now=1000.0)
    assert due(0.0, 300) is True  # the default clock is the controller's now


@pytest.mark.parametrize('given, meant', [('false', False), ('no', False), (False, False), ('true', True), (True, True)])
def test_restore_plan_reads_the_discard_override_as_ansible_does(monkeypatch, given, meant):
    # -e restore_quorum_discard_stopped_data=false (or a survey) hands the filter the string 'false':
    # read with bool() it meant true, and the data of a stopped member would have been moved aside.
    module = load('etcd_restore_plan')
    seen = {}
    monkeypatch.setattr(module, 'restore_plan', lambda info, hosts, **kwargs: seen.update(kwargs))
    module.etcd_restore_plan({'members': []}, [], 'key', discard_stopped_data=given, check_mode=given)
    assert seen['discard_stopped_data'] is meant and seen['check_mode'] is meant


def test_playbook_command_carries_become_and_leaves_empty_options_out():
    command = load('playbook_command').FilterModule().filters()['playbook_command']
    assert command('start_node', '--limit', 'cp1', '') == \
        'ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit cp1'


def test_status_table_recovery_columns_accept_the_strings_extra_vars_give():
    table = load('etcd_status_table').FilterModule().filters()['etcd_status_table']
    state = {'members': [{'name': 'a', 'id': 'aaaa', 'is_leader': True, 'healthy': True, 'reachable': True,
                          'raft_term': 3, 'raft_applied_index': 9, 'endpoint': 'https://a:2379'}],
             'endpoints': ['https://a:2379'], 'cluster': {'alarms': []}}
    assert 'TERM' in table(state, recovery='true')[0] and 'BEHIND' in table(state, recovery='false')[0]


def test_etcd_connection_filter_names_itself_on_bad_input():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.kubemaint.control_plane.plugins.filter.etcd_connection import FilterModule
    resolve = FilterModule().filters()['etcd_connection']
    assert resolve({'cp1': {}}, 'cp1', ['cp1'])['endpoints'] == ['https://cp1:2379']
    with pytest.raises(AnsibleFilterError, match='^etcd_connection: '):
        resolve({'cp1': {}}, 'cp1', 'cp1')


def test_replace_lines_joined_for_the_yaml_result_format():
    lines = load('etcd_replace_lines').FilterModule().filters()['etcd_replace_lines']
    view = {'members': [], 'endpoints': [], 'cluster': {'alarms': []}}
    listed = lines(view, 'cp2', 'b', 'true', 'false', done={'actions': ['promoted']})
    assert listed[-1] == 'replace_member cp2: done: promoted'
    assert lines(view, 'cp2', 'b', True, False, joined=True) == '\n'.join(lines(view, 'cp2', 'b', True, False))


def test_replace_case_filter_takes_data_lost_as_ansible_gives_it_and_names_itself_on_bad_input():
    from ansible.errors import AnsibleFilterError
    choose = load('etcd_replace_case').FilterModule().filters()['etcd_replace_case']
    hostvars = {'cp1': {'_ping': {'ping': 'pong'}}, 'cp2': {'_ping': {'ping': 'pong'}}}
    chosen = choose(hostvars, 'cp2', 'control_plane', ['cp1', 'cp2'], ['cp1', 'cp2'], '_ping.ping', data_lost='false')
    assert chosen == {'reachable': True, 'member': 'cp2', 'reader': 'cp1', 'refusal': ''}
    with pytest.raises(AnsibleFilterError, match='^etcd_replace_case: answered must be'):
        choose(hostvars, 'cp2', 'control_plane', ['cp1', 'cp2'], ['cp1', 'cp2'], 'ping')


def test_rejoin_result_takes_where_the_old_data_went_from_the_plan_when_the_move_changed():
    result = load('etcd_rejoin_result').FilterModule().filters()['etcd_rejoin_result']
    plan = {'member': 'b', 'action': 'rejoin', 'data_dir': '/var/lib/etcd', 'moved_to': '/var/lib/etcd.replaced-x',
            'remove_id': 'ff', 'refused': []}
    moved = result(plan, 'cp-b', False, {'moved': {'changed': True}})
    assert moved['result']['data_dir_moved_to'] == '/var/lib/etcd.replaced-x'
    assert moved['moved'].startswith('cp-b: old etcd data moved from /var/lib/etcd to /var/lib/etcd.replaced-x')
    # nothing to move (no member directory): the move did not change anything, nothing is said
    stayed = result(plan, 'cp-b', False, {'moved': {'changed': False}})
    assert stayed['result']['data_dir_moved_to'] is None and stayed['moved'] == ''
    failed = result(plan, 'cp-b', False, {'moved': {'changed': True}}, member='b', failed_task='Add', retry_command='x')
    assert 'Its old etcd data is in /var/lib/etcd.replaced-x.' in failed['failure']
