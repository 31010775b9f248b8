"""Faults during a rolling restart (issue 14): the run stops before the next node and says why, and
a node that never comes back is named with the command that brings it back. A writer and a watcher
run throughout; the playbook never takes a second member down itself."""
import os
import re
import signal
import threading
import time

from tests.integration.etcd_helpers import etcd_process
from tests.integration.playbook_helpers import FILES, ContinuousWriter, MemberWatcher, describe, play
from tests.lab.core import _alive

COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']


def rolling_restart_with(lab, tasks_file, **extra):
    watcher, writer = MemberWatcher(lab), ContinuousWriter(lab)
    watcher.start()
    writer.start()
    try:
        proc = play('rolling_restart', lab, timeout=900, extra_vars=dict(
            extra, rolling_restart_maintenance_tasks=os.path.join(FILES, tasks_file)))
    finally:
        watcher.stop()
        writer.stop()
    return proc, watcher, writer


def test_another_member_lost_while_a_node_is_down_stops_the_run_before_the_next_node(lab_factory):
    lab = lab_factory(nodes=3)
    first, second, third = lab.nodes
    proc, watcher, writer = rolling_restart_with(lab, 'fault_other_member_down.yml',
                                                 fault_during=first.name, fault_node=third.name)
    assert proc.returncode != 0, describe(proc)
    # The first node came back; the second was never stopped: the guard saw the lost member.
    assert sorted(os.listdir(first.manifests_dir)) == COMPONENT_FILES
    assert sorted(os.listdir(second.manifests_dir)) == COMPONENT_FILES
    assert second.name not in watcher.seen_down
    assert 'Quorum guard: refusing to stop the control plane of %s' % second.name in proc.output, describe(proc)
    assert 'etcd member %s' % third.name in proc.output, describe(proc)
    assert writer.missing() == []


def test_a_node_that_never_comes_back_is_named_with_the_command_that_brings_it_back(lab_factory):
    lab = lab_factory(nodes=3)
    first, second, third = lab.nodes
    proc, watcher, writer = rolling_restart_with(lab, 'fault_never_comes_back.yml', fault_during=first.name,
                                                 control_plane_node_wait_timeout=20)
    assert proc.returncode != 0, describe(proc)
    assert '%s did not come back' % first.name in proc.output, describe(proc)
    # rolling_restart's maintenance tasks say it without -b (playbooks/tasks/rolling_restart_maintenance.yml), the
    # after-failure message of the role with it
    assert 'ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit %s' % first.name in proc.output
    # The run stopped there: no other node was taken down, quorum held, nothing lost.
    assert watcher.seen_down == {first.name}, watcher.seen_down
    assert sorted(os.listdir(second.manifests_dir)) == sorted(os.listdir(third.manifests_dir)) == COMPONENT_FILES
    assert writer.missing() == []


def test_a_slow_start_prints_a_line_per_wait_slice_and_still_comes_back(lab_factory):
    """Issue 13 finding 8: a wait of minutes printed nothing. Now it runs in slices of
    control_plane_node_wait_slice seconds, each further slice a line ("FAILED - RETRYING" in start_node,
    a line of its own in the rolling restart's one-task restart)."""
    lab = lab_factory(nodes=3)
    first = lab.nodes[0]
    stopped = play('stop_node', lab, limit=first.name)
    assert stopped.returncode == 0, describe(stopped)
    # The node's kubelet emulator, paused, does not see etcd's manifest come back until 4 s after the
    # start put it back (however long the playbook's start-up and certificate check take).
    kubelet_pid = lab.emulator_pid(first)
    os.kill(kubelet_pid, signal.SIGSTOP)
    resume = threading.Thread(target=resume_after_manifest, args=(first, 'etcd.yaml', kubelet_pid, 4))
    resume.start()
    try:
        proc = play('start_node', lab, limit=first.name, extra_vars={'control_plane_node_wait_slice': 1})
    finally:
        resume.join()
        os.kill(kubelet_pid, signal.SIGCONT)
    assert proc.returncode == 0, describe(proc)
    retries = re.findall(r'FAILED - RETRYING: \[%s\]: .*Start etcd first.*\((\d+) retries left\)' % first.name,
                         proc.output)
    assert retries and retries[0] == '299', describe(proc)  # 300 s in slices of 1 s: 300 tries in all
    assert 'Encountered' not in proc.output, describe(proc)  # no template warning either
    assert sorted(os.listdir(first.manifests_dir)) == COMPONENT_FILES
    lab.wait_healthy(timeout=120)

    # The one-step etcd restart of a rolling restart waits one slice at most; a start that takes
    # longer (here: the kubelet paused the moment the old etcd is gone) goes on in slices, a line each.
    pauser = threading.Thread(target=pause_when_gone, args=(etcd_process(first), kubelet_pid, 4))
    pauser.start()
    try:
        proc = play('rolling_restart', lab, limit=first.name, extra_vars={'control_plane_node_wait_slice': 1})
    finally:
        pauser.join()
        os.kill(kubelet_pid, signal.SIGCONT)
    assert proc.returncode == 0, describe(proc)
    # One line per further slice, from the restart's own task: how long it has waited, out of how long.
    assert re.search(r'^%s: the pods are not back yet, \d+ s of 300 s waited so far$' % first.name, proc.output, re.M), \
        describe(proc)
    assert sorted(os.listdir(first.manifests_dir)) == COMPONENT_FILES
    lab.wait_healthy(timeout=120)


def resume_after_manifest(node, name, kubelet_pid, seconds, deadline=300):
    """SIGCONT the (stopped) kubelet emulator `seconds` after manifest `name` is back in the node's
    manifests directory (or after `deadline`)."""
    give_up = time.monotonic() + deadline
    while not os.path.exists(os.path.join(node.manifests_dir, name)) and time.monotonic() < give_up:
        time.sleep(0.05)
    time.sleep(seconds)
    os.kill(kubelet_pid, signal.SIGCONT)


def pause_when_gone(process, kubelet_pid, seconds, deadline=60):
    """SIGSTOP the kubelet emulator as soon as `process` (pid, start time) has exited, for `seconds`."""
    give_up = time.monotonic() + deadline
    while _alive(*process) and time.monotonic() < give_up:
        time.sleep(0.002)
    os.kill(kubelet_pid, signal.SIGSTOP)
    time.sleep(seconds)
    os.kill(kubelet_pid, signal.SIGCONT)
