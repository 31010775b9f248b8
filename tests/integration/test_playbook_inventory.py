"""Every playbook parses, by collection name and by path, and targets exactly the control-plane
hosts of the runbook's example inventory (listed only: that cluster is never contacted)."""
import os
import subprocess

import pytest

from tests.integration.helpers import BIN, REPO_ROOT, ansible_env

PLAYBOOKS = ['cluster_info', 'rolling_restart', 'stop_node', 'start_node', 'recover', 'cert_check', 'join_precheck']
EXAMPLE = os.path.join(REPO_ROOT, 'inventory', 'example')


def ansible_playbook(*args):
    return subprocess.run([os.path.join(BIN, 'ansible-playbook')] + list(args), capture_output=True, text=True,
                          timeout=120, env=ansible_env(), cwd=REPO_ROOT, check=False)


def test_every_playbook_is_shipped():
    shipped = sorted(name[:-4] for name in os.listdir(os.path.join(REPO_ROOT, 'playbooks')) if name.endswith('.yml'))
    assert shipped == sorted(PLAYBOOKS)


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_playbook_targets_the_control_plane_of_the_example_inventory(playbook):
    for reference in ('kubemaint.control_plane.' + playbook, os.path.join('playbooks', playbook + '.yml')):
        proc = ansible_playbook(reference, '-i', EXAMPLE, '--list-hosts')
        assert proc.returncode == 0, proc.stdout + proc.stderr
        hosts = [line.strip() for line in proc.stdout.splitlines() if line.startswith('      ')]
        assert sorted(hosts) == ['K-KUBE-LAB-01', 'K-KUBE-LAB-02', 'K-KUBE-LAB-03'], proc.stdout


def test_limit_narrows_stop_node_to_one_host():
    proc = ansible_playbook('kubemaint.control_plane.stop_node', '-i', EXAMPLE, '--limit', 'K-KUBE-LAB-02', '--list-hosts')
    assert proc.returncode == 0, proc.stderr
    assert [line.strip() for line in proc.stdout.splitlines() if line.startswith('      ')] == ['K-KUBE-LAB-02']
