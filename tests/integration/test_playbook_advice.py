"""Issue 25: advice that fits the error, on the real lab. A certificate that only expires soon names renew_certs for
its node (and renew_certs, run as named, fixes it), one naming another node keeps the "not fit" advice, both at once
name both; an expired certificate names renew_certs too (and renew_certs fixes it); a run whose remote user may not
read the etcd client key or the certificates (no become) names the file, the user and become, not the endpoints, recover
or "not fit for this node". One lab for them all."""
import datetime
import os
import shutil

import pytest
import yaml

from tests.integration.playbook_helpers import describe, play
from tests.lab import pki as lab_pki
from tests.lab.node import LOGIN_USER
from tests.integration.test_playbook_certs import COMPONENT_FILES, load_pair, manifests

NOT_FIT = 'are not fit for this node'
PUT_BACK = "put this node's own pki back, or issue certificates for it (kubeadm init phase certs"


def renew_command(node):
    return 'ansible-playbook -b -i <inventory> kubemaint.control_plane.renew_certs --limit %s' % node.name


def renew_as_advised(lab, node):
    """The renewal advice followed as it reads: renew_certs on the node, then cert_check passes."""
    renewed = play('renew_certs', lab, limit=node.name)
    assert renewed.returncode == 0, describe(renewed)
    checked = play('cert_check', lab)
    assert checked.returncode == 0 and 'renew_certs' not in checked.output, describe(checked)
    assert manifests(node) == COMPONENT_FILES and node.etcd_healthy() and node.apiserver_ready()


def test_an_expiring_certificate_names_renew_certs_and_one_of_another_node_keeps_not_fit(lab, tmp_path):
    lab.wait_healthy(timeout=120)
    node1, node2 = lab.nodes[0], lab.nodes[1]
    touched = ('front-proxy-client.crt', 'front-proxy-client.key', 'apiserver.crt', 'apiserver.key')
    saved = tmp_path / 'pki'
    saved.mkdir()
    for name in touched:
        shutil.copy2(os.path.join(node1.pki_dir, name), str(saved / name))
    try:
        lab_pki.write_pair(node1.pki_dir, 'front-proxy-client',
                           lab_pki.issue(load_pair(node1.pki_dir, 'front-proxy-ca'), 'front-proxy-client', client=True,
                                         validity=datetime.timedelta(days=10)))
        expiring = play('cert_check', lab)
        assert expiring.returncode != 0, describe(expiring)
        assert ('Certificates of %s expire within 30 days: renew them with %s. Expiring: %s: expires in '
                % (node1.name, renew_command(node1), lab.node_path(node1, os.path.join(node1.pki_dir, 'front-proxy-client.crt')))
                ) in expiring.output, describe(expiring)
        assert NOT_FIT not in expiring.output and 'kubeadm init phase certs' not in expiring.output, describe(expiring)

        # the apiserver certificate of another node besides: both advices, the one for the certificate that is not
        # fit first
        for name in ('apiserver.crt', 'apiserver.key'):
            shutil.copy2(os.path.join(node2.pki_dir, name), os.path.join(node1.pki_dir, name))
        both = play('cert_check', lab)
        assert both.returncode != 0, describe(both)
        assert 'Certificates of %s (node %s, addresses %s) %s: ' % (node1.name, node1.name, node1.address, NOT_FIT) \
            in both.output, describe(both)
        assert PUT_BACK in both.output and 'SANs of another control-plane node: DNS:%s' % node2.name in both.output
        assert 'Certificates also expire within 30 days (' in both.output, describe(both)
        assert 'once the above is fixed, renew what still expires with %s.' % renew_command(node1) in both.output

        # the node's own apiserver certificate back, and the advice followed as it reads: renewed, and the check passes
        for name in ('apiserver.crt', 'apiserver.key'):
            shutil.copy2(str(saved / name), os.path.join(node1.pki_dir, name))
        renew_as_advised(lab, node1)
    finally:
        for name in touched:
            shutil.copy2(str(saved / name), os.path.join(node1.pki_dir, name))


def test_an_expired_certificate_names_renew_certs_and_renew_certs_fixes_it(lab, tmp_path):
    lab.wait_healthy(timeout=120)
    node1 = lab.nodes[0]
    touched = ('front-proxy-client.crt', 'front-proxy-client.key')
    saved = tmp_path / 'pki'
    saved.mkdir()
    for name in touched:
        shutil.copy2(os.path.join(node1.pki_dir, name), str(saved / name))
    try:
        now = datetime.datetime.now(datetime.timezone.utc)
        lab_pki.write_pair(node1.pki_dir, 'front-proxy-client',
                           lab_pki.issue(load_pair(node1.pki_dir, 'front-proxy-ca'), 'front-proxy-client', client=True,
                                         not_before=now - datetime.timedelta(days=30),
                                         validity=datetime.timedelta(days=27)))
        expired = play('cert_check', lab)
        assert expired.returncode != 0, describe(expired)
        path = lab.node_path(node1, os.path.join(node1.pki_dir, 'front-proxy-client.crt'))
        assert ('Certificates of %s have expired: renew them with %s. Expired: %s: expired on '
                % (node1.name, renew_command(node1), path)) in expired.output, describe(expired)
        assert NOT_FIT not in expired.output and 'kubeadm init phase certs' not in expired.output, describe(expired)

        # the advice followed as it reads: renewed, and the check passes
        renew_as_advised(lab, node1)
    finally:
        for name in touched:
            shutil.copy2(str(saved / name), os.path.join(node1.pki_dir, name))


def test_a_run_without_become_names_the_key_and_become_not_the_endpoints_or_recover(lab, tmp_path):
    if lab.connection != 'ssh':
        pytest.skip('only over SSH does a lab node log in as a user who is not root (%s)' % LOGIN_USER)
    lab.wait_healthy(timeout=120)
    node1 = lab.nodes[0]
    without_become = {'ansible_become': False}
    key = '/etc/kubernetes/pki/etcd/server.key'
    with open(os.path.join(node1.etcd_pki_dir, 'server.key')) as handle:
        key_text = handle.read()
    expected = ('client key %s (option client_key) is not readable by the remote user %s (uid ' % (key, LOGIN_USER))
    become = 'Run with become (-b, or become: true in the job template)'

    # cluster_info reads etcd through another node when it can: an inventory of node 1 alone reads through it
    with open(lab.inventory_path) as handle:
        data = yaml.safe_load(handle)
    hosts = data['all']['children']['control_plane']['hosts']
    for other in lab.nodes[1:]:
        hosts.pop(other.name)
    alone = tmp_path / 'node1-alone.yml'
    alone.write_text(yaml.safe_dump(data))
    info = play('cluster_info', lab, inventory=str(alone), extra_vars=without_become)
    assert info.returncode != 0, describe(info)
    assert 'Could not read etcd through %s: %s' % (node1.name, expected) in info.output, describe(info)
    assert become in info.output, describe(info)
    for wrong in ('Check that the endpoints', 'kubemaint.control_plane.recover', 'start_node'):
        assert wrong not in info.output, describe(info)

    # stop_node fails at its first etcd call (the maintenance lock), before anything changes
    stop = play('stop_node', lab, limit=node1.name, extra_vars=without_become)
    assert stop.returncode != 0, describe(stop)
    assert expected in stop.output and become in stop.output, describe(stop)
    assert manifests(node1) == COMPONENT_FILES and all(counts['changed'] == 0 for counts in stop.recap.values())

    # cert_check (no etcd involved) names become and the files the user may not read, never "give node_name" (the
    # inventory gives it) nor "not fit for this node"
    certs = play('cert_check', lab, extra_vars=without_become)
    assert certs.returncode != 0 and certs.recap[node1.name]['failed'] == 1, describe(certs)
    assert ('[%s]: FAILED! => {"changed": false, "msg": "cannot check the certificates under /etc/kubernetes: the remote '
            'user %s (uid ' % (node1.name, LOGIN_USER)) in certs.output, describe(certs)
    assert ('/etc/kubernetes/manifests/etcd.yaml' in certs.output and key in certs.output
            and become in certs.output), describe(certs)
    for wrong in (NOT_FIT, 'give node_name', 'pki back'):
        assert wrong not in certs.output, describe(certs)
    assert all(counts['failed'] == 0 for host, counts in certs.recap.items() if host != node1.name), describe(certs)
    for proc in (info, stop, certs):
        assert 'PRIVATE KEY' not in proc.output and key_text.splitlines()[1] not in proc.output
