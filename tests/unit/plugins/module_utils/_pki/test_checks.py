"""cert_san_check's logic on crafted certificates and kubeadm-shaped nodes written by tests/certfactory."""
import base64
import datetime
import json
import os
import shutil

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki import dep as _cert_dep
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.rules import (
    SanRuleError,
    compare_sans,
    days_left,
    endpoint_host,
    expected_apiserver_sans,
    expected_etcd_sans,
    first_service_ip,
    residual_time,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import (
    IdentityError,
    check_node_certificates,
    identity_conflicts,
    node_identity,
    summary_message,
)
from tests import certfactory as cf

NODE1 = ('lab-cp-01', '127.0.1.1')
NODE2 = ('lab-cp-02', '127.0.1.2')


@pytest.fixture(scope='module')
def cas():
    return cf.ClusterCAs()


@pytest.fixture
def node(tmp_path, cas):
    """A fresh kubeadm node for NODE1: returns its kubernetes_dir."""
    return cf.make_node(str(tmp_path / 'n1'), NODE1[0], NODE1[1], cas)


def run(kube, now=None, min_days_valid=30, **identity_args):
    identity = node_identity(kube, **identity_args)
    return check_node_certificates(kube, identity, min_days_valid=min_days_valid, now=now), identity


def entry(report, name):
    matches = [item for item in report['certificates'] if item['name'] == name]
    assert len(matches) == 1, name
    return matches[0]


def bad(report):
    return {item['name']: item['problems'] for item in report['certificates'] if item['problems']}


# --- a fresh node -------------------------------------------------------------------------------

@pytest.mark.parametrize('key_type', ['rsa', 'ecdsa'])
def test_fresh_node_passes_every_check(tmp_path, key_type):
    kube = cf.make_node(str(tmp_path), NODE1[0], NODE1[1], cf.ClusterCAs(key_type))
    report, identity = run(kube)
    assert identity['node_name'] == 'lab-cp-01' and identity['addresses'] == ['127.0.1.1']
    assert report['ok'], report['problems']
    names = [item['name'] for item in report['certificates']]
    assert names == ['ca', 'etcd-ca', 'front-proxy-ca', 'apiserver', 'apiserver-kubelet-client',
                     'apiserver-etcd-client', 'front-proxy-client', 'etcd-server', 'etcd-peer',
                     'etcd-healthcheck-client', 'admin.conf', 'super-admin.conf', 'controller-manager.conf',
                     'scheduler.conf', 'kubelet.conf', 'sa']
    apiserver = entry(report, 'apiserver')
    assert apiserver['ca'] == 'ca' and apiserver['issuer'] == 'CN=kubernetes' and apiserver['subject'] == 'CN=kube-apiserver'
    assert apiserver['missing_sans'] == {'dns': [], 'ip': []}
    assert apiserver['public_key'] == ('RSA 2048' if key_type == 'rsa' else 'ECDSA secp256r1')
    assert entry(report, 'etcd-peer')['ca'] == 'etcd-ca'
    assert entry(report, 'front-proxy-client')['ca'] == 'front-proxy-ca'
    kubelet = entry(report, 'kubelet.conf')
    assert kubelet['cert_source'].endswith('/var/lib/kubelet/pki/kubelet-client-current.pem')
    assert kubelet['subject'] == 'CN=system:node:lab-cp-01,O=system:nodes'
    assert 'valid for node lab-cp-01' in summary_message(report, identity, kube)


def test_optional_kubeconfigs_may_be_absent_but_required_ones_may_not(tmp_path, cas):
    kube = cf.make_node(str(tmp_path), NODE1[0], NODE1[1], cas, kubelet_conf=False, super_admin=False)
    report, _identity = run(kube)
    assert report['ok'], report['problems']
    assert 'kubelet.conf' not in [item['name'] for item in report['certificates']]
    os.remove(os.path.join(kube, 'scheduler.conf'))
    report, _identity = run(kube)
    assert bad(report) == {'scheduler.conf': ['missing']}


# --- Must show 3: crafted cases ----------------------------------------------------------------

def test_expired_certificate(node, cas):
    start = cf.now() - datetime.timedelta(days=400)
    cf.write_pair(os.path.join(node, 'pki'), 'apiserver-etcd-client',
                  cf.issue(cas.etcd_ca, 'kube-apiserver-etcd-client', not_before=start, days=365))
    report, _identity = run(node)
    item = entry(report, 'apiserver-etcd-client')
    assert item['days_left'] == -35 and item['residual_time'] == '<invalid>'
    assert len(item['problems']) == 1 and item['problems'][0].startswith('expired on ')
    assert not report['ok'] and list(bad(report)) == ['apiserver-etcd-client']


def test_not_yet_valid_certificate(node, cas):
    start = cf.now() + datetime.timedelta(days=2)
    cf.write_pair(os.path.join(node, 'pki'), 'front-proxy-client',
                  cf.issue(cas.front_proxy_ca, 'front-proxy-client', not_before=start))
    report, _identity = run(node)
    assert bad(report) == {'front-proxy-client': ['not valid yet: valid from %s' % start.strftime('%Y-%m-%dT%H:%M:%SZ')]}


def test_expiring_inside_threshold_is_reported_and_threshold_is_respected(node, cas):
    fixed_now = cf.now()
    cf.write_pair(os.path.join(node, 'pki', 'etcd'), 'healthcheck-client',
                  cf.issue(cas.etcd_ca, 'kube-etcd-healthcheck-client',
                           not_after=fixed_now + datetime.timedelta(days=10, hours=5)))
    report, _identity = run(node, now=fixed_now, min_days_valid=30)
    item = entry(report, 'etcd-healthcheck-client')
    assert item['days_left'] == 10 and item['residual_time'] == '10d'
    assert item['problems'] == ['expires in 10 days on %s (less than min_days_valid 30)' % item['not_after']]
    report, _identity = run(node, now=fixed_now, min_days_valid=10)
    assert report['ok'], report['problems']


def test_ca_expiring_inside_threshold_is_reported(tmp_path):
    cas = cf.ClusterCAs()
    cas.front_proxy_ca = cf.make_ca('front-proxy-ca', days=20)
    kube = cf.make_node(str(tmp_path), NODE1[0], NODE1[1], cas)
    report, _identity = run(kube)
    problems = bad(report)
    assert list(problems) == ['front-proxy-ca'] and problems['front-proxy-ca'][0].startswith('expires in 18 days')


def test_signed_by_another_ca_of_the_same_name(node):
    impostor = cf.make_ca('kubernetes')
    pair = cf.issue(impostor, 'kube-apiserver-kubelet-client', 'kubeadm:cluster-admins')
    cf.write_pair(os.path.join(node, 'pki'), 'apiserver-kubelet-client', pair)
    report, _identity = run(node)
    problems = bad(report)
    assert list(problems) == ['apiserver-kubelet-client']
    assert problems['apiserver-kubelet-client'][0].startswith('not signed by ca: its signature does not verify')


def test_signed_by_a_ca_with_another_name(node, cas):
    # etcd's CA signing the front-proxy client: the issuer names the wrong CA.
    cf.write_pair(os.path.join(node, 'pki'), 'front-proxy-client', cf.issue(cas.etcd_ca, 'front-proxy-client'))
    report, _identity = run(node)
    assert bad(report) == {'front-proxy-client': [
        'not signed by front-proxy-ca: issued by CN=etcd-ca, not by its CA CN=front-proxy-ca']}


def test_key_that_does_not_match(node, cas):
    pki = os.path.join(node, 'pki')
    other = cf.new_key('rsa', fresh=True)
    cf.write(os.path.join(pki, 'apiserver.key'), cf.Pair(None, other).key_pem, 0o600)
    report, _identity = run(node)
    assert bad(report) == {'apiserver': [
        'key %s does not match the certificate (its public key differs)' % os.path.join(pki, 'apiserver.key')]}


def test_ecdsa_key_against_rsa_certificate_does_not_match(node):
    pki = os.path.join(node, 'pki', 'etcd')
    cf.write(os.path.join(pki, 'peer.key'), cf.Pair(None, cf.new_key('ecdsa', fresh=True)).key_pem, 0o600)
    report, _identity = run(node)
    assert list(bad(report)) == ['etcd-peer'] and 'does not match' in bad(report)['etcd-peer'][0]


def test_missing_files(node):
    pki = os.path.join(node, 'pki')
    os.remove(os.path.join(pki, 'etcd', 'server.crt'))
    os.remove(os.path.join(pki, 'front-proxy-client.key'))
    report, _identity = run(node)
    assert bad(report) == {'etcd-server': ['missing'],
                           'front-proxy-client': ['key %s is missing' % os.path.join(pki, 'front-proxy-client.key')]}
    assert entry(report, 'etcd-server')['present'] is False
    assert '%s: missing' % os.path.join(pki, 'etcd', 'server.crt') in report['problems']


def test_missing_ca_fails_the_chain_of_its_certificates(node):
    os.remove(os.path.join(node, 'pki', 'front-proxy-ca.crt'))
    report, _identity = run(node)
    assert bad(report) == {'front-proxy-ca': ['missing'],
                           'front-proxy-client': ['cannot verify the chain: its CA front-proxy-ca could not be loaded']}


def test_ca_key_absent_is_external_ca_mode_not_a_problem(node):
    os.remove(os.path.join(node, 'pki', 'ca.key'))
    report, _identity = run(node)
    assert report['ok'], report['problems']
    assert entry(report, 'ca')['key_present'] is False


@pytest.mark.parametrize('content, expected', [
    (b'this is not a certificate\n', 'is not a certificate (neither PEM nor DER)'),
    (b'', 'is empty'),
    (b'-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
     'has a PEM CERTIFICATE block that does not parse'),
    (b'-----BEGIN RSA PRIVATE KEY-----\nxx\n-----END RSA PRIVATE KEY-----\n', 'holds no certificate (found BEGIN RSA PRIVATE KEY)'),
])
def test_garbage_pem(node, content, expected):
    cf.write(os.path.join(node, 'pki', 'apiserver.crt'), content)
    report, _identity = run(node)
    problems = bad(report)
    assert list(problems) == ['apiserver'] and len(problems['apiserver']) == 1
    assert problems['apiserver'][0].startswith(expected)
    assert entry(report, 'apiserver')['missing_sans'] is None


def test_der_file_is_read_and_reported(node, cas):
    pair = cf.issue(cas.ca, 'kube-apiserver-kubelet-client', 'kubeadm:cluster-admins')
    pki = os.path.join(node, 'pki')
    cf.write(os.path.join(pki, 'apiserver-kubelet-client.crt'), pair.cert_der)
    cf.write(os.path.join(pki, 'apiserver-kubelet-client.key'), pair.key_pem, 0o600)
    report, _identity = run(node)
    item = entry(report, 'apiserver-kubelet-client')
    assert item['encoding'] == 'DER' and item['serial'] == '%X' % pair.cert.serial_number
    assert item['subject'] == 'CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins'
    assert bad(report) == {'apiserver-kubelet-client': [
        'is DER-encoded: kubeadm and the control-plane components read PEM only']}


def test_kubeconfig_with_soon_expiring_embedded_cert(node, cas):
    fixed_now = cf.now()
    pair = cf.issue(cas.ca, 'kubernetes-admin', 'kubeadm:cluster-admins',
                    not_after=fixed_now + datetime.timedelta(days=3, hours=1))
    cf.write(os.path.join(node, 'admin.conf'), cf.kubeconfig_text('kubernetes-admin', 'https://127.0.1.1:6443',
                                                                  cas.ca.cert_pem, pair), 0o600)
    report, _identity = run(node, now=fixed_now)
    item = entry(report, 'admin.conf')
    assert item['cert_source'] == 'embedded' and item['key_path'] == 'embedded' and item['user'] == 'kubernetes-admin'
    assert item['days_left'] == 3
    assert bad(report) == {'admin.conf': ['expires in 3 days on %s (less than min_days_valid 30)' % item['not_after']]}


def test_kubeconfig_with_foreign_key_and_garbage(node, cas):
    pair = cf.issue(cas.ca, 'system:kube-scheduler')
    text = yaml.safe_load(cf.kubeconfig_text('system:kube-scheduler', 'https://x:6443', cas.ca.cert_pem, pair))
    text['users'][0]['user']['client-key-data'] = base64.b64encode(
        cf.Pair(None, cf.new_key('ecdsa', fresh=True)).key_pem).decode()
    cf.write(os.path.join(node, 'scheduler.conf'), yaml.safe_dump(text).encode())
    cf.write(os.path.join(node, 'controller-manager.conf'), b'::: not yaml [')
    report, _identity = run(node)
    problems = bad(report)
    assert problems['scheduler.conf'] == ['key client-key-data does not match the certificate (its public key differs)']
    assert problems['controller-manager.conf'][0].startswith('is not a kubeconfig')
    assert set(problems) == {'scheduler.conf', 'controller-manager.conf'}


def test_kubelet_conf_pointing_at_a_missing_file(node):
    root = os.path.dirname(os.path.dirname(node))
    os.remove(os.path.join(root, 'var', 'lib', 'kubelet', 'pki', 'kubelet-client-current.pem'))
    report, _identity = run(node)
    problems = bad(report)
    assert list(problems) == ['kubelet.conf']
    assert problems['kubelet.conf'][0].startswith('points at /var/lib/kubelet/pki/kubelet-client-current.pem (%s'
                                                  % os.path.join(root, 'var', 'lib', 'kubelet', 'pki'))
    assert problems['kubelet.conf'][0].endswith('which is missing')


def test_ipv6_node(tmp_path, cas):
    kube = cf.make_node(str(tmp_path), 'v6-cp-01', 'fd00:10::1', cas)
    report, identity = run(kube)
    assert identity['addresses'] == ['fd00:10::1']
    assert report['ok'], report['problems']
    assert 'fd00:10::1' in entry(report, 'etcd-server')['sans']['ip']
    # the same node named by a non-canonical spelling of its address still passes
    report, _identity = run(kube, advertise_addresses=['fd00:10:0:0:0:0:0:1'])
    assert report['ok'], report['problems']
    # an IPv6 address the certificates lack is reported in canonical form
    report, _identity = run(kube, advertise_addresses=['fd00:10::1', 'FD00:20::0001'])
    assert entry(report, 'etcd-peer')['missing_sans'] == {'dns': [], 'ip': ['fd00:20::1']}
    assert 'SANs missing for this node (v6-cp-01): IP:fd00:20::1' in entry(report, 'apiserver')['problems']


def test_dns_names_in_other_letter_case(node, cas):
    pki = os.path.join(node, 'pki', 'etcd')
    pair = cf.issue(cas.etcd_ca, 'LAB-CP-01', dns=['LAB-CP-01', 'LocalHost', 'Lab-CP-02.'],
                    ips=['127.0.1.1', '127.0.0.1', '::1'], server=True)
    cf.write_pair(pki, 'server', pair)
    report, _identity = run(node, other_nodes=[{'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}])
    item = entry(report, 'etcd-server')
    assert item['missing_sans'] == {'dns': [], 'ip': []}
    assert item['foreign_sans'] == {'dns': ['Lab-CP-02.'], 'ip': []}
    assert list(bad(report)) == ['etcd-server']


# --- scenario 2.3 --------------------------------------------------------------------------------

def test_pki_copied_from_another_node(tmp_path, cas):
    kube1 = cf.make_node(str(tmp_path / 'n1'), NODE1[0], NODE1[1], cas)
    kube2 = cf.make_node(str(tmp_path / 'n2'), NODE2[0], NODE2[1], cas)
    shutil.rmtree(os.path.join(kube1, 'pki'))
    shutil.copytree(os.path.join(kube2, 'pki'), os.path.join(kube1, 'pki'))
    report, _identity = run(kube1, other_nodes=[{'name': NODE2[0], 'addresses': [NODE2[1]]}])
    assert not report['ok']
    assert sorted(bad(report)) == ['apiserver', 'etcd-peer', 'etcd-server']
    for name in ('apiserver', 'etcd-server', 'etcd-peer'):
        item = entry(report, name)
        assert item['missing_sans'] == {'dns': ['lab-cp-01'], 'ip': ['127.0.1.1']}
        assert item['foreign_sans'] == {'dns': ['lab-cp-02'], 'ip': ['127.0.1.2']}
        assert item['problems'][:2] == ['SANs missing for this node (lab-cp-01): DNS:lab-cp-01, IP:127.0.1.1',
                                        'SANs of another control-plane node: DNS:lab-cp-02, IP:127.0.1.2']
        assert 'kubeadm certs renew keeps the old SANs' in item['problems'][2]
    # without other_nodes the missing SANs alone fail the check
    report, _identity = run(kube1)
    assert entry(report, 'apiserver')['foreign_sans'] == {'dns': [], 'ip': []}
    assert sorted(bad(report)) == ['apiserver', 'etcd-peer', 'etcd-server']


def test_other_nodes_come_from_etcd_initial_cluster(tmp_path, cas):
    initial = 'lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380'
    kube1 = cf.make_node(str(tmp_path / 'n1'), NODE1[0], NODE1[1], cas, initial_cluster=initial)
    kube2 = cf.make_node(str(tmp_path / 'n2'), NODE2[0], NODE2[1], cas)
    _report, identity = run(kube1)
    assert identity['other_nodes'] == [{'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}]
    shutil.copy(os.path.join(kube2, 'pki', 'etcd', 'peer.crt'), os.path.join(kube1, 'pki', 'etcd', 'peer.crt'))
    shutil.copy(os.path.join(kube2, 'pki', 'etcd', 'peer.key'), os.path.join(kube1, 'pki', 'etcd', 'peer.key'))
    report, _identity = run(kube1)
    assert entry(report, 'etcd-peer')['foreign_sans'] == {'dns': ['lab-cp-02'], 'ip': ['127.0.1.2']}


# --- identity ------------------------------------------------------------------------------------

def test_identity_from_stash_when_pods_are_stopped(node):
    os.rename(os.path.join(node, 'manifests'), os.path.join(node, 'manifests-stash'))
    report, identity = run(node)
    assert identity['node_name'] == 'lab-cp-01' and identity['addresses'] == ['127.0.1.1']
    assert identity['manifests'][0] == os.path.join(node, 'manifests-stash', 'etcd.yaml')
    assert report['ok']


def test_identity_needs_manifests_or_options(node):
    shutil.rmtree(os.path.join(node, 'manifests'))
    with pytest.raises(IdentityError, match='give node_name'):
        node_identity(node)
    with pytest.raises(IdentityError, match='give advertise_addresses'):
        node_identity(node, node_name='lab-cp-01')
    with pytest.raises(IdentityError, match="'lab-cp-01.example' is not an IP address"):
        node_identity(node, node_name='lab-cp-01', advertise_addresses=['lab-cp-01.example'])
    identity = node_identity(node, node_name='lab-cp-01', advertise_addresses=['127.0.1.1'])
    assert check_node_certificates(node, identity)['ok']


def test_identity_reads_service_cidr_and_dns_domain_from_the_apiserver(node):
    path = os.path.join(node, 'manifests', 'kube-apiserver.yaml')
    with open(path) as handle:
        text = handle.read()
    text = text.replace('10.96.0.0/12', '10.100.0.0/16').replace('svc.cluster.local', 'svc.lab.example')
    cf.write(path, text.encode())
    report, identity = run(node)
    assert identity['service_cidr'] == '10.100.0.0/16' and identity['dns_domain'] == 'lab.example'
    assert entry(report, 'apiserver')['missing_sans'] == {'dns': ['kubernetes.default.svc.lab.example'],
                                                          'ip': ['10.100.0.1']}


def test_this_node_among_other_nodes_is_ignored(node):
    _report, identity = run(node, other_nodes=[{'name': 'LAB-CP-01', 'addresses': ['127.0.1.1']},
                                               {'name': 'lab-cp-02', 'addresses': ['127.0.1.2', '127.0.1.1']}])
    assert identity['other_nodes'] == [{'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}]


# --- service-account keys and encrypted keys -----------------------------------------------------

def test_service_account_keys_must_pair(node):
    other = cf.new_key('rsa', fresh=True).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    cf.write(os.path.join(node, 'pki', 'sa.pub'), other)
    report, _identity = run(node)
    assert bad(report) == {'sa': ['does not match %s: service-account tokens would not verify'
                                  % os.path.join(node, 'pki', 'sa.key')]}


def test_encrypted_key_is_reported_without_trying_passwords(node):
    key = cf.new_key('rsa')
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b'secret'))
    path = os.path.join(node, 'pki', 'apiserver.key')
    cf.write(path, encrypted, 0o600)
    report, _identity = run(node)
    assert bad(report) == {'apiserver': [
        'key %s holds an encrypted private key (kubeadm components need it unencrypted)' % path]}


# --- Must show 5: no private key material in any output ------------------------------------------

def test_no_private_key_material_in_the_report(tmp_path, cas):
    kube1 = cf.make_node(str(tmp_path / 'n1'), NODE1[0], NODE1[1], cas)
    cf.write(os.path.join(kube1, 'pki', 'apiserver.key'), b'-----BEGIN RSA PRIVATE KEY-----\nQUJDREVGR0g=\n'
                                                          b'-----END RSA PRIVATE KEY-----\n', 0o600)
    report, identity = run(kube1)
    text = json.dumps([report, identity, summary_message(report, identity, kube1)])
    assert 'PRIVATE KEY' not in text and 'QUJDREVGR0g' not in text
    secrets = [cas.ca.key_pem, cf.new_key('rsa').private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())]
    for secret in secrets:
        body = b''.join(secret.splitlines()[1:-1]).decode()
        for start in range(0, len(body) - 40, 40):
            assert body[start:start + 40] not in text
    with open(os.path.join(kube1, 'admin.conf')) as handle:
        key_data = yaml.safe_load(handle)['users'][0]['user']['client-key-data']
    assert key_data[:60] not in text and key_data[-60:] not in text
    assert 'holds a private key that does not parse' in entry(report, 'apiserver')['problems'][0]


# --- kubeadm's rules as data ---------------------------------------------------------------------

def test_apiserver_sans_follow_kubeadm():
    sans = expected_apiserver_sans('cp-1', ['10.0.0.5'], '10.96.0.0/12', 'cluster.local', 'lb.example:6443',
                                   ['api.example', '192.0.2.7', 'CP-1'])
    assert sans == {'dns': ['cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
                            'kubernetes.default.svc.cluster.local', 'lb.example', 'api.example'],
                    'ip': ['10.96.0.1', '10.0.0.5', '192.0.2.7']}
    sans = expected_apiserver_sans('cp-1', ['fd00::5'], 'fd00:96::/108,10.96.0.0/12', 'k8s.lan', '[fd00::100]:6443')
    assert sans['ip'] == ['fd00:96::1', 'fd00::5', 'fd00::100']
    assert sans['dns'][-1] == 'kubernetes.default.svc.k8s.lan'


def test_etcd_sans_follow_kubeadm():
    assert expected_etcd_sans('cp-1', ['10.0.0.5']) == {'dns': ['cp-1', 'localhost'],
                                                        'ip': ['10.0.0.5', '127.0.0.1', '::1']}


@pytest.mark.parametrize('endpoint, host', [
    ('lb.example', 'lb.example'), ('lb.example:6443', 'lb.example'), ('https://lb.example:6443', 'lb.example'),
    ('192.0.2.1:6443', '192.0.2.1'), ('[fd00::1]:6443', 'fd00::1'), ('fd00::1', 'fd00::1'),
])
def test_endpoint_host(endpoint, host):
    assert endpoint_host(endpoint) == host


@pytest.mark.parametrize('value', ['not-a-cidr', '10.0.0.1/32'])
def test_bad_service_cidr(value):
    with pytest.raises(SanRuleError):
        first_service_ip(value)


def test_compare_sans_never_calls_an_expected_san_foreign():
    result = compare_sans({'dns': ['lb.example', 'cp-2'], 'ip': ['10.0.0.100']},
                          {'dns': ['lb.example'], 'ip': ['10.0.0.100']},
                          [{'name': 'lb.example', 'addresses': ['10.0.0.100']}, {'name': 'CP-2', 'addresses': []}])
    assert result == {'missing': {'dns': [], 'ip': []}, 'foreign': {'dns': ['cp-2'], 'ip': []}}


NOW = datetime.datetime(2025, 3, 10, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize('delta, days, text', [
    (datetime.timedelta(days=365, minutes=1), 365, '1y'),
    (datetime.timedelta(days=364, hours=23, minutes=59), 364, '364d'),
    (datetime.timedelta(days=360, hours=12), 360, '360d'),
    (datetime.timedelta(days=3650), 3650, '10y'),
    (datetime.timedelta(days=1), 1, '1d'),
    (datetime.timedelta(hours=23, minutes=59, seconds=59, microseconds=999999), 0, '23h'),
    (datetime.timedelta(minutes=59, seconds=59), 0, '59m'),
    (datetime.timedelta(seconds=59, microseconds=900000), 0, '59s'),
    (datetime.timedelta(microseconds=500), 0, '0s'),
    (datetime.timedelta(seconds=-1, microseconds=500000), 0, '0s'),
    (datetime.timedelta(seconds=-2), 0, '<invalid>'),
    (-datetime.timedelta(days=2, hours=12), -2, '<invalid>'),
])
def test_days_left_and_residual_time_round_like_kubeadm(delta, days, text):
    assert days_left(NOW + delta, NOW) == days
    assert residual_time(NOW + delta, NOW) == text


# --- the dependency check ------------------------------------------------------------------------

class FakeModule:
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_missing_cryptography_gives_ansibles_message(monkeypatch):
    monkeypatch.setattr(_cert_dep, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(_cert_dep, 'CRYPTOGRAPHY_IMPORT_ERROR', 'ImportError: no cryptography')
    module = FakeModule()
    with pytest.raises(SystemExit):
        _cert_dep.require_cryptography(module)
    assert module.failed['msg'].startswith('Failed to import the required Python library (cryptography)')
    assert 'to read and verify the certificates' in module.failed['msg']


def test_cryptography_present_passes():
    module = FakeModule()
    _cert_dep.require_cryptography(module)
    assert module.failed is None


@pytest.mark.parametrize('options, message', [
    ({'control_plane_endpoint': 'https://:6443'}, 'control_plane_endpoint'),
    ({'extra_sans': []}, None),
])
def test_bad_options_fail_before_any_check(node, options, message):
    identity = node_identity(node)
    if message is None:
        assert check_node_certificates(node, identity, **options)['ok']
        return
    with pytest.raises(SanRuleError, match=message):
        check_node_certificates(node, identity, **options)
    identity['service_cidr'] = 'bogus'
    with pytest.raises(SanRuleError, match="service_cidr 'bogus' is not a CIDR"):
        check_node_certificates(node, identity)


def test_signed_by_another_ca_with_another_key_type(node):
    impostor = cf.make_ca('etcd-ca', key_type='ecdsa')
    cf.write_pair(os.path.join(node, 'pki', 'etcd'), 'healthcheck-client',
                  cf.issue(impostor, 'kube-etcd-healthcheck-client', key_type='ecdsa'))
    report, _identity = run(node)
    assert bad(report) == {'etcd-healthcheck-client': [
        'not signed by etcd-ca: its signature does not verify with the CA CN=etcd-ca '
        '(issued by another CA of the same name)']}


def test_kubeconfigs_read_without_pyyaml(node, monkeypatch):
    """A node whose Python lacks PyYAML reads kubeconfigs with the subset parser, to the same result."""
    from ansible_collections.kubemaint.control_plane.plugins.module_utils._node import yaml_subset as _yaml_subset
    fixed_now = cf.now()
    with_pyyaml, _identity = run(node, now=fixed_now)
    monkeypatch.setattr(_yaml_subset, 'HAS_PYYAML', False)
    without, _identity = run(node, now=fixed_now)
    assert without == with_pyyaml and without['ok']
    assert entry(without, 'admin.conf')['user'] == 'kubernetes-admin'


# --- issue 21: an identity that belongs to another node is refused ------------------------------

PEERS = [{'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}, {'name': 'lab-cp-03', 'addresses': ['127.0.1.3']}]


@pytest.mark.parametrize('name,addresses,others,words', [
    ('lab-cp-02', ['127.0.1.1'], [], "node_name lab-cp-02 belongs to another node: this node's etcd manifest lists"),
    ('LAB-CP-03', ['127.0.1.1'], [], 'node_name LAB-CP-03 belongs to another node'),
    ('lab-cp-01', ['127.0.1.2'], [], 'address 127.0.1.2 belongs to lab-cp-02, another member of --initial-cluster'),
    ('lab-cp-01', ['127.0.1.1', '127.0.1.3'], [], 'address 127.0.1.3 belongs to lab-cp-03'),
    ('lab-cp-09', ['127.0.1.9'], [{'name': 'lab-cp-09', 'addresses': ['10.0.0.9']}],
     'node_name lab-cp-09 belongs to another node: other_nodes gives lab-cp-09 the addresses 10.0.0.9'),
])
def test_identity_conflicts_refused(name, addresses, others, words):
    problems = identity_conflicts(name, addresses, PEERS, others)
    assert len(problems) == 1 and problems[0].startswith(words), problems


@pytest.mark.parametrize('name,addresses,others', [
    ('lab-cp-01', ['127.0.1.1'], []),
    # this node among all control-plane nodes (an inventory group), and a VIP several nodes share
    ('lab-cp-01', ['127.0.1.1'], [{'name': 'LAB-CP-01', 'addresses': ['127.0.1.1']},
                                  {'name': 'lab-cp-02', 'addresses': ['127.0.1.2', '127.0.1.1']}]),
    ('lab-cp-01', ['127.0.1.1'], [{'name': 'lab-cp-01', 'addresses': []}]),
])
def test_identity_conflicts_none(name, addresses, others):
    assert identity_conflicts(name, addresses, PEERS, others) == []


def test_node_name_of_a_peer_is_refused_by_node_identity(tmp_path, cas):
    initial = 'lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380'
    node = cf.make_node(str(tmp_path / 'n1'), NODE1[0], NODE1[1], cas, initial_cluster=initial)
    with pytest.raises(IdentityError) as caught:
        node_identity(node, node_name=NODE2[0])
    assert 'refusing an identity that belongs to another node' in str(caught.value)
    assert 'node_name %s belongs to another node' % NODE2[0] in str(caught.value)
    with pytest.raises(IdentityError, match='address %s belongs to %s' % (NODE2[1], NODE2[0])):
        node_identity(node, advertise_addresses=[NODE2[1]])
