"""The defrag_plan, defrag_table and nospace_plan filters: the plans with the inputs a playbook has at hand (the
registered etcd_member_info result, extra vars as text), and bad input as one AnsibleFilterError line, never a
traceback."""
import importlib

import pytest
from ansible.errors import AnsibleFilterError

GIB = 1024 ** 3
MIB = 1024 ** 2


def load(name):
    module = importlib.import_module('ansible_collections.kubemaint.control_plane.plugins.filter.' + name)
    return module.FilterModule().filters()[name]


def member(name, leader=False, in_use=300 * MIB, alarms=None):
    return {'name': name, 'id': '%s-id' % name, 'is_leader': leader, 'is_learner': False, 'healthy': True,
            'reachable': True, 'db_size': GIB, 'db_size_in_use': in_use, 'alarms': alarms or []}


MEMBER_INFO = {'changed': False, 'members': [member('cp1', leader=True), member('cp2'), member('cp3', in_use=GIB)],
               'cluster': {'leader': {'id': 'cp1-id', 'name': 'cp1'}, 'alarms': []}}


def test_defrag_plan_from_member_info_with_extra_vars_as_text():
    plan = load('defrag_plan')(MEMBER_INFO, min_free_fraction='0.5', min_free_bytes='1048576', max_quota_usage='0.9',
                               force='false')
    assert plan['order'] == ['cp2', 'cp1'] and plan['move_leader_before'] == 'cp1' and not plan['force']
    assert load('defrag_plan')(MEMBER_INFO, force='yes')['order'] == ['cp2', 'cp3', 'cp1']


@pytest.mark.parametrize('arguments,message', [
    ({'min_free_fraction': '45%'}, "defrag_plan: defrag_min_free_fraction must be a number, got '45%'"),
    ({'min_free_bytes': -1}, 'defrag_plan: defrag_min_free_bytes must be a number of bytes (0 or more), got -1'),
    ({'max_quota_usage': 2}, 'defrag_plan: defrag_max_quota_usage must be a number from 0 to 1'),
    ({'force': 'perhaps'}, 'defrag_plan: '),
    ({'leader': 'cp9'}, "defrag_plan: the leader 'cp9' is not a member"),
])
def test_defrag_plan_bad_options_are_filter_errors(arguments, message):
    with pytest.raises(AnsibleFilterError) as error:
        load('defrag_plan')(MEMBER_INFO, **arguments)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize('name', ['defrag_plan', 'defrag_table', 'nospace_plan'])
@pytest.mark.parametrize('bad', ['text', 3, None, [None], [{'name': 'cp1', 'db_size': 'x', 'healthy': True, 'is_leader': True}]])
def test_bad_input_is_a_filter_error(name, bad):
    with pytest.raises(AnsibleFilterError) as error:
        load(name)(bad)
    assert str(error.value).startswith(name + ': ')


def test_defrag_table_through_the_filter():
    results = {'results': [{'item': 'cp2', 'member': 'cp2', 'db_size_before': GIB, 'db_size_after': 310 * MIB,
                            'db_size_in_use_after': 300 * MIB, 'freed': GIB - 310 * MIB, 'seconds': 0.5},
                           {'item': 'cp3', 'skipped': True}]}
    after = load('defrag_table')(MEMBER_INFO, results)
    assert after[0].split('|')[1].strip() == 'MEMBER' and after[-1].startswith('total: 1 member, 714 MiB freed')
    assert load('defrag_table')(MEMBER_INFO)[-1] == 'total: 3.0 GiB in 3 members, 1.4 GiB free'
    with pytest.raises(AnsibleFilterError, match='defrag_table: results must be a list'):
        load('defrag_table')(MEMBER_INFO, 'none')


def test_nospace_plan_through_the_filter():
    raised = dict(MEMBER_INFO, cluster={'leader': {'id': 'cp1-id', 'name': 'cp1'},
                                        'alarms': [{'alarm': 'NOSPACE', 'member_id': 'cp2-id', 'member': 'cp2'}]})
    plan = load('nospace_plan')(raised, quota_bytes=str(GIB + GIB))
    assert plan['raised'] and plan['members'] == ['cp2'] and plan['order'] == ['cp2', 'cp3', 'cp1']
    refused = load('nospace_plan')(raised, quota_bytes=310 * MIB)
    assert 'the live data alone fills the quota: cp1 holds 300 MiB in use under a 310 MiB quota' in refused['refused'][0]
    assert load('nospace_plan')(raised, quota_bytes=310 * MIB, compacted='no')['proceed']
    with pytest.raises(AnsibleFilterError, match='nospace_plan: nospace_disarm_below must be a number from above 0 to 1'):
        load('nospace_plan')(raised, disarm_below=0)
    with pytest.raises(AnsibleFilterError, match='nospace_plan: alarms must be a list'):
        load('nospace_plan')(raised, alarms='NOSPACE')


def test_status_table_quota_warning_accepts_text_and_names_a_bad_value():
    near = {'members': [dict(member('cp1', leader=True), quota_bytes=GIB + 100 * MIB)], 'cluster': {'alarms': []}}
    table = load('etcd_status_table')
    assert '| QUOTA ' in table(near)[0] and '| QUOTA ' not in table(near, quota_warning='0.95')[0]
    with pytest.raises(AnsibleFilterError, match='etcd_status_table: quota_warning .cluster_state_quota_warning. must '
                                                 'be a number from 0 to 1, got 80'):
        table(near, quota_warning=80)
