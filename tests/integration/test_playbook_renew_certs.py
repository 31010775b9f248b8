"""Certificates repaired and renewed by the node-maintenance playbooks: scenario 2.3 (a node's pki
replaced by another node's) is refused by start_node naming the repair variable, and fixed with it;
renew_certs renews certificates that expire soon node by node without losing quorum or a write."""
import base64
import datetime
import hashlib
import ipaddress
import os
import shutil
import subprocess

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tests.integration.playbook_helpers import ContinuousWriter, MemberWatcher, describe, play

COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']
# Serving and peer certificates that carry the node's names, with the CA each is verified against.
SERVING = [('apiserver.crt', 'ca.crt'), ('etcd/server.crt', 'etcd/ca.crt'), ('etcd/peer.crt', 'etcd/ca.crt')]


def checksums(node):
    """sha256 of every file under the node's kubernetes directory (pki, kubeconfigs, manifests)."""
    found = {}
    for top, _dirs, files in os.walk(node.kubernetes_dir):
        for name in files:
            path = os.path.join(top, name)
            with open(path, 'rb') as handle:
                found[os.path.relpath(path, node.kubernetes_dir)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def san_addresses(path):
    with open(path, 'rb') as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sans.get_values_for_type(x509.IPAddress), sans.get_values_for_type(x509.DNSName)


def test_start_node_reissues_a_pki_copied_from_another_node_when_asked(lab_factory):
    lab = lab_factory(nodes=3)
    node1, node2, node3 = lab.nodes
    stopped = play('stop_node', lab, limit=node1.name)
    assert stopped.returncode == 0, describe(stopped)
    shutil.rmtree(node1.pki_dir)
    shutil.copytree(node2.pki_dir, node1.pki_dir)
    untouched = {node.name: checksums(node) for node in (node2, node3)}

    refused = play('start_node', lab, limit=node1.name)
    assert refused.returncode != 0, describe(refused)
    assert 'control_plane_node_repair_certificates' in refused.output, describe(refused)
    assert os.listdir(node1.manifests_dir) == [], 'refused: nothing may start'

    repaired = play('start_node', lab, limit=node1.name, extra_vars={'control_plane_node_repair_certificates': True})
    assert repaired.returncode == 0, describe(repaired)
    assert sorted(os.listdir(node1.manifests_dir)) == COMPONENT_FILES
    for cert, ca in SERVING:
        verified = subprocess.run(['openssl', 'verify', '-CAfile', os.path.join(node1.pki_dir, ca),
                                   os.path.join(node1.pki_dir, cert)], capture_output=True, text=True, check=False)
        assert verified.returncode == 0, (cert, verified.stdout, verified.stderr)
        addresses, names = san_addresses(os.path.join(node1.pki_dir, cert))
        assert ipaddress.ip_address(node1.address) in addresses, (cert, addresses)
        assert ipaddress.ip_address(node2.address) not in addresses and node2.name not in names, (cert, names)
    assert node1.etcd_healthy() and node1.apiserver_ready()
    lab.wait_healthy(timeout=120)
    checked = play('cert_check', lab)
    assert checked.returncode == 0, describe(checked)
    assert {node.name: checksums(node) for node in (node2, node3)} == untouched

    # recover repairs the same way when asked: node 3 stopped, then given node 2's pki.
    stopped = play('stop_node', lab, limit=node3.name)
    assert stopped.returncode == 0, describe(stopped)
    shutil.rmtree(node3.pki_dir)
    shutil.copytree(node2.pki_dir, node3.pki_dir)
    recovered = play('recover', lab, extra_vars={'recover_repair_certificates': True})
    assert recovered.returncode == 0, describe(recovered)
    assert sorted(os.listdir(node3.manifests_dir)) == COMPONENT_FILES
    addresses, _names = san_addresses(os.path.join(node3.pki_dir, 'etcd/peer.crt'))
    assert ipaddress.ip_address(node3.address) in addresses and ipaddress.ip_address(node2.address) not in addresses
    lab.wait_healthy(timeout=120)


# Leaf certificates under pki/ with the CA that signs each (kubeconfigs are signed by ca).
LEAVES = {'apiserver': 'ca', 'apiserver-kubelet-client': 'ca', 'apiserver-etcd-client': 'etcd/ca',
          'front-proxy-client': 'front-proxy-ca', 'etcd/server': 'etcd/ca', 'etcd/peer': 'etcd/ca',
          'etcd/healthcheck-client': 'etcd/ca'}
KUBECONFIGS = ('admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf')


def _load_ca(pki_dir, base):
    with open(os.path.join(pki_dir, base + '.crt'), 'rb') as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(pki_dir, base + '.key'), 'rb') as handle:
        return cert, serialization.load_pem_private_key(handle.read(), password=None)


def _shortened(pem, ca, days):
    """The same certificate (subject, key, extensions) signed again by `ca`, valid for `days`."""
    cert = x509.load_pem_x509_certificate(pem)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(ca[0].subject)
               .public_key(cert.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days)))
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    return builder.sign(ca[1], hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def expire_leaves_in(node, days):
    """Sign every leaf certificate of the node (pki/ and the kubeconfigs) again, expiring in `days`."""
    for base, ca_base in LEAVES.items():
        path = os.path.join(node.pki_dir, base + '.crt')
        with open(path, 'rb') as handle:
            pem = handle.read()
        with open(path, 'wb') as handle:
            handle.write(_shortened(pem, _load_ca(node.pki_dir, ca_base), days))
    for name in KUBECONFIGS:
        path = os.path.join(node.kubernetes_dir, name)
        with open(path) as handle:
            config = yaml.safe_load(handle)
        user = config['users'][0]['user']
        pem = base64.b64decode(user['client-certificate-data'])
        user['client-certificate-data'] = base64.b64encode(
            _shortened(pem, _load_ca(node.pki_dir, 'ca'), days)).decode()
        with open(path, 'w') as handle:
            yaml.safe_dump(config, handle, sort_keys=True)


def days_left(node):
    """Days of validity left of each leaf certificate of the node (pki/ and kubeconfigs)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    left = {}
    for base in LEAVES:
        with open(os.path.join(node.pki_dir, base + '.crt'), 'rb') as handle:
            left[base] = (x509.load_pem_x509_certificate(handle.read()).not_valid_after_utc - now).days
    for name in KUBECONFIGS:
        with open(os.path.join(node.kubernetes_dir, name)) as handle:
            pem = base64.b64decode(yaml.safe_load(handle)['users'][0]['user']['client-certificate-data'])
        left[name] = (x509.load_pem_x509_certificate(pem).not_valid_after_utc - now).days
    return left


def test_renew_certs_renews_expiring_certificates_node_by_node_without_losing_quorum(lab_factory):
    lab = lab_factory(nodes=3)
    for node in lab.nodes:
        expire_leaves_in(node, 10)
    expiring = play('cert_check', lab)
    assert expiring.returncode != 0, describe(expiring)

    watcher = MemberWatcher(lab)
    writer = ContinuousWriter(lab)
    watcher.start()
    writer.start()
    try:
        renewed = play('renew_certs', lab, timeout=1500)
    finally:
        watcher.stop()
        writer.stop()
    assert renewed.returncode == 0, describe(renewed)
    assert watcher.samples > 0 and watcher.max_down <= 1, (watcher.max_down_members, describe(renewed))
    # every member went down once (its etcd read renewed certificates) and came back
    assert watcher.seen_down == {node.name for node in lab.nodes}
    assert writer.acknowledged and writer.missing() == []
    for node in lab.nodes:
        assert renewed.recap[node.name]['changed'] > 0
        assert min(days_left(node).values()) >= 364, (node.name, days_left(node))
        assert sorted(os.listdir(node.manifests_dir)) == COMPONENT_FILES
    lab.wait_healthy(timeout=120)

    again = play('renew_certs', lab)
    assert again.returncode == 0, describe(again)
    assert all(again.recap[node.name]['changed'] == 0 for node in lab.nodes), describe(again)
    checked = play('cert_check', lab)
    assert checked.returncode == 0, describe(checked)


def test_renew_certs_restarts_only_the_pod_whose_certificate_changed(lab_factory):
    lab = lab_factory(nodes=3)
    node1 = lab.nodes[0]
    path = os.path.join(node1.kubernetes_dir, 'scheduler.conf')
    with open(path) as handle:
        config = yaml.safe_load(handle)
    user = config['users'][0]['user']
    user['client-certificate-data'] = base64.b64encode(_shortened(
        base64.b64decode(user['client-certificate-data']), _load_ca(node1.pki_dir, 'ca'), 10)).decode()
    with open(path, 'w') as handle:
        yaml.safe_dump(config, handle, sort_keys=True)
    before = checksums(node1)

    watcher = MemberWatcher(lab)
    watcher.start()
    try:
        renewed = play('renew_certs', lab)
    finally:
        watcher.stop()
    assert renewed.returncode == 0, describe(renewed)
    assert watcher.seen_down == set(), 'no etcd member may go down for a scheduler certificate'
    assert 'restarted kube-scheduler' in renewed.output, describe(renewed)
    assert renewed.recap[node1.name]['changed'] > 0
    assert all(renewed.recap[node.name]['changed'] == 0 for node in lab.nodes[1:]), describe(renewed)
    after = checksums(node1)
    changed = sorted(name for name in after if after.get(name) != before.get(name))
    # besides the backup and the stash record of the restart, only scheduler.conf changed
    assert [name for name in changed if not name.startswith(('pki-backups/', 'manifests-stash/'))] \
        == ['scheduler.conf'], changed
    assert days_left(node1)['scheduler.conf'] >= 364
    assert sorted(os.listdir(node1.manifests_dir)) == COMPONENT_FILES
