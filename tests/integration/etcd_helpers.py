"""Shared by the etcd module tests: connection arguments for a lab node, stopping/starting members."""
import json
import os
import shutil
import signal
import socket
import time
from contextlib import contextmanager

from tests.lab.core import _alive


def conn(node, **extra):
    """Connection options for the modules: only kubernetes_dir, everything else from the node's files."""
    args = {'kubernetes_dir': node.kubernetes_dir, 'timeout': 5}
    args.update(extra)
    return args


def wait_for(predicate, timeout, message, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('timed out after %s s waiting for: %s' % (timeout, message))


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


def run_module(module_name, args=None, check_mode=False, diff=False, timeout=300):
    """Like helpers.run_module, without the json stdout callback (it lives in ansible.posix, which
    is not installed): the play writes the registered result to a file with to_json."""
    import subprocess
    import sys
    import tempfile

    import yaml

    from tests.integration.helpers import BIN, ansible_env
    with tempfile.TemporaryDirectory(prefix='kubemaint-etcd-run-') as tmp:
        out = os.path.join(tmp, 'result.json')
        task = {'name': 'module under test', 'kubemaint.control_plane.' + module_name: args or {},
                'check_mode': bool(check_mode), 'diff': bool(diff), 'ignore_errors': True, 'register': 'result'}
        save = {'name': 'save result', 'ansible.builtin.copy': {'content': '{{ result | to_json }}', 'dest': out},
                'check_mode': False, 'diff': False}
        playbook = os.path.join(tmp, 'play.yml')
        with open(playbook, 'w') as handle:
            yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [task, save]}], handle)
        command = [os.path.join(BIN, 'ansible-playbook'), playbook, '-i', 'localhost,', '-c', 'local',
                   '-e', 'ansible_python_interpreter=%s' % sys.executable]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ansible_env(), cwd=tmp)
        if not os.path.exists(out):
            raise AssertionError('ansible-playbook gave no result (rc=%d)\nstdout:\n%s\nstderr:\n%s'
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        with open(out) as handle:
            result = json.load(handle)
    result.setdefault('failed', False)
    result.setdefault('changed', False)
    result['_stdout'] = proc.stdout
    result['_stderr'] = proc.stderr
    return result
