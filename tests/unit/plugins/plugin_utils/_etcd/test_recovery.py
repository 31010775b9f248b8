"""member_recovery's decision matrix: nothing, promote, rejoin or remove, and every refusal."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import (
    find_own_member,
    node_etcd_settings,
    plan_steps,
    recovery_plan,
    rejoin_manifests,
)

FLAGS = {'initial-advertise-peer-urls': 'https://10.0.0.2:2380', 'data-dir': '/var/lib/etcd', 'name': 'b'}


def member(name, healthy=True, learner=False, peer=None, leader=False, member_id=None):
    return {'name': name, 'id': member_id or ('%s' % name or 'x') * 4, 'healthy': healthy, 'is_learner': learner,
            'is_leader': leader, 'peer_urls': [peer or 'https://10.0.0.%d:2380' % (ord(name[0]) - 96 if name else 9)]}


def info(*members):
    return {'members': list(members)}


def test_settings_reroot_the_data_dir_below_the_node_root():
    settings = node_etcd_settings(FLAGS, '/lab/cp-02/etc/kubernetes')
    assert settings == {'peer_urls': ['https://10.0.0.2:2380'], 'data_dir': '/lab/cp-02/var/lib/etcd'}
    assert node_etcd_settings({}, '/etc/kubernetes') == {'peer_urls': [], 'data_dir': '/var/lib/etcd'}


def test_own_member_by_name_else_a_nameless_one_with_its_peer_url():
    nameless = member('', healthy=False, learner=True, peer='https://10.0.0.2:2380', member_id='ff')
    assert find_own_member([member('a'), nameless], 'b', ['https://10.0.0.2:2380']) is nameless
    assert find_own_member([member('a'), member('b')], 'b', [])['name'] == 'b'
    assert find_own_member([member('a')], 'b', ['https://10.0.0.2:2380']) is None


@pytest.mark.parametrize('case,members,action,remove', [
    ('healthy_voter', [member('a', leader=True), member('b'), member('c')], 'none', False),
    ('running_learner', [member('a', leader=True), member('b', learner=True), member('c')], 'promote', False),
    ('stale_voter', [member('a', leader=True), member('b', healthy=False), member('c')], 'rejoin', True),
    ('stale_learner', [member('a', leader=True), member('b', healthy=False, learner=True), member('c')], 'rejoin', True),
    ('added_not_started', [member('a'), member('', healthy=False, learner=True, peer='https://10.0.0.2:2380'),
                           member('c')], 'rejoin', True),
    ('not_a_member', [member('a', leader=True), member('c')], 'rejoin', False),
    ('other_peer_url', [member('a'), member('b', peer='https://10.0.0.7:2380'), member('c')], 'rejoin', True),
])
def test_rejoin_matrix(case, members, action, remove):
    plan = recovery_plan(info(*members), 'b', FLAGS)
    assert plan['refused'] == [], case
    assert plan['action'] == action, case
    assert bool(plan['remove_id']) is remove, case
    assert plan['peer_urls'] == ['https://10.0.0.2:2380'] and plan['data_dir'] == '/var/lib/etcd'
    assert plan['reason']


@pytest.mark.parametrize('case,members,flags,text', [
    ('no_quorum', [member('a'), member('b', healthy=False), member('c', healthy=False)], FLAGS, 'etcd has no quorum'),
    ('other_voter_down', [member('a'), member('b', healthy=False), member('c', healthy=False), member('d'),
                          member('e')], FLAGS, 'voting member c (id cccc, voter, not healthy) is not healthy'),
    ('other_learner', [member('a'), member('c'), member('l', learner=True)], FLAGS, 'already has a learner'),
    ('peer_url_taken', [member('a'), member('x', peer='https://10.0.0.2:2380'), member('c')], FLAGS,
     'belongs to another member, x'),
    ('no_peer_url', [member('a'), member('c')], {}, 'no --initial-advertise-peer-urls'),
    ('unreadable', [], FLAGS, 'etcd could not be read'),
])
def test_rejoin_refusals(case, members, flags, text):
    plan = recovery_plan(info(*members), 'b', flags)
    assert any(text in reason for reason in plan['refused']), (case, plan['refused'])


def test_removing_a_healthy_voter_with_other_urls_is_refused_when_it_costs_quorum():
    # 3 voters, c down: replacing b's healthy member (peer URL changed) would leave 1 of 2 healthy
    plan = recovery_plan(info(member('a'), member('b', peer='https://10.0.0.7:2380'), member('c', healthy=False)),
                         'b', FLAGS)
    assert any('would leave 1 of 2 voters healthy' in reason for reason in plan['refused']), plan['refused']


@pytest.mark.parametrize('case,members,action,text', [
    ('lost_voter', [member('a'), member('b', healthy=False), member('c')], 'remove', ''),
    ('already_gone', [member('a'), member('c')], 'none', ''),
    ('still_running', [member('a'), member('b'), member('c')], 'none', 'its etcd still runs'),
    ('costs_quorum', [member('a'), member('b', healthy=False), member('c', healthy=False)], 'none', 'no quorum'),
    # removing a member that is down never lowers the healthy count: 3 of 5 healthy, then 3 of 4
    ('two_down_of_five', [member('a'), member('b', healthy=False), member('c', healthy=False), member('d'),
                          member('e')], 'remove', ''),
])
def test_remove_matrix(case, members, action, text):
    plan = recovery_plan(info(*members), 'b', rejoin=False)
    assert plan['action'] == action, case
    if text:
        assert any(text in reason for reason in plan['refused']), (case, plan['refused'])
    else:
        assert plan['refused'] == [], case
    assert plan['data_dir'] is None and 'member b' in plan['seen']


# --------------------------------------------------------------------------- the steps the plan runs

REJOIN_ALL = ['stop', 'move_data', 'remove', 'add', 'flags', 'start_etcd', 'wait', 'promote', 'start_rest']
STALE = [member('a', leader=True), member('b', healthy=False), member('c')]
NOT_A_MEMBER = [member('a', leader=True), member('c')]
LEARNER = [member('a', leader=True), member('b', learner=True), member('c')]
HEALTHY = [member('a', leader=True), member('b'), member('c')]


@pytest.mark.parametrize('case,members,check_mode,stop,steps', [
    # a stale member: every step, the pods still running stopped first
    ('stale', STALE, False, ['kube-apiserver', 'etcd'], REJOIN_ALL),
    ('stale_nothing_running', STALE, False, [], REJOIN_ALL[1:]),
    # no member to remove: the rest of the rejoin
    ('not_a_member', NOT_A_MEMBER, False, ['etcd'], [s for s in REJOIN_ALL if s != 'remove']),
    # check mode: the stale member is still listed after its removal, so nothing is predicted past it
    ('stale_check', STALE, True, ['etcd'], ['stop', 'move_data', 'remove']),
    # check mode without a member to remove: the add and the flags, nothing started
    ('not_a_member_check', NOT_A_MEMBER, True, [], ['move_data', 'add', 'flags']),
    # a running learner: started (nothing changes when it runs), caught up, promoted, the rest started
    ('learner', LEARNER, False, [], ['start_etcd', 'wait', 'promote', 'start_rest']),
    ('learner_check', LEARNER, True, [], ['start_etcd', 'promote', 'start_rest']),
    # a healthy voter: nothing
    ('healthy', HEALTHY, False, ['etcd'], []),
    ('healthy_check', HEALTHY, True, [], []),
    # refused: nothing
    ('refused', [member('a'), member('b', healthy=False), member('c', healthy=False)], False, ['etcd'], []),
])
def test_rejoin_steps(case, members, check_mode, stop, steps):
    plan = recovery_plan(info(*members), 'b', FLAGS, check_mode=check_mode, host='cp-b', stop=stop)
    assert plan['steps'] == steps, case
    assert plan_steps(plan, check_mode, stop) == steps, case


@pytest.mark.parametrize('case,members,steps', [
    ('lost_voter', STALE, ['remove']),
    ('already_gone', NOT_A_MEMBER, []),
    ('still_running', HEALTHY, []),
])
def test_remove_steps(case, members, steps):
    for check_mode in (False, True):
        assert recovery_plan(info(*members), 'b', rejoin=False, check_mode=check_mode)['steps'] == steps, case


def test_the_lines_name_the_node_on_a_rejoin_and_the_member_on_a_removal():
    plan = recovery_plan(info(*STALE), 'b', FLAGS, host='cp-b')
    assert plan['line'] == 'cp-b: %s Plan: %s.' % (plan['seen'], plan['reason']) and plan['refusal'] == ''
    removal = recovery_plan(info(*STALE), 'b', rejoin=False, host='cp-a')
    assert removal['line'].startswith('member b: etcd: 2 of 3 voters healthy') and removal['line'].endswith(
        ' Plan: %s.' % removal['reason'])
    refused = recovery_plan(info(*HEALTHY), 'b', rejoin=False)
    reasons = '; '.join(refused['refused'])
    assert refused['line'] == 'member b: %s Refused: %s. Nothing was changed.' % (refused['seen'], reasons)
    assert refused['refusal'] == 'Refusing to remove etcd member b: %s. %s Nothing was changed.' % (
        reasons, refused['seen'])
    no_quorum = recovery_plan(info(member('a'), member('b', healthy=False), member('c', healthy=False)), 'b', FLAGS,
                              host='cp-b')
    assert no_quorum['refusal'].startswith('Refusing to rejoin cp-b (etcd member b): etcd has no quorum (1 of 3')


# --------------------------------------------------------------------------- rejoin_manifests

KDIR = '/etc/kubernetes'
ALL = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']


def pods(running=(), copies=(), data=True, manifests_dir_exists=True, strays=()):
    """A static_pod_info result: `copies` are (component, directory, kind[, trust problems])."""
    moved = {'path': KDIR + '/manifests-20240101', 'mode': '0700', 'uid': 0, 'gid': 0}
    found = {'kubernetes_dir': KDIR, 'manifests_dir': KDIR + '/manifests', 'manifests_dir_exists': manifests_dir_exists,
             'manifests_dir_source': None if manifests_dir_exists else moved,
             'running': list(running), 'stopped': [c for c in ALL if c not in running], 'strays': list(strays),
             'stash_directories': sorted(set(c[1] for c in copies)),
             'copies': [{'component': c[0], 'directory': c[1], 'path': '%s/%s.yaml' % (c[1], c[0]), 'kind': c[2],
                         'mtime': 1.0, 'trust_problems': list(c[3]) if len(c) > 3 else []} for c in copies],
             'etcd_data': {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': data,
                           'db_size': 4096 if data else None}}
    return found


def test_a_running_node_stops_into_the_stash_and_starts_from_it():
    where = rejoin_manifests(pods(running=ALL), 'cp-2')
    assert where['refused'] == [] and where['only_stopped'] is None
    assert where['stop'] == ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']
    assert where['etcd_dir'] is None and where['relocate'] == [] and where['manifests_dir'] is None
    assert where['start'] == [{'stash_dir': None, 'names': ['kube-apiserver', 'kube-controller-manager',
                                                            'kube-scheduler']}]


def test_the_runbook_move_beside_the_manifests_directory_is_where_the_rejoin_starts_from():
    moved = KDIR + '/manifests-20240101'
    found = pods(copies=[(c, moved, 'beside') for c in ALL], data=False, manifests_dir_exists=False)
    where = rejoin_manifests(found, 'cp-2')
    assert where['refused'] == [] and where['stop'] == [] and where['etcd_dir'] == where['etcd_read_dir'] == moved
    assert where['start'] == [{'stash_dir': moved, 'names': ALL[1:]}]
    assert where['manifests_dir'] == {'path': KDIR + '/manifests', 'mode': '0700', 'uid': 0, 'gid': 0}
    assert where['only_stopped'] is None  # its data is lost: a rejoin is what it needs


def test_a_move_one_level_down_is_moved_out_of_the_manifests_directory_first():
    inside = KDIR + '/manifests/manifests-20240101'
    where = rejoin_manifests(pods(copies=[(c, inside, 'inside') for c in ALL], data=False), 'cp-2')
    assert where['relocate'] == [{'from': inside, 'to': KDIR + '/manifests-20240101'}]
    assert where['etcd_dir'] == KDIR + '/manifests-20240101' and where['etcd_read_dir'] == inside


def test_components_stopped_in_different_places_start_each_from_its_own():
    stash = KDIR + '/manifests-stash'
    found = pods(running=['kube-scheduler'], data=False,
                 copies=[('etcd', stash, 'stash'), ('kube-apiserver', stash, 'stash'),
                         ('kube-controller-manager', KDIR + '/manifests-old', 'beside')])
    where = rejoin_manifests(found, 'cp-2')
    assert where['stop'] == ['kube-scheduler'] and where['etcd_dir'] == stash
    assert where['start'] == [{'stash_dir': stash, 'names': ['kube-apiserver']},
                              {'stash_dir': KDIR + '/manifests-old', 'names': ['kube-controller-manager']},
                              {'stash_dir': None, 'names': ['kube-scheduler']}]


@pytest.mark.parametrize('found, reason', [
    (pods(copies=[(c, KDIR + '/manifests-stash', 'stash') for c in ALL[1:]]), 'no copy of its etcd manifest was found'),
    (pods(copies=[(c, KDIR + '/m-1', 'beside', ['directory %s/m-1 is writable by group and others' % KDIR])
                  for c in ALL]), 'writable by group and others'),
    (pods(running=ALL, strays=[{'path': KDIR + '/manifests/etcd.yaml.bak', 'component': 'etcd'}]),
     'stray manifest %s/manifests/etcd.yaml.bak' % KDIR),
    ({'unreachable': True, 'msg': 'ssh: no route'}, 'cp-2 could not be read (ssh: no route)'),
])
def test_a_node_whose_manifests_cannot_be_brought_back_is_refused(found, reason):
    where = rejoin_manifests(found, 'cp-2')
    assert any(reason in text for text in where['refused']), where['refused']


@pytest.mark.parametrize('stash, command', [
    (KDIR + '/manifests-stash', 'ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit cp-2 '
                                '(or ansible-playbook -b -i <inventory> kubemaint.control_plane.recover)'),
    (KDIR + '/manifests-20240101', 'ansible-playbook -b -i <inventory> kubemaint.control_plane.recover'),
])
def test_a_node_only_stopped_with_its_data_needs_starting_not_replacing(stash, command):
    found = pods(copies=[(c, stash, 'stash' if stash.endswith('stash') else 'beside') for c in ALL])
    text = rejoin_manifests(found, 'cp-2')['only_stopped']
    assert text.startswith('cp-2 is only stopped: its etcd manifest is in %s' % stash), text
    assert 'holds data (backend file 4096 bytes)' in text and ('brings it back with its data: %s.' % command) in text
    assert text.endswith('kubemaint.control_plane.replace_member -e node=cp-2 -e replace_member_data_lost=true')
    # told that the data is lost: a rejoin it is
    assert rejoin_manifests(found, 'cp-2', data_lost=True)['only_stopped'] is None


@pytest.mark.parametrize('found', [
    pods(running=ALL),  # etcd runs (crash-looping, say): replace_member's own case
    pods(copies=[(c, KDIR + '/manifests-stash', 'stash') for c in ALL], data=False),  # its data is gone
])
def test_a_node_that_is_not_only_stopped_is_not_sent_to_start_node(found):
    assert rejoin_manifests(found, 'cp-2')['only_stopped'] is None


def test_the_refusal_names_the_node_the_reasons_and_what_a_rebuilt_or_new_machine_does():
    stash = KDIR + '/manifests-stash'
    bare = pods(copies=[(c, stash, 'stash') for c in ALL[1:]])
    refusal = rejoin_manifests(bare, 'cp-2', data_lost=True, kubernetes_dir='/srv/k8s')['refusal']
    assert refusal.startswith('Cannot rejoin cp-2: no copy of its etcd manifest was found (looked in %s). '
                              'Nothing was changed. A rebuilt node rejoins with its kubeadm files in place (pki and '
                              'manifests under /srv/k8s, ' % stash), refusal
    assert refusal.endswith('check with kubemaint.control_plane.join_precheck, then join.')
    running = pods(running=ALL)
    # before the etcd manifest was read, and after a read that returned its flags: not refused
    assert rejoin_manifests(running, 'cp-2', data_lost=True)['refusal'] == ''
    assert rejoin_manifests(running, 'cp-2', manifest={'flags_before': {}, 'changed': False})['refusal'] == ''
    # a read that failed (or was skipped) refuses, with its error
    unread = rejoin_manifests(running, 'cp-2', manifest={'failed': True, 'msg': 'etcd.yaml: not valid YAML'})
    assert unread['refusal'].startswith('Cannot rejoin cp-2: its etcd manifest could not be read (etcd.yaml: not valid '
                                        'YAML). Nothing was changed. A rebuilt node rejoins with its kubeadm files in '
                                        'place (pki and manifests under /etc/kubernetes, ')
    assert 'could not be read (no answer)' in rejoin_manifests(running, 'cp-2', manifest={'skipped': True})['refusal']


def test_the_old_data_goes_beside_the_data_directory_named_by_the_time_of_the_decision():
    now = '20260101T000000Z'
    assert recovery_plan(info(*STALE), 'b', FLAGS, host='cp-b', now=now)['moved_to'] == \
        '/var/lib/etcd.replaced-20260101T000000Z'
    # only a rejoin moves data, and only with the time to name it by
    assert recovery_plan(info(*STALE), 'b', FLAGS, host='cp-b')['moved_to'] is None
    for members in (LEARNER, HEALTHY):
        assert recovery_plan(info(*members), 'b', FLAGS, host='cp-b', now=now)['moved_to'] is None
    assert recovery_plan(info(*STALE), 'b', rejoin=False, now=now)['moved_to'] is None
