"""The defrag and recover_nospace playbooks over the lab (real etcd, every member with a 16 MiB backend quota so
that NOSPACE is reached in seconds): a rolling defragmentation with a writer and a watcher running, then a cluster
filled until NOSPACE brought back to taking writes."""
import json
import os
import re
import signal
import subprocess
import threading

from tests.integration.etcd_helpers import etcd3_client, etcd_pid, etcdctl_json
from tests.integration.helpers import BIN, REPO_ROOT, ansible_env, wait_for
from tests.integration.playbook_helpers import ContinuousWriter, describe, leader_node, lock_value, play

QUOTA = 16 * 1024 * 1024
LAB_ETCD_FLAGS = ['--quota-backend-bytes=%d' % QUOTA]
VALUE = b'x' * (100 * 1024)
# The lab's files are a few MiB: the rule's 100 MiB floor would never be met.
SMALL = {'defrag_min_free_bytes': 1024 * 1024, 'defrag_settle_seconds': 1}
DEFRAGMENTED = re.compile(r'TASK \[Defragment \(the member blocks while this runs\), (\S+)\] \*+\n'
                          r'(?:skipping: \[\S+\]\n)*changed: ')
MOVED = re.compile(r'TASK \[Move etcd leadership away before the member blocks, (\S+)\] \*+\n'
                   r'(?:skipping: \[\S+\]\n)*changed: ')


class HealthWatcher(threading.Thread):
    """Asks every member for a key, each with a 1 s deadline, every 50 ms; remembers the most members that did
    not answer at once (a member blocks its reads while it is defragmented)."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.clients = [(node.name, etcd3_client(node, timeout=1.0)) for node in lab.nodes]
        self.most_silent = []
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            silent = []
            for name, client in self.clients:
                try:
                    client.get('/watcher/probe')
                except Exception:  # pylint: disable=broad-except
                    silent.append(name)
            self.samples += 1
            if len(silent) > len(self.most_silent):
                self.most_silent = silent
            self._stop_event.wait(0.05)

    def stop(self):
        self._stop_event.set()
        self.join(10)


def db_sizes(lab):
    statuses = etcdctl_json(lab, lab.nodes[0], 'endpoint', 'status', '--cluster')
    return dict((entry['Endpoint'], (entry['Status']['dbSize'], entry['Status']['dbSizeInUse'])) for entry in statuses)


def fill_until_nospace(client, key_of):
    """Put VALUE + its number under key_of(number) until etcd refuses for lack of space; returns how many it took."""
    written = 0
    while True:
        try:
            client.put(key_of(written), VALUE + str(written).encode())
        except Exception as exc:  # pylint: disable=broad-except
            assert 'database space exceeded' in str(exc), exc
            return written
        written += 1
        assert written < 1000, 'a 16 MiB quota should be exceeded long before 100 MB'


def alarm_list(lab):
    listed = lab.etcdctl(lab.nodes[0], 'alarm', 'list')
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def freed_pages_show(lab, client):
    """bbolt counts pages a compaction freed as free once later transactions committed on every member."""
    client.put('/defrag/tick', 'tick')
    return all(size - in_use > 4 * 1024 * 1024 for size, in_use in db_sizes(lab).values()) or None


def test_defrag_followers_first_leader_last_with_writes_flowing_and_a_second_run_changes_nothing(lab):
    lab.wait_healthy(timeout=120)
    client = etcd3_client(lab.nodes[0])
    for number in range(60):  # ~6 MB, then deleted and compacted away: freed pages inside the files
        client.put('/defrag/grow/%05d' % number, VALUE)
    client.delete_prefix('/defrag/grow/')
    client.compact(client.put('/defrag/tick', 'tick').header.revision, physical=True)
    wait_for(lambda: freed_pages_show(lab, client), 30, 'the compacted space to show as free on every member')

    before = db_sizes(lab)
    check = play('defrag', lab, extra_vars=SMALL, check=True)
    assert check.returncode == 0, describe(check)
    assert all(db_sizes(lab)[url][0] >= size for url, (size, _in_use) in before.items()), 'check mode defragmented'
    assert 'Defragmenting 3 of 3 members one at a time' in check.stdout, describe(check)

    leader = leader_node(lab).name
    watcher, writer = HealthWatcher(lab), ContinuousWriter(lab)
    watcher.start()
    writer.start()
    try:
        proc = play('defrag', lab, extra_vars=SMALL)
    finally:
        writer.stop()
        watcher.stop()
    assert proc.returncode == 0, describe(proc)
    order = DEFRAGMENTED.findall(proc.stdout)
    assert sorted(order) == sorted(node.name for node in lab.nodes), describe(proc)
    assert order[-1] == leader, (order, leader)  # followers first, the leader last
    moved = proc.stdout.index('TASK [Move etcd leadership away before the member blocks, %s]' % leader)
    assert MOVED.findall(proc.stdout) == [leader] and moved < proc.stdout.rindex('TASK [Defragment (the member')
    after = db_sizes(lab)
    for url, (size, in_use) in before.items():
        # each file shrank by what was free in it, give or take what the writer added meanwhile
        assert after[url][0] <= size - (size - in_use) + 2 * 1024 * 1024, (url, size, in_use, after[url])
    table = proc.stdout[proc.stdout.index('TASK [Print what each member freed and how long it was blocked]'):]
    assert all('| %s ' % node.name in table for node in lab.nodes) and 'total: 3 members' in table, table
    # a writer through the whole run: every acknowledged value is in etcd
    assert len(writer.acknowledged) > 50 and writer.missing() == []
    # never more than one member silent at once: a majority always answered
    assert watcher.samples > 20 and len(watcher.most_silent) <= 1, watcher.most_silent

    again = play('defrag', lab, extra_vars=SMALL)
    assert again.returncode == 0, describe(again)
    assert 'Nothing to defragment: no member meets the rule' in again.stdout, describe(again)
    assert all(again.recap[node.name]['changed'] == 0 for node in lab.nodes), again.recap


def test_a_member_that_stops_answering_mid_run_ends_it_naming_the_member_and_the_lock_is_released(lab):
    lab.wait_healthy(timeout=120)
    leader = leader_node(lab).name
    first, second = sorted(node.name for node in lab.nodes if node.name != leader)  # the plan's order
    command = [os.path.join(BIN, 'ansible-playbook'), 'kubemaint.control_plane.defrag', '-i', lab.inventory_path,
               '-e', json.dumps({'defrag_force': True, 'defrag_settle_seconds': 3})]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env(),
                            cwd=REPO_ROOT)
    frozen, lines = None, []
    try:
        for line in proc.stdout:
            lines.append(line)
            if frozen is None and line.startswith('TASK [Let the cluster settle before the next member]'):
                frozen = etcd_pid(lab.node(second))  # hung after the first member's turn: the next guard sees it
                os.kill(frozen, signal.SIGSTOP)
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if frozen is not None:
            os.kill(frozen, signal.SIGCONT)
    output = ''.join(lines)
    assert frozen is not None and proc.returncode != 0, output[-6000:]
    # the guard lets a hung member itself be taken (the others keep quorum); its defragmentation finds it silent
    assert 'member %s does not answer at ' % second in output and 'nothing was done' in output, output[-6000:]
    assert ('The defragmentation stopped at etcd member %s (Defragment (the member blocks while this runs), %s '
            'failed). Defragmented before: %s.' % (second, second, first)) in output, output[-6000:]
    assert 'kubemaint.control_plane.defrag again: it plans from a fresh read' in output, output[-6000:]
    assert 'TASK [Defragment (the member blocks while this runs), %s]' % leader not in output
    assert lock_value(lab) is None, 'the run left the maintenance lock behind'
    lab.wait_healthy(timeout=120)


def test_nospace_recovered_every_key_kept_and_writes_taken_again(lab):
    lab.wait_healthy(timeout=120)
    client = etcd3_client(lab.nodes[0])
    # 20 keys written over and over: their history fills the quota, the live data is ~2 MB
    written = fill_until_nospace(client, lambda number: '/nospace/%02d' % (number % 20))
    latest = dict(('/nospace/%02d' % (number % 20), [number]) for number in range(written))
    # etcd applies the put that crosses the quota, then answers it with NOSPACE (quotaApplierV3)
    latest['/nospace/%02d' % (written % 20)].append(written)
    assert 'NOSPACE' in alarm_list(lab)

    refused = play('defrag', lab, extra_vars=SMALL)
    assert refused.returncode != 0 and 'kubemaint.control_plane.recover_nospace' in refused.stdout, describe(refused)
    # cluster_info: the members answer and keep quorum; the alarm, how full each file is and the way out
    info = play('cluster_info', lab)
    assert info.returncode != 0, describe(info)
    assert 'DB SIZE' in info.stdout and 'QUOTA' in info.stdout, describe(info)
    assert 'quorum: yes (3 of 3 voters healthy' in info.stdout, describe(info)
    assert 'NOSPACE' in info.stdout and 'kubemaint.control_plane.recover_nospace' in info.stdout, describe(info)

    check = play('recover_nospace', lab, check=True)
    assert check.returncode == 0, describe(check)
    assert 'NOSPACE' in alarm_list(lab), 'check mode disarmed'

    proc = play('recover_nospace', lab)
    assert proc.returncode == 0, describe(proc)
    assert len(DEFRAGMENTED.findall(proc.stdout)) == 3, describe(proc)
    assert 'NOSPACE disarmed; etcd took a write.' in proc.stdout, describe(proc)
    assert alarm_list(lab).strip() == ''
    client.put('/nospace/after', 'taken')
    for key, numbers in latest.items():
        value, _meta = client.get(key)
        assert value in [VALUE + str(number).encode() for number in numbers], key

    again = play('recover_nospace', lab)
    assert again.returncode == 0 and 'No NOSPACE alarm is raised: nothing to recover' in again.stdout, describe(again)
    assert all(again.recap[node.name]['changed'] == 0 for node in lab.nodes), again.recap


def test_nospace_with_live_data_that_fills_the_quota_is_refused_with_the_figures_and_the_flag(lab):
    lab.wait_healthy(timeout=120)
    client = etcd3_client(lab.nodes[0])
    # distinct keys: nothing for compaction to drop
    fill_until_nospace(client, lambda number: '/live/%04d' % number)
    proc = play('recover_nospace', lab)
    assert proc.returncode != 0, describe(proc)
    assert re.search(r'Compacted to revision \d+ and \S+ defragmented; nothing else was changed, and NOSPACE stays '
                     r'raised: the live data alone fills the quota: \S+ holds \d+(\.\d)? MiB in use under a 16 MiB '
                     r'quota', proc.stdout), describe(proc)
    assert 'Raise --quota-backend-bytes (to ' in proc.stdout and 'kubemaint.control_plane.static_pod_flags' in proc.stdout
    assert len(DEFRAGMENTED.findall(proc.stdout)) == 1, describe(proc)  # the first member only
    assert 'NOSPACE' in alarm_list(lab)
    assert client.get('/live/0000')[0] == VALUE + b'0'
