"""Helpers for the playbook scenario tests: run a playbook of the collection against a lab, read
its recap, watch etcd members while it runs and write to etcd continuously with an independent
gRPC client (python-etcd3)."""
import json
import os
import re
import socket
import threading
import time

from tests.integration.etcd_helpers import etcd3_client
from tests.integration.helpers import run_playbook

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'files')
LOCK_KEY = '/kubemaint.control_plane/lock'
RECAP_LINE = re.compile(r'^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)

# Lines a run on 3 nodes prints with the default callback and no ansible.cfg (issue 25): what this
# version may print at most, and what issue 25 asks for (None: no target set). docs/output.md has the
# figures; the run's summary prints what was measured.
OUTPUT_LINES = {
    'rolling_restart': (150, 150),
    # 715 measured: each node's turn also says that the lock is held through its maintenance tasks (issue 21)
    'rolling_restart with maintenance tasks': (750, None),
    'renew_certs -e renew_certs_force=true': (660, None),
    'restore_quorum, two of three members lost': (510, None),
}
MEASURED_OUTPUT_LINES = {}


def play(name, lab, extra_vars=None, limit=None, timeout=900, check=False, inventory=None, env=None):
    """Run kubemaint.control_plane.<name> against the lab's inventory (or `inventory`), with `env` added to
    ansible's environment; CompletedProcess with .recap."""
    proc = run_playbook('kubemaint.control_plane.' + name, inventory or lab.inventory_path, extra_vars=extra_vars,
                        limit=limit, timeout=timeout, check=check, env=env)
    proc.recap = recap(proc.stdout)
    proc.output = proc.stdout + proc.stderr
    return proc


def count_output_lines(what, proc):
    """Count the lines `proc` printed on stdout, remember them for the run's summary and fail above
    the ceiling OUTPUT_LINES sets for `what`."""
    lines = len(proc.stdout.splitlines())
    MEASURED_OUTPUT_LINES[what] = lines
    ceiling = OUTPUT_LINES[what][0]
    assert lines <= ceiling, '%s printed %d lines, more than %d:\n%s' % (what, lines, ceiling, proc.stdout[-3000:])
    return lines


def recap(text):
    """PLAY RECAP as {host: {'ok': n, 'changed': n, 'unreachable': n, 'failed': n}}."""
    totals = {}
    for host, ok, changed, unreachable, failed in RECAP_LINE.findall(text):
        entry = totals.setdefault(host, {'ok': 0, 'changed': 0, 'unreachable': 0, 'failed': 0})
        for key, value in (('ok', ok), ('changed', changed), ('unreachable', unreachable), ('failed', failed)):
            entry[key] += int(value)
    return totals


def describe(proc):
    return 'rc=%s\n%s' % (proc.returncode, proc.output[-6000:])


def lock_value(lab):
    """The lock's JSON record as etcd holds it, or None when nobody holds it."""
    for node in lab.nodes:
        result = lab.etcdctl(node, 'get', LOCK_KEY, '--print-value-only')
        if result.returncode == 0:
            value = result.stdout.strip()
            return json.loads(value) if value else None
    raise AssertionError('no etcd member answered a read of the lock')


def dir_on_every_node(lab, tmp_path, name, mode):
    """A directory with `mode` that every node reaches at one path: (that path, [its places on this machine]).

    In ssh mode each node's own /tmp/<name> (a node sees no other's files); on the local connection
    one directory that every node shares.
    """
    if lab.connection == 'ssh':
        places = [os.path.join(node.root, 'tmp', name) for node in lab.nodes]
        path = '/tmp/' + name
    else:
        places = [str(tmp_path / name)]
        path = places[0]
    for place in places:
        os.makedirs(place)
        os.chmod(place, mode)
    return path, places


def replace_manifest(path, data, mode=None):
    """Replace a static pod manifest at once, as an editor's rename would: written beside it under a dot name (the
    kubelet runs no dot file) and renamed over it, with `mode` (default: the manifest's own)."""
    mode = os.stat(path).st_mode & 0o7777 if mode is None else mode
    temporary = os.path.join(os.path.dirname(path), '.%s.new' % os.path.basename(path))
    with open(temporary, 'wb' if isinstance(data, bytes) else 'w') as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.rename(temporary, path)


def port_open(address, port, timeout=0.3):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        return probe.connect_ex((address, port)) == 0


def endpoint_status(lab, node):
    """etcdctl endpoint status of one member as a dict (member_id, leader, raft_term), or None."""
    result = lab.etcdctl(node, 'endpoint', 'status', '-w', 'json')
    if result.returncode != 0:
        return None
    status = json.loads(result.stdout)[0]['Status']
    return {'member_id': status['header']['member_id'], 'leader': status.get('leader', 0),  # 0 or absent: none
            'raft_term': status.get('raft_term', status['header'].get('raft_term'))}


def leader_node(lab):
    """The lab node whose member leads, by etcdctl; None without a leader."""
    for node in lab.nodes:
        status = endpoint_status(lab, node)
        if status and status['leader'] and status['leader'] == status['member_id']:
            return node
    return None


class MemberWatcher(threading.Thread):
    """Samples every member's client port; remembers the most members down at once."""

    def __init__(self, lab, interval=0.1):
        super().__init__(daemon=True)
        self.lab = lab
        self.interval = interval
        self.max_down = 0
        self.max_down_members = []
        self.seen_down = set()
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            down = [node.name for node in self.lab.nodes if not port_open(node.address, 2379)]
            self.samples += 1
            self.seen_down.update(down)
            if len(down) > self.max_down:
                self.max_down, self.max_down_members = len(down), down
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(10)


class ContinuousWriter(threading.Thread):
    """Puts /writer/<n> every `interval` seconds through python-etcd3 (gRPC), each put with a
    `deadline`; a failed or timed-out put is retried on the next member until it is acknowledged,
    as the apiserver's etcd client does. Counts first-attempt failures and the longest stall."""

    def __init__(self, lab, interval=0.01, deadline=2.0, prefix='/writer/'):
        super().__init__(daemon=True)
        self.clients = [etcd3_client(node, timeout=deadline) for node in lab.nodes]
        self.interval = interval
        self.prefix = prefix
        self.acknowledged = []
        self.first_attempt_failures = 0
        self.retries = 0
        self.longest_stall = 0.0
        self._stop_event = threading.Event()

    def run(self):
        current = 0
        number = 0
        last_ack = time.monotonic()
        while not self._stop_event.is_set():
            key = '%s%08d' % (self.prefix, number)
            attempt = 0
            while True:  # a value once attempted is retried until acknowledged, even when stopping
                try:
                    self.clients[current].put(key, str(number))
                    break
                except Exception:  # pylint: disable=broad-except
                    attempt += 1
                    self.retries += 1
                    if attempt == 1:
                        self.first_attempt_failures += 1
                    current = (current + 1) % len(self.clients)
                    time.sleep(0.05)
                    if attempt > 600:
                        raise
            now = time.monotonic()
            self.longest_stall = max(self.longest_stall, now - last_ack)
            last_ack = now
            self.acknowledged.append(number)
            number += 1
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(120)

    def missing(self):
        """Acknowledged values that are not in etcd (read back through every member until one answers)."""
        for client in self.clients:
            try:
                found = {int(value) for value, _meta in client.get_prefix(self.prefix)}
                return sorted(set(self.acknowledged) - found)
            except Exception:  # pylint: disable=broad-except
                continue
        raise AssertionError('no member answered the read-back')
