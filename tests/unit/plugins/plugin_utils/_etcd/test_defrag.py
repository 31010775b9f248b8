"""defrag: which member needs defragmenting and why, the rolling plan (followers first, the leader last, learners
never, refused when the cluster is not fit or NOSPACE is raised), the table of what it freed, and the way out of
NOSPACE or why compaction and defragmentation cannot free enough."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.space import GIB, MIB
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.defrag import (
    DefragInputError,
    defrag_plan,
    defrag_rule,
    defrag_table,
    defrag_thresholds,
    disarm_verdict,
    member_hosts,
    settled,
    nospace_plan,
    raised_alarms,
)


def member(name, size=1 * GIB, in_use=900 * MIB, leader=False, learner=False, healthy=True, reachable=True, **extra):
    entry = {'name': name, 'id': '%s-id' % name, 'is_leader': leader, 'is_learner': learner, 'healthy': healthy,
             'reachable': reachable, 'db_size': size, 'db_size_in_use': in_use, 'alarms': [],
             'endpoint': 'https://%s:2379' % name}
    entry.update(extra)
    return entry


def info(*members, **cluster):
    return {'members': list(members), 'cluster': dict({'alarms': []}, **cluster)}


# --- the rule ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('figures,needs,reason', [
    ({'db_size': GIB, 'db_size_in_use': 400 * MIB}, True, '624 MiB of 1.0 GiB free (60%)'),
    ({'db_size': GIB, 'db_size_in_use': 600 * MIB}, False, '424 MiB of 1.0 GiB free (41%): under 45%'),
    # a small file: half of it free is not worth a member blocking
    ({'db_size': 100 * MIB, 'db_size_in_use': 10 * MIB}, False, '90 MiB of 100 MiB free (90%): under 100 MiB'),
    ({'db_size': 50 * MIB, 'db_size_in_use': 40 * MIB}, False,
     '10 MiB of 50 MiB free (20%): under 45% and under 100 MiB'),
    # db_size_free, when reported, wins over size - in use
    ({'db_size': GIB, 'db_size_in_use': 900 * MIB, 'db_size_free': 600 * MIB}, True, '600 MiB of 1.0 GiB free (58%)'),
    # near the quota: whatever is free is worth it
    ({'db_size': 1800 * MIB, 'db_size_in_use': 1700 * MIB, 'quota_bytes': 2 * GIB}, True,
     'quota 87% used (1.8 GiB of 2.0 GiB), over 80%; 100 MiB free'),
    ({'db_size': 1800 * MIB, 'db_size_in_use': 1800 * MIB, 'quota_bytes': 2 * GIB}, False,
     'quota 87% used (1.8 GiB of 2.0 GiB), over 80%, but nothing is free to reclaim: compact first'),
    ({'db_size': 1800 * MIB, 'db_size_in_use': 1700 * MIB, 'quota_usage': 0.81}, True,
     'quota 81% used (1.8 GiB of the quota), over 80%; 100 MiB free'),
    ({'db_size': 1000 * MIB, 'db_size_in_use': 900 * MIB, 'quota_bytes': 2 * GIB}, False,
     '100 MiB of 1000 MiB free (10%): under 45%'),
    ({'db_size': None}, False, 'db size unknown (the member reported no db_size or db_size_in_use)'),
    ({'db_size': GIB, 'db_size_in_use': None}, False, 'db size unknown (the member reported no db_size or db_size_in_use)'),
])
def test_rule(figures, needs, reason):
    assert defrag_rule(dict({'name': 'cp1'}, **figures)) == (needs, reason)


def test_rule_thresholds_are_the_callers():
    figures = {'name': 'cp1', 'db_size': GIB, 'db_size_in_use': 600 * MIB}
    assert defrag_rule(figures, min_free_fraction=0.4)[0]
    assert not defrag_rule(figures, min_free_fraction=0.4, min_free_bytes=500 * MIB)[0]
    assert defrag_rule(figures, min_free_fraction='0.4', min_free_bytes='1000')[0]  # extra vars are text
    assert defrag_rule(dict(figures, quota_bytes=GIB), max_quota_usage=0.5)[0]


@pytest.mark.parametrize('arguments,variable', [
    ({'min_free_fraction': -0.1}, 'defrag_min_free_fraction'),
    ({'min_free_fraction': 1.5}, 'defrag_min_free_fraction'),
    ({'min_free_fraction': 45}, 'defrag_min_free_fraction'),
    ({'min_free_fraction': 'half'}, 'defrag_min_free_fraction'),
    ({'min_free_fraction': True}, 'defrag_min_free_fraction'),
    ({'min_free_fraction': None}, 'defrag_min_free_fraction'),
    ({'min_free_bytes': -1}, 'defrag_min_free_bytes'),
    ({'min_free_bytes': '100Mi'}, 'defrag_min_free_bytes'),
    ({'min_free_bytes': [1]}, 'defrag_min_free_bytes'),
    ({'min_free_bytes': float('nan')}, 'defrag_min_free_bytes'),
    ({'max_quota_usage': 80}, 'defrag_max_quota_usage'),
    ({'max_quota_usage': {}}, 'defrag_max_quota_usage'),
])
def test_bad_thresholds_name_the_variable(arguments, variable):
    with pytest.raises(DefragInputError, match=variable):
        defrag_thresholds(**arguments)
    with pytest.raises(DefragInputError, match=variable):
        defrag_plan([member('cp1', leader=True)], **arguments)


def test_thresholds_accept_the_edges():
    assert defrag_thresholds(0, 0, 1) == {'min_free_fraction': 0.0, 'min_free_bytes': 0.0, 'max_quota_usage': 1.0}


@pytest.mark.parametrize('bad,match', [
    ({'db_size': 'big'}, 'member cp1: db_size must be a number'),
    ({'db_size_in_use': -5}, 'member cp1: db_size_in_use must not be negative'),
    ({'quota_bytes': True}, 'member cp1: quota_bytes must be a number'),
])
def test_bad_member_figures_name_the_member_and_field(bad, match):
    with pytest.raises(DefragInputError, match=match):
        defrag_rule(dict(member('cp1'), **bad))


# --- the rolling plan ----------------------------------------------------------------------------------------------

NEEDS = dict(size=GIB, in_use=300 * MIB)
FULL = dict(size=GIB, in_use=1000 * MIB)


def test_followers_first_by_name_the_leader_last_and_flagged():
    plan = defrag_plan(info(member('cp3', **NEEDS), member('cp1', leader=True, **NEEDS), member('cp2', **NEEDS)))
    assert plan['proceed'] and plan['refused'] == [] and plan['skipped'] == {}
    assert plan['order'] == ['cp2', 'cp3', 'cp1']
    assert plan['leader'] == 'cp1' and plan['move_leader_before'] == 'cp1'
    assert [(turn['member'], turn['move_leader'], turn['is_leader']) for turn in plan['turns']] == [
        ('cp2', False, False), ('cp3', False, False), ('cp1', True, True)]
    assert plan['turns'][0]['endpoint'] == 'https://cp2:2379' and plan['turns'][0]['id'] == 'cp2-id'
    assert plan['lines'] == [
        'cp1: defragment last, the leader: leadership moves away first (724 MiB of 1.0 GiB free (70%))',
        'cp2: defragment 1st of 3 (724 MiB of 1.0 GiB free (70%))',
        'cp3: defragment 2nd of 3 (724 MiB of 1.0 GiB free (70%))',
    ]
    assert plan['summary'] == ('Defragmenting 3 of 3 members one at a time, followers first, the leader cp1 last after '
                               'leadership moves away.')


def test_members_the_rule_does_not_take_are_skipped_with_the_figures():
    plan = defrag_plan(info(member('cp1', leader=True, **FULL), member('cp2', **NEEDS), member('cp3', **FULL)))
    assert plan['order'] == ['cp2'] and plan['move_leader_before'] == '' and plan['leader'] == 'cp1'
    assert plan['skipped'] == {'cp1': '24 MiB of 1.0 GiB free (2%): under 45% and under 100 MiB',
                               'cp3': '24 MiB of 1.0 GiB free (2%): under 45% and under 100 MiB'}
    assert plan['lines'][0] == 'cp1: skip, 24 MiB of 1.0 GiB free (2%): under 45% and under 100 MiB'
    assert plan['lines'][1] == 'cp2: defragment 1st of 1 (724 MiB of 1.0 GiB free (70%))'
    assert plan['summary'].startswith('Defragmenting 1 of 3 members one at a time, followers first.')


def test_nothing_to_do_is_no_refusal():
    plan = defrag_plan(info(member('cp1', leader=True, **FULL), member('cp2', **FULL), member('cp3', **FULL)))
    assert plan['proceed'] and plan['order'] == [] and plan['turns'] == []
    assert plan['summary'] == ('Nothing to defragment: no member meets the rule (45% free and 100 MiB, or quota usage '
                               'over 80%).')


def test_the_leader_alone():
    plan = defrag_plan([member('cp1', leader=True, **NEEDS), member('cp2', **FULL)])
    assert plan['order'] == ['cp1']
    assert plan['lines'][0] == 'cp1: defragment alone, the leader: leadership moves away first (724 MiB of 1.0 GiB free (70%))'


def test_force_takes_every_healthy_voter_never_a_learner():
    plan = defrag_plan(info(member('cp1', leader=True, **FULL), member('cp2', **FULL), member('cp4', learner=True, **NEEDS),
                            member('cp3', **FULL)), force=True)
    assert plan['order'] == ['cp2', 'cp3', 'cp1'] and plan['force']
    assert plan['turns'][0]['reason'] == 'forced; 24 MiB of 1.0 GiB free (2%): under 45% and under 100 MiB'
    assert list(plan['skipped']) == ['cp4'] and 'never defragments learners' in plan['skipped']['cp4']


def test_learners_are_skipped_and_say_why():
    plan = defrag_plan(info(member('cp1', leader=True, **NEEDS), member('cp2', learner=True, **NEEDS)))
    assert plan['order'] == ['cp1']
    assert plan['skipped'] == {'cp2': 'learner: the rolling defragmentation never defragments learners (defragment it '
                                      'once promoted)'}


@pytest.mark.parametrize('members,refusal', [
    ([member('cp1', leader=True, **NEEDS), member('cp2', **NEEDS),
      member('cp3', healthy=False, reachable=False, error='connection refused')],
     ['cp3 does not answer (connection refused): every member must answer before a member may block']),
    ([member('cp1', leader=True, **NEEDS), member('cp2', **NEEDS), member('cp3', healthy=False, health_error='timeout')],
     ['voter cp3 is not healthy (timeout)']),
    ([member('cp1', leader=True, **NEEDS), member('cp2', **NEEDS), member('cp3', learner=True, reachable=False)],
     ['cp3 does not answer (no status): every member must answer before a member may block']),
    ([member('cp1', healthy=False), member('cp2', healthy=False), member('cp3')],
     ['voter cp1 is not healthy (its linearizable read failed)', 'voter cp2 is not healthy (its linearizable read failed)',
      'no quorum (1 of 3 voters healthy, 2 needed)']),
    ([member('cp1', **NEEDS), member('cp2', **NEEDS), member('cp3', **NEEDS)], ['no leader seen']),
    ([], ['etcd could not be read: no member answered']),
])
def test_an_unfit_cluster_is_refused_and_nothing_is_ordered(members, refusal):
    plan = defrag_plan(info(*members))
    assert plan['refused'] == refusal and not plan['proceed'] and plan['order'] == [] and plan['turns'] == []
    assert plan['summary'] == 'Defragmentation refused: %s.' % '; '.join(refusal)
    assert len(plan['lines']) == len(members)


def test_a_member_down_is_a_refusal_not_a_skip_and_the_others_say_what_they_would_do():
    plan = defrag_plan(info(member('cp1', leader=True, **NEEDS), member('cp2', **FULL),
                            member('cp3', healthy=False, reachable=False)))
    assert 'cp3' not in plan['skipped'] and 'cp2' in plan['skipped']
    assert plan['lines'] == [
        'cp1: would be defragmented (724 MiB of 1.0 GiB free (70%)), but the plan is refused',
        'cp2: skip, 24 MiB of 1.0 GiB free (2%): under 45% and under 100 MiB',
        'cp3: does not answer - nothing is defragmented while a member is down or unhealthy',
    ]


def test_nospace_refuses_and_names_the_recovery_playbook():
    plan = defrag_plan(info(member('cp1', leader=True, **NEEDS), member('cp2', alarms=['NOSPACE'], **NEEDS)))
    assert plan['refused'] == [
        'NOSPACE alarm raised on cp2: etcd accepts no write; a rolling defragmentation does not disarm it. Recover with '
        'ansible-playbook -b -i <inventory> kubemaint.control_plane.recover_nospace (it compacts, defragments every '
        'member and disarms the alarm)']
    from_cluster = defrag_plan(info(member('cp1', leader=True, **NEEDS), member('cp2', **NEEDS),
                                    alarms=[{'alarm': 'NOSPACE', 'member_id': 'cp2-id'}]))
    assert from_cluster['refused'] == plan['refused']


def test_another_alarm_refuses_too():
    plan = defrag_plan(info(member('cp1', leader=True, **NEEDS), alarms=[{'alarm': 'CORRUPT', 'member': 'cp1'}]))
    assert plan['refused'] == ['CORRUPT alarm raised on cp1: find and fix its cause before any maintenance']


@pytest.mark.parametrize('leader', ['cp2', 'cp2-id', {'id': 'cp2-id', 'name': 'cp2'}])
def test_the_leader_may_be_given_by_name_or_id(leader):
    plan = defrag_plan([member('cp1', **NEEDS), member('cp2', **NEEDS), member('cp3', **NEEDS)], leader=leader)
    assert plan['order'] == ['cp1', 'cp3', 'cp2'] and plan['leader'] == 'cp2'


def test_the_leader_comes_from_the_cluster_when_no_member_says_it_leads():
    state = info(member('cp1', **NEEDS), member('cp2', **NEEDS), leader={'id': 'cp1-id', 'name': 'cp1'})
    assert defrag_plan(state)['order'] == ['cp2', 'cp1']
    view = {'members': [member('cp1', **NEEDS), member('cp2', **NEEDS)], 'leader': 'cp2'}
    assert defrag_plan(view)['order'] == ['cp1', 'cp2']


@pytest.mark.parametrize('state,match', [
    ('cp1', 'expected etcd_member_info\'s result or its members list, got str'),
    (42, 'got int'),
    ([1, 2], 'a member must be a dict'),
    ({'members': [member('cp1', alarms='NOSPACE')]}, 'member cp1: alarms must be a list'),
])
def test_bad_input_is_named(state, match):
    with pytest.raises(DefragInputError, match=match):
        defrag_plan(state)


def test_an_unknown_leader_is_named():
    with pytest.raises(DefragInputError, match="the leader 'cp9' is not a member"):
        defrag_plan([member('cp1')], leader='cp9')


def test_raised_alarms_read_every_form():
    members = [member('cp1'), member('cp2', alarms=['NOSPACE'])]
    state = info(*members, alarms=[{'alarm': 'NOSPACE', 'member_id': 'cp1-id'}, {'alarm': 'NONE'}])
    expected = {'NOSPACE': ['cp1', 'cp2'], 'CORRUPT': ['cp3']}
    assert raised_alarms(state, members, ['CORRUPT on cp3', 'NOSPACE']) == expected


# --- the table -----------------------------------------------------------------------------------------------------

def cells(line):
    return [cell.strip() for cell in line.split('|')[1:-1]]


BEFORE = info(member('cp1', leader=True, size=GIB, in_use=300 * MIB, quota_bytes=2 * GIB),
              member('cp2', size=GIB, in_use=900 * MIB, quota_bytes=2 * GIB),
              member('a-very-long-member-name.example.internal', size=800 * MIB, in_use=100 * MIB, learner=True,
                     alarms=['NOSPACE']))


def test_before_table():
    lines = defrag_table(BEFORE)
    assert cells(lines[0]) == ['MEMBER', 'ROLE', 'DB SIZE', 'IN USE', 'FREE', 'QUOTA']
    assert cells(lines[2]) == ['a-very-long-member..', 'learner', '800 MiB', '100 MiB', '700 MiB', '-']
    assert cells(lines[3]) == ['cp1', 'leader', '1.0 GiB', '300 MiB', '724 MiB', '50%']
    assert cells(lines[4]) == ['cp2', 'follower', '1.0 GiB', '900 MiB', '124 MiB', '50%']
    assert lines[5] == 'a-very-long-member-name.example.internal: alarm NOSPACE raised'
    assert lines[-1] == 'total: 2.8 GiB in 3 members, 1.5 GiB free'
    assert max(len(line) for line in lines if line.startswith('|')) < 90


def result(name, before, after, in_use, seconds, **extra):
    entry = {'member': name, 'endpoint': 'https://%s:2379' % name, 'changed': True, 'db_size_before': before,
             'db_size_in_use_before': in_use, 'db_size_after': after, 'db_size_in_use_after': in_use,
             'freed': before - after, 'seconds': seconds}
    entry.update(extra)
    return entry


def test_after_table_with_a_total():
    results = [result('cp2', GIB, 910 * MIB, 900 * MIB, 0.4), result('cp1', GIB, 310 * MIB, 300 * MIB, 1.25)]
    lines = defrag_table(BEFORE, results)
    assert cells(lines[0]) == ['MEMBER', 'BEFORE', 'AFTER', 'IN USE', 'FREED', 'BLOCKED']
    assert cells(lines[2]) == ['a-very-long-member..', '800 MiB', 'not run', '100 MiB', '-', '-']
    assert cells(lines[3]) == ['cp1', '1.0 GiB', '310 MiB', '300 MiB', '714 MiB', '1.2 s']
    assert cells(lines[4]) == ['cp2', '1.0 GiB', '910 MiB', '900 MiB', '114 MiB', '0.4 s']
    assert lines[-1] == ('total: 2 members, 828 MiB freed (2.0 GiB -> 1.2 GiB), blocked 1.6 s, longest '
                         '1.2 s (cp1)')
    assert max(len(line) for line in lines) < 90


def test_a_registered_loop_with_failures_and_skips():
    loop = {'results': [
        dict(result('x', GIB, 500 * MIB, 400 * MIB, 2.0), member=None, item='cp1'),
        {'item': {'name': 'cp2'}, 'failed': True, 'msg': 'context deadline exceeded'},
        {'item': 'a-very-long-member-name.example.internal', 'skipped': True},
    ]}
    lines = defrag_table(BEFORE, loop)
    assert cells(lines[3])[:3] == ['cp1', '1.0 GiB', '500 MiB']
    assert cells(lines[4]) == ['cp2', '1.0 GiB', 'FAILED', '900 MiB', '-', '-']
    assert 'cp2: defragmentation failed: context deadline exceeded' in lines
    assert lines[-1].endswith('; FAILED: cp2') and lines[-1].startswith('total: 1 member, 524 MiB freed')


def test_results_by_member_and_members_only_in_the_results():
    lines = defrag_table([member('cp1', leader=True)], {'cp1': result('cp1', GIB, GIB, GIB, 0.1, freed=None),
                                                        'cp9': result('cp9', 10 * MIB, 5 * MIB, 5 * MIB, 0.2)})
    assert cells(lines[2])[4] == '0 B' and cells(lines[3])[0] == 'cp9'


@pytest.mark.parametrize('results,match', [
    ('done', 'results must be a list of etcd_defrag results'),
    ([1], 'an etcd_defrag result must be a dict'),
    ([{'freed': 1}], 'an etcd_defrag result names no member'),
    ([dict(result('cp1', 1, 1, 1, 1), db_size_before='big')], 'result of cp1: db_size_before must be a number'),
])
def test_bad_results_are_named(results, match):
    with pytest.raises(DefragInputError, match=match):
        defrag_table(BEFORE, results)


# --- NOSPACE -------------------------------------------------------------------------------------------------------

def nospace(in_use_leader=1000 * MIB, in_use_others=1000 * MIB, **extra):
    return info(member('cp1', leader=True, size=2 * GIB, in_use=in_use_leader, alarms=['NOSPACE']),
                member('cp2', size=2 * GIB, in_use=in_use_others), member('cp3', size=2 * GIB, in_use=in_use_others),
                **extra)


def test_nospace_steps_compact_defragment_followers_first_disarm_check():
    plan = nospace_plan(nospace())
    assert plan['raised'] and plan['members'] == ['cp1'] and plan['proceed'] and plan['refused'] == []
    assert [step['action'] for step in plan['steps']] == ['compact', 'defragment', 'disarm', 'check_write']
    assert plan['steps'][1]['members'] == plan['order'] == ['cp2', 'cp3', 'cp1']
    assert plan['steps'][1]['text'] == ('defragment every member one at a time: cp2, cp3, cp1 (leader, after leadership '
                                        'moves away)')
    assert plan['disarm'] == {'ready': False, 'reason': (
        'not every member is under 90% of its quota: cp1 (2.0 GiB of a 2.0 GiB quota, 100%), cp2 (2.0 GiB of a '
        '2.0 GiB quota, 100%), cp3 (2.0 GiB of a 2.0 GiB quota, 100%)')}
    assert plan['lines'][0] == 'cp1 (leader): db 2.0 GiB of a 2.0 GiB quota (100%), 1000 MiB in use, 1.0 GiB free, NOSPACE raised'
    assert plan['summary'].startswith('NOSPACE is raised on cp1: compact the keyspace to the current revision')


def test_nospace_from_the_cluster_alarms_or_the_alarms_argument():
    members = [member('cp1', leader=True, size=2 * GIB, in_use=GIB), member('cp2', size=2 * GIB, in_use=GIB)]
    assert nospace_plan(info(*members, alarms=[{'alarm': 'NOSPACE', 'member': 'cp2'}]))['members'] == ['cp2']
    assert nospace_plan(members, alarms=[{'alarm': 'NOSPACE', 'member_id': 'cp1-id'}])['members'] == ['cp1']
    assert nospace_plan(members, alarms=['NOSPACE'])['raised']


def test_without_nospace_there_is_nothing_to_recover():
    plan = nospace_plan(info(member('cp1', leader=True), member('cp2')))
    assert not plan['raised'] and not plan['proceed'] and plan['steps'] == [] and plan['order'] == []
    assert plan['summary'] == ('No NOSPACE alarm is raised: nothing to recover. ansible-playbook -b -i <inventory> '
                               'kubemaint.control_plane.defrag defragments the members that need it.')


def test_live_data_that_fills_the_quota_is_refused_with_figures_and_the_flag_to_raise():
    # one member defragmented already shows the live data: the least in use of all, and it fills the quota
    assert nospace_plan(nospace(in_use_leader=1900 * MIB))['proceed']
    plan = nospace_plan(nospace(in_use_leader=1900 * MIB, in_use_others=1950 * MIB))
    assert plan['raised'] and not plan['proceed'] and plan['steps'] == [] and plan['order'] == []
    assert len(plan['refused']) == 1
    refusal = plan['refused'][0]
    assert refusal.startswith('the live data alone fills the quota: cp1 holds 1.9 GiB in use under a 2.0 GiB quota '
                              '(92%, the limit is 90%)')
    assert ('Raise --quota-backend-bytes (to 4294967296, 4.0 GiB; etcd advises at most 8.0 GiB) on every control-plane '
            'node, one node at a time, with the kubemaint.control_plane.static_pod_flags module') in refusal
    assert refusal.endswith('then run ansible-playbook -b -i <inventory> kubemaint.control_plane.recover_nospace')
    assert plan['summary'] == 'NOSPACE recovery refused: %s.' % refusal


def test_live_data_near_the_advised_maximum_says_to_delete_what_fills_etcd():
    members = [member('cp1', leader=True, size=8 * GIB, in_use=int(7.5 * GIB), quota_bytes=8 * GIB, alarms=['NOSPACE'])]
    refusal = nospace_plan(members)['refused'][0]
    assert 'etcd advises a quota of at most 8.0 GiB: find what fills etcd' in refusal
    assert '--quota-backend-bytes' not in refusal


def test_quota_comes_from_the_member_then_the_parameter_then_etcds_default():
    members = [member('cp1', leader=True, size=3 * GIB, in_use=int(2.8 * GIB), alarms=['NOSPACE'])]
    assert nospace_plan(members)['refused']  # 2.8 GiB in use of the default 2 GiB
    assert nospace_plan(members, quota_bytes=4 * GIB)['proceed']
    assert nospace_plan(members, quota_bytes=str(4 * GIB))['proceed']
    assert not nospace_plan([dict(members[0], quota_bytes=3 * GIB)], quota_bytes=8 * GIB)['proceed']


def test_nospace_refuses_when_a_member_does_not_answer_or_reports_no_in_use():
    down = nospace_plan(info(member('cp1', leader=True, alarms=['NOSPACE']), member('cp2'),
                             member('cp3', healthy=False, reachable=False, error='refused')))
    assert down['refused'] == ['cp3 does not answer (refused): every member must answer before a member may block']
    unknown = nospace_plan(info(member('cp1', leader=True, alarms=['NOSPACE'], db_size_in_use=None)))
    assert unknown['refused'] == ['cp1 reported no db_size_in_use: whether compaction and defragmentation free enough '
                                  'cannot be told']
    corrupt = nospace_plan(info(member('cp1', leader=True, alarms=['NOSPACE', 'CORRUPT'])))
    assert corrupt['refused'] == ['CORRUPT alarm raised on cp1: find and fix its cause first']


@pytest.mark.parametrize('arguments,variable', [
    ({'quota_bytes': 0}, 'nospace_quota_bytes'),
    ({'quota_bytes': '2Gi'}, 'nospace_quota_bytes'),
    ({'live_data_limit': 0}, 'nospace_live_data_limit'),
    ({'live_data_limit': 90}, 'nospace_live_data_limit'),
    ({'disarm_below': -1}, 'nospace_disarm_below'),
    ({'disarm_below': 'most'}, 'nospace_disarm_below'),
])
def test_bad_nospace_parameters_name_the_variable(arguments, variable):
    with pytest.raises(DefragInputError, match=variable):
        nospace_plan(nospace(), **arguments)


@pytest.mark.parametrize('sizes,ready', [
    ([GIB, GIB, GIB], True),
    ([GIB, int(1.85 * GIB), GIB], False),  # 92% of 2 GiB
    ([GIB, int(1.79 * GIB), GIB], True),  # 89%
    ([GIB, None, GIB], False),
])
def test_disarm_only_once_every_member_is_under_the_quota(sizes, ready):
    members = [member('cp%d' % number, size=size, in_use=None) for number, size in enumerate(sizes, 1)]
    assert disarm_verdict(members)[0] is ready
    if ready:
        assert disarm_verdict(members) == (True, 'every member is under 90% of its quota')


def test_disarm_threshold_and_quota_are_the_callers():
    members = [member('cp1', size=int(1.5 * GIB))]
    assert disarm_verdict(members)[0] and not disarm_verdict(members, disarm_below=0.7)[0]
    assert not disarm_verdict(members, quota_bytes=GIB)[0]
    assert disarm_verdict([]) == (False, 'etcd could not be read: no member answered')
    assert disarm_verdict(members, quota_bytes=GIB)[1] == ('not every member is under 90% of its quota: cp1 (1.5 GiB of '
                                                           'a 1.0 GiB quota, 150%)')


def test_after_the_defragmentation_the_plan_says_disarm_is_ready():
    after = info(member('cp1', leader=True, size=1010 * MIB, in_use=1000 * MIB, alarms=['NOSPACE']),
                 member('cp2', size=1010 * MIB, in_use=1000 * MIB))
    assert nospace_plan(after)['disarm']['ready']


def test_each_turn_names_the_inventory_host_of_its_member_by_node_name_or_inventory_name():
    hosts = [{'inventory_hostname': 'K-CP-01', 'node_name': 'k-cp-01'}, {'inventory_hostname': 'k-cp-02'},
             {'inventory_hostname': 'other', 'node_name': 'k-cp-02'}, 'not a host', {'node_name': 'no inventory name'}]
    assert member_hosts(hosts) == {'k-cp-01': 'K-CP-01', 'k-cp-02': 'k-cp-02'}
    assert member_hosts(None) == {}
    plan = defrag_plan(info(member('k-cp-01', leader=True, in_use=100 * MIB), member('k-cp-02', in_use=100 * MIB),
                            member('k-cp-03', in_use=100 * MIB)), hosts=hosts)
    assert [(turn['member'], turn['host'], turn['move_leader']) for turn in plan['turns']] == [
        ('k-cp-02', 'k-cp-02', False), ('k-cp-03', '', False), ('k-cp-01', 'K-CP-01', True)]


def test_the_nospace_turns_take_every_member_the_leader_last_each_with_its_host():
    full = info(member('a', leader=True, size=GIB, in_use=100 * MIB, alarms=['NOSPACE']),
                member('b', size=GIB, in_use=100 * MIB), member('c', size=GIB, in_use=100 * MIB),
                alarms=[{'alarm': 'NOSPACE', 'member': 'a'}])
    plan = nospace_plan(full, quota_bytes=GIB, hosts=[{'inventory_hostname': 'cp-a', 'node_name': 'a'}])
    assert plan['proceed'], plan['refused']
    assert [(turn['member'], turn['host'], turn['move_leader']) for turn in plan['turns']] == [
        ('b', '', False), ('c', '', False), ('a', 'cp-a', True)]
    assert nospace_plan(info(member('a', leader=True)))['turns'] == []


def test_before_the_compaction_what_is_in_use_is_no_measure_of_the_live_data():
    full = nospace(in_use_leader=1900 * MIB, in_use_others=1900 * MIB)
    before = nospace_plan(full, compacted=False)
    assert before['proceed'] and before['refused'] == [] and before['order']
    assert nospace_plan(full)['refused'][0].startswith('the live data alone fills the quota')


def test_a_turn_is_over_when_every_member_is_healthy_and_the_member_caught_up():
    def at(applied, **extra):
        return dict(extra, raft_applied_index=applied)
    calm = info(member('a', leader=True, **at(100)), member('b', **at(100)), member('c', **at(99)))
    assert settled(calm, 'b')
    assert not settled(info(member('a', leader=True, **at(5000)), member('b', **at(100)), member('c', **at(5000))),
                       'b')  # b trails the leader
    assert not settled(info(member('a', leader=True, **at(100)), member('b', **at(100)),
                            member('c', healthy=False, **at(100))), 'b')  # c is not healthy
    assert not settled({'members': []}, 'b') and not settled(calm, 'nobody')


def test_in_check_mode_the_table_says_what_a_run_would_free_and_that_nothing_was_defragmented():
    before = info(member('a', leader=True, size=GIB, in_use=100 * MIB), member('b', size=GIB, in_use=100 * MIB))
    checked = [{'member': 'a', 'changed': True, 'db_size_before': GIB, 'db_size_in_use_before': 100 * MIB,
                'freed_estimate': GIB - 100 * MIB},
               {'member': 'b', 'changed': True, 'db_size_before': GIB, 'db_size_in_use_before': 100 * MIB,
                'freed_estimate': GIB - 100 * MIB}]
    lines = defrag_table(before, checked)
    assert [cell.strip() for cell in lines[2].split('|')[1:-1]] == ['a', '1.0 GiB', '~100 MiB', '100 MiB', '~924 MiB', '-']
    assert lines[-1] == 'total: nothing was defragmented (check mode); a run would free about 1.8 GiB'
