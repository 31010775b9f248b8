"""The lab's ssh mode: every node a host of its own, reached over SSH, with kubeadm's own paths."""
import hashlib
import json
import os

import pytest
import yaml

from tests.integration.helpers import run_playbook
from tests.lab import Lab, free_base_address
from tests.lab.core import ssh_unavailable


def _require_ssh():
    reason = ssh_unavailable()
    if reason and os.environ.get('KUBEMAINT_LAB_CONNECTION') != 'ssh':
        pytest.skip('the ssh lab cannot run here: %s' % reason)


def sha1(path):
    with open(path, 'rb') as handle:
        return hashlib.sha1(handle.read()).hexdigest()


def test_a_module_on_node_1_sees_only_node_1s_files_and_the_controller_has_no_etc_kubernetes(tmp_path):
    _require_ssh()
    assert not os.path.exists('/etc/kubernetes'), 'the controller must have no /etc/kubernetes for this test'
    lab = Lab(str(tmp_path / 'lab'), nodes=2, base_address=free_base_address(2), connection='ssh')
    lab.up(timeout=180)
    try:
        node1, node2 = lab.nodes
        with open(lab.inventory_path) as handle:
            hosts = yaml.safe_load(handle)['all']['children']['control_plane']['hosts']
        path_vars = sorted({name for host in hosts.values() for name in host
                            if name in ('kubernetes_dir', 'node_root', 'etcd_snapshot_dir', 'etcd_data_dir')})
        assert not path_vars, 'the ssh inventory must carry no path variables: %s' % path_vars
        assert hosts[node1.name]['ansible_user'] == 'kubemaint' and hosts[node1.name]['ansible_become'] is True
        assert hosts[node2.name]['ansible_user'] == 'root'

        out = tmp_path / 'seen.json'
        playbook = tmp_path / 'look.yml'
        playbook.write_text(yaml.safe_dump([{
            'hosts': node1.name, 'gather_facts': False,
            'tasks': [
                {'name': 'pods, from the default paths', 'kubemaint.control_plane.static_pod_info': {},
                 'register': 'pods'},
                {'name': 'who runs the module', 'ansible.builtin.command': 'id -un', 'register': 'who',
                 'changed_when': False},
                {'name': 'own certificate', 'ansible.builtin.stat': {'path': '/etc/kubernetes/pki/etcd/server.crt'},
                 'register': 'own'},
                {'name': 'etcd data at kubeadm path', 'ansible.builtin.stat': {'path': '/var/lib/etcd/member'},
                 'register': 'data'},
                {'name': "node 2's files by their path on the machine",
                 'ansible.builtin.stat': {'path': os.path.join(node2.etcd_pki_dir, 'server.crt')},
                 'register': 'other'},
                {'name': "node 2's root", 'ansible.builtin.stat': {'path': node2.root}, 'register': 'other_root'},
                {'name': 'write a file under /etc/kubernetes',
                 'ansible.builtin.copy': {'content': 'node 1\n', 'dest': '/etc/kubernetes/isolation-probe',
                                          'mode': '0600'}},
                {'name': 'save', 'delegate_to': 'localhost', 'ansible.builtin.copy': {
                    'dest': str(out), 'mode': '0600',
                    'content': '{{ {"pods": pods, "who": who.stdout, "own": own.stat, "data": data.stat, '
                               '"other": other.stat, "other_root": other_root.stat} | to_json }}'}},
            ]}]))
        proc = run_playbook(str(playbook), lab.inventory_path)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        seen = json.loads(out.read_text())
        assert seen['who'] == 'root', 'become through sudo on %s gave %r' % (node1.name, seen['who'])
        assert sorted(seen['pods']['running']) == ['etcd', 'kube-apiserver', 'kube-controller-manager',
                                                   'kube-scheduler'], seen['pods']
        assert seen['own']['exists'] and seen['own']['checksum'] == sha1(os.path.join(node1.etcd_pki_dir,
                                                                                      'server.crt'))
        assert seen['own']['checksum'] != sha1(os.path.join(node2.etcd_pki_dir, 'server.crt'))
        assert seen['data']['exists'] and seen['data']['isdir']
        assert not seen['other']['exists'] and not seen['other_root']['exists'], seen
        with open(os.path.join(node1.kubernetes_dir, 'isolation-probe')) as handle:
            assert handle.read() == 'node 1\n'
        assert not os.path.exists(os.path.join(node2.kubernetes_dir, 'isolation-probe'))
        assert not os.path.exists('/etc/kubernetes'), 'the run touched the controller\'s /etc/kubernetes'
    finally:
        lab.down()
    assert not lab.processes(), lab.processes()
