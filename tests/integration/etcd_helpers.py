"""Shared by the etcd module tests: connection arguments for a lab node, stopping/starting members."""
import json
import os
import shutil
import signal
import socket
from contextlib import contextmanager

from tests.integration.helpers import wait_for
from tests.lab.core import _alive


def conn(node, **extra):
    """Connection options for the modules: only kubernetes_dir, everything else from the node's files."""
    args = {'kubernetes_dir': node.kubernetes_dir, 'timeout': 5}
    args.update(extra)
    return args


def port_open(address, port):
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((address, port)) == 0


def etcdctl_json(lab, node, *args, **kwargs):
    proc = lab.etcdctl(node, *(list(args) + ['-w', 'json']), **kwargs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def etcd_pid(node):
    path = os.path.join(node.root, 'run', 'kubelet', 'pods', 'etcd.yaml.json')
    with open(path) as handle:
        record = json.load(handle)
    assert _alive(record['pid'], record.get('start_time')), record
    return record['pid']


@contextmanager
def etcd_stopped(lab, *nodes):
    """Stop the nodes' etcd the runbook's way (manifest moved out, the kubelet stops the pod)."""
    parked = []
    try:
        for node in nodes:
            where = os.path.join(node.root, 'parked-manifests')
            os.makedirs(where, exist_ok=True)
            shutil.move(os.path.join(node.manifests_dir, 'etcd.yaml'), os.path.join(where, 'etcd.yaml'))
            parked.append((node, where))
        for node in nodes:
            wait_for(lambda n=node: not port_open(n.address, 2379), 60, '%s etcd stopped' % node.name)
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
