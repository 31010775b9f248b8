"""static_pod_toggle against the lab (issue 4, "Must show" 1, 2, 4, 5, 6, 7; issue 14's strays, trust rule
and bad input).

Every module call goes through real ansible-playbook (helpers.run_module); the kubelet emulator
really stops and starts the pods, etcd is the real binary. "Must show" 3 (crash safety) is in
test_static_pod_toggle_crash.py.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import time

import pytest

from tests.integration.etcd_helpers import etcd_frozen
from tests.integration.helpers import run_module, wait_for
from tests.integration.playbook_helpers import MemberWatcher

COMPONENTS = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')
HEALTH_PORTS = {'etcd': 2379, 'kube-apiserver': 6443, 'kube-controller-manager': 10257, 'kube-scheduler': 10259}


def toggle(node, name, state, check_mode=False, diff=False, **extra):
    args = {'name': name, 'state': state, 'kubernetes_dir': node.kubernetes_dir, 'wait_timeout': 120}
    args.update(extra)
    return run_module('static_pod_toggle', args, check_mode=check_mode, diff=diff, timeout=600)


def ok(result):
    assert not result['failed'], result.get('msg') or result['_stdout'][-3000:]
    return result


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def accepts(address, port):
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((address, port)) == 0


def snapshot(*directories):
    result = {}
    for directory in directories:
        if not os.path.isdir(directory):
            result[directory] = None
            continue
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            info = os.lstat(path)
            result[path] = (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid,
                            sha(path) if stat.S_ISREG(info.st_mode) else None)
    return result


def stash_dir(node):
    return os.path.join(node.kubernetes_dir, 'manifests-stash')


def endpoint_status(lab, node):
    proc = lab.etcdctl(node, 'endpoint', 'status', '-w', 'json')
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[0]['Status']


def member_names(lab, node):
    proc = lab.etcdctl(node, 'member', 'list', '-w', 'json')
    assert proc.returncode == 0, proc.stderr
    return sorted(member.get('name') for member in json.loads(proc.stdout)['members'])


def four_way(node, name, state):
    check = ok(toggle(node, name, state, check_mode=True, diff=True))
    assert check['changed'] is True, 'check mode must predict the change'
    applied = ok(toggle(node, name, state))
    assert applied['changed'] is True
    again = ok(toggle(node, name, state))
    assert again['changed'] is False, again['components']
    check_again = ok(toggle(node, name, state, check_mode=True))
    assert check_again['changed'] is False
    return check, applied


@pytest.mark.parametrize('name', [['kube-scheduler'], ['all']], ids=['one', 'all'])
def test_four_way_stop_and_start(lab, name):
    node = lab.nodes[2]
    components = COMPONENTS if name == ['all'] else tuple(name)
    originals = dict((c, sha(os.path.join(node.manifests_dir, c + '.yaml'))) for c in components)

    check, applied = four_way(node, name, 'stopped')
    # Check mode moved nothing; the diff said where each manifest goes.
    for component in components:
        assert '%s: stopped (%s)' % (component, os.path.join(stash_dir(node), component + '.yaml')) \
            in check['diff']['after']
    assert [c['name'] for c in applied['components']] == \
        [c for c in ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd') if c in components]
    for entry in applied['components']:
        assert (entry['state_before'], entry['state_after'], entry['action']) == ('started', 'stopped', 'stash')
        assert entry['sha256'] == originals[entry['name']]
        assert entry['waited'] is not None
        # wait: true returned only once the component's port was closed.
        assert not accepts(node.address, HEALTH_PORTS[entry['name']]), entry['name']
        assert not os.path.exists(entry['manifest_path']) and sha(entry['stash_path']) == entry['sha256']
    assert stat.S_IMODE(os.stat(stash_dir(node)).st_mode) == 0o700

    _check, started = four_way(node, name, 'started')
    assert [c['name'] for c in started['components']] == \
        [c for c in ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler') if c in components]
    for component in components:
        assert sha(os.path.join(node.manifests_dir, component + '.yaml')) == originals[component]
        assert accepts(node.address, HEALTH_PORTS[component]), component
    if 'etcd' in components:
        assert node.etcd_healthy() and node.apiserver_ready()


def test_etcd_stop_waits_until_stopped_and_start_until_healthy_member(lab):
    node1 = lab.nodes[0]
    assert node1.etcd_healthy()
    stopped = ok(toggle(node1, ['etcd'], 'stopped', reason='issue 4 test'))
    assert stopped['changed'] is True
    # Right after the module returned: no etcd port of node 1 accepts connections any more.
    assert not [port for port in (2379, 2380, 2381) if accepts(node1.address, port)]
    assert not node1.etcd_healthy(timeout=1)
    with open(os.path.join(stash_dir(node1), 'stash-record.json')) as handle:
        record = json.load(handle)['components']['etcd']
    assert record['reason'] == 'issue 4 test' and record['sha256'] == stopped['components'][0]['sha256']
    # Still a member, just not running: the cluster (nodes 2 and 3) carries on.
    assert 'lab-cp-01' in member_names(lab, lab.nodes[1])

    started_at = time.monotonic()
    started = ok(toggle(node1, ['etcd'], 'started'))
    assert started['changed'] is True
    assert started['components'][0]['waited'] <= time.monotonic() - started_at
    # Right after the module returned, without any extra waiting: healthy and a member.
    assert node1.etcd_healthy(timeout=5)
    assert endpoint_status(lab, node1).get('leader')
    assert member_names(lab, node1) == ['lab-cp-01', 'lab-cp-02', 'lab-cp-03']


def test_restarted_etcd_is_down_once_and_back_healthy_when_the_module_returns(lab):
    node = lab.nodes[2]
    manifests = snapshot(node.manifests_dir)
    check = ok(toggle(node, ['etcd'], 'restarted', check_mode=True, diff=True))
    assert check['changed'] is True and snapshot(node.manifests_dir) == manifests
    assert [(c['name'], c['state_after'], c['changed']) for c in check['components']] == [
        ('etcd', 'stopped', True), ('etcd', 'started', True)]
    assert node.etcd_healthy()
    watcher = MemberWatcher(lab, interval=0.02)
    watcher.start()
    try:
        restarted = ok(toggle(node, ['etcd'], 'restarted', reason='restart test'))
        # Healthy and a voting member right when the module returned, without any extra waiting.
        assert node.etcd_healthy(timeout=5)
    finally:
        watcher.stop()
    assert restarted['changed'] is True and restarted['state'] == 'restarted'
    assert [(c['name'], c['action']) for c in restarted['components']] == [('etcd', 'stash'), ('etcd', 'restore')]
    assert watcher.seen_down == {node.name}, 'the member never went down: nothing was restarted'
    assert member_names(lab, node) == ['lab-cp-01', 'lab-cp-02', 'lab-cp-03']
    assert snapshot(node.manifests_dir) == manifests
    # A restart always restarts (as a service restart does): a second one reports a change again.
    assert ok(toggle(node, ['etcd'], 'restarted'))['changed'] is True


def etcd_snapshot_intact(path):
    """The file etcd streamed: the database followed by the sha256 of it that etcd appends."""
    with open(path, 'rb') as handle:
        data = handle.read()
    return len(data) > 32 and hashlib.sha256(data[:-32]).digest() == data[-32:]


def test_snapshot_is_taken_from_the_member_right_before_etcd_stops(lab, tmp_path):
    node = lab.nodes[1]
    dest = str(tmp_path / 'snapshots')
    manifests = snapshot(node.manifests_dir)
    checked = ok(toggle(node, ['all'], 'restarted', check_mode=True, snapshot=True, snapshot_dest=dest))
    assert checked['snapshot']['path'].startswith(dest + '/etcd-snapshot-') and checked['snapshot']['size'] is None
    assert not os.path.exists(dest) and snapshot(node.manifests_dir) == manifests

    # A value written right before: the snapshot holds it, taken while the member still served.
    assert lab.etcdctl(node, 'put', 'toggle-snapshot-test', 'before').returncode == 0
    revision = endpoint_status(lab, node)['header']['revision']
    watcher = MemberWatcher(lab, interval=0.02)
    watcher.start()
    try:
        restarted = ok(toggle(node, ['all'], 'restarted', snapshot=True, snapshot_dest=dest, snapshot_keep=1))
    finally:
        watcher.stop()
    taken = restarted['snapshot']
    assert taken['endpoint'] == node.client_url and taken['revision'] >= revision
    assert os.listdir(dest) == [os.path.basename(taken['path'])]
    assert stat.S_IMODE(os.stat(taken['path']).st_mode) == 0o600 and etcd_snapshot_intact(taken['path'])
    assert taken['sha256'] == sha(taken['path']) and taken['removed'] == []
    assert watcher.seen_down == {node.name} and node.etcd_healthy(timeout=5)
    assert snapshot(node.manifests_dir) == manifests

    # keep=1 prunes the older one; a stop that does not stop etcd (already stopped) takes none.
    first = taken['path']
    stopped = ok(toggle(node, ['etcd'], 'stopped', snapshot=True, snapshot_dest=dest, snapshot_keep=1))
    assert stopped['snapshot']['removed'] == [first] and not os.path.exists(first)
    again = ok(toggle(node, ['all'], 'stopped', snapshot=True, snapshot_dest=dest))
    assert again['snapshot'] is None and os.listdir(dest) == [os.path.basename(stopped['snapshot']['path'])]
    ok(toggle(node, ['all'], 'started'))
    assert snapshot(node.manifests_dir) == manifests and node.etcd_healthy(timeout=5)


def test_a_member_that_does_not_answer_is_snapshotted_through_another(lab, tmp_path):
    """A hung member (SIGSTOP: it keeps its sockets, answers nothing) whose node is stopped to repair it:
    the snapshot comes from the next of snapshot_endpoints, and the stop goes on."""
    node, other = lab.nodes[2], lab.nodes[0]
    dest = str(tmp_path / 'snapshots')
    endpoints = [node.client_url, other.client_url]
    with etcd_frozen(node):
        stopped = ok(toggle(node, ['etcd'], 'stopped', wait=False, snapshot=True, snapshot_dest=dest,
                            snapshot_endpoints=endpoints))
    taken = stopped['snapshot']
    assert taken['endpoint'] == other.client_url and etcd_snapshot_intact(taken['path']), taken
    assert stopped['components'][0]['action'] == 'stash'
    wait_for(lambda: not accepts(node.address, HEALTH_PORTS['etcd']), 60, 'the thawed etcd of %s stopped' % node.name)
    ok(toggle(node, ['etcd'], 'started'))
    assert node.etcd_healthy(timeout=5)
    # An endpoint that is not a client URL is refused before anything moves.
    manifests = snapshot(node.manifests_dir)
    refused = toggle(node, ['etcd'], 'stopped', snapshot=True, snapshot_dest=dest, snapshot_endpoints=['ftp://x'])
    assert refused['failed'] and refused['msg'].startswith("snapshot_endpoints: malformed etcd endpoint 'ftp://x'"), refused
    assert snapshot(node.manifests_dir) == manifests and node.etcd_healthy()


@pytest.mark.parametrize('state', ['stopped', 'restarted'])
def test_a_snapshot_that_cannot_be_taken_stops_nothing(lab, tmp_path, state):
    node = lab.nodes[1]
    unsafe = str(tmp_path / 'shared')
    os.mkdir(unsafe)
    os.chmod(unsafe, 0o777)  # others could plant a snapshot there: refused
    manifests = snapshot(node.manifests_dir)
    failed = toggle(node, ['all'], state, snapshot=True, snapshot_dest=unsafe)
    assert failed['failed'] is True and failed['stage'] == 'snapshot' and failed['changed'] is False, failed
    assert failed['msg'].startswith('cannot save the etcd snapshot before stopping etcd (from %s into %s): '
                                    % (node.client_url, unsafe)), failed['msg']
    assert 'writable' in failed['msg'] and failed['msg'].endswith('Nothing was stopped.'), failed['msg']
    assert not failed.get('timed_out') and failed['components'] == []
    assert snapshot(node.manifests_dir) == manifests and os.listdir(unsafe) == []
    assert node.etcd_healthy() and accepts(node.address, HEALTH_PORTS['kube-apiserver'])


def test_a_wait_that_runs_out_says_timed_out_and_another_run_goes_on_waiting(lab):
    node = lab.nodes[2]
    ok(toggle(node, ['kube-scheduler'], 'stopped'))
    # A paused kubelet emulator does not see the manifest come back: the 1 s wait must run out.
    kubelet_pid = lab.emulator_pid(node)
    os.kill(kubelet_pid, signal.SIGSTOP)
    try:
        failed = toggle(node, ['kube-scheduler'], 'started', wait_timeout=1)
    finally:
        os.kill(kubelet_pid, signal.SIGCONT)
    assert failed['failed'] is True and failed['timed_out'] is True, failed
    assert 'kube-scheduler not healthy after 1 s' in failed['msg']
    # The move was done; the same call again only goes on waiting.
    again = ok(toggle(node, ['kube-scheduler'], 'started'))
    assert again['changed'] is False and again['components'][0]['waited'] is not None
    assert accepts(node.address, HEALTH_PORTS['kube-scheduler'])
    # Any other failure is not a timeout, so a retry loop on timed_out stops at once.
    refused = toggle(node, ['etcd'], 'started', wait_timeout=0)
    assert refused['failed'] is True and refused.get('timed_out') in (None, False), refused


def test_identical_copy_in_both_places_is_cleaned(lab):
    node = lab.nodes[1]
    manifest = os.path.join(node.manifests_dir, 'kube-scheduler.yaml')
    stashed = os.path.join(stash_dir(node), 'kube-scheduler.yaml')
    digest = sha(manifest)
    os.makedirs(stash_dir(node), mode=0o700, exist_ok=True)
    shutil.copy2(manifest, stashed)  # the operator's "backup" the runbook's rsync would leave

    result = ok(toggle(node, ['kube-scheduler'], 'started'))
    assert result['changed'] is True
    assert result['components'][0]['action'] == 'remove-stray-stash'
    assert not os.path.exists(stashed) and sha(manifest) == digest

    shutil.copy2(manifest, stashed)
    result = ok(toggle(node, ['kube-scheduler'], 'stopped'))
    assert result['components'][0]['action'] == 'remove-stray-manifest'
    assert not os.path.exists(manifest) and sha(stashed) == digest
    assert not accepts(node.address, 10259)
    ok(toggle(node, ['kube-scheduler'], 'started'))
    assert accepts(node.address, 10259)


@pytest.mark.parametrize('state', ['stopped', 'started'])
def test_different_copies_are_refused_and_nothing_changes(lab, state):
    node = lab.nodes[1]
    manifest = os.path.join(node.manifests_dir, 'kube-controller-manager.yaml')
    other = os.path.join(stash_dir(node), 'kube-controller-manager.yaml')
    os.makedirs(stash_dir(node), mode=0o700, exist_ok=True)
    with open(manifest) as handle:
        text = handle.read()
    with open(other, 'w') as handle:
        handle.write(text.replace('--leader-elect=true', '--leader-elect=false'))
    try:
        before = snapshot(node.manifests_dir, stash_dir(node))
        result = toggle(node, ['all'], state)
        assert result['failed']
        for path in (manifest, other):
            assert path in result['msg'] and sha(path) in result['msg']
        assert snapshot(node.manifests_dir, stash_dir(node)) == before
        assert node.apiserver_ready() and accepts(node.address, 10257)
    finally:
        os.unlink(other)


def test_modes_owners_and_stash_dir_mode_kept(lab):
    node = lab.nodes[1]
    manifest = os.path.join(node.manifests_dir, 'kube-scheduler.yaml')
    os.chmod(manifest, 0o640)
    os.chown(manifest, 0, 3456)  # another group is kept; another owner would be refused (issue 14)
    try:
        ok(toggle(node, ['kube-scheduler'], 'stopped'))
        info = os.stat(os.path.join(stash_dir(node), 'kube-scheduler.yaml'))
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 0, 3456)
        assert stat.S_IMODE(os.stat(stash_dir(node)).st_mode) == 0o700
        ok(toggle(node, ['kube-scheduler'], 'started'))
        info = os.stat(manifest)
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 0, 3456)
        assert stat.S_IMODE(os.stat(stash_dir(node)).st_mode) == 0o700
    finally:
        os.chown(manifest, 0, 0)
        os.chmod(manifest, 0o600)


def _kubernetes_copy(lab, tmp_path):
    """A copy of node 1's kubernetes_dir (no kubelet watches it): bad input must not touch a live node."""
    root = str(tmp_path / 'kubernetes')
    shutil.copytree(lab.nodes[0].kubernetes_dir, root, ignore=shutil.ignore_patterns('manifests-stash'))
    return root


def _missing_manifests_dir(root):
    shutil.rmtree(os.path.join(root, 'manifests'))


def _unreadable_manifest(root):
    path = os.path.join(root, 'manifests', 'kube-apiserver.yaml')
    os.unlink(path)
    os.symlink('kube-apiserver.yaml', path)


def _not_yaml(root):
    with open(os.path.join(root, 'manifests', 'etcd.yaml'), 'w') as handle:
        handle.write('apiVersion: v1\nkind: [Pod\n  - broken: {\n')


def _world_writable_stash(root):
    os.mkdir(os.path.join(root, 'manifests-stash'), 0o700)
    os.chmod(os.path.join(root, 'manifests-stash'), 0o777)


def _foreign_stashed_manifest(root):
    stash = os.path.join(root, 'manifests-stash')
    os.mkdir(stash, 0o700)
    os.rename(os.path.join(root, 'manifests', 'kube-scheduler.yaml'), os.path.join(stash, 'kube-scheduler.yaml'))
    os.chown(os.path.join(stash, 'kube-scheduler.yaml'), 65534, 65534)
    os.chmod(os.path.join(stash, 'kube-scheduler.yaml'), 0o666)


def _not_a_pod(root):
    with open(os.path.join(root, 'manifests', 'etcd.yaml'), 'w') as handle:
        handle.write('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: etcd\n')


@pytest.mark.parametrize('breaker,extra,pattern', [
    (_missing_manifests_dir, {}, r'manifests directory .*manifests does not exist'),
    (_unreadable_manifest, {}, r'cannot read kube-apiserver manifest .*kube-apiserver\.yaml'),
    (_not_yaml, {}, r'etcd\.yaml is not valid YAML'),
    (_not_a_pod, {}, r"etcd\.yaml is not a Pod manifest \(kind: 'Deployment'\)"),
    (None, {'stash_dir': 'manifests/stash'}, r'stash directory .* is inside the manifests directory'),
    (None, {'stash_dir': 'admin.conf'}, r'stash path .*admin\.conf exists and is not a directory'),
    (None, {'name': ['etcd', 'kube-proxy']}, r'value of name must be one or more of'),
    # issue 14: checked before anything moves (wait_timeout=-1 stashed a manifest, then failed)
    (None, {'wait_timeout': -1}, r'wait_timeout must be at least 1 and at most 86400, not -1'),
    (None, {'relative_stash_dir': 'stash'}, r"stash_dir must be an absolute path, not 'stash'"),
    (_world_writable_stash, {}, r'stash directory .*manifests-stash cannot be trusted: .* writable by group and '
                                r'others \(mode 0777\)'),
    (_foreign_stashed_manifest, {}, r'kube-scheduler manifest .*kube-scheduler\.yaml cannot be trusted: .*owned by '
                                    r'uid 65534'),
], ids=['no-manifests-dir', 'unreadable', 'not-yaml', 'not-a-pod', 'stash-inside', 'stash-is-file',
        'unknown-component', 'wait-timeout', 'relative-stash', 'world-writable-stash', 'foreign-stashed-manifest'])
def test_bad_input_is_a_clear_error_and_changes_nothing(lab, tmp_path, breaker, extra, pattern):
    import re
    root = _kubernetes_copy(lab, tmp_path)
    if breaker:
        breaker(root)
    extra = dict(extra)
    if 'stash_dir' in extra:
        extra['stash_dir'] = os.path.join(root, extra['stash_dir'])
    if 'relative_stash_dir' in extra:
        extra['stash_dir'] = extra.pop('relative_stash_dir')
    name = extra.pop('name', ['all'])
    before = snapshot(root, os.path.join(root, 'manifests'), os.path.join(root, 'manifests-stash'))
    for state in ('stopped', 'started'):
        result = toggle(lab.nodes[0], name, state, kubernetes_dir=root, wait=False, **extra)
        assert result['failed'], result
        assert re.search(pattern, result['msg']), result['msg']
        assert 'Traceback' not in result['msg']
        assert snapshot(root, os.path.join(root, 'manifests'), os.path.join(root, 'manifests-stash')) == before


def test_stray_etcd_copy_is_stashed_with_etcd_and_etcd_stays_down(lab):
    """Issue 14: with manifests/etcd.yaml.bak, stopping etcd left the copy running (etcd came back 7 s later)."""
    node = lab.nodes[2]
    lab.wait_healthy(timeout=120)
    stray = os.path.join(node.manifests_dir, 'etcd.yaml.bak')
    shutil.copy2(os.path.join(node.manifests_dir, 'etcd.yaml'), stray)
    stashed_stray = os.path.join(stash_dir(node), 'strays', 'etcd.yaml.bak')
    try:
        # What the quorum guard asks: cheap, check mode, changes nothing, names the file.
        check = ok(toggle(node, ['all'], 'started', check_mode=True))
        assert check['changed'] is False
        assert [(s['path'], s['component']) for s in check['strays']] == [(stray, 'etcd')]

        stopped = ok(toggle(node, ['etcd'], 'stopped', reason='issue 14 stray'))
        assert [(s['action'], s['stash_path']) for s in stopped['strays']] == [('stash', stashed_stray)]
        assert not os.path.exists(stray) and os.path.exists(stashed_stray)
        # No etcd on the node's ports, right away and after the kubelet had time to start a copy.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            assert not [port for port in (2379, 2380, 2381) if accepts(node.address, port)]
            time.sleep(0.5)

        started = ok(toggle(node, ['etcd'], 'started'))
        assert started['strays'] == [] and not os.path.exists(stray)   # a stray is never restored
        assert node.etcd_healthy(timeout=5)
    finally:
        for path in (stray, stashed_stray):
            if os.path.exists(path):
                os.unlink(path)
        ok(toggle(node, ['all'], 'started'))


def test_runbook_scenario_2_1_with_the_module_alone(lab):
    node1, node2, node3 = lab.nodes
    lab.wait_healthy(timeout=120)
    # The runbook's node 1 "happened to be leader": make it so.
    members = json.loads(lab.etcdctl(node1, 'member', 'list', '-w', 'json').stdout)['members']
    node1_id = [m['ID'] for m in members if m['name'] == node1.name][0]
    leader = endpoint_status(lab, node1)['leader']
    if leader != node1_id:
        leader_node = [n for n in lab.nodes if endpoint_status(lab, n)['header']['member_id'] == leader][0]
        proc = lab.etcdctl(leader_node, 'move-leader', '%x' % node1_id)
        assert proc.returncode == 0, proc.stderr
    assert endpoint_status(lab, node1)['leader'] == node1_id

    # Stop node 1: the cluster keeps working, the leader moved away from node 1.
    ok(toggle(node1, ['all'], 'stopped', reason='runbook 2.1 step 1'))
    assert not node1.listening()
    new_leader = wait_for(lambda: endpoint_status(lab, node3).get('leader'), 30, 'a leader without node 1')
    assert new_leader != node1_id
    assert lab.etcdctl(node3, 'put', 'scenario-2.1', 'one-down').returncode == 0
    assert node2.apiserver_ready() and node3.apiserver_ready()

    # Stop node 2: the module reads etcd's peers right before etcd moves (issue 21) and refuses, naming node 1;
    # the apiserver, controller-manager and scheduler were stopped by that run, and it says so.
    manifest = os.path.join(node2.manifests_dir, 'etcd.yaml')
    digest = sha(manifest)
    refused = toggle(node2, ['all'], 'stopped', reason='runbook 2.1 step 2')
    assert refused['failed'] and 'refusing to stop etcd member %s' % node2.name in refused['msg'], refused
    assert 'etcd member %s (%s) does not answer' % (node1.name, node1.client_url) in refused['msg'], refused['msg']
    assert 'kube-apiserver, kube-controller-manager and kube-scheduler were already stopped' in refused['msg']
    assert sha(manifest) == digest and node2.etcd_healthy(timeout=5)
    # The runbook's operator goes on regardless: no quorum, no leader.
    forced = ok(toggle(node2, ['all'], 'stopped', reason='runbook 2.1 step 2', allow_quorum_loss=True))
    assert any('allowed by allow_quorum_loss' in warning for warning in forced.get('warnings', [])), forced
    assert not node2.listening()
    wait_for(lambda: not endpoint_status(lab, node3).get('leader'), 30, 'node 3 alone without a leader')
    assert lab.etcdctl(node3, 'put', 'scenario-2.1', 'no-quorum', timeout=60).returncode != 0

    # Start node 2: returns once its etcd is healthy (a leader again) and its apiserver ready.
    started = ok(toggle(node2, ['all'], 'started'))
    assert [c['name'] for c in started['components']] == list(COMPONENTS)
    assert node2.etcd_healthy(timeout=5) and node2.apiserver_ready()
    assert endpoint_status(lab, node3).get('leader')
    assert lab.etcdctl(node3, 'put', 'scenario-2.1', 'two-of-three').returncode == 0

    # Start node 1: all healthy.
    ok(toggle(node1, ['all'], 'started'))
    assert node1.etcd_healthy(timeout=5) and node1.apiserver_ready()
    lab.wait_healthy(timeout=10)
    assert lab.etcdctl(node1, 'get', 'scenario-2.1', '--print-value-only').stdout.strip() == 'two-of-three'
    assert member_names(lab, node3) == ['lab-cp-01', 'lab-cp-02', 'lab-cp-03']


# ---------------------------------------------------------------- issue 21: hostile probes, each refused first

def test_a_stashed_manifest_of_another_component_is_refused_and_nothing_changes(lab):
    """The stash holds kube-scheduler.yaml, but its pod is kube-controller-manager: starting "kube-scheduler"
    would run a second controller-manager and no scheduler. Refused, naming the file and what it holds."""
    node = lab.nodes[1]
    ok(toggle(node, ['kube-scheduler'], 'stopped'))
    stashed = os.path.join(stash_dir(node), 'kube-scheduler.yaml')
    keep = os.path.join(node.root, 'kube-scheduler.yaml.kept')
    shutil.move(stashed, keep)
    shutil.copy2(os.path.join(node.manifests_dir, 'kube-controller-manager.yaml'), stashed)
    try:
        before = snapshot(node.manifests_dir, stash_dir(node))
        for check_mode in (True, False):
            refused = toggle(node, ['kube-scheduler'], 'started', check_mode=check_mode)
            assert refused['failed'] and not refused['changed'], refused
            assert '%s holds the pod kube-controller-manager' % stashed in refused['msg'], refused['msg']
            assert 'not kube-scheduler' in refused['msg'] and 'Nothing was changed' in refused['msg']
            assert 'Traceback' not in refused['_stdout'] + refused['_stderr']
        assert snapshot(node.manifests_dir, stash_dir(node)) == before
        assert not accepts(node.address, HEALTH_PORTS['kube-scheduler'])
    finally:
        shutil.move(keep, stashed)
    ok(toggle(node, ['kube-scheduler'], 'started'))


def test_a_shared_stash_dir_is_refused_and_keeps_its_mode(lab, tmp_path):
    """A stash_dir that holds other files (or the kubeadm directory, or /tmp) is not ours: refused, naming it,
    its mode and files untouched, the manifest still in place."""
    node = lab.nodes[1]
    shared = str(tmp_path / 'shared')
    os.mkdir(shared)
    with open(os.path.join(shared, 'notes.txt'), 'w') as handle:
        handle.write('somebody else\'s file\n')
    os.chmod(shared, 0o755)
    watched = (node.manifests_dir, shared, node.kubernetes_dir)
    before = snapshot(*watched)
    modes = dict((path, stat.S_IMODE(os.stat(path).st_mode)) for path in watched)
    for directory, words, check_mode in (
            (shared, 'stash_dir %s exists and holds files that are not stashed control-plane manifests (notes.txt)'
             % shared, False),
            (node.kubernetes_dir, 'stash_dir %s is a directory the system or kubeadm shares' % node.kubernetes_dir,
             False),
            (os.path.join(node.kubernetes_dir, 'pki'), "stash_dir %s is inside kubeadm's pki directory"
             % os.path.join(node.kubernetes_dir, 'pki'), False),
            # refused while planning, the same code as a real run: shown in check mode on a shared machine
            ('/tmp', 'stash_dir /tmp is a directory the system or kubeadm shares', True)):
        refused = toggle(node, ['kube-scheduler'], 'stopped', check_mode=check_mode, stash_dir=directory)
        assert refused['failed'] and not refused['changed'], refused
        assert words in refused['msg'] and 'Nothing was changed' in refused['msg'], refused['msg']
        assert 'Traceback' not in refused['_stdout'] + refused['_stderr']
    assert snapshot(*watched) == before
    assert dict((path, stat.S_IMODE(os.stat(path).st_mode)) for path in watched) == modes
    assert accepts(node.address, HEALTH_PORTS['kube-scheduler'])


def test_etcd_stop_refused_when_a_peer_froze_after_the_guard(lab):
    """Issue 21: the guard read the cluster healthy; then a member froze (SIGSTOP: it keeps its sockets and
    answers nothing). Stopping etcd on a third node would leave one of three voters: the module reads the
    peers again right before the move and refuses, naming the frozen member; the manifest stays."""
    lab.wait_healthy(timeout=120)
    reader, frozen, node = lab.nodes
    manifest = os.path.join(node.manifests_dir, 'etcd.yaml')
    members_before = member_names(lab, reader)
    before = snapshot(node.manifests_dir, stash_dir(node))
    with etcd_frozen(frozen):
        refused = toggle(node, ['etcd'], 'stopped', snapshot_endpoints=[reader.client_url])
        still_there = os.path.exists(manifest)
    assert refused['failed'] and not refused['changed'], refused
    message = refused['msg']
    assert 'refusing to stop etcd member %s' % node.name in message, message
    assert 'etcd member %s (%s) does not answer' % (frozen.name, frozen.client_url) in message, message
    assert 'would leave 1 of 3 voters healthy' in message and 'allow_quorum_loss=true' in message
    assert 'Nothing was changed by this run' in message and 'Traceback' not in refused['_stdout'] + refused['_stderr']
    assert still_there and snapshot(node.manifests_dir, stash_dir(node)) == before
    lab.wait_healthy(timeout=120)
    assert member_names(lab, reader) == members_before
    assert node.etcd_healthy(timeout=5)
