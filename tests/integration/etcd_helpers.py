"""Shared by the etcd module tests: connection arguments for a lab node, stopping/starting members."""
import json
import os
import shutil
import signal
import subprocess
import socket
from contextlib import contextmanager

from tests.integration.helpers import wait_for
from tests.lab.core import _alive


def conn(node, **extra):
    """Connection options for the modules: only kubernetes_dir, everything else from the node's files."""
    args = {'kubernetes_dir': node.kubernetes_dir, 'timeout': 5}
    args.update(extra)
    return args


def etcd3_client(node, timeout=5.0):
    """An independent gRPC client (python-etcd3) on the node's member, with the node's etcd certificates."""
    os.environ['PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION'] = 'python'
    import etcd3  # pylint: disable=import-outside-toplevel
    return etcd3.client(host=node.address, port=2379, timeout=timeout,
                        ca_cert=os.path.join(node.etcd_pki_dir, 'ca.crt'),
                        cert_cert=os.path.join(node.etcd_pki_dir, 'server.crt'),
                        cert_key=os.path.join(node.etcd_pki_dir, 'server.key'))


def port_open(address, port):
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((address, port)) == 0


def etcdctl_json(lab, node, *args, **kwargs):
    proc = lab.etcdctl(node, *(list(args) + ['-w', 'json']), **kwargs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def etcd_process(node):
    """(pid, start time) of the node's running etcd, as its kubelet emulator recorded them."""
    path = os.path.join(node.root, 'run', 'kubelet', 'pods', 'etcd.yaml.json')
    with open(path) as handle:
        record = json.load(handle)
    assert _alive(record['pid'], record.get('start_time')), record
    return record['pid'], record.get('start_time')


def etcd_pid(node):
    return etcd_process(node)[0]


def wait_etcd_gone(node, process, timeout=60):
    """Wait until the node's etcd `process` ((pid, start time) from etcd_process) has exited.

    A closed client port is not enough: etcd closes its client listeners first and then, as a
    leader, hands leadership over while its raft still runs; until the process is gone it may vote."""
    wait_for(lambda: not _alive(*process) and not port_open(node.address, 2379) and not port_open(node.address, 2380),
             timeout, '%s etcd (pid %d) exited' % (node.name, process[0]))


@contextmanager
def etcd_stopped(lab, *nodes):
    """Stop the nodes' etcd the runbook's way (manifest moved out, the kubelet stops the pod)."""
    parked = []
    try:
        processes = [etcd_process(node) for node in nodes]
        for node in nodes:
            where = os.path.join(node.root, 'parked-manifests')
            os.makedirs(where, exist_ok=True)
            shutil.move(os.path.join(node.manifests_dir, 'etcd.yaml'), os.path.join(where, 'etcd.yaml'))
            parked.append((node, where))
        for node, process in zip(nodes, processes):
            wait_etcd_gone(node, process)
        yield
    finally:
        for node, where in parked:
            shutil.move(os.path.join(where, 'etcd.yaml'), os.path.join(node.manifests_dir, 'etcd.yaml'))
        if parked:
            lab.wait_healthy(timeout=180)


@contextmanager
def etcd_frozen(node):
    """SIGSTOP the node's etcd: it keeps its sockets but answers nothing (a hung member)."""
    pid = etcd_pid(node)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def leader_name(lab, node):
    members = dict((m['ID'], m['name']) for m in etcdctl_json(lab, node, 'member', 'list')['members'])
    statuses = etcdctl_json(lab, node, 'endpoint', 'status', '--cluster')
    seen = set(entry['Status']['leader'] for entry in statuses if entry['Status'].get('leader'))
    assert len(seen) == 1, statuses
    return members[seen.pop()]


@contextmanager
def running_learner(lab, node, data_dir, log_path, name='lab-learner'):
    """An extra etcd member, added as a learner (etcdctl) and started beside `node` on ports
    12379/12380 with the node's etcd certificates. Yields {name, id, peer, client} once etcd lists
    it under its name; stops it (by its pid) and removes the member afterwards."""
    peer, client = 'https://%s:12380' % node.address, 'https://%s:12379' % node.address

    def add():
        # etcd refuses reconfiguration until every member has been connected for a few seconds
        proc = lab.etcdctl(node, 'member', 'add', name, '--learner', '--peer-urls=%s' % peer, '-w', 'json')
        return json.loads(proc.stdout) if proc.returncode == 0 else None
    added = wait_for(add, 60, 'etcd accepts the new learner', interval=1)
    learner_id = added['member']['ID']
    initial = ','.join('%s=%s' % (m.get('name') or name, m['peerURLs'][0]) for m in added['members'])
    pki = node.etcd_pki_dir
    try:
        with open(log_path, 'wb') as log:
            process = subprocess.Popen([
                lab.etcd_bin, '--name', name, '--data-dir', data_dir,
                '--initial-cluster', initial, '--initial-cluster-state', 'existing',
                '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
                '--listen-client-urls', client, '--advertise-client-urls', client,
                '--cert-file', os.path.join(pki, 'server.crt'), '--key-file', os.path.join(pki, 'server.key'),
                '--client-cert-auth', '--trusted-ca-file', os.path.join(pki, 'ca.crt'),
                '--peer-cert-file', os.path.join(pki, 'peer.crt'), '--peer-key-file', os.path.join(pki, 'peer.key'),
                '--peer-client-cert-auth', '--peer-trusted-ca-file', os.path.join(pki, 'ca.crt')],
                stdout=log, stderr=subprocess.STDOUT)
            try:
                def started():
                    listed = etcdctl_json(lab, node, 'member', 'list')['members']
                    return any(m['ID'] == learner_id and m.get('name') == name for m in listed)
                wait_for(started, 90, 'the learner started and published its name')
                yield {'name': name, 'id': learner_id, 'peer': peer, 'client': client}
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        lab.etcdctl(node, 'member', 'remove', '%x' % learner_id)
