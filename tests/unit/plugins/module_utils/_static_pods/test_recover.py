"""recover's discovery and plan on a node tree made in a temporary directory."""
import os
import shutil

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.recover import (
    describe_found,
    describe_pods,
    discover,
    find_strays,
    restore_plan,
)

REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'data', 'kubeadm-node',
                         'manifests')
COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']


@pytest.fixture
def node(tmp_path):
    root = tmp_path / 'etc' / 'kubernetes'  # the node root is tmp_path: etcd's data is under tmp_path/var/lib/etcd
    manifests = root / 'manifests'
    manifests.mkdir(parents=True)
    wal = tmp_path / 'var' / 'lib' / 'etcd' / 'member' / 'wal'
    wal.mkdir(parents=True)
    (wal / '0000000000000000-0000000000000000.wal').write_bytes(b'wal')
    os.chmod(str(root), 0o755)
    os.chmod(str(manifests), 0o700)
    for component in COMPONENTS:
        shutil.copy(os.path.join(REFERENCE, component + '.yaml'), str(manifests / (component + '.yaml')))
        os.chmod(str(manifests / (component + '.yaml')), 0o600)
    return root


def move(node, names, directory):
    os.makedirs(str(directory), exist_ok=True)
    os.chmod(str(directory), 0o700)
    for name in names:
        os.rename(str(node / 'manifests' / (name + '.yaml')), str(directory / (name + '.yaml')))


def test_everything_running_needs_nothing(node):
    found = discover(str(node))
    assert found['running'] == COMPONENTS and found['stopped'] == [] and found['strays'] == []
    plan = restore_plan(found)
    assert plan == {'steps': [], 'relocate': [], 'refused': [], 'data_lost': []}
    assert describe_found('cp1', dict(found, plan=plan)) == 'cp1: nothing to restore (running: %s)' % ', '.join(COMPONENTS)
    # issue 21: every manifest in place, but no etcd process (a crash loop): recover says so, not "running: etcd"
    looping = {'manifest_in_place': True, 'process': None, 'restarts': 4, 'log_reason': 'fatal: boom',
               'data': {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': False}}
    assert describe_found('cp1', dict(found, plan=plan, etcd_runtime=looping)) == (
        'cp1: nothing to restore, but etcd does NOT run although its manifest is in place, so starting its pods changes '
        'nothing (restarted 4 times by the kubelet; data directory /var/lib/etcd EMPTY (no backend, no WAL); last log: '
        'fatal: boom)')
    running = dict(looping, process={'pid': 1})
    assert describe_found('cp1', dict(found, plan=plan, etcd_runtime=running)).startswith('cp1: nothing to restore (running')


def test_stash_restored_in_start_order(node):
    move(node, ['kube-scheduler', 'etcd'], node / 'manifests-stash')
    found = discover(str(node))
    plan = restore_plan(found)
    assert [step['name'] for step in plan['steps']] == ['etcd', 'kube-scheduler']
    assert all(step['stash_dir'] == str(node / 'manifests-stash') for step in plan['steps'])


def test_runbook_directory_moved_one_level_down_is_found_and_moved_out_first(node):
    move(node, COMPONENTS, node / 'manifests' / 'manifests-20240101')
    found = discover(str(node))
    assert found['running'] == []
    plan = restore_plan(found)
    assert [step['name'] for step in plan['steps']] == COMPONENTS
    assert plan['relocate'] == [{'from': str(node / 'manifests' / 'manifests-20240101'),
                                 'to': str(node / 'manifests-20240101')}]
    assert plan['steps'][0]['stash_dir'] == str(node / 'manifests-20240101')
    assert 'is moved to' in describe_found('cp1', dict(found, plan=plan))


def test_whole_manifests_directory_moved_beside(node):
    os.rename(str(node / 'manifests'), str(node / 'manifests-20230310'))
    found = discover(str(node))
    assert not found['manifests_dir_exists']
    assert found['manifests_dir_source']['path'] == str(node / 'manifests-20230310')
    assert found['manifests_dir_source']['mode'] == '0700'
    assert [step['name'] for step in restore_plan(found)['steps']] == COMPONENTS


def test_stash_that_is_a_symlink_is_followed(node, tmp_path):
    elsewhere = tmp_path / 'elsewhere'
    move(node, COMPONENTS, elsewhere)
    os.symlink(str(elsewhere), str(node / 'manifests-stash'))
    plan = restore_plan(discover(str(node)))
    assert [step['name'] for step in plan['steps']] == COMPONENTS
    assert plan['steps'][0]['stash_dir'] == str(node / 'manifests-stash')


def test_the_collections_stash_wins_over_an_older_runbook_copy(node):
    move(node, ['etcd'], node / 'manifests-stash')
    os.makedirs(str(node / 'manifests-20200101'))
    os.chmod(str(node / 'manifests-20200101'), 0o700)
    shutil.copy(str(node / 'manifests-stash' / 'etcd.yaml'), str(node / 'manifests-20200101' / 'etcd.yaml'))
    os.chmod(str(node / 'manifests-20200101' / 'etcd.yaml'), 0o600)
    plan = restore_plan(discover(str(node)))
    assert plan['steps'][0]['stash_dir'] == str(node / 'manifests-stash')
    assert plan['steps'][0]['other_copies'] == [str(node / 'manifests-20200101' / 'etcd.yaml')]


@pytest.mark.parametrize('what', ['directory', 'file'])
def test_a_group_or_world_writable_copy_is_never_restored(node, what):
    move(node, COMPONENTS, node / 'manifests-stash')
    target = node / 'manifests-stash' if what == 'directory' else node / 'manifests-stash' / 'etcd.yaml'
    os.chmod(str(target), 0o777 if what == 'directory' else 0o666)
    found = discover(str(node))
    plan = restore_plan(found)
    assert plan['steps'] == [] and plan['refused']
    assert 'writable by group and others' in plan['refused'][0] and str(target) in plan['refused'][0]
    line = describe_found('cp1', dict(found, plan=plan))
    assert line.startswith('cp1: NOT restored, left stopped')


def test_stray_copy_in_the_manifests_directory_is_reported_and_blocks_the_restore(node):
    shutil.copy(str(node / 'manifests' / 'etcd.yaml'), str(node / 'manifests' / 'etcd.yaml.bak'))
    (node / 'manifests' / '.hidden.yaml').write_text(open(str(node / 'manifests' / 'etcd.yaml')).read())
    (node / 'manifests' / 'notes.txt').write_text('not a pod')
    assert find_strays(str(node / 'manifests')) == [{'path': str(node / 'manifests' / 'etcd.yaml.bak'),
                                                     'component': 'etcd'}]
    move(node, ['kube-scheduler'], node / 'manifests-stash')
    plan = restore_plan(discover(str(node)))
    assert plan['steps'] == [] and 'etcd.yaml.bak' in plan['refused'][0]


def test_nothing_found_for_a_stopped_component_says_where_it_looked(node):
    os.unlink(str(node / 'manifests' / 'etcd.yaml'))
    found = discover(str(node))
    plan = restore_plan(found)
    assert plan['steps'] == []
    assert 'etcd stopped and no copy found to restore' in describe_found('cp1', dict(found, plan=plan))


def test_unreachable_host_line():
    assert describe_found('cp3', {'unreachable': True}) == 'cp3: UNREACHABLE, skipped'


def test_pods_line_puts_what_is_wrong_first(node):
    shutil.copy(str(node / 'manifests' / 'etcd.yaml'), str(node / 'manifests' / 'etcd.yaml.bak'))
    move(node, ['kube-scheduler'], node / 'manifests-stash')
    line = describe_pods(discover(str(node)))
    assert line.startswith('STOPPED: kube-scheduler; running: etcd, kube-apiserver, kube-controller-manager; STRAY')
    assert str(node / 'manifests' / 'etcd.yaml.bak') in line
    assert describe_pods({'unreachable': True}) == 'UNREACHABLE, pods not checked'


@pytest.mark.parametrize('damage', ['emptied', 'removed'])
def test_etcd_without_its_data_is_not_restored_and_restore_quorum_is_named(node, damage):
    data_dir = node.parent.parent / 'var' / 'lib' / 'etcd'
    move(node, COMPONENTS, node / 'manifests-stash')
    found = discover(str(node))['etcd_data']
    assert {k: found[k] for k in ('data_dir', 'exists', 'has_data')} == {
        'data_dir': str(data_dir), 'exists': True, 'has_data': True}
    shutil.rmtree(str(data_dir))
    if damage == 'emptied':
        data_dir.mkdir()
    found = discover(str(node))
    assert found['etcd_data']['has_data'] is False
    plan = restore_plan(found)
    assert plan['steps'] == [] and plan['refused'] == []
    assert ('is %s' % ('empty' if damage == 'emptied' else 'missing')) in plan['data_lost'][0]
    assert 'kubemaint.control_plane.restore_quorum' in plan['data_lost'][0]
    assert describe_found('cp1', dict(found, plan=plan)).startswith('cp1: NOT restored, its etcd data is lost: ')


def test_a_running_etcd_does_not_need_its_data_checked(node, tmp_path):
    shutil.rmtree(str(tmp_path / 'var'))
    move(node, ['kube-scheduler'], node / 'manifests-stash')
    plan = restore_plan(discover(str(node)))
    assert [step['name'] for step in plan['steps']] == ['kube-scheduler'] and plan['data_lost'] == []
