"""kubeadm's issuing rules in _pki/issue.py: subjects, SANs, usages, validity, selection per mode,
and certificates signed here compared field by field with what the lab's PKI builder issues."""
import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki import issue as pki_issue
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.issue import (
    CERTIFICATE_BACKDATE,
    CERTIFICATE_VALIDITY,
    IssueError,
    certificate_validity,
    check_days,
    issue_certificate,
    kubeadm_subject,
    node_named_by,
    new_key_spec,
    reissue_sans,
    renew_certificate,
    renewal_due,
    san_problems,
    spec_by_name,
    subject_problems,
    usages_of,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import expected_sans
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.replace import replace_kubeconfig_value
from tests import certfactory as cf
from tests.lab import pki as lab_pki

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 3, 10, 8, 0, 0, tzinfo=UTC)
IDENTITY = {'node_name': 'lab-cp-01', 'addresses': ['127.0.1.1'], 'service_cidr': '10.96.0.0/12',
            'dns_domain': 'cluster.local', 'other_nodes': [{'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}]}


# --- subjects ----------------------------------------------------------------------------------

@pytest.mark.parametrize('name, existing, expected', [
    ('etcd-server', ('lab-cp-02', []), ('lab-cp-01', [])),
    ('etcd-peer', None, ('lab-cp-01', [])),
    ('apiserver', None, ('kube-apiserver', [])),
    ('apiserver-kubelet-client', None, ('kube-apiserver-kubelet-client', ['kubeadm:cluster-admins'])),
    # kubeadm before 1.29 put it in system:masters: kept, the group is not this module's business
    ('apiserver-kubelet-client', ('kube-apiserver-kubelet-client', ['system:masters']),
     ('kube-apiserver-kubelet-client', ['system:masters'])),
    ('admin.conf', ('kubernetes-admin', ['system:masters']), ('kubernetes-admin', ['system:masters'])),
    ('admin.conf', ('someone-else', ['x']), ('kubernetes-admin', ['kubeadm:cluster-admins'])),
    ('super-admin.conf', None, ('kubernetes-super-admin', ['system:masters'])),
    ('controller-manager.conf', None, ('system:kube-controller-manager', [])),
    ('scheduler.conf', None, ('system:kube-scheduler', [])),
    ('apiserver-etcd-client', None, ('kube-apiserver-etcd-client', [])),
    ('front-proxy-client', None, ('front-proxy-client', [])),
    ('etcd-healthcheck-client', None, ('kube-etcd-healthcheck-client', [])),
])
def test_kubeadm_subject(name, existing, expected):
    assert kubeadm_subject(spec_by_name(name), 'lab-cp-01', existing) == expected


def test_subject_problems_only_for_node_named_certificates():
    assert subject_problems(spec_by_name('etcd-peer'), 'lab-cp-01', 'lab-cp-02') == [
        'its subject CN=lab-cp-02 is not this node (lab-cp-01)']
    assert subject_problems(spec_by_name('etcd-peer'), 'lab-cp-01', 'LAB-CP-01.') == []
    assert subject_problems(spec_by_name('apiserver'), 'lab-cp-01', 'kube-apiserver') == []


@pytest.mark.parametrize('name, usages, ca, rule', [
    ('apiserver', ('serverAuth',), 'ca', 'apiserver'),
    ('apiserver-kubelet-client', ('clientAuth',), 'ca', None),
    ('apiserver-etcd-client', ('clientAuth',), 'etcd-ca', None),
    ('front-proxy-client', ('clientAuth',), 'front-proxy-ca', None),
    ('etcd-server', ('serverAuth', 'clientAuth'), 'etcd-ca', 'etcd'),
    ('etcd-peer', ('serverAuth', 'clientAuth'), 'etcd-ca', 'etcd'),
    ('etcd-healthcheck-client', ('clientAuth',), 'etcd-ca', None),
    ('admin.conf', ('clientAuth',), 'ca', None),
])
def test_usages_ca_and_san_rule_per_certificate(name, usages, ca, rule):
    spec = spec_by_name(name)
    assert (spec.usages, spec.ca, spec.san_rule) == (usages, ca, rule)


def test_unknown_certificate_name_is_refused():
    with pytest.raises(IssueError, match='unknown certificate'):
        spec_by_name('kubelet.conf')


# --- SANs ----------------------------------------------------------------------------------------

def test_copied_certificate_sans_are_found_and_replaced():
    expected = expected_sans('etcd', IDENTITY)
    copied = {'dns': ['lab-cp-02', 'localhost'], 'ip': ['127.0.1.2', '127.0.0.1', '::1']}
    assert san_problems(copied, expected, IDENTITY['other_nodes'], 'lab-cp-01') == [
        'SANs missing for this node (lab-cp-01): DNS:lab-cp-01, IP:127.0.1.1',
        'SANs of another control-plane node: DNS:lab-cp-02, IP:127.0.1.2']
    assert reissue_sans(expected, copied, IDENTITY['other_nodes']) == {
        'dns': ['lab-cp-01', 'localhost'], 'ip': ['127.0.1.1', '127.0.0.1', '::1']}


def test_reissue_keeps_extra_sans_that_name_no_other_node():
    expected = expected_sans('apiserver', IDENTITY)
    existing = {'dns': ['lab-cp-02', 'kubernetes', 'api.example.com', 'API.EXAMPLE.COM.'],
                'ip': ['10.96.0.1', '127.0.1.2', '192.0.2.10', '0:0::1']}
    sans = reissue_sans(expected, existing, IDENTITY['other_nodes'])
    assert sans['dns'] == ['lab-cp-01', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
                           'kubernetes.default.svc.cluster.local', 'api.example.com']
    assert sans['ip'] == ['10.96.0.1', '127.0.1.1', '192.0.2.10', '::1']
    assert reissue_sans(expected, existing, IDENTITY['other_nodes'], keep_extra=False) == expected


def test_expected_apiserver_sans_follow_service_cidr_domain_and_endpoint():
    identity = dict(IDENTITY, service_cidr='10.100.0.0/16', dns_domain='corp.local')
    sans = expected_sans('apiserver', identity, control_plane_endpoint='lb.example:6443', extra_sans=['10.0.0.9'])
    assert sans['dns'][-2:] == ['kubernetes.default.svc.corp.local', 'lb.example']
    assert sans['ip'] == ['10.100.0.1', '127.0.1.1', '10.0.0.9']


# --- days, renewal selection, validity -----------------------------------------------------------

@pytest.mark.parametrize('value', [-1, float('nan'), float('inf'), 1.5, 36501, 10 ** 12, True, None, '30'])
def test_check_days_refuses_bad_values(value):
    with pytest.raises(IssueError, match='whole number of days'):
        check_days(value)


@pytest.mark.parametrize('value, expected', [(0, 0), (30, 30), (30.0, 30), (36500, 36500)])
def test_check_days_accepts(value, expected):
    assert check_days(value) == expected


@pytest.mark.parametrize('left, days, force, due', [
    (datetime.timedelta(days=10), 30, False, True),
    (datetime.timedelta(days=30, seconds=1), 30, False, False),
    (datetime.timedelta(days=30), 30, False, False),
    (datetime.timedelta(days=29, hours=23), 30, False, True),
    (-datetime.timedelta(days=3), 0, False, True),      # expired: always due
    (datetime.timedelta(seconds=1), 0, False, False),   # days=0: only what has expired
    (datetime.timedelta(days=364), 0, True, True),      # force: kubeadm certs renew all
])
def test_renewal_due(left, days, force, due):
    assert renewal_due(NOW + left, NOW, days, force) is due


def test_validity_is_kubeadms_year_with_backdate():
    start, end = certificate_validity(NOW, NOW - datetime.timedelta(days=100), NOW + datetime.timedelta(days=3000))
    assert start == NOW - CERTIFICATE_BACKDATE and end == NOW + CERTIFICATE_VALIDITY


def test_validity_is_capped_at_the_ca_expiry_and_starts_not_before_the_ca():
    ca_end = NOW + datetime.timedelta(days=40)
    start, end = certificate_validity(NOW, NOW - datetime.timedelta(minutes=1), ca_end)
    assert end == ca_end and start == NOW - datetime.timedelta(minutes=1)


@pytest.mark.parametrize('ca_start, ca_end, message', [
    (NOW - datetime.timedelta(days=10), NOW - datetime.timedelta(seconds=1), 'the CA expired'),
    (NOW + datetime.timedelta(hours=1), NOW + datetime.timedelta(days=10), 'not valid before'),
])
def test_validity_refuses_an_unusable_ca(ca_start, ca_end, message):
    with pytest.raises(IssueError, match=message):
        certificate_validity(NOW, ca_start, ca_end)


# --- key type ------------------------------------------------------------------------------------

def test_new_key_spec_follows_existing_key_then_ca():
    rsa3072 = rsa.generate_private_key(65537, 3072)
    p256 = ec.generate_private_key(ec.SECP256R1())
    assert new_key_spec(rsa3072, p256) == ('rsa', 3072)
    assert new_key_spec(None, p256) == ('ec', 'secp256r1')
    assert new_key_spec(None, None) == ('rsa', 2048)
    assert pki_issue.key_spec(pki_issue.generate_key(('ec', 'secp384r1'))) == ('ec', 'secp384r1')


# --- signed certificates against the lab's PKI builder ------------------------------------------

@pytest.fixture(scope='module', params=['rsa', 'ecdsa'])
def lab_cas(request):
    return lab_pki.ClusterCAs(request.param, pool=lab_pki.KeyPool())


LAB_ISSUED = {
    # name: lab_pki.issue arguments for lab-cp-01 at 127.0.1.1, as write_node_pki makes them
    'apiserver': ('ca', dict(common_name='kube-apiserver', server=True, dns_names=lab_pki.apiserver_sans(
        'lab-cp-01', '127.0.1.1')[0], ip_addresses=lab_pki.apiserver_sans('lab-cp-01', '127.0.1.1')[1])),
    'apiserver-kubelet-client': ('ca', dict(common_name='kube-apiserver-kubelet-client',
                                            organization='kubeadm:cluster-admins', client=True)),
    'apiserver-etcd-client': ('etcd_ca', dict(common_name='kube-apiserver-etcd-client', client=True)),
    'front-proxy-client': ('front_proxy_ca', dict(common_name='front-proxy-client', client=True)),
    'etcd-server': ('etcd_ca', dict(common_name='lab-cp-01', server=True, client=True,
                                    dns_names=lab_pki.etcd_sans('lab-cp-01', '127.0.1.1')[0],
                                    ip_addresses=lab_pki.etcd_sans('lab-cp-01', '127.0.1.1')[1])),
    'etcd-healthcheck-client': ('etcd_ca', dict(common_name='kube-etcd-healthcheck-client', client=True)),
    'admin.conf': ('ca', dict(common_name='kubernetes-admin', organization='kubeadm:cluster-admins', client=True)),
    'super-admin.conf': ('ca', dict(common_name='kubernetes-super-admin', organization='system:masters',
                                    client=True)),
    'scheduler.conf': ('ca', dict(common_name='system:kube-scheduler', client=True)),
}


@pytest.mark.parametrize('name', sorted(LAB_ISSUED))
def test_issued_certificate_matches_the_lab_field_by_field(lab_cas, name):
    ca_attr, arguments = LAB_ISSUED[name]
    ca = getattr(lab_cas, ca_attr)
    lab_cert = lab_pki.issue(ca, key_type=lab_cas.key_type, pool=lab_cas.pool, **arguments).cert
    spec = spec_by_name(name)
    common_name, organizations = kubeadm_subject(spec, 'lab-cp-01')
    sans = expected_sans(spec.san_rule, IDENTITY) if spec.san_rule else None
    now = datetime.datetime.now(UTC)
    start, end = certificate_validity(now, lab_pki._now() - datetime.timedelta(days=1),
                                      now + datetime.timedelta(days=3650))
    key = pki_issue.generate_key(new_key_spec(None, ca.key))
    ours = issue_certificate(ca.cert, ca.key, key.public_key(), common_name, organizations, spec.usages, sans,
                             start, end)
    assert cf.certificate_fields(ours) == cf.certificate_fields(lab_cert)
    assert (ours.not_valid_after_utc - ours.not_valid_before_utc - CERTIFICATE_BACKDATE
            == lab_cert.not_valid_after_utc - lab_cert.not_valid_before_utc == CERTIFICATE_VALIDITY)
    assert ours.serial_number != lab_cert.serial_number
    ours.verify_directly_issued_by(ca.cert)


def test_renewal_keeps_subject_sans_usages_and_key(lab_cas):
    old = lab_pki.issue(lab_cas.etcd_ca, 'lab-cp-01', server=True, client=True, dns_names=['lab-cp-01', 'x.example'],
                        ip_addresses=['127.0.1.1'], key_type=lab_cas.key_type, pool=lab_cas.pool,
                        validity=datetime.timedelta(days=5))
    now = datetime.datetime.now(UTC)
    start, end = certificate_validity(now, old.cert.not_valid_before_utc - datetime.timedelta(days=1),
                                      now + datetime.timedelta(days=3650))
    new = renew_certificate(old.cert, lab_cas.etcd_ca.cert, lab_cas.etcd_ca.key, old.key.public_key(), start, end)
    assert cf.certificate_fields(new) == cf.certificate_fields(old.cert)
    assert new.public_key().public_numbers() == old.key.public_key().public_numbers()
    assert new.serial_number != old.cert.serial_number and new.not_valid_after_utc > old.cert.not_valid_after_utc
    assert usages_of(new) == {'key_usage': ['digital_signature', 'key_encipherment'],
                              'extended_key_usage': ['serverAuth', 'clientAuth']}


# --- kubeconfig rewriting ------------------------------------------------------------------------

KUBECONFIG = (
    'apiVersion: v1\n'
    'clusters:\n'
    '- cluster:\n'
    '    certificate-authority-data: Q0E=\n'
    '    server: https://127.0.1.1:6443\n'
    '  name: kubernetes\n'
    '# a comment kept as it is\n'
    'users:\n'
    '- name: kubernetes-admin\n'
    '  user:\n'
    '    client-certificate-data: T0xEQ0VSVA==\n'
    "    client-key-data: 'T0xES0VZ'\n"
)


def test_kubeconfig_rewrite_changes_only_the_value():
    text = replace_kubeconfig_value(KUBECONFIG, 'client-certificate-data', 'T0xEQ0VSVA==', 'TkVX')
    text = replace_kubeconfig_value(text, 'client-key-data', 'T0xES0VZ', 'TkVXS0VZ')
    assert text == KUBECONFIG.replace('T0xEQ0VSVA==', 'TkVX').replace('T0xES0VZ', 'TkVXS0VZ')


@pytest.mark.parametrize('text', [
    KUBECONFIG + '- name: copy\n  user:\n    client-certificate-data: T0xEQ0VSVA==\n',   # twice
    KUBECONFIG.replace('client-certificate-data: T0xEQ0VSVA==', 'client-certificate-data: >-\n      T0xEQ0VSVA=='),
])
def test_kubeconfig_rewrite_refuses_what_it_cannot_do_exactly(text):
    with pytest.raises(IssueError, match='not on one line'):
        replace_kubeconfig_value(text, 'client-certificate-data', 'T0xEQ0VSVA==', 'TkVX')


@pytest.mark.parametrize('common_name, sans, expected', [
    ('lab-cp-02', {'dns': ['lab-cp-02', 'localhost'], 'ip': ['127.0.1.2', '127.0.0.1', '::1']},
     {'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}),
    ('LAB-CP-01', {'dns': ['lab-cp-01'], 'ip': ['127.0.1.1']}, None),
    ('lab-cp-03', {'dns': [], 'ip': ['127.0.1.1', '::1', '0:0::1']}, {'name': 'lab-cp-03', 'addresses': []}),
    (None, {'dns': [], 'ip': ['127.0.1.9']}, None),
])
def test_node_named_by_an_etcd_certificate(common_name, sans, expected):
    assert node_named_by(common_name, sans, 'lab-cp-01', ['127.0.1.1']) == expected
