"""Certificates and node maintenance: a certificate that expires soon never keeps a node down,
and rolling_restart refuses to take down a node whose certificates would keep it from coming back."""
import datetime
import os
import shutil

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.integration.playbook_helpers import describe, play
from tests.lab import pki as lab_pki

COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']


def load_pair(directory, base):
    with open(os.path.join(directory, base + '.crt'), 'rb') as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(directory, base + '.key'), 'rb') as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return lab_pki.CertKey(cert, key)


def manifests(node):
    return sorted(os.listdir(node.manifests_dir))


def test_expiring_certificate_is_reported_but_never_keeps_a_node_down(lab_factory):
    lab = lab_factory(nodes=3)
    node1 = lab.nodes[0]
    front_proxy_ca = load_pair(node1.pki_dir, 'front-proxy-ca')
    lab_pki.write_pair(node1.pki_dir, 'front-proxy-client',
                       lab_pki.issue(front_proxy_ca, 'front-proxy-client', client=True,
                                     validity=datetime.timedelta(days=10)))

    # And a key that is not its certificate's on node 2: found by the node's own Python (cryptography 38 on
    # Debian 12, which reads an RSA key's public half from its DER rather than checking the whole key).
    node2 = lab.nodes[1]
    wrong_key = os.path.join(node2.pki_dir, 'apiserver-kubelet-client.key')
    own_key = wrong_key + '.own'
    shutil.copy2(wrong_key, own_key)
    shutil.copyfile(os.path.join(node2.pki_dir, 'front-proxy-client.key'), wrong_key)
    try:
        report = play('cert_check', lab)
    finally:
        os.replace(own_key, wrong_key)
    assert report.returncode != 0, describe(report)
    assert 'front-proxy-client.crt' in report.output and node1.name in report.output
    assert 'apiserver-kubelet-client.key does not match the certificate' in report.output, describe(report)
    assert node2.name in report.output

    restarted = play('rolling_restart', lab, limit=node1.name)
    assert restarted.returncode == 0, describe(restarted)
    assert restarted.recap[node1.name]['changed'] > 0
    assert manifests(node1) == COMPONENT_FILES
    assert node1.etcd_healthy() and node1.apiserver_ready()

    stopped = play('stop_node', lab, limit=node1.name)
    assert stopped.returncode == 0, describe(stopped)
    started = play('start_node', lab, limit=node1.name)
    assert started.returncode == 0, describe(started)
    assert manifests(node1) == COMPONENT_FILES


def test_rolling_restart_refuses_to_stop_a_node_with_foreign_certificates(lab_factory):
    lab = lab_factory(nodes=3)
    node1, node2 = lab.nodes[0], lab.nodes[1]
    own = os.path.join(node1.root, 'pki-own')
    shutil.copytree(node1.pki_dir, own)
    for name in ('apiserver.crt', 'apiserver.key'):
        shutil.copy2(os.path.join(node2.pki_dir, name), os.path.join(node1.pki_dir, name))
    try:
        refused = play('rolling_restart', lab)
        assert refused.returncode != 0, describe(refused)
        assert 'apiserver.crt' in refused.output and 'Nothing was stopped or started' in refused.output
        # Refused before anything moved: every node still runs all four pods, no snapshot was taken.
        for node in lab.nodes:
            assert manifests(node) == COMPONENT_FILES
        assert not os.path.exists(os.path.join(node1.kubernetes_dir, 'manifests-stash'))
        assert node1.etcd_healthy() and node1.apiserver_ready()
    finally:
        shutil.rmtree(node1.pki_dir)
        shutil.copytree(own, node1.pki_dir)


def test_recover_leaves_a_node_with_foreign_certificates_stopped_and_restores_the_rest(lab_factory):
    lab = lab_factory(nodes=3)
    node1, node2, node3 = lab.nodes
    for node in (node3, node1):
        stopped = play('stop_node', lab, limit=node.name, extra_vars={'control_plane_node_allow_quorum_loss': True})
        # the second stop costs quorum: done as overridden, and the run fails saying which nodes to start
        assert (stopped.returncode == 0) == (node is node3), describe(stopped)
    assert 'etcd has NO quorum' in stopped.output and manifests(node1) == [], describe(stopped)
    own = os.path.join(node1.root, 'pki-own')
    os.rename(node1.pki_dir, own)
    shutil.copytree(node2.pki_dir, node1.pki_dir)
    try:
        refused = play('recover', lab)
        assert refused.returncode != 0, describe(refused)
        assert 'Not restored' in refused.output and node1.name in refused.output, describe(refused)
        assert 'recover_repair_certificates=true' in refused.output, describe(refused)
        assert manifests(node1) == [], 'node 1 must stay stopped'
        # node 3 was restored after node 1 was skipped: quorum is back without waiting on node 1.
        assert manifests(node3) == COMPONENT_FILES
        assert node3.etcd_healthy() and node2.etcd_healthy() and node3.apiserver_ready()
    finally:
        shutil.rmtree(node1.pki_dir)
        os.rename(own, node1.pki_dir)
    recovered = play('recover', lab)
    assert recovered.returncode == 0, describe(recovered)
    assert manifests(node1) == COMPONENT_FILES
    lab.wait_healthy(timeout=120)
