"""cert_san_check through real ansible on the lab's PKI (issue 5, Must show 1, 2, 4 and 5)."""
import base64
import datetime
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests import certfactory as cf
from tests.integration.helpers import run_module, wait_for

SERVING = ('apiserver', 'etcd-server', 'etcd-peer')


def by_name(result):
    return {item['name']: item for item in result['certificates']}


def openssl_days_left(pem_path):
    """Days left as kubeadm's residual time shows them, computed from `openssl x509 -enddate`."""
    output = subprocess.run(['openssl', 'x509', '-enddate', '-noout', '-in', pem_path], check=True,
                            capture_output=True, text=True).stdout.strip()
    end = datetime.datetime.strptime(output.split('=', 1)[1], '%b %d %H:%M:%S %Y %Z').replace(
        tzinfo=datetime.timezone.utc)
    seconds = int((end - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
    return seconds // 86400 if seconds >= 0 else -((-seconds) // 86400)


def pem_of(item, tmp):
    """A PEM file holding the certificate a result entry describes (kubeconfigs: their client cert)."""
    if item['kind'] != 'kubeconfig':
        return item['path']
    if item['cert_source'] != 'embedded':
        return item['cert_source']
    with open(item['path']) as handle:
        data = yaml.safe_load(handle)['users'][0]['user']['client-certificate-data']
    path = os.path.join(tmp, item['name'] + '.pem')
    with open(path, 'wb') as handle:
        handle.write(base64.b64decode(data))
    return path


def key_chunks(path):
    """40-character pieces of the base64 body of a PEM private key file."""
    with open(path, 'rb') as handle:
        body = b''.join(line for line in handle.read().splitlines() if not line.startswith(b'-----')).decode()
    return [body[start:start + 40] for start in range(0, len(body) - 40, 40)]


def test_fresh_lab_node_passes(lab):
    node = lab.nodes[0]
    others = [{'name': other.name, 'addresses': [other.address]} for other in lab.nodes[1:]]
    result = run_module('cert_san_check', {'kubernetes_dir': node.kubernetes_dir, 'other_nodes': others})
    assert not result['failed'], result.get('msg')
    assert result['ok'] is True and result['problems'] == [] and result['changed'] is False
    assert result['identity']['node_name'] == node.name and result['identity']['addresses'] == [node.address]
    entries = by_name(result)
    assert len(entries) == 16 and all(item['ok'] for item in entries.values())
    for name in SERVING:
        assert node.name in entries[name]['sans']['dns'] and node.address in entries[name]['sans']['ip']
        assert entries[name]['foreign_sans'] == {'dns': [], 'ip': []}
    assert entries['kubelet.conf']['cert_source'] == os.path.join(node.root, 'var/lib/kubelet/pki/'
                                                                  'kubelet-client-current.pem')
    # every node of the lab, identity read from its own manifests only
    for other in lab.nodes[1:]:
        result = run_module('cert_san_check', {'kubernetes_dir': other.kubernetes_dir}, check_mode=True)
        assert not result['failed'] and result['ok'], result.get('msg')
        # the members kubeadm join listed in its --initial-cluster: those joined before it
        assert {item['name'] for item in result['identity']['other_nodes']} == {
            n.name for n in lab.nodes[:lab.nodes.index(other)]}


def test_days_left_agree_with_openssl(lab, tmp_path):
    """Must show 4, on the lab's files and on a crafted cert signed by the lab's etcd CA."""
    node = lab.nodes[2]
    result = run_module('cert_san_check', {'kubernetes_dir': node.kubernetes_dir})
    assert result['ok'], result.get('msg')
    checked = 0
    for item in result['certificates']:
        if item['kind'] == 'service-account-keys':
            continue
        assert item['days_left'] == openssl_days_left(pem_of(item, str(tmp_path))), item['path']
        checked += 1
    assert checked == 15
    days = {item['days_left'] for item in result['certificates'] if item['days_left'] is not None}
    assert len(days) >= 2  # CAs (~10 y) and leaves (~1 y) both compared

    # a copy of the node with one certificate 10 days 5 hours from expiry
    root = str(tmp_path / 'copy')
    skip = {node.data_dir, node.log_dir, node.snapshot_dir}
    shutil.copytree(node.root, root, ignore=lambda where, names: [n for n in names if os.path.join(where, n) in skip])
    kube = os.path.join(root, 'etc', 'kubernetes')
    etcd_pki = os.path.join(kube, 'pki', 'etcd')
    with open(os.path.join(etcd_pki, 'ca.crt'), 'rb') as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(etcd_pki, 'ca.key'), 'rb') as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), password=None)
    cf.write_pair(etcd_pki, 'healthcheck-client', cf.issue(
        cf.Pair(ca_cert, ca_key), 'kube-etcd-healthcheck-client',
        not_after=cf.now() + datetime.timedelta(days=10, hours=5)))
    result = run_module('cert_san_check', {'kubernetes_dir': kube, 'min_days_valid': 30})
    assert result['failed'] and result['ok'] is False
    item = by_name(result)['etcd-healthcheck-client']
    assert item['days_left'] == 10 == openssl_days_left(item['path'])
    assert item['residual_time'] == '10d'
    assert result['problems'] == ['%s: expires in 10 days on %s (less than min_days_valid 30)'
                                  % (item['path'], item['not_after'])]
    assert item['path'] in result['msg']
    result = run_module('cert_san_check', {'kubernetes_dir': kube, 'min_days_valid': 10})
    assert not result['failed'] and result['ok'], result.get('msg')


def test_pki_copied_from_another_node_fails_on_that_node(lab):
    """Must show 2: the runbook's scenario 2.3, done the runbook's way on node 1."""
    node1, node2 = lab.nodes[0], lab.nodes[1]
    stash = os.path.join(node1.kubernetes_dir, 'manifests-stash')
    saved_pki = node1.pki_dir + '.own'
    os.makedirs(stash, exist_ok=True)
    manifests = sorted(os.listdir(node1.manifests_dir))
    for name in manifests:
        os.rename(os.path.join(node1.manifests_dir, name), os.path.join(stash, name))
    try:
        wait_for(lambda: not node1.listening(), 90, '%s pods to stop' % node1.name)
        os.rename(node1.pki_dir, saved_pki)
        shutil.copytree(node2.pki_dir, node1.pki_dir)

        # kubeadm init's node lists only itself in --initial-cluster: the other nodes come from the inventory, as
        # cert_check passes them
        others = [{'name': other.name, 'addresses': [other.address]} for other in lab.nodes[1:]]
        result = run_module('cert_san_check', {'kubernetes_dir': node1.kubernetes_dir, 'other_nodes': others})
        assert result['failed'] and result['ok'] is False
        assert result['identity']['node_name'] == node1.name  # read from the stashed manifests
        entries = by_name(result)
        assert sorted(name for name, item in entries.items() if item['problems']) == sorted(SERVING)
        for name in SERVING:
            item = entries[name]
            assert item['missing_sans'] == {'dns': [node1.name], 'ip': [node1.address]}
            assert item['foreign_sans'] == {'dns': [node2.name], 'ip': [node2.address]}
            assert '%s: SANs missing for this node (%s): DNS:%s, IP:%s' % (
                item['path'], node1.name, node1.name, node1.address) in result['msg']
            assert '%s: SANs of another control-plane node: DNS:%s, IP:%s' % (
                item['path'], node2.name, node2.address) in result['msg']
        # the same copy, reported without failing: `ok` tells
        result = run_module('cert_san_check', {'kubernetes_dir': node1.kubernetes_dir, 'fail_on_problems': False,
                                               'other_nodes': others})
        assert not result['failed'] and result['ok'] is False and len(result['problems']) == 9
    finally:
        if os.path.isdir(saved_pki):
            shutil.rmtree(node1.pki_dir, ignore_errors=True)
            os.rename(saved_pki, node1.pki_dir)
        for name in manifests:
            if os.path.exists(os.path.join(stash, name)):
                os.rename(os.path.join(stash, name), os.path.join(node1.manifests_dir, name))
    lab.wait_healthy(timeout=180)
    result = run_module('cert_san_check', {'kubernetes_dir': node1.kubernetes_dir})
    assert not result['failed'] and result['ok'], result.get('msg')


def test_no_private_key_material_in_output(lab):
    node = lab.nodes[1]
    result = run_module('cert_san_check', {'kubernetes_dir': node.kubernetes_dir})
    output = result['_stdout'] + result['_stderr']
    assert 'PRIVATE KEY' not in output
    for key in ('apiserver.key', 'etcd/server.key', 'sa.key', 'ca.key'):
        for chunk in key_chunks(os.path.join(node.pki_dir, key)):
            assert chunk not in output, key
    with open(os.path.join(node.kubernetes_dir, 'admin.conf')) as handle:
        key_data = yaml.safe_load(handle)['users'][0]['user']['client-key-data']
    assert key_data[100:160] not in output


def test_missing_cryptography_gives_missing_required_lib(lab, tmp_path):
    """Must show 5: a Python without cryptography on the node gets ansible's standard message."""
    venv = str(tmp_path / 'bare')
    base = getattr(sys, '_base_executable', None) or '/usr/bin/python3'  # the venv's own Python has cryptography
    subprocess.run([base, '-m', 'venv', '--without-pip', venv], check=True)
    python = os.path.join(venv, 'bin', 'python')
    probe = subprocess.run([python, '-c', 'import cryptography'], capture_output=True, check=False)
    assert probe.returncode != 0, 'the bare venv must lack cryptography'
    inventory = str(tmp_path / 'inventory.yml')
    with open(inventory, 'w') as handle:
        yaml.safe_dump({'all': {'hosts': {'localhost': {'ansible_connection': 'local',
                                                        'ansible_python_interpreter': python}}}}, handle)
    result = run_module('cert_san_check', {'kubernetes_dir': lab.nodes[0].kubernetes_dir}, inventory=inventory)
    assert result['failed']
    assert result['msg'].startswith('Failed to import the required Python library (cryptography) on ')
    assert 'to read and verify the certificates of the control-plane node' in result['msg']
    assert 'certificates' not in result


def test_bad_input_is_refused_with_a_clear_message(tmp_path):
    empty = str(tmp_path / 'etc' / 'kubernetes')
    os.makedirs(empty)
    result = run_module('cert_san_check', {'kubernetes_dir': empty})
    assert result['failed'] and 'give node_name' in result['msg'] and empty in result['msg']
    result = run_module('cert_san_check', {'kubernetes_dir': empty, 'node_name': 'x',
                                           'advertise_addresses': ['not-an-ip']})
    assert result['failed'] and "'not-an-ip' is not an IP address" in result['msg']
    result = run_module('cert_san_check', {'kubernetes_dir': empty, 'node_name': 'x', 'advertise_addresses': ['10.0.0.1'],
                                           'service_cidr': 'bogus'})
    assert result['failed'] and "service_cidr 'bogus' is not a CIDR" in result['msg']
    # issue 14: numbers bounded, paths absolute, every problem named at once
    result = run_module('cert_san_check', {'kubernetes_dir': 'etc/kubernetes', 'min_days_valid': -1})
    assert result['failed'] and result['invalid_arguments'] == [
        'min_days_valid must be at least 0 and at most 36500, not -1',
        "kubernetes_dir must be an absolute path, not 'etc/kubernetes' (a relative path would be taken from the "
        "module's temporary working directory on the node)"], result['msg']
    assert os.listdir(empty) == []


def test_crafted_node_outside_the_lab(tmp_path):
    """The module on a node tree the tests wrote, no lab needed: IPv6 identity, ECDSA keys."""
    kube = cf.make_node(str(tmp_path), 'v6-cp-01', 'fd00:10::1', cf.ClusterCAs('ecdsa'))
    result = run_module('cert_san_check', {'kubernetes_dir': kube})
    assert not result['failed'] and result['ok'], result.get('msg')
    assert result['identity']['addresses'] == ['fd00:10::1']
    assert by_name(result)['apiserver']['public_key'] == 'ECDSA secp256r1'
    with tempfile.TemporaryDirectory() as scratch:
        assert openssl_days_left(pem_of(by_name(result)['admin.conf'], scratch)) == by_name(result)['admin.conf'][
            'days_left']


if __name__ == '__main__':  # pragma: no cover
    sys.exit(pytest.main([__file__, '-q']))
