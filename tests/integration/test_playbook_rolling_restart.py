"""rolling_restart on 3 and 5 nodes: one member down at a time, a continuous writer loses nothing."""
import hashlib
import os
import re

import pytest

from tests.integration.helpers import run_module
from tests.integration.playbook_helpers import (FILES, ContinuousWriter, MemberWatcher, describe, dir_on_every_node,
                                                lock_value, play)


@pytest.mark.parametrize('nodes', [3, 5])
def test_rolling_restart_keeps_quorum_and_loses_no_write(lab_factory, tmp_path, nodes):
    lab = lab_factory(nodes=nodes)
    maintenance_log = tmp_path / 'maintenance.log'
    watcher = MemberWatcher(lab)
    writer = ContinuousWriter(lab)
    watcher.start()
    writer.start()
    try:
        extra_vars = {'rolling_restart_maintenance_tasks': os.path.join(FILES, 'check_pods_down.yml'),
                      'maintenance_log': str(maintenance_log)}
        if nodes == 3:
            # The first node's maintenance outlasts the lock's usual lease: no other run can take it meanwhile.
            extra_vars.update(maintenance_lock_ttl=15, lock_hold_seconds=20,
                              rolling_restart_maintenance_tasks=os.path.join(FILES, 'check_pods_down_lock_held.yml'))
        proc = play('rolling_restart', lab, timeout=1500, extra_vars=extra_vars)
    finally:
        watcher.stop()
        writer.stop()
    assert proc.returncode == 0, describe(proc)
    if nodes == 3:
        assert 'Check that the rival found the lock held by this run' in proc.stdout
        assert 'the maintenance lock had expired' not in proc.stdout, describe(proc)
    names = [node.name for node in lab.nodes]
    # Every node was down once, in inventory order, while the maintenance tasks ran.
    assert maintenance_log.read_text().split() == names
    assert watcher.seen_down == set(names)
    assert watcher.max_down == 1, watcher.max_down_members
    assert watcher.samples > 50
    assert all(proc.recap[name]['changed'] > 0 for name in names), proc.recap
    # Each stop printed where its snapshot went; the closing play prints one line per node, once.
    for node in lab.nodes:
        assert 'etcd snapshot written to %s/etcd-snapshot-' % lab.node_path(node, node.snapshot_dir) in proc.stdout, \
            node.name
        assert proc.stdout.count('"%s: stopped and started after ' % node.name) == 1, describe(proc)
    # Leadership moved away from a node goes to a node restarted already, when there is one: at most
    # two moves in all (the first node's, and the one made by whoever got it then), never one per node.
    moves = re.findall(r'TASK \[[^\]]*Move etcd leadership away[^\]]*\] \*+\nchanged:', proc.stdout)
    assert len(moves) <= 2, describe(proc)
    summary = proc.stdout[proc.stdout.index('TASK [Print one line per node and the cluster now]'):]
    assert summary.count(', leader"') == 1 and 'etcd now: quorum yes, %d of %d voters healthy' % (nodes, nodes) in summary
    # The writer: every acknowledged value is in etcd, and writes kept flowing.
    assert len(writer.acknowledged) > 100
    assert writer.missing() == []
    assert writer.longest_stall < 10, writer.longest_stall
    print('writes %d, first-attempt failures %d, retries %d, longest stall %.3fs'
          % (len(writer.acknowledged), writer.first_attempt_failures, writer.retries, writer.longest_stall))
    lab.wait_healthy(timeout=120)


def test_restart_in_place_check_mode_changes_nothing_and_a_node_with_a_stopped_pod_takes_the_long_way(
        lab_factory, tmp_path):
    """Without maintenance tasks each node is restarted in one module run; check mode moves nothing
    and leaves no lock behind; a snapshot that cannot be taken ends the run before anything stops;
    another node's stopped pod, seen by the pods read on every node at once, stops the run before the
    first stop; a node whose scheduler is already stopped is stopped and started the long way (its own
    stopped pod does not stop the run), and every pod runs again at the end."""
    lab = lab_factory(nodes=3)
    first = lab.nodes[0]
    before = dict((node.name, manifests_digest(node)) for node in lab.nodes)
    checked = play('rolling_restart', lab, check=True)
    assert checked.returncode == 0, describe(checked)
    assert checked.output.count('would be restarted (check mode: nothing was changed)') == 3, describe(checked)
    for node in lab.nodes:
        assert 'etcd snapshot would be written to %s/etcd-snapshot-' % lab.node_path(node, node.snapshot_dir) \
            in checked.output, node.name
        assert not os.path.exists(node.snapshot_dir) or os.listdir(node.snapshot_dir) == []
    assert dict((node.name, manifests_digest(node)) for node in lab.nodes) == before
    assert all(not os.path.exists(os.path.join(node.kubernetes_dir, 'manifests-stash')) for node in lab.nodes)
    assert lock_value(lab) is None

    # The snapshot is taken by the restart's own module run, first: when it cannot be taken (a directory
    # others may write to) the run ends on the first node with nothing stopped, and says so.
    unsafe, unsafe_on_this_machine = dir_on_every_node(lab, tmp_path, 'shared', 0o777)
    failed = play('rolling_restart', lab, extra_vars={'control_plane_node_snapshot_dir': unsafe})
    assert failed.returncode != 0, describe(failed)
    assert 'cannot save the etcd snapshot before stopping etcd (from %s, ' % first.client_url in failed.output, \
        describe(failed)
    assert ' into %s): ' % unsafe in failed.output and 'Nothing was stopped.' in failed.output, describe(failed)
    assert 'may be partly stopped' not in failed.output and 'did not come back' not in failed.output, describe(failed)
    assert dict((node.name, manifests_digest(node)) for node in lab.nodes) == before
    assert all(os.listdir(path) == [] for path in unsafe_on_this_machine) and lock_value(lab) is None
    lab.wait_healthy(timeout=60)

    # Another node with a stopped pod: the pods read on every node at once for the first node's guard
    # show it (the guard's own one-host-at-a-time read has nothing left to read), and the run stops
    # before anything on the first node stops.
    last = lab.nodes[-1]
    toggle = {'name': ['kube-scheduler'], 'kubernetes_dir': last.kubernetes_dir}
    assert run_module('static_pod_toggle', dict(toggle, state='stopped'))['changed']
    refused = play('rolling_restart', lab)
    assert refused.returncode != 0, describe(refused)
    assert 'refusing to stop the control plane of %s: control-plane host %s has stopped pods (not in its manifests ' \
        'directory: kube-scheduler.yaml)' % (first.name, last.name) in refused.output, describe(refused)
    # Said once: the short reason as the failure ([ERROR] and fatal), what the guard saw and what to do
    # once above it; nothing restarted, the lock bookkeeping no change.
    assert refused.output.count('[ERROR]') == 1 and refused.output.count('fatal: ') == 1, describe(refused)
    assert refused.output.count('control_plane_node_allow_quorum_loss=true') == 1, describe(refused)
    assert 'stopped and started again' not in refused.output, describe(refused)
    assert all(counts['changed'] == 0 for counts in refused.recap.values()), refused.recap
    assert dict((node.name, manifests_digest(node)) for node in lab.nodes[:-1]) == \
        dict((name, before[name]) for name in before if name != last.name)
    assert lock_value(lab) is None
    assert run_module('static_pod_toggle', dict(toggle, state='started'))['changed']
    assert manifests_digest(last) == before[last.name]

    stopped = run_module('static_pod_toggle', {'name': ['kube-scheduler'], 'state': 'stopped',
                                               'kubernetes_dir': first.kubernetes_dir})
    assert not stopped['failed'] and stopped['changed'], stopped
    watcher, writer = MemberWatcher(lab), ContinuousWriter(lab)
    watcher.start()
    writer.start()
    try:
        proc = play('rolling_restart', lab)
    finally:
        watcher.stop()
        writer.stop()
    assert proc.returncode == 0, describe(proc)
    # The long way for the first node only: stop.yml, then start.yml, included for it.
    for name in ('stop', 'start'):
        assert re.findall(r'included: \S+/control_plane_node/tasks/%s\.yml for (\S+)' % name, proc.output) \
            == [first.name], describe(proc)
    assert '%s started: etcd, kube-apiserver, kube-controller-manager, kube-scheduler back' % first.name in proc.output, \
        describe(proc)
    for node in lab.nodes[1:]:
        assert '%s restarted: etcd, kube-apiserver, kube-controller-manager, kube-scheduler stopped and started again' \
            % node.name in proc.output, describe(proc)
        assert '"%s: restarted in ' % node.name in proc.output
    assert dict((node.name, manifests_digest(node)) for node in lab.nodes) == before
    assert watcher.seen_down == set(node.name for node in lab.nodes) and watcher.max_down == 1
    assert writer.missing() == []
    assert lock_value(lab) is None
    lab.wait_healthy(timeout=120)


def manifests_digest(node):
    """{file name: sha256} of the node's manifests directory."""
    digests = {}
    for name in sorted(os.listdir(node.manifests_dir)):
        with open(os.path.join(node.manifests_dir, name), 'rb') as handle:
            digests[name] = hashlib.sha256(handle.read()).hexdigest()
    return digests
