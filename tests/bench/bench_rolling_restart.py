"""Write availability and wall time of a rolling restart of the whole control plane: the
collection's rolling_restart playbook versus the runbook's manual procedure, 3 and 5 members.

    python -m tests.bench.bench_rolling_restart [--nodes 3 5 [7]] [--out bench-results]

For every size and for each procedure a fresh lab (free loopback block) is started and a
client (python-etcd3 over gRPC, the collection's ContinuousWriter of the integration tests)
puts /bench/<n> every 10 ms with a 2 s deadline per put to all endpoints, retrying a failed or
timed-out put on the next member until it is acknowledged, as the apiserver's etcd client does.
Then, while it writes:
- playbook: `ansible-playbook kubemaint.control_plane.rolling_restart -i <lab inventory>`
  (quorum guard, snapshot, leadership moved away, pods stopped, started, caught up);
- manual: per node, the runbook's way: `cd /etc/kubernetes && mv manifests manifests-DATE`,
  wait until the node's etcd is gone, `mv manifests-DATE manifests`, wait until the node is
  healthy (etcd answers a linearizable read, apiserver ready); no leader transfer, no guard.
  Its wall time is the floor: the etcd restarts and catch-ups alone.
At the end every value the writer meant to write is looked up with one range read; a value
missing there is a lost write. Prints a markdown table, writes it to <out>/rolling_restart.md
and a PNG timeline per size to <out>/rolling_restart_<nodes>.png (needs matplotlib).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

from tests.integration.helpers import REPO_ROOT, wait_for
from tests.integration.playbook_helpers import ContinuousWriter, describe, play, port_open
from tests.lab import Lab, free_base_address

PROCEDURES = ('playbook', 'manual')
STALL_MARK = 0.5  # seconds without an acknowledged write that count as a stall on the timeline
RATE_BIN = 0.25  # seconds per bar of the write rate on the timeline
SETTLE = 2.0  # seconds of writing before and after the restart, for the baseline


class TimedList(list):
    """A list that remembers when each item was appended (the writer's acknowledgements)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def append(self, value):
        self.times.append(time.monotonic())
        super().append(value)


class TimedClient:
    """Wraps one etcd3 client: records every put attempted and every put that failed, with times."""

    def __init__(self, client, index, record):
        self.client = client
        self.index = index
        self.record = record

    def put(self, key, value):
        started = time.monotonic()
        self.record['attempted'].add(key)
        try:
            return self.client.put(key, value)
        except Exception:  # pylint: disable=broad-except
            self.record['failures'].append((started, time.monotonic(), self.index))
            raise

    def __getattr__(self, name):
        return getattr(self.client, name)


class TimedWriter(ContinuousWriter):
    """The integration tests' ContinuousWriter, with a time for every acknowledgement and failure."""

    def __init__(self, lab, prefix='/bench/'):
        super().__init__(lab, interval=0.01, deadline=2.0, prefix=prefix)
        self.deadline = 2.0
        self.record = {'attempted': set(), 'failures': []}
        self.acknowledged = TimedList()
        self.clients = [TimedClient(client, index, self.record) for index, client in enumerate(self.clients)]

    def read_back(self):
        """Every value under the prefix, by one range read through the first member that answers."""
        errors = []
        for client in self.clients:
            try:
                return {int(value) for value, _meta in client.get_prefix(self.prefix)}
            except Exception as exc:  # pylint: disable=broad-except
                errors.append('%s: %s' % (client.index, exc))
        raise RuntimeError('no member answered the read-back: %s' % '; '.join(errors))

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


def run_quiet(command, cwd):
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


def stalls(times, start, end, threshold):
    """Gaps between acknowledgements (and from start / to end) longer than threshold: [(from, to)]."""
    found = []
    previous = start
    for moment in list(times) + [end]:
        if moment - previous > threshold:
            found.append((previous, moment))
        previous = moment
    return found


def measure(procedure, nodes, directory):
    """One procedure on a fresh lab while the writer writes; returns the figures and the timeline."""
    lab = Lab(directory, nodes=nodes, base_address=free_base_address(nodes))
    writer = watcher = None
    try:
        lab.up(timeout=240)
        lab.wait_healthy(timeout=180)
        watcher = PortTimeline(lab)
        writer = TimedWriter(lab)
        origin = time.monotonic()
        watcher.start()
        writer.start()
        time.sleep(SETTLE)
        started = time.monotonic()
        steps = []
        if procedure == 'playbook':
            proc = play('rolling_restart', lab, timeout=1500)
            if proc.returncode != 0:
                raise RuntimeError('rolling_restart failed on %d nodes: %s' % (nodes, describe(proc)))
        else:
            steps = manual_restart(lab)
        finished = time.monotonic()
        lab.wait_healthy(timeout=180)
        time.sleep(SETTLE)
        writer.stop()
        watcher.stop()
        ended = time.monotonic()
        if writer.is_alive():
            raise RuntimeError('the writer did not stop within 120 s')
        found = writer.read_back()
    finally:
        if writer is not None:
            writer.stop()
            writer.close()
        if watcher is not None:
            watcher.stop()
        lab.down()
        left = lab.processes()
        if left:
            raise RuntimeError('lab processes left running after down: %s' % left)
    meant = {int(key[len(writer.prefix):]) for key in writer.record['attempted']}
    failures = writer.record['failures']
    first_failures = writer.first_attempt_failures
    return {
        'procedure': procedure, 'nodes': nodes,
        'wall': finished - started,
        'values': len(meant),
        'acknowledged': len(writer.acknowledged),
        'attempts': len(writer.acknowledged) + writer.retries,
        'first_failures': first_failures,
        'deadline_hits': sum(1 for begin, end, _index in failures if end - begin >= writer.deadline * 0.95),
        'longest_stall': writer.longest_stall,
        'stalls': stalls(writer.acknowledged.times, origin, ended, STALL_MARK),
        'lost': sorted(meant - found),
        'origin': origin, 'started': started, 'finished': finished, 'ended': ended,
        'ack_times': list(writer.acknowledged.times),
        'failures': list(failures),
        'down': watcher.down_intervals(ended),
        'steps': steps,
        'names': [node.name for node in lab.nodes],
    }


def mean_down(result):
    spans = [end - begin for intervals in result['down'].values() for begin, end in intervals]
    return sum(spans) / len(spans) if spans else 0.0


def table(results):
    lines = ['| nodes | procedure | wall time (s) | vs floor | values written | put attempts | first-attempt failures '
             '| puts to the 2 s deadline | longest stall (s) | stalls > %.1f s | lost writes | etcd down per node (s, mean) |'
             % STALL_MARK,
             '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    floors = {result['nodes']: result['wall'] for result in results if result['procedure'] == 'manual'}
    for result in results:
        floor = floors.get(result['nodes'])
        lines.append('| %d | %s | %.1f | %s | %d | %d | %d | %d | %.2f | %d | %d | %.1f |' % (
            result['nodes'], result['procedure'], result['wall'],
            '%.1fx' % (result['wall'] / floor) if floor else 'n/a',
            result['values'], result['attempts'], result['first_failures'], result['deadline_hits'],
            result['longest_stall'], len(result['stalls']), len(result['lost']), mean_down(result)))
    return '\n'.join(lines)


def write_rate(ack_times, origin, end):
    """Acknowledged writes per second in RATE_BIN-wide bins from origin to end: (bin starts, rates)."""
    count = max(1, int((end - origin) / RATE_BIN) + 1)
    bins = [0] * count
    for moment in ack_times:
        bins[min(count - 1, int((moment - origin) / RATE_BIN))] += 1
    return [index * RATE_BIN for index in range(count)], [number / RATE_BIN for number in bins]


def plot(results, nodes, path):
    """Two columns (playbook, manual): acknowledged writes over time with stalls and failed puts
    above, each member's etcd down time (stop/start) below. Returns an error text or None."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        return 'no PNG (%s); pip install -r requirements-test.txt' % exc
    chosen = [result for result in results if result['nodes'] == nodes]
    figure, axes = pyplot.subplots(2, len(chosen), figsize=(7 * len(chosen), 6.5), squeeze=False,
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
        top.set_title('%s, %d nodes: %.1f s, longest stall %.2f s, %d first-attempt failures, %d lost'
                      % (result['procedure'], nodes, result['wall'], result['longest_stall'], result['first_failures'],
                         len(result['lost'])), fontsize=9)
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
    parser.add_argument('--out', default=os.path.join(REPO_ROOT, 'bench-results'), help='where the table and PNGs go')
    options = parser.parse_args(argv)
    os.environ['PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION'] = 'python'
    results = []
    for nodes in options.nodes:
        for procedure in PROCEDURES:
            print('rolling restart bench: %s on %d nodes ...' % (procedure, nodes), flush=True)
            with tempfile.TemporaryDirectory(prefix='kubemaint-bench-rr-') as directory:
                results.append(measure(procedure, nodes, directory))
    text = ('Rolling restart of the whole control plane while a gRPC client puts a value every 10 ms '
            '(2 s deadline per put, retried until acknowledged). Floor = the manual procedure '
            '(runbook: mv manifests away and back, node by node, no leader transfer, no guard).\n\n' + table(results))
    print()
    print(text)
    os.makedirs(options.out, exist_ok=True)
    with open(os.path.join(options.out, 'rolling_restart.md'), 'w') as handle:
        handle.write(text + '\n')
    for nodes in options.nodes:
        path = os.path.join(options.out, 'rolling_restart_%d.png' % nodes)
        error = plot(results, nodes, path)
        print(error or 'timeline: %s' % path)
    lost = [result for result in results if result['lost']]
    if lost:
        for result in lost:
            print('LOST WRITES (%s, %d nodes): %s' % (result['procedure'], result['nodes'], result['lost'][:20]))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
