import hashlib
import json
import os
import shutil
import stat

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import TMP_PREFIX
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods import stash as _stash
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.stash import (
    ManifestStash,
    StashError,
    resolve_components,
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
    monkeypatch.undo()
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
