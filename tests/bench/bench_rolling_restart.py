"""Write availability and wall time of a rolling restart or rolling reboot of the whole control
plane: the collection's rolling_restart playbook (plain, and power-cycling each node as its
maintenance step) versus a naive rolling power-cycle and the runbook's manual procedure.

    python -m tests.bench.bench_rolling_restart [--nodes 3 5 [7]] [--runs 3] [--out bench-results]
        [--procedures playbook playbook-power-cycle naive-power-cycle manual] [--down-seconds 0]
        [--connections ssh local]

For every run, size and procedure a fresh lab (free loopback block) is started, for the playbook
procedures once per connection (--connections; default ssh and local where this machine can run
the ssh lab, local only elsewhere): over ssh every node is a host of its own, reached through its
own sshd as an operator's inventory says; over local every node is on one filesystem. The naive
power-cycle and the manual procedure never use Ansible: they run once, on a local lab. A client
(python-etcd3 over gRPC, the integration tests' ContinuousWriter) puts /bench/<n> every 10 ms
with a 2 s deadline per put to all endpoints, retrying a failed or timed-out put on the next
member until it is acknowledged, as the apiserver's etcd client does. Then, while it writes:
- playbook: `ansible-playbook kubemaint.control_plane.rolling_restart` (certificates and lock
  first; per node quorum guard, snapshot, leadership moved away, pods restarted in one module run,
  etcd healthy and caught up first), no maintenance step;
- playbook-power-cycle (a): the same playbook with rolling_restart_maintenance_tasks =
  tests/bench/files/power_cycle.yml: the lab SIGKILLs every process of the node and starts its
  kubelet emulator again (the pods were stopped gracefully by the playbook before);
- naive-power-cycle (b): the same power-cycle node by node without the collection, with the
  pods running (a rolling reboot): SIGKILL everything of the node, boot it, wait until the node
  is healthy (etcd answers a linearizable read, apiserver ready), next node;
- manual (c): the runbook's way: `cd /etc/kubernetes && mv manifests manifests-DATE`, wait
  until the node's etcd is gone, `mv manifests-DATE manifests`, wait until the node is healthy;
  no leader transfer, no guard. Its wall time is the floor: the etcd restarts and catch-ups alone.
A second thread polls every member's client port (member-down windows) and etcd's Status RPC
(leader and raft term: leader changes and elections). The playbook runs with a callback
(tests/bench/callback_plugins) that times every task per host: where each node's time goes.
At the end every value the writer meant to write is looked up with one range read; a value
missing there is a lost write (exit 1). Prints markdown tables (median [min-max] over the runs; the
playbook procedures a row per connection, "playbook (graceful) (ssh)"), issue 12's targets for the
local rows and issue 20's for the ssh rows as met / not met and where each node's time goes per
connection; writes them to <out>/rolling_restart.md, the raw figures to <out>/rolling_restart.json
and a PNG timeline per size (first run) to <out>/rolling_restart_<nodes>.png (needs matplotlib).
"""
import argparse
import functools
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time

from tests.integration.helpers import REPO_ROOT, run_playbook, wait_for
from tests.integration.playbook_helpers import ContinuousWriter, port_open
from tests.lab import Lab, LabError, free_base_address
from tests.lab.core import ssh_unavailable

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
POWER_CYCLE_TASKS = os.path.join(BENCH_DIR, 'files', 'power_cycle.yml')
CALLBACK_DIR = os.path.join(BENCH_DIR, 'callback_plugins')
CALLBACK_NAME = 'kubemaint_task_timing'
PROCEDURES = ('playbook', 'playbook-power-cycle', 'naive-power-cycle', 'manual')
LABELS = {'playbook': 'playbook (graceful)', 'playbook-power-cycle': '(a) playbook + power-cycle',
          'naive-power-cycle': '(b) naive power-cycle', 'manual': '(c) manual (runbook)'}
PLAYBOOK_PROCEDURES = ('playbook', 'playbook-power-cycle')
CONNECTIONS = ('ssh', 'local')  # how the playbook reaches the nodes; a row per connection, in this order
BARE_CONNECTION = 'local'  # the lab of the procedures without the collection: they never use Ansible, local is cheaper
# The must-show targets of the playbook rows per connection: (connection, issue, member down per node at
# most this times manual's, wall time at most this times the same run's manual procedure (the floor)).
TARGETS = (('local', 'issue 12', 1.5, 5), ('ssh', 'issue 20', 1.2, 4))
STALL_MARK = 0.5  # seconds without an acknowledged write that count as a stall on the timeline
RATE_BIN = 0.25  # seconds per bar of the write rate on the timeline
SETTLE = 2.0  # seconds of writing before and after the restart, for the baseline
STATUS_INTERVAL = 0.2  # seconds between two rounds of Status RPCs to every member
# Where a node's time goes in the playbook: a task whose name (or file, role, module) matches
# starts that phase; a task that matches none (a shared read, a set_fact, "see which pods are
# stopped") stays in the phase that included it. First match wins.
PHASES = (
    ('lock', ('maintenance lock', 'maintenance_lock')),
    ('maintenance', ('maintenance', 'power-cycle', 'power_cycle')),
    ('cert check', ('certificate', 'cert_check', 'cert_san_check')),
    ('guard', ('guard', 'lock', 'already stopped', 'see which control-plane pods run', 'etcd members and status',
               'choose the etcd endpoints')),
    ('snapshot', ('snapshot',)),
    ('leader move', ('leadership', 'etcd_leader', 'leader away')),
    ('catch-up', ('caught up', 'catch_up', 'catch up')),
    ('report', ('report', 'after the stop')),
    ('restart', ('restart etcd', 'restart the pods', 'control plane in place')),
    ('stop', ('stop the', 'stop etcd', 'stop pods', 'stop kube', 'state=stopped')),
    ('start', ('start the', 'start etcd', 'start pods', 'start kube', 'state=started')),
)
# The playbook's tasks that open and close a node's own turn (lower case, start of the task name; any of
# each tuple). Without maintenance tasks the turn is one task, node_restart, which opens and closes it;
# with them, the turn runs from the note that the node went down to the note that it was back (the stop
# itself falls outside it: a known gap of the breakdown since the turn became one task).
TURN_MARKS = (('note for the closing summary when the restart began', 'restart the control plane in place',
               'note for the closing summary when the control plane went down'),
              ('note for the closing summary when the control plane was back', 'restart the control plane in place'))
PHASE_ORDER = ('lock', 'guard', 'snapshot', 'leader move', 'stop', 'restart', 'maintenance', 'cert check', 'start',
               'catch-up', 'report', 'other')


class TimedList(list):
    """A list that remembers when each item was appended (the writer's acknowledgements)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def append(self, value):
        self.times.append(time.monotonic())
        super().append(value)


class TimedClient:
    """Wraps one etcd3 client: records every put attempted (first attempt's time), every failure
    and the raft term in every acknowledgement's response header."""

    def __init__(self, client, index, record):
        self.client = client
        self.index = index
        self.record = record

    def put(self, key, value):
        started = time.monotonic()
        self.record['first'].setdefault(key, started)
        try:
            response = self.client.put(key, value)
        except Exception:  # pylint: disable=broad-except
            self.record['failures'].append((started, time.monotonic(), self.index))
            raise
        self.record['terms'].append((time.monotonic(), response.header.raft_term))
        return response

    def __getattr__(self, name):
        return getattr(self.client, name)


class TimedWriter(ContinuousWriter):
    """The integration tests' ContinuousWriter, with a time for every acknowledgement and failure."""

    def __init__(self, lab, prefix='/bench/'):
        super().__init__(lab, interval=0.01, deadline=2.0, prefix=prefix)
        self.deadline = 2.0
        self.record = {'first': {}, 'failures': [], 'terms': []}
        self.acknowledged = TimedList()
        self.clients = [TimedClient(client, index, self.record) for index, client in enumerate(self.clients)]

    def latencies(self, begin, end):
        """Seconds from a value's first put attempt to its acknowledgement, for values first tried in [begin, end]."""
        found = []
        for number, acked in zip(list(self.acknowledged), list(self.acknowledged.times)):
            first = self.record['first'].get('%s%08d' % (self.prefix, number))
            if first is not None and begin <= first <= end:
                found.append(acked - first)
        return found

    def read_back(self, names):
        """{member name: every value under the prefix}, one range read through each member.

        Every member, not the first that answers: a member that lost an acknowledged write on its
        own (etcd 3.5.0-3.5.2 can, when SIGKILLed right after applying it) is a lost write too."""
        found, errors = {}, []
        for client, name in zip(self.clients, names):
            try:
                found[name] = {int(value) for value, _meta in client.get_prefix(self.prefix)}
            except Exception as exc:  # pylint: disable=broad-except
                errors.append('%s: %s' % (name, exc))
        if errors:
            raise RuntimeError('members did not answer the read-back: %s' % '; '.join(errors))
        return found

    def close(self):
        for client in self.clients:
            try:
                client.close()
            except Exception:  # pylint: disable=broad-except
                pass


class PortTimeline(threading.Thread):
    """Samples every member's client port; records when each one closes (stop) and opens (start)."""

    def __init__(self, lab, interval=0.1):
        super().__init__(daemon=True)
        self.lab = lab
        self.interval = interval
        self.events = []  # (time, node name, 'stop' | 'start')
        self.stop_event = threading.Event()

    def run(self):
        state = {node.name: True for node in self.lab.nodes}
        while not self.stop_event.is_set():
            for node in self.lab.nodes:
                up = port_open(node.address, 2379)
                if up != state[node.name]:
                    state[node.name] = up
                    self.events.append((time.monotonic(), node.name, 'start' if up else 'stop'))
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join(10)

    def down_intervals(self, end):
        """{node name: [(stopped, started), ...]} from the events (an open interval ends at `end`)."""
        intervals = {node.name: [] for node in self.lab.nodes}
        opened = {}
        for moment, name, kind in self.events:
            if kind == 'stop':
                opened[name] = moment
            elif name in opened:
                intervals[name].append((opened.pop(name), moment))
        for name, moment in opened.items():
            intervals[name].append((moment, end))
        return intervals


class LeaderTimeline(threading.Thread):
    """Asks every member for its Status (gRPC, its own channels) every STATUS_INTERVAL seconds:
    (time, member index, leader id, raft term), to count leader changes and elections."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        import etcd3  # pylint: disable=import-outside-toplevel
        from etcd3 import etcdrpc  # pylint: disable=import-outside-toplevel
        self.request = etcdrpc.StatusRequest()
        self.clients = [etcd3.client(host=node.address, port=2379, timeout=0.5,
                                     ca_cert=os.path.join(node.etcd_pki_dir, 'ca.crt'),
                                     cert_cert=os.path.join(node.etcd_pki_dir, 'server.crt'),
                                     cert_key=os.path.join(node.etcd_pki_dir, 'server.key'))
                        for node in lab.nodes]
        self.samples = []
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            for index, client in enumerate(self.clients):
                try:
                    status = client.maintenancestub.Status(self.request, 0.5, credentials=client.call_credentials,
                                                           metadata=client.metadata)
                except Exception:  # pylint: disable=broad-except
                    continue
                self.samples.append((time.monotonic(), index, status.leader, status.raftTerm))
            self.stop_event.wait(STATUS_INTERVAL)

    def stop(self):
        self.stop_event.set()
        self.join(10)
        for client in self.clients:
            try:
                client.close()
            except Exception:  # pylint: disable=broad-except
                pass


def leader_changes(samples):
    """How often the leader seen by the members changed (a sample without a leader is no change)."""
    changes, current = 0, None
    for _moment, _index, leader, _term in sorted(samples):
        if not leader:
            continue
        if current is not None and leader != current:
            changes += 1
        current = leader
    return changes


def elections(samples, terms):
    """Raft term increases seen by the Status polls and in the writer's response headers."""
    seen = [term for _moment, _index, _leader, term in samples] + [term for _moment, term in terms]
    return max(seen) - min(seen) if seen else 0


def run_quiet(command, cwd):
    import subprocess  # pylint: disable=import-outside-toplevel
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError('%s in %s failed (rc=%d): %s' % (' '.join(command), cwd, proc.returncode, proc.stderr))


def manual_restart(lab):
    """The runbook's procedure, node after node; returns [(node name, moved out, etcd gone, moved back, healthy)]."""
    moved = 'manifests-%s' % time.strftime('%Y%m%d')
    steps = []
    for node in lab.nodes:
        moved_out = time.monotonic()
        run_quiet(['mv', 'manifests', moved], node.kubernetes_dir)
        wait_for(lambda n=node: not port_open(n.address, 2379), 120, '%s etcd gone' % node.name, interval=0.1)
        gone = time.monotonic()
        run_quiet(['mv', moved, 'manifests'], node.kubernetes_dir)
        moved_back = time.monotonic()
        lab.wait_healthy(timeout=300, nodes=[node])
        steps.append((node.name, moved_out, gone, moved_back, time.monotonic()))
    return steps


def naive_power_cycle(lab, down_seconds):
    """A rolling reboot without the collection: power-cycle a node with its pods running, wait until healthy, next."""
    steps = []
    for node in lab.nodes:
        began = time.monotonic()
        lab.power_cycle(node, down_seconds=down_seconds)
        booted = time.monotonic()
        lab.wait_healthy(timeout=300, nodes=[node])
        steps.append((node.name, began, booted, booted, time.monotonic()))
    return steps


def run_rolling_restart(lab, timing_log, maintenance, down_seconds):
    extra_vars = {}
    if maintenance:
        extra_vars = {'rolling_restart_maintenance_tasks': POWER_CYCLE_TASKS, 'lab_repo_root': REPO_ROOT,
                      'lab_power_cycle_down_seconds': down_seconds}
    env = {'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR, 'ANSIBLE_CALLBACKS_ENABLED': CALLBACK_NAME,
           'KUBEMAINT_TASK_TIMING_LOG': timing_log}
    proc = run_playbook('kubemaint.control_plane.rolling_restart', lab.inventory_path, extra_vars=extra_vars,
                        timeout=1500, env=env)
    if proc.returncode != 0:
        raise RuntimeError('rolling_restart failed on %d nodes (rc=%d): %s'
                           % (len(lab.nodes), proc.returncode, (proc.stdout + proc.stderr)[-6000:]))
    tasks = []
    with open(timing_log) as handle:
        for line in handle:
            tasks.append(json.loads(line))
    return tasks


def stalls(times, start, end, threshold):
    """Gaps between acknowledgements (and from start / to end) longer than threshold: [(from, to)]."""
    found = []
    previous = start
    for moment in list(times) + [end]:
        if moment - previous > threshold:
            found.append((previous, moment))
        previous = moment
    return found


def percentile(values, fraction):
    """The nearest-rank percentile of values (0.0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


def phase_of(task, current):
    """The phase a timed task starts, or `current` when it names none (see PHASES)."""
    if task['action'].endswith('validate_argument_spec'):
        return current  # a role's argument check quotes the role's description, which names other phases
    text = ' '.join((task['task'], task['path'], task['role'], task['action'])).lower()
    for phase, words in PHASES:
        if any(word in text for word in words):
            return phase
    return current


def is_mark(task, which):
    """The task is TURN_MARKS[which] and ran on its host (every host meets a mark; it runs on the node
    whose turn it is and is skipped on the others)."""
    name = task['task'].split(' : ', 1)[-1]  # a role's task is named "<role> : <name>"
    return task['status'] != 'skipped' and name.lower().startswith(TURN_MARKS[which])


def own_turn(host_tasks, window=None):
    """(tasks of the host's own turn, the host's tasks before the first turn and after the last).

    The playbook notes when a node's turn begins and ends (TURN_MARKS); the plays before the first
    node and after the last (certificates of every node at once, the lock, the summary) run on every
    host at the same time, so they are nobody's turn. `window` is (first turn's start, last turn's
    end) over every host: a host's tasks inside it but outside its own turn (the pods read on every
    node for another node's guard) belong to that other node's turn and are in neither list. Without
    the marks everything is the turn."""
    begins = [index for index, task in enumerate(host_tasks) if is_mark(task, 0)]
    ends = [index for index, task in enumerate(host_tasks) if is_mark(task, 1)]
    if not begins or not ends or ends[-1] < begins[0]:
        return host_tasks, []
    first, last = window or (host_tasks[begins[0]]['start'], host_tasks[ends[-1]]['end'])
    outside = [task for task in host_tasks[:begins[0]] + host_tasks[ends[-1] + 1:]
               if task['end'] <= first or task['start'] >= last]
    return host_tasks[begins[0]:ends[-1] + 1], outside


def turn_window(tasks):
    """(start of the first turn, end of the last) over every host's TURN_MARKS, or None without marks."""
    begins = [task['start'] for task in tasks if is_mark(task, 0)]
    ends = [task['end'] for task in tasks if is_mark(task, 1)]
    return (min(begins), max(ends)) if begins and ends else None


# node_restart's steps (its module runs on the node, in its result's `steps`) and the phase each belongs to;
# the restart's parts (static_pod_toggle's `timings`) likewise
STEP_PHASES = {'pods read': 'guard', 'guard read': 'guard', 'leader move': 'leader move', 'restart': 'restart',
               'wait': 'start', 'lock release': 'lock', 'snapshot': 'snapshot', 'stopped': 'stop', 'started': 'start'}


def parts_of(task, phase):
    """[(phase, start, end)] of one timed task: the task whole, or for node_restart its steps, the restart
    step cut into its parts (snapshot, stop, start) and the rest of its module run ('restart'). The time
    between steps (ansible's own, on the controller) is left out, so it shows as the turn's overhead."""
    if not task.get('steps'):
        return [(phase, task['start'], task['end'])]
    parts = []
    for step in task['steps']:
        begin, end = step['start'], step['start'] + step['seconds']
        pieces = sorted((part['start'], part['start'] + part['seconds'], STEP_PHASES.get(part['what'], phase))
                        for part in step.get('parts') or [])
        step_phase = STEP_PHASES.get(step['step'], phase)
        for piece_begin, piece_end, piece_phase in pieces:
            if piece_begin > begin:
                parts.append((step_phase, begin, piece_begin))
            parts.append((piece_phase, piece_begin, piece_end))
            begin = max(begin, piece_end)
        if end > begin:
            parts.append((step_phase, begin, end))
    return parts


def time_per_phase(tasks, down):
    """{host: {phase: [seconds, seconds while the host's etcd was down]}, plus '_span', '_overhead', '_run'.

    The span is the host's own turn, first task start to last task end (see own_turn); overhead is
    the part of it no task accounts for (ansible between tasks: templating, forks, results); '_run'
    is the time of the host's tasks outside its turn (the run-wide plays)."""
    by_host = {}
    for task in sorted(tasks, key=lambda item: item['start']):
        by_host.setdefault(task['host'], []).append(task)
    result = {}
    window = turn_window(tasks)
    for host, all_tasks in by_host.items():
        host_tasks, outside = own_turn(all_tasks, window)
        phases = {}
        current = 'other'
        for task in host_tasks:
            current = phase_of(task, current)
            for phase, begin_at, end_at in parts_of(task, current):
                entry = phases.setdefault(phase, [0.0, 0.0])
                entry[0] += end_at - begin_at
                entry[1] += sum(max(0.0, min(end_at, end) - max(begin_at, begin)) for begin, end in down.get(host, []))
        span = host_tasks[-1]['end'] - host_tasks[0]['start']
        phases['_span'] = [span, sum(end - begin for begin, end in down.get(host, []))]
        phases['_overhead'] = [span - sum(value[0] for key, value in phases.items() if not key.startswith('_')), 0.0]
        if outside:
            phases['_run'] = [sum(task['end'] - task['start'] for task in outside), 0.0]
        result[host] = phases
    return result


def measure(procedure, nodes, directory, down_seconds=0.0, connection=BARE_CONNECTION):
    """One procedure on a fresh lab (`connection`: ssh or local) while the writer writes; returns the
    figures and the timeline."""
    lab = Lab(directory, nodes=nodes, base_address=free_base_address(nodes), connection=connection)
    writer = watcher = leaders = None
    tasks = []
    try:
        lab.up(timeout=240)
        lab.wait_healthy(timeout=180)
        watcher = PortTimeline(lab)
        leaders = LeaderTimeline(lab)
        writer = TimedWriter(lab)
        origin = time.monotonic()
        watcher.start()
        leaders.start()
        writer.start()
        time.sleep(SETTLE)
        started = time.monotonic()
        steps = []
        if procedure in PLAYBOOK_PROCEDURES:
            tasks = run_rolling_restart(lab, os.path.join(directory, 'task-timing.jsonl'),
                                        procedure == 'playbook-power-cycle', down_seconds)
            lab.reload_kubelets()  # the power-cycle (another process) started new emulators
        elif procedure == 'naive-power-cycle':
            steps = naive_power_cycle(lab, down_seconds)
        else:
            steps = manual_restart(lab)
        finished = time.monotonic()
        lab.wait_healthy(timeout=180)
        time.sleep(SETTLE)
        writer.stop()
        watcher.stop()
        leaders.stop()
        ended = time.monotonic()
        if writer.is_alive():
            raise RuntimeError('the writer did not stop within 120 s')
        found = writer.read_back([node.name for node in lab.nodes])
    finally:
        if writer is not None:
            writer.stop()
            writer.close()
        if watcher is not None:
            watcher.stop()
        if leaders is not None:
            leaders.stop()
        try:
            lab.reload_kubelets()
        except LabError:
            pass
        lab.down()
        left = lab.processes()
        if left:
            raise RuntimeError('lab processes left running after down: %s' % left)
    meant = {int(key[len(writer.prefix):]) for key in writer.record['first']}
    failures = writer.record['failures']
    down = watcher.down_intervals(ended)
    down_per_node = [sum(end - begin for begin, end in down[node.name]) for node in lab.nodes]
    latencies = writer.latencies(started, finished)
    return {
        'procedure': procedure, 'nodes': nodes,
        'connection': lab.connection, 'lab': lab.describe_connection(),
        'wall': finished - started,
        'values': len(meant),
        'acknowledged': len(writer.acknowledged),
        'attempts': len(writer.acknowledged) + writer.retries,
        'first_failures': writer.first_attempt_failures,
        'deadline_hits': sum(1 for begin, end, _index in failures if end - begin >= writer.deadline * 0.95),
        'longest_stall': writer.longest_stall,
        'p99_latency': percentile(latencies, 0.99),
        'stalls': stalls(writer.acknowledged.times, origin, ended, STALL_MARK),
        'elections': elections(leaders.samples, writer.record['terms']),
        'leader_changes': leader_changes(leaders.samples),
        'lost': sorted(set().union(*(meant - values for values in found.values()))),
        'lost_on': {name: sorted(meant - values) for name, values in found.items() if meant - values},
        'down_mean': sum(down_per_node) / len(down_per_node),
        'down_max': max(down_per_node),
        'origin': origin, 'started': started, 'finished': finished, 'ended': ended,
        'ack_times': list(writer.acknowledged.times),
        'failures': list(failures),
        'down': down,
        'steps': steps,
        'tasks': tasks,
        'names': [node.name for node in lab.nodes],
    }


# ------------------------------------------------------------------------------------ report
METRICS = (  # (key, column title, format)
    ('wall', 'wall time (s)', '%.1f'),
    ('floor_ratio', 'vs floor', '%.1fx'),
    ('down_mean', 'member down per node, mean (s)', '%.1f'),
    ('down_max', 'member down per node, max (s)', '%.1f'),
    ('first_failures', 'failed first attempts', '%d'),
    ('deadline_hits', 'puts to the 2 s deadline', '%d'),
    ('longest_stall', 'longest stall (s)', '%.2f'),
    ('p99_latency', 'p99 put latency (s)', '%.3f'),
    ('elections', 'elections (term increases)', '%d'),
    ('leader_changes', 'leader changes', '%d'),
    ('lost_count', 'lost writes', '%d'),
    ('values', 'values written', '%d'),
)


def connection_of(result):
    """The connection of a result's lab; results from before issue 20 carry none: they ran on the local lab."""
    return result.get('connection', 'local')


def row_of(result):
    """(procedure, connection): the row of the tables a result belongs to."""
    return result['procedure'], connection_of(result)


def label(procedure, connection):
    """A row's name: the procedure, for a playbook procedure with its connection ("playbook (graceful) (ssh)")."""
    return '%s (%s)' % (LABELS[procedure], connection) if procedure in PLAYBOOK_PROCEDURES else LABELS[procedure]


def rows_of(results):
    """The rows the results fill, in the order of PROCEDURES and CONNECTIONS."""
    present = {row_of(result) for result in results}
    return [(procedure, connection) for procedure in PROCEDURES for connection in CONNECTIONS
            if (procedure, connection) in present]


def labs(results, rows):
    """Per connection: its rows and how their labs reached the nodes (Lab.describe_connection)."""
    lines = []
    for connection in CONNECTIONS:
        names = [label(*row) for row in rows if row[1] == connection]
        described = [result['lab'] for result in results if connection_of(result) == connection and 'lab' in result]
        if names:
            lines.append('- %s: %s' % (', '.join(names), described[0] if described else
                                       'connection %s (not recorded: measured before issue 20)' % connection))
    return 'Labs:\n\n' + '\n'.join(lines)


def add_derived(results):
    """floor_ratio (wall time over the same run's manual wall time) and lost_count on every result."""
    floors = {(result['run'], result['nodes']): result['wall'] for result in results if result['procedure'] == 'manual'}
    for result in results:
        floor = floors.get((result['run'], result['nodes']))
        result['floor_ratio'] = result['wall'] / floor if floor else float('nan')
        result['lost_count'] = len(result['lost'])


def spread(values, fmt):
    """'median [min-max]' of values, or the single value."""
    values = [value for value in values if not math.isnan(value)]  # NaN: no floor in that run
    if not values:
        return 'n/a'
    median = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt % median
    return '%s [%s-%s]' % (fmt % median, fmt % min(values), fmt % max(values))


def grouped(results):
    groups = {}
    for result in results:
        groups.setdefault((result['nodes'],) + row_of(result), []).append(result)
    return groups


def table(results, rows, sizes):
    groups = grouped(results)
    lines = ['| nodes | procedure | runs | ' + ' | '.join(title for _key, title, _fmt in METRICS) + ' |',
             '|---:|---|---:|' + '---:|' * len(METRICS)]
    for nodes in sizes:
        for row in rows:
            chosen = groups.get((nodes,) + row, [])
            if not chosen:
                continue
            cells = [spread([result[key] for result in chosen], fmt) for key, _title, fmt in METRICS]
            lines.append('| %d | %s | %d | %s |' % (nodes, label(*row), len(chosen), ' | '.join(cells)))
    return '\n'.join(lines)


def phase_table(results, row, nodes):
    """Per phase and node: seconds (median over the runs), and of them while the node's etcd was down."""
    chosen = [result for result in results if row_of(result) == row and result['nodes'] == nodes and result['phases']]
    if not chosen:
        return ''
    names = chosen[0]['names']
    rows = []
    for phase in PHASE_ORDER + ('_overhead', '_span', '_run'):
        per_node = []
        for name in names:
            values = [result['phases'].get(name, {}).get(phase, [0.0, 0.0]) for result in chosen]
            per_node.append((statistics.median(value[0] for value in values),
                             statistics.median(value[1] for value in values)))
        if not any(seconds for seconds, _down in per_node):
            continue
        title = {'_overhead': 'ansible between tasks', '_span': '**node total** (down: member down)',
                 '_run': 'before the first node and after the last, on every node at once (not in the total)'
                 }.get(phase, phase)
        mean = sum(seconds for seconds, _down in per_node) / len(per_node)
        mean_down = sum(down for _seconds, down in per_node) / len(per_node)
        rows.append('| %s | %s | %.2f | %.2f |' % (title, ' | '.join('%.2f (%.2f)' % pair for pair in per_node),
                                                   mean, mean_down))
    header = ('| phase | %s | mean per node (s) | of it while etcd down (s) |\n|---|%s---:|---:|'
              % (' | '.join('%s: s (while down)' % name for name in names), '---:|' * len(names)))
    return ('Where each node\'s time goes, %s, %d nodes (median over %d runs; seconds per node, in brackets '
            'the part while that node\'s etcd was down):\n\n%s\n%s' % (label(*row), nodes, len(chosen), header,
                                                                       '\n'.join(rows)))


def median_of(results, nodes, row, key):
    values = [result[key] for result in results if result['nodes'] == nodes and row_of(result) == row]
    values = [value for value in values if not math.isnan(value)]
    return statistics.median(values) if values else None


def verdict(ok):
    return 'met' if ok else '**not met**'


def size_targets(results, nodes, connection, down_target, wall_target):
    """The target lines of one size for the playbook over `connection` (see TARGETS); over local also issue 12's
    power-cycle comparisons, (a) against (b) and (c)."""
    med = functools.partial(median_of, results, nodes)
    playbook = ('playbook' if med(('playbook', connection), 'wall') is not None else 'playbook-power-cycle', connection)
    manual = ('manual', BARE_CONNECTION)
    lines = []
    manual_down, playbook_down = med(manual, 'down_mean'), med(playbook, 'down_mean')
    if manual_down is not None and playbook_down is not None:
        ratio = playbook_down / manual_down if manual_down else float('inf')
        lines.append('- %d nodes, member down per node, %s vs manual: %.1f s vs %.1f s = %.1fx (target <= %gx): %s'
                     % (nodes, label(*playbook), playbook_down, manual_down, ratio, down_target,
                        verdict(ratio <= down_target)))
    else:
        lines.append('- %d nodes, member down per node: not measured (needs a playbook over %s and manual)'
                     % (nodes, connection))
    ratio = med(playbook, 'floor_ratio')
    if ratio is not None:
        lines.append('- %d nodes, wall time, %s vs floor: %.1fx (target <= %gx): %s'
                     % (nodes, label(*playbook), ratio, wall_target, verdict(ratio <= wall_target)))
    else:
        lines.append('- %d nodes, wall time vs floor: not measured (needs a playbook over %s and manual)'
                     % (nodes, connection))
    if connection != 'local':
        return lines
    stall_a = med(('playbook-power-cycle', connection), 'longest_stall')
    stall_b = med(('naive-power-cycle', BARE_CONNECTION), 'longest_stall')
    if stall_a is not None and stall_b is not None:
        lines.append('- %d nodes, longest stall (a) vs (b): %.2f s vs %.2f s (target (a) <= (b)/10 = %.2f s): %s'
                     % (nodes, stall_a, stall_b, stall_b / 10, verdict(stall_a <= stall_b / 10)))
    else:
        lines.append('- %d nodes, longest stall (a) vs (b): not measured (needs both)' % nodes)
    fail_a = med(('playbook-power-cycle', connection), 'first_failures')
    fail_c = med(manual, 'first_failures')
    if fail_a is not None and fail_c is not None:
        lines.append('- %d nodes, failed first attempts (a) vs (c): %g vs %g (target (a) <= (c)): %s'
                     % (nodes, fail_a, fail_c, verdict(fail_a <= fail_c)))
    else:
        lines.append('- %d nodes, failed first attempts (a) vs (c): not measured (needs both)' % nodes)
    return lines


def targets(results, sizes):
    """The must-show targets of every connection the playbook ran over (TARGETS; without a playbook row,
    issue 12's), medians per size, each as met / not met / not measured, and the lost writes of its rows
    (the local rows with the procedures without the collection, which run on a local lab)."""
    measured = {connection_of(result) for result in results if result['procedure'] in PLAYBOOK_PROCEDURES}
    sections = []
    for connection, issue, down_target, wall_target in TARGETS:
        if connection not in (measured or {'local'}):
            continue
        lines = []
        for nodes in sizes:
            lines += size_targets(results, nodes, connection, down_target, wall_target)
        lost = {}
        for result in results:
            if connection_of(result) == connection:
                lost[row_of(result)] = lost.get(row_of(result), 0) + result['lost_count']
        lines.append('- lost writes, all runs and sizes: %s (target 0 everywhere): %s' % (
            ', '.join('%s %d' % (label(*row), lost[row]) for row in rows_of(results) if row in lost),
            verdict(not any(lost.values()))))
        sections.append('Targets of %s, the playbook over %s (medians):\n\n%s' % (issue, connection, '\n'.join(lines)))
    return '\n\n'.join(sections)


def lost_lines(results):
    """One line per measurement that lost writes: which values, missing on which members."""
    lines = []
    for result in results:
        if result['lost']:
            lines.append('- %s, %d nodes, run %d: values %s missing on %s' % (
                label(*row_of(result)), result['nodes'], result['run'], result['lost'][:20],
                ', '.join('%s (%d)' % (name, len(values)) for name, values in sorted(result.get('lost_on', {}).items()))
                or 'the first member that answered (this run read through one member only)'))
    return '\n'.join(lines)


def machine():
    """Cores, memory and the load average now, for the record."""
    try:
        with open('/proc/meminfo') as handle:
            total = int(handle.readline().split()[1]) / 1024.0 / 1024.0
    except (OSError, ValueError, IndexError):
        total = float('nan')
    load = os.getloadavg()
    return '%d cores, %.1f GiB memory, load average %.2f %.2f %.2f' % (os.cpu_count() or 0, total, *load)


def etcd_version():
    import subprocess  # pylint: disable=import-outside-toplevel
    from tests.lab import find_etcd_binaries  # pylint: disable=import-outside-toplevel
    try:
        binary = find_etcd_binaries()[0]
        out = subprocess.run([binary, '--version'], capture_output=True, text=True, timeout=30, check=False).stdout
        return '%s (%s)' % (out.splitlines()[0].split(':', 1)[1].strip(), binary)
    except (LabError, OSError, IndexError, subprocess.SubprocessError) as exc:
        return 'unknown (%s)' % exc


def write_rate(ack_times, origin, end):
    """Acknowledged writes per second in RATE_BIN-wide bins from origin to end: (bin starts, rates)."""
    count = max(1, int((end - origin) / RATE_BIN) + 1)
    bins = [0] * count
    for moment in ack_times:
        bins[min(count - 1, int((moment - origin) / RATE_BIN))] += 1
    return [index * RATE_BIN for index in range(count)], [number / RATE_BIN for number in bins]


def plot(results, nodes, path):
    """One column per row (first run): acknowledged writes over time with stalls and failed puts
    above, each member's etcd down time (stop/start) below. Returns an error text or None."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        return 'no PNG (%s); pip install -r requirements-test.txt' % exc
    chosen = [result for result in results if result['nodes'] == nodes and result['run'] == 1 and 'ack_times' in result]
    if not chosen:
        return 'no PNG for %d nodes: no result of the first run' % nodes
    figure, axes = pyplot.subplots(2, len(chosen), figsize=(5.5 * len(chosen), 6.5), squeeze=False,
                                   gridspec_kw={'height_ratios': [3, 1.4]}, sharey='row')
    for column, result in enumerate(chosen):
        top, bottom = axes[0][column], axes[1][column]
        bottom.sharex(top)
        origin = result['origin']
        edges, rates = write_rate(result['ack_times'], origin, result['ended'])
        top.step(edges, rates, where='post', color='tab:blue', linewidth=1,
                 label='acknowledged writes per second (%.2f s bins)' % RATE_BIN)
        for begin, end in result['stalls']:
            top.axvspan(begin - origin, end - origin, color='tab:red', alpha=0.25, linewidth=0)
        failed = [begin - origin for begin, _end, _index in result['failures']]
        if failed:
            top.plot(failed, [0] * len(failed), 'x', color='tab:red', markersize=5, label='failed put attempt')
        for axis in (top, bottom):
            axis.axvline(result['started'] - origin, color='grey', linestyle='--', linewidth=0.8)
            axis.axvline(result['finished'] - origin, color='grey', linestyle='--', linewidth=0.8)
        top.set_title('%s, %d nodes: %.1f s,\nlongest stall %.2f s, %d first-attempt failures, %d lost'
                      % (label(*row_of(result)), nodes, result['wall'], result['longest_stall'],
                         result['first_failures'], len(result['lost'])), fontsize=9)
        top.set_ylabel('writes/s')
        top.plot([], [], color='tab:red', alpha=0.25, linewidth=6, label='no write for > %.1f s' % STALL_MARK)
        top.legend(loc='upper left', fontsize=7)
        names = result['names']
        for row, name in enumerate(names):
            spans = [(begin - origin, end - begin) for begin, end in result['down'][name]]
            bottom.broken_barh(spans, (row - 0.35, 0.7), color='tab:orange')
            for begin, width in spans:
                bottom.plot([begin], [row], marker='v', color='black', markersize=4)
                bottom.plot([begin + width], [row], marker='^', color='tab:green', markersize=4)
                top.axvline(begin, color='black', linestyle=':', linewidth=0.6)
                top.axvline(begin + width, color='tab:green', linestyle=':', linewidth=0.6)
        bottom.set_yticks(range(len(names)))
        bottom.set_yticklabels(names, fontsize=7)
        bottom.set_ylim(len(names) - 0.5, -0.5)
        bottom.set_xlabel('seconds since the writer started (dashed: restart begins / ends)')
        bottom.set_ylabel('etcd down (v stop, ^ start)', fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, nargs='+', default=[3, 5], help='cluster sizes (7 is slow on 2 cores)')
    parser.add_argument('--runs', type=int, default=3, help='repetitions of the whole comparison (default 3)')
    parser.add_argument('--procedures', nargs='+', choices=PROCEDURES, default=list(PROCEDURES),
                        help='which procedures to compare (default: all four)')
    parser.add_argument('--down-seconds', type=float, default=0.0,
                        help='how long a power-cycled node stays off, in (a) and (b) alike (default 0)')
    parser.add_argument('--connections', nargs='+', choices=CONNECTIONS,
                        help='how the playbook procedures reach the lab nodes, each measured once per connection on '
                             'a lab of its own (default: ssh and local where the ssh lab can run, as root; else local)')
    parser.add_argument('--out', default=os.path.join(REPO_ROOT, 'bench-results'), help='where the tables and PNGs go')
    parser.add_argument('--from-json', metavar='PATH',
                        help='measure nothing: report again from a rolling_restart.json of an earlier run')
    options = parser.parse_args(argv)
    if options.from_json:
        with open(options.from_json) as handle:
            results = json.load(handle)
        return report(results, options, results[0].get('header', 'machine: not recorded'),
                      [result.get('load', float('nan')) for result in results])
    if options.runs < 1:
        parser.error('--runs must be at least 1')
    unavailable = ssh_unavailable()
    if options.connections is None:
        options.connections = ['local'] if unavailable else list(CONNECTIONS)
        if unavailable:
            print('the playbook over local only, no ssh rows: %s' % unavailable, flush=True)
    elif 'ssh' in options.connections and unavailable:
        parser.error('--connections ssh: the ssh lab cannot run here: %s' % unavailable)
    os.environ['PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION'] = 'python'
    connections = [connection for connection in CONNECTIONS if connection in options.connections]
    rows = [(procedure, connection) for procedure in PROCEDURES if procedure in options.procedures
            for connection in (connections if procedure in PLAYBOOK_PROCEDURES else [BARE_CONNECTION])]
    header = 'machine at the start: %s; etcd %s' % (machine(), etcd_version())
    print(header, flush=True)
    results = []
    loads = []
    for nodes in options.nodes:  # every run of a size before the next size: a run cut short keeps whole sizes
        for run in range(1, options.runs + 1):
            for procedure, connection in rows:
                print('rolling restart bench: run %d/%d, %s on %d nodes ...'
                      % (run, options.runs, label(procedure, connection), nodes), flush=True)
                with tempfile.TemporaryDirectory(prefix='kubemaint-bench-rr-') as directory:
                    result = measure(procedure, nodes, directory, options.down_seconds, connection)
                result['down_seconds'] = options.down_seconds
                result['run'] = run
                result['header'] = header
                result['load'] = os.getloadavg()[0]
                results.append(result)
                loads.append(result['load'])
                os.makedirs(options.out, exist_ok=True)
                with open(os.path.join(options.out, 'rolling_restart.partial.json'), 'w') as handle:
                    json.dump(results, handle)  # a run cut short still reports with --from-json
                print('  wall %.1f s, longest stall %.2f s, %d failed first attempts, %d elections, member down '
                      'mean %.1f s, %d lost' % (result['wall'], result['longest_stall'], result['first_failures'],
                                                result['elections'], result['down_mean'], len(result['lost'])),
                      flush=True)
    return report(results, options, header, loads)


def report(results, options, header, loads):
    """Tables, targets and phases on stdout and in <out>; the raw figures in <out>/rolling_restart.json."""
    add_derived(results)
    for result in results:
        result['phases'] = time_per_phase(result['tasks'], result['down']) if result.get('tasks') else {}
    rows = rows_of(results)
    sizes = sorted({result['nodes'] for result in results})
    runs = len({result['run'] for result in results})
    down_seconds = results[0].get('down_seconds', options.down_seconds)
    parts = [
        'Rolling restart / rolling reboot of the whole control plane while a gRPC client puts a value every 10 ms '
        '(2 s deadline per put, retried until acknowledged); %d run(s), each procedure on a fresh lab (the playbook '
        'once per connection, the procedures without the collection on a local lab), cells are median [min-max] '
        'over the runs. Floor = the manual procedure of the same run. Power-cycled nodes stay off %.1f s.'
        % (runs, down_seconds),
        header + '; 1-minute load average after each measurement: min %.1f, median %.1f, max %.1f'
        % (min(loads), statistics.median(loads), max(loads)),
        labs(results, rows),
        table(results, rows, sizes),
        targets(results, sizes),
    ]
    if lost_lines(results):
        parts.append('Lost writes (acknowledged, then missing from a member at the end):\n\n' + lost_lines(results))
    for nodes in sizes:
        for row in rows:
            text = phase_table(results, row, nodes)
            if text:
                parts.append(text)
    text = '\n\n'.join(parts)
    print()
    print(text)
    os.makedirs(options.out, exist_ok=True)
    with open(os.path.join(options.out, 'rolling_restart.md'), 'w') as handle:
        handle.write(text + '\n')
    with open(os.path.join(options.out, 'rolling_restart.json'), 'w') as handle:
        json.dump(results, handle)
    for nodes in sizes:
        path = os.path.join(options.out, 'rolling_restart_%d.png' % nodes)
        error = plot(results, nodes, path)
        print(error or 'timeline: %s' % path)
    return 1 if any(result['lost'] for result in results) else 0


if __name__ == '__main__':
    sys.exit(main())
