"""node_certificates through real ansible on the lab (issue 11, the module's part of Must show 1 and 3).

One 3-node lab for the whole file. Scenario 2.3 runs on the lab itself (node 1's pods stopped,
node 2's pki copied over node 1's, reissued, node 1's pods started and etcd healthy with all
members); the field-by-field comparison of every certificate kind, renewal and the refusals run
on the lab's files.
"""
import base64
import datetime
import json
import os
import shutil
import stat
import subprocess

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import (
    check_node_certificates,
    node_identity,
)
from tests import certfactory as cf
from tests.integration.etcd_helpers import etcdctl_json
from tests.integration.helpers import run_module

PKI_FILES = ('apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client',
             'etcd/server', 'etcd/peer', 'etcd/healthcheck-client')
CA_OF = {'apiserver': 'ca.crt', 'apiserver-kubelet-client': 'ca.crt', 'apiserver-etcd-client': 'etcd/ca.crt',
         'front-proxy-client': 'front-proxy-ca.crt', 'etcd/server': 'etcd/ca.crt', 'etcd/peer': 'etcd/ca.crt',
         'etcd/healthcheck-client': 'etcd/ca.crt'}
KUBECONFIGS = ('admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf')
YEAR = datetime.timedelta(days=365)


def ok(result):
    assert not result['failed'], result.get('msg') or result['_stdout'][-3000:]
    return result


def certs(node, check_mode=False, diff=True, **args):
    args.setdefault('kubernetes_dir', node if isinstance(node, str) else node.kubernetes_dir)
    return run_module('node_certificates', args, check_mode=check_mode, diff=diff)


def toggle(node, state):
    return ok(run_module('static_pod_toggle', {'name': 'all', 'state': state, 'kubernetes_dir': node.kubernetes_dir,
                                               'wait_timeout': 120}, timeout=600))


def digests(root, skip=('pki-backups',)):
    result = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if name not in skip]
        for name in files:
            path = os.path.join(directory, name)
            with open(path, 'rb') as handle:
                result[os.path.relpath(path, root)] = (stat.S_IMODE(os.stat(path).st_mode), handle.read())
    return result


def load_cert(path):
    with open(path, 'rb') as handle:
        return x509.load_pem_x509_certificate(handle.read())


def kubeconfig_cert(path):
    with open(path) as handle:
        user = yaml.safe_load(handle)['users'][0]['user']
    return x509.load_pem_x509_certificate(base64.b64decode(user['client-certificate-data']))


def key_chunks(*roots):
    """40-character pieces of every private key under the roots (PEM bodies)."""
    chunks = []
    for root in roots:
        for directory, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith('.key'):
                    with open(os.path.join(directory, name), 'rb') as handle:
                        body = b''.join(handle.read().splitlines()[1:-1]).decode()
                    chunks += [body[start:start + 40] for start in range(0, len(body) - 40, 200)]
    return chunks


def assert_no_key_material(result, chunks):
    text = json.dumps(result)
    assert 'PRIVATE KEY' not in text
    leaked = [chunk for chunk in chunks if chunk in text]
    assert not leaked, 'key material in the module output'


def openssl_verify(ca, cert):
    proc = subprocess.run(['openssl', 'verify', '-CAfile', ca, cert], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(': OK'), proc.stdout + proc.stderr


def test_scenario_2_3_reissued_on_the_node_and_its_control_plane_comes_back(lab, tmp_path):
    one, two, three = lab.nodes
    toggle(one, 'stopped')
    lab_issued = str(tmp_path / 'lab-issued-pki')
    shutil.copytree(one.pki_dir, lab_issued)
    shutil.rmtree(one.pki_dir)
    shutil.copytree(two.pki_dir, one.pki_dir)
    copied = digests(one.pki_dir)
    others = {node.name: digests(node.kubernetes_dir) for node in (two, three)}
    before_one = digests(one.kubernetes_dir)

    check = ok(certs(one, check_mode=True, state='reissued'))
    assert check['changed'] and check['replaced'] == ['apiserver', 'etcd-server', 'etcd-peer']
    assert check['backup_dir'] is None and digests(one.kubernetes_dir) == before_one
    assert not os.path.exists(os.path.join(one.kubernetes_dir, 'pki-backups'))
    by_name = {item['name']: item for item in check['certificates']}
    assert any('SANs of another control-plane node: DNS:lab-cp-02, IP:%s' % two.address in reason
               for reason in by_name['etcd-peer']['reasons'])
    assert by_name['etcd-peer']['after']['sans']['dns'] == [one.name, 'localhost']

    applied = ok(certs(one, state='reissued'))
    assert applied['changed'] and applied['replaced'] == ['apiserver', 'etcd-server', 'etcd-peer']
    assert {item['name']: item['result'] for item in applied['certificates'] if item['result'] != 'unchanged'} == {
        'apiserver': 'reissued', 'etcd-server': 'reissued', 'etcd-peer': 'reissued'}
    for item in applied['certificates']:
        if item['result'] == 'reissued':
            assert item['before']['serial'] != item['after']['serial'] and item['after']['serial']
            assert one.name in item['after']['sans']['dns'] and two.name in item['before']['sans']['dns']
    diff_text = ''.join(part['before'] + part['after'] for part in applied['diff'])
    assert 'san: DNS:%s' % one.name in diff_text and 'san: IP:%s' % two.address in diff_text
    assert_no_key_material(check, key_chunks(one.pki_dir, two.pki_dir))
    assert_no_key_material(applied, key_chunks(one.pki_dir, two.pki_dir))
    assert 'PRIVATE KEY' not in applied['_stdout'] + applied['_stderr']

    for base in PKI_FILES:
        openssl_verify(os.path.join(one.pki_dir, CA_OF[base]), os.path.join(one.pki_dir, base + '.crt'))
    verdict = ok(run_module('cert_san_check', {'kubernetes_dir': one.kubernetes_dir}))
    assert verdict['ok'] is True

    # only the three pairs changed on node 1; nothing on the other nodes
    now_pki = digests(one.pki_dir)
    assert sorted(name for name in now_pki if now_pki[name] != copied.get(name)) == sorted(
        ['apiserver.crt', 'apiserver.key', 'etcd/server.crt', 'etcd/server.key', 'etcd/peer.crt', 'etcd/peer.key'])
    assert {node.name: digests(node.kubernetes_dir) for node in (two, three)} == others

    # backups: the copied files, 0700 directories, 0600 files
    backup = applied['backup_dir']
    assert backup.startswith(os.path.join(one.kubernetes_dir, 'pki-backups') + os.sep)
    saved = digests(backup)
    assert sorted(saved) == sorted('pki/' + name for name in ('apiserver.crt', 'apiserver.key', 'etcd/server.crt',
                                                              'etcd/server.key', 'etcd/peer.crt', 'etcd/peer.key'))
    assert all(saved[name] == (0o600, copied[name[4:]][1]) for name in saved)
    for directory, _dirs, _files in os.walk(os.path.join(one.kubernetes_dir, 'pki-backups')):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700

    # Must show 3: field by field what the lab issued for node 1
    for base in ('apiserver', 'etcd/server', 'etcd/peer'):
        ours, lab_cert = load_cert(os.path.join(one.pki_dir, base + '.crt')), load_cert(
            os.path.join(lab_issued, base + '.crt'))
        assert cf.certificate_fields(ours) == cf.certificate_fields(lab_cert), base
        assert lab_cert.not_valid_after_utc - lab_cert.not_valid_before_utc == YEAR
        assert abs(ours.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc) - YEAR) < \
            datetime.timedelta(minutes=5)

    again = ok(certs(one, state='reissued'))
    assert again['changed'] is False and again['replaced'] == [] and again['backup_dir'] is None
    check_again = ok(certs(one, check_mode=True, state='reissued'))
    assert check_again['changed'] is False
    assert len(os.listdir(os.path.join(one.kubernetes_dir, 'pki-backups'))) == 1

    # the real proof: node 1's control plane comes back and etcd has every member healthy
    toggle(one, 'started')
    lab.wait_healthy(timeout=120)
    members = etcdctl_json(lab, one, 'member', 'list')['members']
    assert sorted(member['name'] for member in members) == [node.name for node in lab.nodes]
    health = lab.etcdctl(one, 'endpoint', 'health', '--cluster')
    assert health.returncode == 0 and health.stdout.count('is healthy') == 3, health.stdout + health.stderr


@pytest.fixture
def node_copy(lab, tmp_path):
    """A files-only copy of node 3's /etc/kubernetes (manifests, pki, kubeconfigs) and kubelet client cert."""
    node = lab.nodes[2]
    target = str(tmp_path / 'root' / 'etc' / 'kubernetes')
    shutil.copytree(node.kubernetes_dir, target, ignore=shutil.ignore_patterns('pki-backups'))
    shutil.copytree(os.path.join(node.root, 'var', 'lib', 'kubelet', 'pki'),
                    str(tmp_path / 'root' / 'var' / 'lib' / 'kubelet' / 'pki'))
    return node, target


def test_every_kind_reissued_matches_the_lab_field_by_field(node_copy):
    node, kube = node_copy
    result = ok(certs(kube, state='reissued', force=True, diff=False))
    assert sorted(result['replaced']) == sorted(['apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client',
                                                 'front-proxy-client', 'etcd-server', 'etcd-peer',
                                                 'etcd-healthcheck-client'] + list(KUBECONFIGS))
    skipped = [item for item in result['certificates'] if item['result'] == 'skipped']
    assert skipped == []
    for base in PKI_FILES:
        ours = load_cert(os.path.join(kube, 'pki', base + '.crt'))
        lab_cert = load_cert(os.path.join(node.pki_dir, base + '.crt'))
        assert cf.certificate_fields(ours) == cf.certificate_fields(lab_cert), base
        assert ours.serial_number != lab_cert.serial_number
        with open(os.path.join(kube, 'pki', base + '.key'), 'rb') as handle:
            key = serialization.load_pem_private_key(handle.read(), None)
        assert key.public_key().public_numbers() == ours.public_key().public_numbers()
        assert stat.S_IMODE(os.stat(os.path.join(kube, 'pki', base + '.key')).st_mode) == 0o600
    for name in KUBECONFIGS:
        ours, lab_cert = kubeconfig_cert(os.path.join(kube, name)), kubeconfig_cert(os.path.join(node.kubernetes_dir,
                                                                                                 name))
        assert cf.certificate_fields(ours) == cf.certificate_fields(lab_cert), name
        assert ours.serial_number != lab_cert.serial_number
    report = check_node_certificates(kube, node_identity(kube))
    assert report['ok'], report['problems']
    assert_no_key_material(result, key_chunks(os.path.join(kube, 'pki'), node.pki_dir))


def test_renewed_renews_what_expires_soon_and_keeps_keys(lab):
    node = lab.nodes[2]
    with open(os.path.join(node.etcd_pki_dir, 'ca.key'), 'rb') as handle:
        etcd_ca = cf.Pair(load_cert(os.path.join(node.etcd_pki_dir, 'ca.crt')),
                          serialization.load_pem_private_key(handle.read(), None))
    with open(os.path.join(node.pki_dir, 'apiserver-etcd-client.key'), 'rb') as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    short = cf.issue(etcd_ca, 'kube-apiserver-etcd-client', key=key, days=10)
    cf.write(os.path.join(node.pki_dir, 'apiserver-etcd-client.crt'), short.cert_pem)
    before = digests(node.kubernetes_dir)

    check = ok(certs(node, check_mode=True, state='renewed', days=30))
    assert check['changed'] and check['replaced'] == ['apiserver-etcd-client']
    assert digests(node.kubernetes_dir) == before
    applied = ok(certs(node, state='renewed', days=30))
    assert applied['replaced'] == ['apiserver-etcd-client']
    after = digests(node.kubernetes_dir)
    assert [name for name in after if after[name] != before.get(name)] == ['pki/apiserver-etcd-client.crt']
    renewed = load_cert(os.path.join(node.pki_dir, 'apiserver-etcd-client.crt'))
    kept, crafted = cf.certificate_fields(renewed), cf.certificate_fields(short.cert)
    assert kept['extensions'].pop('2.5.29.35')  # the authority key identifier names the CA that signs now
    assert kept == crafted  # subject, issuer, basic constraints, usages, key: as they were
    assert renewed.public_key().public_numbers() == key.public_key().public_numbers()
    assert renewed.not_valid_after_utc > short.cert.not_valid_after_utc + datetime.timedelta(days=300)
    openssl_verify(os.path.join(node.etcd_pki_dir, 'ca.crt'), os.path.join(node.pki_dir, 'apiserver-etcd-client.crt'))
    assert not ok(certs(node, state='renewed', days=30))['changed']
    assert not ok(certs(node, check_mode=True, state='renewed', days=30))['changed']
    assert_no_key_material(applied, key_chunks(node.pki_dir))


def test_external_ca_is_refused_and_nothing_changes(lab, node_copy):
    _node, kube = node_copy
    other = lab.nodes[1]
    for name in ('apiserver.crt', 'apiserver.key'):
        shutil.copy(os.path.join(other.pki_dir, name), os.path.join(kube, 'pki', name))
    os.unlink(os.path.join(kube, 'pki', 'ca.key'))
    before = digests(kube)
    for check_mode in (True, False):
        result = certs(kube, check_mode=check_mode, state='reissued')
        assert result['failed'] and not result['changed']
        assert os.path.join(kube, 'pki', 'ca.key') in result['msg'] and 'external CA' in result['msg'], result['msg']
        assert digests(kube) == before and not os.path.exists(os.path.join(kube, 'pki-backups'))


@pytest.mark.parametrize('args, message', [
    ({'state': 'renewed', 'days': -1}, 'whole number of days'),
    ({'state': 'reissued', 'backup_dir': 'backups'}, 'must be an absolute path'),
])
def test_bad_input_is_refused(node_copy, args, message):
    _node, kube = node_copy
    before = digests(kube)
    result = certs(kube, **args)
    assert result['failed'] and message in result['msg'], result['msg']
    assert 'Traceback' not in result.get('module_stderr', '') and digests(kube) == before


def test_reissue_for_another_nodes_name_or_address_is_refused_and_nothing_changes(lab):
    """Issue 21: node 3 asked to reissue its certificates as node 2 (its name, or its address). Node 3's etcd
    manifest lists node 2 as another member of --initial-cluster, with node 2's peer URL (kubeadm join writes every
    member known at the join): refused, naming the node the name or address belongs to. Node 1's manifest lists only
    itself (kubeadm init's): there the other nodes come from other_nodes (the inventory), and the same request is
    refused. Every file under either node's kubernetes_dir stays byte-identical."""
    other = lab.nodes[1]
    joined, first = lab.nodes[2], lab.nodes[0]
    told = {'other_nodes': [{'name': other.name, 'addresses': [other.address]}]}
    cases = (
        (joined, {'node_name': other.name}, 'node_name %s belongs to another node' % other.name),
        (joined, {'advertise_addresses': [other.address]}, 'address %s belongs to %s' % (other.address, other.name)),
        (joined, {'node_name': other.name, 'advertise_addresses': [other.address]},
         'node_name %s belongs to another node' % other.name),
        (first, dict(told, node_name=other.name), 'node_name %s belongs to another node' % other.name),
    )
    for node in (joined, first):
        backups = os.path.join(node.kubernetes_dir, 'pki-backups')
        backups_before = sorted(os.listdir(backups)) if os.path.isdir(backups) else None
        before = digests(node.kubernetes_dir)
        kubelet_pki = os.path.join(node.root, 'var', 'lib', 'kubelet', 'pki')
        kubelet_before = digests(kubelet_pki)
        for args, words in [(args, words) for target, args, words in cases if target is node]:
            for state in ('reissued', 'renewed'):
                for check_mode in (True, False):
                    result = certs(node, check_mode=check_mode, state=state, force=True, **args)
                    assert result['failed'] and not result['changed'], result
                    assert 'refusing an identity that belongs to another node' in result['msg'], result['msg']
                    assert words in result['msg'] and 'nothing was changed' in result['msg'], result['msg']
                    assert 'Traceback' not in result['_stdout'] + result['_stderr']
        assert digests(node.kubernetes_dir) == before and digests(kubelet_pki) == kubelet_before
        assert (sorted(os.listdir(backups)) if os.path.isdir(backups) else None) == backups_before
