"""inventory/example describes the runbook's real cluster: it is parsed here, never contacted."""
import glob
import json
import os
import subprocess
import sys

import pytest

from tests.integration.helpers import ansible_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY = os.path.join(ROOT, 'inventory', 'example')
BIN = os.path.dirname(sys.executable)
PLAYBOOKS = sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))

RUNBOOK_HOSTS = {
    'K-KUBE-LAB-01': '10.101.11.240', 'K-KUBE-LAB-02': '10.101.11.114', 'K-KUBE-LAB-03': '10.101.11.154',
    'K-KUBE-LAB-201': '10.101.11.238', 'K-KUBE-LAB-202': '10.101.11.93', 'K-KUBE-LAB-203': '10.101.11.53',
}


def _run(*args):
    proc = subprocess.run(list(args), capture_output=True, text=True, env=ansible_env(), cwd=ROOT, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_example_inventory_groups_and_addresses():
    data = json.loads(_run(os.path.join(BIN, 'ansible-inventory'), '-i', INVENTORY, '--list'))
    assert sorted(data['control_plane']['hosts']) == ['K-KUBE-LAB-01', 'K-KUBE-LAB-02', 'K-KUBE-LAB-03']
    assert sorted(data['workers']['hosts']) == ['K-KUBE-LAB-201', 'K-KUBE-LAB-202', 'K-KUBE-LAB-203']
    hostvars = data['_meta']['hostvars']
    assert {host: hostvars[host]['ansible_host'] for host in RUNBOOK_HOSTS} == RUNBOOK_HOSTS
    for host in data['control_plane']['hosts']:
        assert hostvars[host]['kubernetes_dir'] == '/etc/kubernetes'
        assert hostvars[host]['node_name'] == host.lower()


def test_playbooks_exist():
    assert PLAYBOOKS, 'no playbooks found'


@pytest.mark.parametrize('playbook', PLAYBOOKS, ids=os.path.basename)
def test_playbooks_parse_against_example_inventory(playbook):
    """--syntax-check and --list-hosts only: neither contacts a host."""
    _run(os.path.join(BIN, 'ansible-playbook'), '-i', INVENTORY, '--syntax-check', playbook)
    hosts = _run(os.path.join(BIN, 'ansible-playbook'), '-i', INVENTORY, '--list-hosts', playbook)
    # The first play checks the target once on the controller and acts on no host; it lists every host.
    check, *work = hosts.split('  play #')[1:]
    assert '(all,localhost): Check the target before anything runs' in check
    assert work and all('K-KUBE-LAB-0' in play for play in work)
    assert not any('K-KUBE-LAB-20' in play for play in work), 'control-plane playbooks must not target the workers'
