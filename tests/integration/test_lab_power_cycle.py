"""The lab's power-cycle of one node (tests/lab core.Lab.power_cycle, `python -m tests.lab power-cycle`):
every process of the node dies by SIGKILL, as with a reboot with running pods, and the node comes back."""
import json
import os
import subprocess
import sys
import time

from tests.bench.bench_rolling_restart import POWER_CYCLE_TASKS
from tests.integration.helpers import REPO_ROOT, run_playbook, wait_for
from tests.integration.playbook_helpers import endpoint_status, leader_node, port_open


def _etcd_pid(node):
    with open(os.path.join(node.root, 'run', 'kubelet', 'pods', 'etcd.yaml.json')) as handle:
        return json.load(handle)['pid']


def _etcd_log(node):
    with open(os.path.join(node.log_dir, 'pods', 'etcd.yaml.log'), errors='replace') as handle:
        return handle.read()


def test_power_cycle_kills_the_leader_without_hand_over_and_it_comes_back(lab):
    leader = leader_node(lab)
    assert leader is not None
    term = endpoint_status(lab, leader)['raft_term']
    etcd_pid = _etcd_pid(leader)
    kubelet_pid = lab.emulator_pid(leader)

    killed = dict(lab.power_cycle(leader))

    assert killed.get(kubelet_pid) == 'kubelet' and killed.get(etcd_pid) == 'etcd.yaml', killed
    assert {'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'} <= set(killed.values())
    # SIGTERM makes etcd log the signal and hand its leadership over; SIGKILL leaves no word of it.
    log = _etcd_log(leader)
    assert 'received signal' not in log and 'leadership transfer' not in log
    others = [node for node in lab.nodes if node is not leader]
    new_leader = wait_for(lambda: leader_node(lab), 30, 'a leader after the power-cycle', interval=0.3)
    assert endpoint_status(lab, others[0])['raft_term'] > term, 'no election after the leader was killed'
    assert new_leader is not None
    lab.wait_healthy(timeout=90, nodes=[leader])
    assert _etcd_pid(leader) != etcd_pid
    assert lab.emulator_pid(leader) != kubelet_pid


def test_maintenance_tasks_power_cycle_a_stopped_node_and_it_stays_stopped(lab, tmp_path):
    """The bench's tasks file through ansible, on a node whose pods were stopped the runbook's way."""
    node = lab.nodes[1]
    kubelet_pid = lab.emulator_pid(node)
    moved = node.manifests_dir + '-stopped'
    os.rename(node.manifests_dir, moved)
    os.mkdir(node.manifests_dir)
    try:
        wait_for(lambda: not port_open(node.address, 2379), 60, 'etcd of %s gone' % node.name)
        playbook = tmp_path / 'power_cycle.yml'
        playbook.write_text('- hosts: %s\n  gather_facts: false\n  tasks:\n'
                            '    - ansible.builtin.include_tasks: %s\n' % (node.name, POWER_CYCLE_TASKS))
        proc = run_playbook(str(playbook), lab.inventory_path, extra_vars={'lab_repo_root': REPO_ROOT}, timeout=120)
        lab.reload_kubelets()  # the command (another process) started a new emulator; down must know it
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert lab.emulator_pid(node) != kubelet_pid
        time.sleep(1.0)  # five polls of the emulator: nothing to run, nothing started
        assert not port_open(node.address, 2379) and not port_open(node.address, 6443)
    finally:
        os.rmdir(node.manifests_dir)
        os.rename(moved, node.manifests_dir)
    lab.wait_healthy(timeout=90, nodes=[node])


def test_power_cycle_command_names_an_unknown_node(lab):
    proc = subprocess.run([sys.executable, '-m', 'tests.lab', 'power-cycle', '--dir', lab.directory, '--node', 'lab-cp-09'],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=False)
    assert proc.returncode == 2
    assert "no lab node 'lab-cp-09'" in proc.stderr
