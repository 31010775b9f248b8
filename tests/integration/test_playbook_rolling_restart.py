"""rolling_restart on 3 and 5 nodes: one member down at a time, a continuous writer loses nothing."""
import os

import pytest

from tests.integration.playbook_helpers import FILES, ContinuousWriter, MemberWatcher, describe, play


@pytest.mark.parametrize('nodes', [3, 5])
def test_rolling_restart_keeps_quorum_and_loses_no_write(lab_factory, tmp_path, nodes):
    lab = lab_factory(nodes=nodes)
    maintenance_log = tmp_path / 'maintenance.log'
    watcher = MemberWatcher(lab)
    writer = ContinuousWriter(lab)
    watcher.start()
    writer.start()
    try:
        proc = play('rolling_restart', lab, timeout=1500, extra_vars={
            'rolling_restart_maintenance_tasks': os.path.join(FILES, 'check_pods_down.yml'),
            'maintenance_log': str(maintenance_log)})
    finally:
        watcher.stop()
        writer.stop()
    assert proc.returncode == 0, describe(proc)
    names = [node.name for node in lab.nodes]
    # Every node was down once, in inventory order, while the maintenance tasks ran.
    assert maintenance_log.read_text().split() == names
    assert watcher.seen_down == set(names)
    assert watcher.max_down == 1, watcher.max_down_members
    assert watcher.samples > 50
    assert all(proc.recap[name]['changed'] > 0 for name in names), proc.recap
    # Each stop printed where its snapshot went; the closing play prints one line per node, once.
    for node in lab.nodes:
        assert 'etcd snapshot written to %s/etcd-snapshot-' % node.snapshot_dir in proc.stdout, node.name
        assert proc.stdout.count('"%s: stopped and started after ' % node.name) == 1, describe(proc)
    summary = proc.stdout[proc.stdout.index('TASK [Print one line per node and the cluster now]'):]
    assert summary.count(', leader"') == 1 and 'etcd now: quorum yes, %d of %d voters healthy' % (nodes, nodes) in summary
    # The writer: every acknowledged value is in etcd, and writes kept flowing.
    assert len(writer.acknowledged) > 100
    assert writer.missing() == []
    assert writer.longest_stall < 10, writer.longest_stall
    print('writes %d, first-attempt failures %d, retries %d, longest stall %.3fs'
          % (len(writer.acknowledged), writer.first_attempt_failures, writer.retries, writer.longest_stall))
    lab.wait_healthy(timeout=120)
