import hashlib
import json
import os
import shutil
import stat

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import TMP_PREFIX
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods import stash as _stash
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods import toggle as _toggle
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.stash import (
    ManifestStash,
    StashError,
    pod_mismatch_problem,
    resolve_components,
    stash_dir_problem,
    stash_entries_ours,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.toggle import (
    ToggleError,
    restart_static_pods,
    toggle_static_pods,
)

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', '..', '..', '..', 'data', 'kubeadm-node', 'manifests')
COMPONENTS = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def snapshot(root):
    """Every file and directory under root with mode, owner and content hash."""
    result = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            content = sha(path) if stat.S_ISREG(info.st_mode) else None
            result[os.path.relpath(path, root)] = (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, content)
    return result


MEMBER = 'k-kube-lab-01'  # --name of the reference etcd manifest


def peer(name, healthy=True, reachable=True, learner=False):
    return {'name': name, 'id': name, 'is_learner': learner, 'healthy': healthy, 'reachable': reachable,
            'endpoint': 'https://%s:2379' % name, 'health_error': None if healthy else 'context deadline exceeded'}


class Peers:
    """What the read right before etcd stops sees (collect_cluster_state's answer), and who asked."""

    def __init__(self):
        self.state = {'members': [peer(MEMBER), peer('k-kube-lab-02'), peer('k-kube-lab-03')], 'endpoint_errors': {}}
        self.reads = []


@pytest.fixture(autouse=True)
def peers(monkeypatch):
    """No etcd in unit tests: the re-check before etcd stops reads this healthy 3-member cluster."""
    seen = Peers()

    def read(client, sources):
        seen.reads.append((list(sources), os.path.exists(os.path.join(client, 'manifests', 'etcd.yaml'))))
        return seen.state

    # the "client" is the node's kubernetes_dir, so that the read can tell whether etcd's manifest is in place
    monkeypatch.setattr(_toggle, 'member_client', lambda probe: probe.node.kubernetes_dir)
    monkeypatch.setattr(_toggle, 'collect_cluster_state', read)
    return seen


@pytest.fixture
def node(tmp_path):
    kubernetes_dir = tmp_path / 'etc' / 'kubernetes'
    manifests = kubernetes_dir / 'manifests'
    manifests.mkdir(parents=True)
    for component in COMPONENTS:
        shutil.copy(os.path.join(REFERENCE, component + '.yaml'), str(manifests / (component + '.yaml')))
        os.chmod(str(manifests / (component + '.yaml')), 0o600)
    return str(kubernetes_dir)


def toggle(node, names, state, **kwargs):
    kwargs.setdefault('wait', False)
    return toggle_static_pods(names, state, kubernetes_dir=node, **kwargs)


def test_resolve_components_all_and_subset():
    assert resolve_components(['all']) == list(COMPONENTS)
    assert resolve_components(['kube-scheduler', 'etcd', 'etcd']) == ['etcd', 'kube-scheduler']
    with pytest.raises(StashError, match='unknown component.*kube-proxy'):
        resolve_components(['kube-proxy'])


@pytest.mark.parametrize('names', [['etcd'], ['all']])
def test_four_way_stop_then_start(node, names):
    expected = COMPONENTS if names == ['all'] else ('etcd',)
    originals = dict((c, sha(os.path.join(node, 'manifests', c + '.yaml'))) for c in COMPONENTS)
    before = snapshot(node)
    check = toggle(node, names, 'stopped', check_mode=True, diff=True)
    assert check['changed'] is True
    assert snapshot(node) == before
    assert 'manifests-stash' in check['diff']['after']
    applied = toggle(node, names, 'stopped')
    assert applied['changed'] is True
    assert [c['name'] for c in applied['components']] == [c for c in _stash.STOP_ORDER if c in expected]
    for component in COMPONENTS:
        in_stash = os.path.exists(os.path.join(node, 'manifests-stash', component + '.yaml'))
        in_manifests = os.path.exists(os.path.join(node, 'manifests', component + '.yaml'))
        assert in_stash == (component in expected)
        assert in_manifests != in_stash
    assert toggle(node, names, 'stopped')['changed'] is False
    assert toggle(node, names, 'stopped', check_mode=True)['changed'] is False

    before = snapshot(node)
    check = toggle(node, names, 'started', check_mode=True)
    assert check['changed'] is True
    assert snapshot(node) == before
    started = toggle(node, names, 'started')
    assert started['changed'] is True
    assert [c['name'] for c in started['components']] == [c for c in _stash.START_ORDER if c in expected]
    assert toggle(node, names, 'started')['changed'] is False
    assert toggle(node, names, 'started', check_mode=True)['changed'] is False
    for component in COMPONENTS:
        assert sha(os.path.join(node, 'manifests', component + '.yaml')) == originals[component]


def test_modes_owners_and_stash_dir_mode_kept(node):
    path = os.path.join(node, 'manifests', 'kube-scheduler.yaml')
    os.chmod(path, 0o640)
    os.chown(path, 0, 5678)  # another group is fine; another owner is refused (see below)
    toggle(node, ['kube-scheduler'], 'stopped')
    stash_dir = os.path.join(node, 'manifests-stash')
    assert stat.S_IMODE(os.stat(stash_dir).st_mode) == 0o700
    stashed = os.stat(os.path.join(stash_dir, 'kube-scheduler.yaml'))
    assert (stat.S_IMODE(stashed.st_mode), stashed.st_uid, stashed.st_gid) == (0o640, 0, 5678)
    toggle(node, ['kube-scheduler'], 'started')
    back = os.stat(path)
    assert (stat.S_IMODE(back.st_mode), back.st_uid, back.st_gid) == (0o640, 0, 5678)
    assert stat.S_IMODE(os.stat(stash_dir).st_mode) == 0o700


def test_loose_stash_dir_is_tightened_when_stashing(node):
    stash_dir = os.path.join(node, 'manifests-stash')
    os.mkdir(stash_dir)
    os.chmod(stash_dir, 0o755)
    toggle(node, ['etcd'], 'stopped')
    assert stat.S_IMODE(os.stat(stash_dir).st_mode) == 0o700


def test_record_says_when_and_why(node):
    toggle(node, ['etcd', 'kube-apiserver'], 'stopped', reason='patching CHG-1')
    with open(os.path.join(node, 'manifests-stash', 'stash-record.json')) as handle:
        record = json.load(handle)['components']
    assert sorted(record) == ['etcd', 'kube-apiserver']
    assert record['etcd']['reason'] == 'patching CHG-1'
    assert record['etcd']['stashed_at'].endswith('Z')
    assert record['etcd']['sha256'] == sha(os.path.join(node, 'manifests-stash', 'etcd.yaml'))
    assert stat.S_IMODE(os.stat(os.path.join(node, 'manifests-stash', 'stash-record.json')).st_mode) == 0o600
    toggle(node, ['etcd'], 'started')
    assert sorted(ManifestStash(node).read_record()) == ['kube-apiserver']


@pytest.mark.parametrize('state,stray', [('stopped', 'manifests'), ('started', 'manifests-stash')])
def test_identical_copy_in_both_places_is_cleaned(node, state, stray):
    os.mkdir(os.path.join(node, 'manifests-stash'), 0o700)
    source = os.path.join(node, 'manifests', 'etcd.yaml')
    shutil.copy2(source, os.path.join(node, 'manifests-stash', 'etcd.yaml'))
    digest = sha(source)
    check = toggle(node, ['etcd'], state, check_mode=True)
    assert check['changed'] is True and check['components'][0]['state_before'] == 'both'
    assert os.path.exists(os.path.join(node, stray, 'etcd.yaml'))
    result = toggle(node, ['etcd'], state)
    assert result['changed'] is True
    assert not os.path.exists(os.path.join(node, stray, 'etcd.yaml'))
    kept = result['components'][0]['path']
    assert os.path.exists(kept) and sha(kept) == digest
    assert toggle(node, ['etcd'], state)['changed'] is False


@pytest.mark.parametrize('state', ['stopped', 'started'])
def test_different_copies_refused_with_nothing_changed(node, state):
    os.mkdir(os.path.join(node, 'manifests-stash'), 0o700)
    with open(os.path.join(node, 'manifests', 'kube-scheduler.yaml')) as handle:
        text = handle.read()
    other = os.path.join(node, 'manifests-stash', 'kube-scheduler.yaml')
    with open(other, 'w') as handle:
        handle.write(text.replace('--leader-elect=true', '--leader-elect=false'))
    before = snapshot(node)
    with pytest.raises(ToggleError) as info:
        toggle(node, ['all'], state)
    message = str(info.value)
    assert os.path.join(node, 'manifests', 'kube-scheduler.yaml') in message
    assert other in message
    assert sha(other) in message and sha(os.path.join(node, 'manifests', 'kube-scheduler.yaml')) in message
    assert snapshot(node) == before


def _break_missing_manifests_dir(node):
    shutil.rmtree(os.path.join(node, 'manifests'))


def _break_unreadable(node):
    path = os.path.join(node, 'manifests', 'etcd.yaml')
    os.unlink(path)
    os.symlink('etcd.yaml', path)  # a symlink loop: unreadable even for root


def _break_directory_as_manifest(node):
    path = os.path.join(node, 'manifests', 'etcd.yaml')
    os.unlink(path)
    os.mkdir(path)


def _break_not_yaml(node):
    with open(os.path.join(node, 'manifests', 'etcd.yaml'), 'w') as handle:
        handle.write('kind: Pod\n  spec: [unclosed\n\tbad:\n')


def _break_not_a_pod(node):
    with open(os.path.join(node, 'manifests', 'etcd.yaml'), 'w') as handle:
        handle.write('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: etcd\n')


def _break_missing_everywhere(node):
    os.unlink(os.path.join(node, 'manifests', 'etcd.yaml'))


@pytest.mark.parametrize('breaker,kwargs,pattern', [
    (_break_missing_manifests_dir, {}, 'manifests directory .* does not exist'),
    (_break_unreadable, {}, 'cannot read etcd manifest'),
    (_break_directory_as_manifest, {}, 'not a regular file'),
    (_break_not_yaml, {}, 'not valid YAML'),
    (_break_not_a_pod, {}, 'not a Pod manifest'),
    (_break_missing_everywhere, {}, 'no etcd manifest: neither'),
    (None, {'stash_dir': 'manifests/stash'}, 'inside the manifests directory'),
    (None, {'stash_dir': 'manifests'}, 'inside the manifests directory'),
    (None, {'stash_dir': 'admin.conf'}, 'is not a directory'),
])
@pytest.mark.parametrize('state', ['stopped', 'started'])
def test_bad_input_fails_clearly_and_changes_nothing(node, breaker, kwargs, pattern, state):
    if breaker:
        breaker(node)
    with open(os.path.join(node, 'admin.conf'), 'w') as handle:
        handle.write('not a directory\n')
    if 'stash_dir' in kwargs:
        kwargs = {'stash_dir': os.path.join(node, kwargs['stash_dir'])}
    before = snapshot(node)
    with pytest.raises(ToggleError, match=pattern):
        toggle(node, ['all'], state, **kwargs)
    assert snapshot(node) == before


def test_stash_dir_with_missing_parent(node):
    stash_dir = os.path.join(node, 'nope', 'stash')
    before = snapshot(node)
    with pytest.raises(ToggleError, match='parent .* does not exist'):
        toggle(node, ['etcd'], 'stopped', stash_dir=stash_dir)
    assert snapshot(node) == before
    # Starting what is already started needs no stash directory at all.
    assert toggle(node, ['etcd'], 'started', stash_dir=stash_dir)['changed'] is False


def test_unknown_component_changes_nothing(node):
    before = snapshot(node)
    with pytest.raises(ToggleError, match='unknown component'):
        toggle(node, ['etcd', 'kube-proxy'], 'stopped')
    assert snapshot(node) == before


def test_cross_filesystem_move_keeps_mode_and_owner(node, monkeypatch):
    real_rename = os.rename

    def rename(source, destination):
        if source.endswith('kube-scheduler.yaml') and TMP_NAME not in source:
            raise OSError(18, 'Invalid cross-device link')
        return real_rename(source, destination)

    TMP_NAME = TMP_PREFIX
    monkeypatch.setattr(_stash.os, 'rename', rename)
    path = os.path.join(node, 'manifests', 'kube-scheduler.yaml')
    os.chmod(path, 0o640)
    os.chown(path, 0, 8765)
    digest = sha(path)
    result = toggle(node, ['kube-scheduler'], 'stopped')
    stashed = os.path.join(node, 'manifests-stash', 'kube-scheduler.yaml')
    assert result['changed'] is True and not os.path.exists(path)
    info = os.stat(stashed)
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, sha(stashed)) == (0o640, 0, 8765, digest)
    assert not [name for name in os.listdir(os.path.dirname(stashed)) if name.startswith(TMP_PREFIX)]


# ---------------------------------------------------------------- issue 14: trust, strays, full disk

@pytest.mark.parametrize('state', ['stopped', 'started'])
@pytest.mark.parametrize('mode,owner,words', [
    (0o777, 0, 'writable by group and others'),
    (0o770, 0, 'writable by group'),
    (0o700, 65534, 'owned by uid 65534'),
])
def test_untrusted_stash_dir_is_refused_for_stop_and_start(node, state, mode, owner, words):
    stash_dir = os.path.join(node, 'manifests-stash')
    if state == 'started':
        toggle(node, ['kube-scheduler'], 'stopped')
    else:
        os.mkdir(stash_dir)
    os.chmod(stash_dir, mode)
    os.chown(stash_dir, owner, 0)
    before = snapshot(node)
    with pytest.raises(ToggleError, match='stash directory %s cannot be trusted: .*%s' % (stash_dir, words)):
        toggle(node, ['all'], state)
    assert snapshot(node) == before


def test_untrusted_stashed_manifest_is_never_restored(node):
    toggle(node, ['kube-scheduler'], 'stopped')
    stashed = os.path.join(node, 'manifests-stash', 'kube-scheduler.yaml')
    os.chown(stashed, 65534, 65534)
    os.chmod(stashed, 0o666)
    before = snapshot(node)
    with pytest.raises(ToggleError, match=r'kube-scheduler manifest .*kube-scheduler\.yaml cannot be trusted: .*owned '
                                          r'by uid 65534.*writable by group and others'):
        toggle(node, ['kube-scheduler'], 'started')
    assert snapshot(node) == before


def test_symlinked_stash_dir_is_judged_by_its_target(node, tmp_path):
    target = tmp_path / 'elsewhere'
    target.mkdir()
    os.chmod(str(target), 0o777)
    os.symlink(str(target), os.path.join(node, 'manifests-stash'))
    with pytest.raises(ToggleError, match='cannot be trusted'):
        toggle(node, ['etcd'], 'stopped')
    assert os.listdir(str(target)) == []


def _write_copy(node, component, name):
    source = os.path.join(node, 'manifests', component + '.yaml')
    copy = os.path.join(node, 'manifests', name)
    shutil.copy(source, copy)
    return copy


def test_stray_copy_is_reported_in_check_mode_and_when_starting(node):
    stray = _write_copy(node, 'etcd', 'etcd.yaml.bak')
    _write_copy(node, 'etcd', '.etcd.yaml.swp')            # a dotfile: the kubelet ignores it
    with open(os.path.join(node, 'manifests', 'notes.txt'), 'w') as handle:
        handle.write('not a pod\n')
    before = snapshot(node)
    for state in ('started', 'stopped'):
        result = toggle(node, ['all'], state, check_mode=True)
        assert [(entry['path'], entry['component']) for entry in result['strays']] == [(stray, 'etcd')]
    assert toggle(node, ['all'], 'started')['strays'][0]['action'] == 'none'
    assert snapshot(node) == before


def test_stopping_stashes_the_stray_with_its_component_and_never_restores_it(node):
    stray = _write_copy(node, 'etcd', 'etcd-copy.yaml')
    digest = sha(stray)
    assert toggle(node, ['kube-scheduler'], 'stopped')['strays'][0]['action'] == 'none'   # not etcd's stop
    assert os.path.exists(stray)
    result = toggle(node, ['etcd'], 'stopped', diff=True)
    moved = result['strays'][0]
    assert result['changed'] and moved['action'] == 'stash'
    assert moved['stash_path'] == os.path.join(node, 'manifests-stash', 'strays', 'etcd-copy.yaml')
    assert not os.path.exists(stray) and sha(moved['stash_path']) == digest
    assert stat.S_IMODE(os.stat(os.path.dirname(moved['stash_path'])).st_mode) == 0o700
    assert 'etcd: stray copy %s' % moved['stash_path'] in result['diff']['after']
    assert toggle(node, ['etcd'], 'stopped')['changed'] is False
    started = toggle(node, ['all'], 'started')
    assert started['strays'] == [] and not os.path.exists(stray)
    assert sha(moved['stash_path']) == digest                    # kept, never deleted


def test_a_stray_while_the_component_is_stopped_is_stashed_by_the_next_stop(node):
    toggle(node, ['etcd'], 'stopped')
    stray = _write_copy(node, 'kube-apiserver', 'etcd.yaml.orig')
    with open(stray) as handle:
        text = handle.read()
    with open(stray, 'w') as handle:   # an etcd pod under another name, its own manifest stashed
        handle.write(text.replace('component: kube-apiserver', 'component: etcd'))
    result = toggle(node, ['etcd'], 'stopped')
    assert result['changed'] is True and [s['action'] for s in result['strays']] == ['stash']
    assert not os.path.exists(stray)


def test_a_lone_manifest_under_another_name_is_not_a_stray(node):
    os.rename(os.path.join(node, 'manifests', 'kube-scheduler.yaml'), os.path.join(node, 'manifests', 'sched.yml'))
    assert toggle(node, ['etcd'], 'stopped', check_mode=True)['strays'] == []
    _write_copy(node, 'etcd', 'sched2.yml')
    os.rename(os.path.join(node, 'manifests', 'sched2.yml'), os.path.join(node, 'manifests', 'other.yml'))
    assert [s['component'] for s in toggle(node, ['etcd'], 'stopped', check_mode=True)['strays']] == ['etcd']


def test_full_disk_names_the_path_and_what_was_already_stopped(node, monkeypatch):
    real_fsync = os.fsync
    calls = {'records': 0}

    def fsync(fd):
        name = os.readlink('/proc/self/fd/%d' % fd)
        if os.path.basename(name) == TMP_PREFIX + 'stash-record.json':
            calls['records'] += 1
            if calls['records'] == 3:    # the third component's record: the disk is full now
                raise OSError(28, 'No space left on device', name)
        return real_fsync(fd)

    monkeypatch.setattr(_stash.os, 'fsync', fsync)
    with pytest.raises(ToggleError) as failure:
        toggle(node, ['all'], 'stopped')
    message = str(failure.value)
    assert 'cannot stop kube-scheduler' in message
    assert 'No space left on device' in message and os.path.join(node, 'manifests-stash') in message
    assert 'kube-apiserver and kube-controller-manager were already stopped' in message
    assert failure.value.changed is True
    stash_dir = os.path.join(node, 'manifests-stash')
    assert not [name for name in os.listdir(stash_dir) if name.startswith(TMP_PREFIX)]
    assert os.path.exists(os.path.join(node, 'manifests', 'kube-scheduler.yaml'))  # not moved: nothing lost
    monkeypatch.setattr(_stash.os, 'fsync', real_fsync)
    assert toggle(node, ['all'], 'stopped')['changed'] is True   # converges once there is space


@pytest.mark.parametrize('wait_timeout', [-1, 0, float('nan'), float('inf'), 10 ** 13])
def test_bad_wait_timeout_changes_nothing(node, wait_timeout):
    before = snapshot(node)
    with pytest.raises(ToggleError, match='wait_timeout must be .*Nothing was changed'):
        toggle(node, ['etcd'], 'stopped', wait=True, wait_timeout=wait_timeout)
    assert snapshot(node) == before


def test_strays_are_reported_even_when_the_plan_fails(node):
    stray = _write_copy(node, 'etcd', 'etcd.yaml.bak')
    os.unlink(os.path.join(node, 'manifests', 'kube-scheduler.yaml'))    # no scheduler manifest anywhere
    with pytest.raises(ToggleError, match='no kube-scheduler manifest') as failure:
        toggle(node, ['all'], 'started', check_mode=True)
    assert [entry['path'] for entry in failure.value.strays] == [stray]


def test_restart_stops_then_starts_each_component_and_always_reports_a_change(node):
    before = snapshot(node)
    check = restart_static_pods(['etcd', 'kube-apiserver'], kubernetes_dir=node, wait=False, check_mode=True, diff=True)
    assert snapshot(node) == before
    assert check['changed'] is True and check['state'] == 'restarted'
    assert [(c['name'], c['action'], c['state_after'], c['changed']) for c in check['components']] == [
        ('kube-apiserver', 'stash', 'stopped', True), ('etcd', 'stash', 'stopped', True),
        ('etcd', 'restore', 'started', True), ('kube-apiserver', 'restore', 'started', True)]
    # Before and after a restart every manifest is where it was.
    assert sorted(check['diff']['before'].splitlines()) == sorted(check['diff']['after'].splitlines())
    applied = restart_static_pods(['etcd', 'kube-apiserver'], kubernetes_dir=node, wait=False, reason='restart')
    assert [(c['name'], c['action']) for c in applied['components']] == [
        ('kube-apiserver', 'stash'), ('etcd', 'stash'), ('etcd', 'restore'), ('kube-apiserver', 'restore')]
    # Its timings: no snapshot was asked for, so the stop and then the start, one after the other.
    assert [part['what'] for part in applied['timings']] == ['stopped', 'started']
    stop, start = applied['timings']
    assert 0 <= stop['seconds'] and stop['began_at'] + stop['seconds'] <= start['began_at'] + 0.001
    # Every manifest back in place, unchanged, with its mode.
    after = snapshot(node)
    for component in COMPONENTS:
        key = os.path.join('manifests', component + '.yaml')
        assert after[key] == before[key]
    assert restart_static_pods(['etcd'], kubernetes_dir=node, wait=False)['changed'] is True


def test_restart_of_a_stopped_component_starts_it(node):
    toggle(node, ['etcd'], 'stopped')
    result = restart_static_pods(['etcd'], kubernetes_dir=node, wait=False)
    assert [(c['action'], c['changed']) for c in result['components']] == [('none', False), ('restore', True)]
    assert os.path.exists(os.path.join(node, 'manifests', 'etcd.yaml'))


def test_restart_refuses_differing_copies_and_that_is_no_timeout(node):
    toggle(node, ['etcd'], 'stopped')
    # The stash copy differs from a new one in the manifests directory: refused, nothing moved.
    shutil.copy(os.path.join(REFERENCE, 'kube-apiserver.yaml'), os.path.join(node, 'manifests', 'etcd.yaml'))
    with pytest.raises(ToggleError) as raised:
        restart_static_pods(['etcd', 'kube-scheduler'], kubernetes_dir=node, wait=False)
    assert raised.value.timed_out is False and 'differ' in str(raised.value)
    assert os.path.exists(os.path.join(node, 'manifests', 'kube-scheduler.yaml'))


# ---------------------------------------------------------------- issue 21: hostile probes, each refused first

def _pod(component_label, name):
    class Pod:
        metadata = {'name': name, 'labels': {'component': component_label} if component_label else {}}
    Pod.name = name
    return Pod()


@pytest.mark.parametrize('label,name,refused', [
    ('etcd', 'etcd', False),
    (None, 'etcd', False),
    ('etcd', 'etcd-node-1', False),
    ('kube-apiserver', 'kube-apiserver', True),
    ('kube-apiserver', 'etcd', True),
    ('etcd', 'kube-apiserver', True),
    (None, 'kube-scheduler', True),
    ('haproxy', 'haproxy', True),
])
def test_pod_mismatch_problem(label, name, refused):
    problem = pod_mismatch_problem('etcd', '/x/etcd.yaml', _pod(label, name))
    assert bool(problem) is refused, problem
    if refused:
        assert '/x/etcd.yaml' in problem and name in problem and 'not etcd' in problem


@pytest.mark.parametrize('where', ['stash', 'manifests'])
def test_a_manifest_of_another_component_is_refused_and_nothing_moves(node, where):
    """A stashed etcd.yaml whose pod is kube-apiserver: starting etcd would run a second apiserver."""
    toggle(node, ['etcd'], 'stopped')
    stash_dir = os.path.join(node, 'manifests-stash')
    if where == 'stash':
        shutil.copy(os.path.join(REFERENCE, 'kube-apiserver.yaml'), os.path.join(stash_dir, 'etcd.yaml'))
    else:
        toggle(node, ['etcd'], 'started')
        shutil.copy(os.path.join(REFERENCE, 'kube-apiserver.yaml'), os.path.join(node, 'manifests', 'etcd.yaml'))
    before = snapshot(node)
    state = 'started' if where == 'stash' else 'stopped'
    with pytest.raises(ToggleError) as caught:
        toggle(node, ['etcd'], state)
    message = str(caught.value)
    assert 'etcd.yaml holds the pod kube-apiserver' in message and 'not etcd' in message, message
    assert 'Nothing was changed' in message
    assert snapshot(node) == before


@pytest.mark.parametrize('names,foreign', [
    ([], []),
    (['etcd.yaml', 'stash-record.json', 'strays', '.kubemaint-tmp-etcd.yaml'], []),
    (['etcd.yaml', 'admin.conf'], ['admin.conf']),
    (['haproxy.yaml', 'passwd', 'etcd.yaml.bak'], ['etcd.yaml.bak', 'haproxy.yaml', 'passwd']),
])
def test_stash_entries_ours(names, foreign):
    assert stash_entries_ours(names) == foreign


@pytest.mark.parametrize('path,wanted,entries,sticky,words', [
    ('/tmp', 'stopped', [], True, 'the system or kubeadm shares'),
    ('/etc', 'stopped', ['passwd'], False, 'the system or kubeadm shares'),
    ('/etc', 'started', ['passwd'], False, 'the system or kubeadm shares'),
    ('/var/lib', 'stopped', [], False, 'the system or kubeadm shares'),
    ('/', 'started', [], False, 'the system or kubeadm shares'),
    ('K', 'stopped', ['admin.conf'], False, 'the system or kubeadm shares'),
    ('K/manifests', 'stopped', [], False, 'inside the manifests directory'),
    ('K/pki/../manifests', 'stopped', [], False, 'inside the manifests directory'),
    ('K/pki', 'stopped', [], False, "inside kubeadm's pki directory"),
    ('K/pki/etcd/stash', 'stopped', None, False, "inside kubeadm's pki directory"),
    ('K/backups', 'stopped', ['notes.txt'], False, 'holds files that are not stashed control-plane manifests (notes.txt)'),
    ('K/scratch', 'stopped', [], True, 'sticky bit'),
])
def test_stash_dir_problem_refuses(tmp_path, path, wanted, entries, sticky, words):
    kubernetes_dir = str(tmp_path)
    path = path.replace('K', kubernetes_dir, 1) if path.startswith('K') else path
    problem = stash_dir_problem(path, wanted, kubernetes_dir, os.path.join(kubernetes_dir, 'manifests'),
                                entries, sticky)
    assert problem and words in problem, problem
    assert path.split('/..')[0] in problem


@pytest.mark.parametrize('path,wanted,entries', [
    ('K/manifests-stash', 'stopped', None),
    ('K/manifests-stash', 'stopped', []),
    ('K/manifests-stash', 'stopped', ['etcd.yaml', 'stash-record.json', 'strays']),
    # restoring reads from a runbook's manifests-<date> directory, other pods' manifests and all
    ('K/manifests-20260101', 'started', ['etcd.yaml', 'haproxy.yaml']),
    ('/srv/stash', 'stopped', []),
])
def test_stash_dir_problem_allows(tmp_path, path, wanted, entries):
    kubernetes_dir = str(tmp_path)
    path = path.replace('K', kubernetes_dir, 1) if path.startswith('K') else path
    assert stash_dir_problem(path, wanted, kubernetes_dir, os.path.join(kubernetes_dir, 'manifests'),
                             entries) is None


def test_a_directory_with_other_files_is_refused_as_stash_and_keeps_its_mode(node):
    shared = os.path.join(node, 'shared')
    os.mkdir(shared, 0o755)
    with open(os.path.join(shared, 'notes.txt'), 'w') as handle:
        handle.write('not ours')
    os.chmod(shared, 0o755)
    before = snapshot(node)
    with pytest.raises(ToggleError) as caught:
        toggle(node, ['etcd'], 'stopped', stash_dir=shared)
    assert 'stash_dir %s exists and holds files' % shared in str(caught.value)
    assert snapshot(node) == before
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755


def test_the_kubeadm_directory_itself_is_refused_as_stash(node):
    before = snapshot(node)
    mode = stat.S_IMODE(os.stat(node).st_mode)
    with pytest.raises(ToggleError) as caught:
        toggle(node, ['all'], 'stopped', stash_dir=node)
    assert 'stash_dir %s is a directory the system or kubeadm shares' % node in str(caught.value)
    assert snapshot(node) == before and stat.S_IMODE(os.stat(node).st_mode) == mode


def test_peer_health_is_read_again_right_before_etcd_moves(node, peers):
    toggle(node, ['all'], 'stopped', etcd_endpoints=['https://10.0.0.2:2379'])
    # one read, while etcd's manifest was still in place, from the endpoints given and then this member
    assert peers.reads == [(['https://10.0.0.2:2379', 'https://10.101.11.240:2379'], True)]
    toggle(node, ['all'], 'started')
    toggle(node, ['kube-scheduler'], 'stopped')
    assert len(peers.reads) == 1, 'no read when etcd does not stop'


@pytest.mark.parametrize('members,words', [
    ([peer(MEMBER), peer('k-kube-lab-02', healthy=False, reachable=False), peer('k-kube-lab-03')],
     'etcd member k-kube-lab-02 (https://k-kube-lab-02:2379) does not answer'),
    ([peer(MEMBER), peer('k-kube-lab-02', healthy=False), peer('k-kube-lab-03')],
     'etcd member k-kube-lab-02 (https://k-kube-lab-02:2379) is unhealthy'),
    ([peer(MEMBER)], 'would leave 0 of 1 voters healthy'),
    ([peer('k-kube-lab-02', healthy=False), peer('k-kube-lab-03')], 'would leave 1 of 2 voters healthy'),
    ([], 'no etcd endpoint answered'),
])
def test_etcd_stop_refused_when_peers_turned_unhealthy_and_nothing_of_etcd_moves(node, peers, members, words):
    peers.state = {'members': members, 'endpoint_errors': {'https://10.101.11.240:2379': 'timed out'}}
    manifest = os.path.join(node, 'manifests', 'etcd.yaml')
    digest = sha(manifest)
    with pytest.raises(ToggleError) as caught:
        toggle(node, ['all'], 'stopped')
    message = str(caught.value)
    assert 'refusing to stop etcd member %s' % MEMBER in message and words in message, message
    assert 'kube-apiserver, kube-controller-manager and kube-scheduler were already stopped by this run' in message
    assert caught.value.changed is True
    assert sha(manifest) == digest and not os.path.exists(os.path.join(node, 'manifests-stash', 'etcd.yaml'))


def test_allow_quorum_loss_lets_the_stop_through_with_a_warning(node, peers):
    peers.state['members'][1] = peer('k-kube-lab-02', healthy=False, reachable=False)
    result = toggle(node, ['etcd'], 'stopped', allow_quorum_loss=True)
    assert result['changed'] and len(result['warnings']) == 1
    assert 'k-kube-lab-02' in result['warnings'][0] and 'allowed by allow_quorum_loss' in result['warnings'][0]


def test_restart_rechecks_before_the_stop_half(node, peers):
    peers.state['members'][2] = peer('k-kube-lab-03', healthy=False)
    with pytest.raises(ToggleError) as caught:
        restart_static_pods(['etcd'], kubernetes_dir=node, wait=False)
    assert caught.value.stage == 'stopped' and 'k-kube-lab-03' in str(caught.value)
    assert os.path.exists(os.path.join(node, 'manifests', 'etcd.yaml'))
