"""Certificates repaired by the node-maintenance playbooks: scenario 2.3 (a node's pki replaced by
another node's) is refused by start_node naming the repair variable, and fixed with it."""
import hashlib
import ipaddress
import os
import shutil
import subprocess

from cryptography import x509

from tests.integration.playbook_helpers import describe, play

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
