"""Every playbook parses, by collection name and by path, and targets exactly the control-plane
hosts of the runbook's example inventory (listed only: that cluster is never contacted)."""
import os
import subprocess

import pytest
import yaml

from tests.integration.helpers import BIN, REPO_ROOT, ansible_env

PLAYBOOKS = ['cluster_info', 'rolling_restart', 'stop_node', 'start_node', 'recover', 'cert_check', 'join_precheck',
             'renew_certs', 'replace_member', 'restore_quorum', 'defrag', 'recover_nospace', 'rolling_change']
EXAMPLE = os.path.join(REPO_ROOT, 'inventory', 'example')


def ansible_playbook(*args):
    return subprocess.run([os.path.join(BIN, 'ansible-playbook')] + list(args), capture_output=True, text=True,
                          timeout=120, env=ansible_env(), cwd=REPO_ROOT, check=False)


def test_every_playbook_is_shipped():
    shipped = sorted(name[:-4] for name in os.listdir(os.path.join(REPO_ROOT, 'playbooks')) if name.endswith('.yml'))
    assert shipped == sorted(PLAYBOOKS)


def listed_plays(stdout):
    """--list-hosts output as [(play pattern, sorted hosts)]."""
    plays = []
    for line in stdout.splitlines():
        if line.startswith('  play #'):
            plays.append((line.split('(', 1)[1].split(')', 1)[0], []))
        elif line.startswith('      ') and plays:
            plays[-1][1].append(line.strip())
    return [(pattern, sorted(hosts)) for pattern, hosts in plays]


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_playbook_targets_the_control_plane_of_the_example_inventory(playbook):
    for reference in ('kubemaint.control_plane.' + playbook, os.path.join('playbooks', playbook + '.yml')):
        proc = ansible_playbook(reference, '-i', EXAMPLE, '--list-hosts')
        assert proc.returncode == 0, proc.stdout + proc.stderr
        plays = listed_plays(proc.stdout)
        # first the target check, on every host (it runs once, on the controller); then every play of the
        # playbook (rolling_restart's closing summary is one more) on the group
        check, work = plays[0], plays[1:]
        assert check[0] == 'all,localhost' and 'localhost' in check[1] and 'K-KUBE-LAB-201' in check[1], proc.stdout
        assert work and all(hosts == ['K-KUBE-LAB-01', 'K-KUBE-LAB-02', 'K-KUBE-LAB-03'] for _pattern, hosts in work), \
            proc.stdout


def test_limit_narrows_stop_node_to_one_host():
    proc = ansible_playbook('kubemaint.control_plane.stop_node', '-i', EXAMPLE, '--limit', 'K-KUBE-LAB-02', '--list-hosts')
    assert proc.returncode == 0, proc.stderr
    assert [hosts for _pattern, hosts in listed_plays(proc.stdout)] == [['K-KUBE-LAB-02'], ['K-KUBE-LAB-02']]


def _local_inventory(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    hosts = dict((name, {'ansible_connection': 'local', 'kubernetes_dir': str(tmp_path / name)})
                 for name in ('cp1', 'cp2', 'cp3'))
    inventory.write_text(yaml.safe_dump({'all': {'children': {'control_plane': {'hosts': hosts}}}}))
    return str(inventory)


@pytest.mark.parametrize('node', [[], ['-e', 'node=']])  # an AWX survey field left empty gives node=''
def test_stop_node_without_a_node_refuses_before_anything_runs(tmp_path, node):
    proc = ansible_playbook('kubemaint.control_plane.stop_node', '-i', _local_inventory(tmp_path), *node)
    assert proc.returncode != 0
    assert 'given with --limit NODE (or -e node=NODE)' in proc.stdout and 'Nothing was changed' in proc.stdout
    assert 'See which control-plane pods run' not in proc.stdout


def test_rolling_restart_refuses_a_missing_maintenance_file_before_the_first_stop(tmp_path):
    for path in ('relative/tasks.yml', str(tmp_path / 'missing.yml')):
        proc = ansible_playbook('kubemaint.control_plane.rolling_restart', '-i', _local_inventory(tmp_path),
                                '-e', 'rolling_restart_maintenance_tasks=' + path)
        assert proc.returncode != 0
        assert 'is not an existing file given by its absolute path' in proc.stdout, proc.stdout[-3000:]
        assert 'See which control-plane pods run' not in proc.stdout


@pytest.mark.parametrize('ttl', ['5000', '1', 'ten'])
def test_rolling_restart_refuses_a_maintenance_lock_lease_etcd_lock_would_refuse(tmp_path, ttl):
    tasks = tmp_path / 'tasks.yml'
    tasks.write_text('- name: Nothing\n  ansible.builtin.debug:\n    msg: nothing\n')
    proc = ansible_playbook('kubemaint.control_plane.rolling_restart', '-i', _local_inventory(tmp_path),
                            '-e', 'rolling_restart_maintenance_tasks=' + str(tasks),
                            '-e', 'rolling_restart_maintenance_lock_ttl=' + ttl)
    assert proc.returncode != 0
    assert 'rolling_restart_maintenance_lock_ttl=%s is not a whole number of seconds from 2 to 3600' % ttl in proc.stdout, \
        proc.stdout[-3000:]
    assert 'Nothing was stopped' in proc.stdout
    assert 'Check the certificates of this node' not in proc.stdout


@pytest.mark.parametrize('change', [[], ['-e', '{"rolling_change_flags": "kube-apiserver"}']])
def test_rolling_change_without_a_change_refuses_before_anything_runs(tmp_path, change):
    proc = ansible_playbook('kubemaint.control_plane.rolling_change', '-i', _local_inventory(tmp_path), *change)
    assert proc.returncode != 0
    assert 'Give the change as -e rolling_change_flags' in proc.stdout and 'Nothing was changed' in proc.stdout
    assert ('is not a mapping' if change else 'is empty') in proc.stdout
    assert 'maintenance_lock' not in proc.stdout and 'Read the control-plane pods' not in proc.stdout


def test_rolling_change_refuses_a_missing_tasks_file_before_anything_runs(tmp_path):
    missing = str(tmp_path / 'missing.yml')
    proc = ansible_playbook('kubemaint.control_plane.rolling_change', '-i', _local_inventory(tmp_path),
                            '-e', 'rolling_change_pre_node_tasks=' + missing,
                            '-e', '{"rolling_change_flags": {"kube-apiserver": {"set": {"v": 2}}}}')
    assert proc.returncode != 0
    assert 'rolling_change_pre_node_tasks=%s is not an existing file' % missing in proc.stdout
    assert 'maintenance_lock' not in proc.stdout and 'Read the control-plane pods' not in proc.stdout
