"""rolling_change on one shared 3-node lab over SSH: an apiserver flag rolled node by node (never two
apiservers not ready at once, no etcd member down, no write lost, a second run changes nothing), a flag that
keeps the apiserver from becoming ready rolled back on the first node (byte for byte, the run stops there),
no turn while another node's apiserver is not ready, an etcd flag rolled across the members with leadership
moved away before the leader's turn (cluster_info's fix for manifests that would bootstrap a cluster of their
own), and a tasks file that rewrites manifests as kubeadm upgrade node does,
between pre-node and post-node hooks that outlast the lock's usual lease (and a failing hook that ends the run
with the lock released); last, a tasks file that breaks the second node: rolled back there, the first node keeps
the change and is named."""
import glob
import hashlib
import json
import os
import re
import threading

from tests.integration.helpers import wait_for
from tests.integration.playbook_helpers import (FILES, ContinuousWriter, MemberWatcher, describe, endpoint_status,
                                                leader_node, lock_value, play, replace_manifest)


def manifest(node, component):
    return os.path.join(node.kubernetes_dir, 'manifests', component + '.yaml')


def digests(lab, component):
    return {node.name: hashlib.sha256(open(manifest(node, component), 'rb').read()).hexdigest() for node in lab.nodes}


def backups(node):
    return sorted(glob.glob(os.path.join(node.kubernetes_dir, 'manifests-backup', '*')))


class ApiserverWatcher(threading.Thread):
    """Samples every apiserver's /readyz; remembers the most not ready at once."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.lab = lab
        self.max_not_ready = 0
        self.not_ready_seen = set()
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            not_ready = [node.name for node in self.lab.nodes if not node.apiserver_ready()]
            self.samples += 1
            self.not_ready_seen.update(not_ready)
            self.max_not_ready = max(self.max_not_ready, len(not_ready))
            self._stop_event.wait(0.05)

    def stop(self):
        self._stop_event.set()
        self.join(10)


def watched_play(lab, extra_vars):
    """rolling_change with an etcd member watcher, an apiserver watcher and a continuous writer."""
    members, apiservers, writer = MemberWatcher(lab), ApiserverWatcher(lab), ContinuousWriter(lab)
    for thread in (members, apiservers, writer):
        thread.start()
    try:
        proc = play('rolling_change', lab, timeout=900, extra_vars=extra_vars)
    finally:
        for thread in (members, apiservers, writer):
            thread.stop()
    assert writer.missing() == [] and len(writer.acknowledged) > 50, writer.acknowledged[-5:]
    return proc, members, apiservers


def test_apiserver_flag_node_by_node_then_a_second_run_changes_nothing(lab):
    change = {'rolling_change_flags': {'kube-apiserver': {'set': {'audit-log-maxage': 30}}},
              'rolling_change_settle': 1}
    # Check mode with --diff: every node's manifest change shown, nothing touched, no backup, no lock left.
    untouched, backups_before = digests(lab, 'kube-apiserver'), [backups(node) for node in lab.nodes]
    checked = play('rolling_change', lab, extra_vars=change, check=True, env={'ANSIBLE_DIFF_ALWAYS': 'True'})
    assert checked.returncode == 0, describe(checked)
    assert checked.stdout.count('\n+    - --audit-log-maxage=30\n') == 3, describe(checked)
    for node in lab.nodes:
        assert '%s would be changed (check mode: nothing was changed): kube-apiserver.' % node.name in checked.stdout
    assert digests(lab, 'kube-apiserver') == untouched and [backups(node) for node in lab.nodes] == backups_before
    assert lock_value(lab) is None

    proc, members, apiservers = watched_play(lab, change)
    assert proc.returncode == 0, describe(proc)
    names = [node.name for node in lab.nodes]
    # Each apiserver was restarted (not ready for a moment), never two at once; etcd never lost a member.
    assert apiservers.max_not_ready == 1 and apiservers.not_ready_seen <= set(names), apiservers.not_ready_seen
    assert members.max_down == 0 and members.samples > 20
    for node in lab.nodes:
        assert '    - --audit-log-maxage=30\n' in open(manifest(node, 'kube-apiserver')).read()
        assert '%s changed: kube-apiserver restarted by the kubelet with the new manifest and healthy.' % node.name \
            in proc.stdout
    assert proc.stdout.index('lab-cp-01 changed') < proc.stdout.index('lab-cp-02 changed') \
        < proc.stdout.index('lab-cp-03 changed')
    assert all(proc.recap[name]['changed'] == 1 for name in names), proc.recap
    assert lock_value(lab) is None

    before = digests(lab, 'kube-apiserver')
    again = play('rolling_change', lab, extra_vars=change)
    assert again.returncode == 0, describe(again)
    assert all(again.recap[name]['changed'] == 0 for name in names), again.recap
    assert 'Quorum guard:' not in again.stdout  # nothing to change: no guard, no restart
    assert again.stdout.count('already runs the change: nothing to do.') == 3 * 2  # the line, and the summary
    assert digests(lab, 'kube-apiserver') == before


def test_a_flag_that_keeps_the_apiserver_unready_is_rolled_back_on_the_first_node(lab):
    before = dict((node.name, open(manifest(node, 'kube-apiserver'), 'rb').read()) for node in lab.nodes)
    backups_before = dict((node.name, backups(node)) for node in lab.nodes)
    proc = play('rolling_change', lab, extra_vars={
        # A lab-only flag: the apiserver stand-in runs with it but never becomes ready (tests/lab/standin.py).
        'rolling_change_flags': {'kube-apiserver': {'set': {'kubemaint-lab-never-ready': True}}},
        'control_plane_node_wait_timeout': 8, 'control_plane_node_wait_slice': 4})
    assert proc.returncode != 0, describe(proc)
    first = lab.nodes[0]
    new_backups = sorted(set(backups(first)) - set(backups_before[first.name]))
    assert len(new_backups) == 1
    backup = lab.node_path(first, new_backups[0])
    assert open(new_backups[0], 'rb').read() == before[first.name]
    # The first node is back on its old manifest byte for byte, its apiserver ready; the others untouched.
    assert {node.name: open(manifest(node, 'kube-apiserver'), 'rb').read() for node in lab.nodes} == before
    assert all(backups(node) == backups_before[node.name] for node in lab.nodes[1:])
    assert first.apiserver_ready()
    message = proc.output
    for text in ('lab-cp-01: kube-apiserver did not come up healthy within 8 s',
                 'kube-apiserver --kubemaint-lab-never-ready=true', 'readyz answered HTTP 500',
                 'rolled back on lab-cp-01 from its backup %s and runs healthy again' % backup,
                 'No other node was changed'):
        assert text in message, describe(proc)
    assert 'Quorum guard: lab-cp-02' not in proc.stdout
    assert lock_value(lab) is None


def test_no_turn_while_another_nodes_apiserver_is_not_ready(lab):
    """Before each node: every other node's pods healthy. With the second node's apiserver not ready, the first
    node's turn is refused before anything changes, naming that apiserver and what its /readyz said."""
    second = lab.nodes[1]
    path = manifest(second, 'kube-apiserver')
    original = open(path, 'rb').read()
    never_ready = original.replace(b'    - --allow-privileged=true\n',
                                   b'    - --allow-privileged=true\n    - --kubemaint-lab-never-ready=true\n')
    assert never_ready != original
    replace_manifest(path, never_ready)
    try:
        wait_for(lambda: not second.apiserver_ready(), 60, '%s apiserver restarted not ready' % second.name)
        before, backups_before = digests(lab, 'kube-apiserver'), [backups(node) for node in lab.nodes]
        proc = play('rolling_change', lab, extra_vars={
            'rolling_change_flags': {'kube-apiserver': {'set': {'audit-log-maxage': 7}}}})
        assert proc.returncode != 0, describe(proc)
        assert 'kube-apiserver of control-plane host %s is not healthy: https://%s:6443/readyz answered HTTP 500' % (
            second.name, second.address) in proc.output, describe(proc)
        assert digests(lab, 'kube-apiserver') == before and [backups(node) for node in lab.nodes] == backups_before
        assert 'restarted by the kubelet' not in proc.stdout
        assert lock_value(lab) is None
    finally:
        replace_manifest(path, original)
        wait_for(second.apiserver_ready, 60, '%s apiserver ready again' % second.name)


def hazard_lines(proc):
    return [line.strip().strip('",') for line in proc.stdout.splitlines() if ': HAZARD: ' in line]


def test_etcd_flag_moves_leadership_away_before_the_leaders_turn_and_the_bootstrap_hazard_is_fixed(lab):
    """An etcd flag change rolled across the members (issue 23): the one cluster_info gives for the latent split brain
    of issue 21. The lab is bootstrapped as kubeadm does it: the first node's manifest still says
    --initial-cluster-state=new with only itself in --initial-cluster, the second lists the first two. cluster_info
    and cert_check name the first node and print the fix, which rolling_change applies with leadership moved away
    before the leader's turn and never two members down, restarting only the members whose manifest changes; then
    neither names a node."""
    shown = play('cluster_info', lab)
    assert shown.returncode == 0, describe(shown)
    assert [line.split(':')[0] for line in hazard_lines(shown)] == [lab.nodes[0].name], describe(shown)
    fix = [line for line in shown.stdout.splitlines() if 'Fix, node by node behind the quorum guard' in line]
    assert len(fix) == 1, describe(shown)
    # cert_check names the same node and the same fix, and only warns.
    checked = play('cert_check', lab)
    assert checked.returncode == 0 and hazard_lines(checked) == hazard_lines(shown), describe(checked)
    assert [line for line in checked.stdout.splitlines() if 'Fix, node by node' in line] == fix, describe(checked)
    change = json.loads(re.search(r"kubemaint\.control_plane\.rolling_change -e '(.*)'", fix[0].replace('\\"', '"'))
                        .group(1))
    every = ','.join('%s=https://%s:2380' % (node.name, node.address) for node in sorted(lab.nodes, key=lambda n: n.name))
    fixed = '    - --initial-cluster-state=existing\n', '    - --initial-cluster=%s\n' % every
    stale = {node.name for node in lab.nodes if not all(flag in open(manifest(node, 'etcd')).read() for flag in fixed)}
    # kubeadm's join wrote the last node's manifest with every member and state existing already.
    assert stale == {node.name for node in lab.nodes[:-1]}, stale
    # The first node leads (as after kubeadm init, whatever elections came since), so its turn needs the leader move.
    first_id = '%x' % endpoint_status(lab, lab.nodes[0])['member_id']
    moved = lab.etcdctl(lab.nodes[0], 'move-leader', first_id, endpoints=','.join(node.client_url for node in lab.nodes))
    assert moved.returncode == 0 or 'already' in moved.stderr, moved.stderr
    leader = leader_node(lab)
    assert leader is lab.nodes[0], leader
    proc, members, apiservers = watched_play(lab, dict(change, rolling_change_settle=1))
    assert proc.returncode == 0, describe(proc)
    assert members.seen_down == stale and members.max_down == 1, members.max_down_members
    # The leader's etcd changed only after leadership moved away from it.
    assert 'etcd leadership moved from %s to ' % leader.name in proc.stdout, describe(proc)
    for node in lab.nodes:
        text = open(manifest(node, 'etcd')).read()
        assert all(flag in text for flag in fixed), node.name
        if node.name in stale:
            assert 'etcd member %s is healthy, a voter and caught up with the leader' % node.name in proc.stdout
    assert apiservers.max_not_ready <= 1
    lab.wait_healthy(timeout=120)
    again = play('cluster_info', lab)
    assert again.returncode == 0 and hazard_lines(again) == [], describe(again)
    checked = play('cert_check', lab)
    assert checked.returncode == 0 and hazard_lines(checked) == [], describe(checked)
    assert 'etcd bootstrap hazard: none: no etcd manifest says --initial-cluster-state=new' in checked.stdout


def test_a_tasks_file_rewriting_manifests_like_kubeadm_upgrade_node_with_pre_and_post_node_hooks(lab, tmp_path):
    turn_log = tmp_path / 'turns.log'
    hooks = os.path.join(FILES, 'record_node_turn.yml')
    # A hook that fails on the first node ends the run there, before anything changed, naming the node, the hook and
    # its task; the lock is released, not left for the long lease of the operator's tasks.
    before = digests(lab, 'kube-apiserver')
    failed = play('rolling_change', lab, extra_vars={
        'rolling_change_flags': {'kube-apiserver': {'set': {'audit-log-maxage': 9}}},
        'rolling_change_pre_node_tasks': os.path.join(FILES, 'failing_hook.yml')})
    assert failed.returncode != 0, describe(failed)
    assert ('The pre-node tasks %s failed on %s: the task "Drain the node" failed (its error is above). Its manifests '
            'were not changed by this run.' % (os.path.join(FILES, 'failing_hook.yml'), lab.nodes[0].name)) \
        in failed.output, describe(failed)
    assert 'the drain of %s did not finish' % lab.nodes[0].name in failed.output
    assert digests(lab, 'kube-apiserver') == before and lock_value(lab) is None

    # The lock's usual lease is 10 s here; the first node's pre-node hook outlasts it (13 s) and a rival's take of the
    # lock meanwhile is refused: the lock holds rolling_change_lock_ttl through the operator's tasks.
    proc, members, apiservers = watched_play(lab, {
        'rolling_change_tasks': os.path.join(FILES, 'kubeadm_upgrade_like.yml'), 'rolling_change_settle': 1,
        'rolling_change_pre_node_tasks': hooks, 'rolling_change_post_node_tasks': hooks, 'turn_log': str(turn_log),
        'maintenance_lock_ttl': 10, 'lock_hold_seconds': 13})
    assert proc.returncode == 0, describe(proc)
    names = [node.name for node in lab.nodes]
    # The hooks ran before and after each node's turn, in order, under the run's lock.
    assert turn_log.read_text().splitlines() == [
        '%s %s locked' % (what, name) for name in names for what in ('pre', 'post')]
    assert 'Check that the rival found the lock held by this run' in proc.stdout
    assert 'the maintenance lock had expired' not in proc.output, describe(proc)
    assert apiservers.max_not_ready == 1 and members.max_down <= 1
    for node in lab.nodes:
        apiserver = open(manifest(node, 'kube-apiserver')).read()
        assert 'kube-apiserver:v1.28.3\n' in apiserver and '- --allow-privileged=false\n' in apiserver
        assert 'kube-controller-manager:v1.28.3\n' in open(manifest(node, 'kube-controller-manager')).read()
        assert ('%s changed: kube-apiserver, kube-controller-manager restarted by the kubelet with the new manifest '
                'and healthy.' % node.name) in proc.stdout, describe(proc)
        assert 'Quorum guard: %s may stop.' % node.name in proc.stdout
    assert lock_value(lab) is None


def test_a_tasks_file_that_breaks_the_second_node_is_rolled_back_there_and_the_first_keeps_the_change(lab):
    """Issue 23: the nodes changed before a failure keep the change and are named; the failing node is rolled back
    byte for byte from its backup (the tasks-file path of the rollback), the third is never touched."""
    first, second, third = lab.nodes
    before = {node.name: open(manifest(node, 'kube-apiserver'), 'rb').read() for node in lab.nodes}
    tasks = os.path.join(FILES, 'breaks_the_second_node.yml')
    proc = play('rolling_change', lab, extra_vars={
        'rolling_change_tasks': tasks, 'rolling_change_settle': 1,
        'control_plane_node_wait_timeout': 8, 'control_plane_node_wait_slice': 4})
    assert proc.returncode != 0, describe(proc)
    changed = open(manifest(first, 'kube-apiserver')).read()
    assert '    - --allow-privileged=true\n' in changed and 'never-ready' not in changed
    assert open(manifest(second, 'kube-apiserver'), 'rb').read() == before[second.name]
    assert open(manifest(third, 'kube-apiserver'), 'rb').read() == before[third.name]
    for text in ('%s: kube-apiserver did not come up healthy within 8 s with the change (the tasks file %s)'
                 % (second.name, tasks),
                 'kube-apiserver was rolled back on %s from its backup ' % second.name,
                 'Nodes changed before keep the change: %s.' % first.name,
                 'The run stops here; the nodes after %s were not touched.' % second.name):
        assert text in proc.output, describe(proc)
    assert 'Quorum guard: %s' % third.name not in proc.stdout
    assert second.apiserver_ready() and lock_value(lab) is None
