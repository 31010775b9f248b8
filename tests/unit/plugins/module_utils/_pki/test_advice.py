"""Issue 25: the advice on a node's certificates fits the problem. A certificate that is valid and this node's but
expires within the threshold names renew_certs for that host; one that is not fit for the node (SANs of another
node, another CA) keeps the "not fit" advice; both at once name both. Checked on kubeadm-shaped nodes written by
tests/certfactory, through cert_san_check's own logic."""
import datetime
import os
import shutil

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.advice import (
    certificate_advice,
    renew_certs_command,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import (
    check_node_certificates,
    node_identity,
)
from tests import certfactory as cf

NODE1 = ('lab-cp-01', '127.0.1.1')
NODE2 = ('lab-cp-02', '127.0.1.2')
RENEW = 'ansible-playbook -b -i <inventory> kubemaint.control_plane.renew_certs --limit cp1'
NOT_FIT = 'are not fit for this node'
REPLACE = "put this node's own pki back, or issue certificates for it (kubeadm init phase certs"


@pytest.fixture(scope='module')
def cas():
    return cf.ClusterCAs()


@pytest.fixture
def node(tmp_path, cas):
    return cf.make_node(str(tmp_path / 'n1'), NODE1[0], NODE1[1], cas)


def check(kube, min_days_valid=30, other_nodes=None):
    """cert_san_check's result as the role registers it (fail_on_problems=false)."""
    identity = node_identity(kube, other_nodes=other_nodes)
    return dict(check_node_certificates(kube, identity, min_days_valid=min_days_valid), identity=identity)


def expiring_front_proxy_client(kube, cas, days=10):
    cf.write_pair(os.path.join(kube, 'pki'), 'front-proxy-client',
                  cf.issue(cas.front_proxy_ca, 'front-proxy-client', not_after=cf.now() + datetime.timedelta(days=days)))


def apiserver_of_another_node(tmp_path, kube, cas):
    other = cf.make_node(str(tmp_path / 'n2'), NODE2[0], NODE2[1], cas)
    for name in ('apiserver.crt', 'apiserver.key'):
        shutil.copy(os.path.join(other, 'pki', name), os.path.join(kube, 'pki', name))


def test_a_certificate_that_only_expires_soon_names_renew_certs_for_the_host(node, cas):
    expiring_front_proxy_client(node, cas)
    result = check(node)
    path = os.path.join(node, 'pki', 'front-proxy-client.crt')
    assert [item['name'] for item in result['expiring']] == ['front-proxy-client'] and result['unfit'] == []
    assert result['expiring'][0]['path'] == path and result['expiring'][0]['problem'] in result['problems']
    advice = certificate_advice(result, 'cp1', min_days_valid=30)
    assert advice['renew'] == result['problems'] and advice['unfit'] == [] and advice['not_renewable'] == []
    message = advice['message']
    assert message.startswith('Certificates of cp1 expire within 30 days: renew them with %s. Expiring: ' % RENEW)
    assert path in message and 'otherwise fit for this node' in message
    assert NOT_FIT not in message and 'kubeadm init phase certs' not in message and 'pki back' not in message


def test_a_threshold_above_renew_certs_default_is_passed_on():
    assert renew_certs_command('cp1', 30) == RENEW
    assert renew_certs_command('cp1', 7) == RENEW  # renew_certs' 30 days cover a check of 7
    assert renew_certs_command('cp1', 60) == RENEW + ' -e renew_certs_days=60'


def test_foreign_sans_keep_the_not_fit_advice_and_name_no_renewal(tmp_path, node, cas):
    apiserver_of_another_node(tmp_path, node, cas)
    result = check(node, other_nodes=[{'name': NODE2[0], 'addresses': [NODE2[1]]}])
    assert result['expiring'] == [] and result['unfit'] == result['problems']
    advice = certificate_advice(result, 'cp1', fix_hint='Run with -e control_plane_node_repair_certificates=true. ')
    message = advice['message']
    assert message.startswith('Certificates of cp1 (node lab-cp-01, addresses 127.0.1.1) %s: ' % NOT_FIT)
    assert 'SANs of another control-plane node: DNS:lab-cp-02' in message and REPLACE in message
    assert message.endswith('then run this again. Run with -e control_plane_node_repair_certificates=true.')
    assert 'renew_certs' not in message


def test_a_certificate_signed_by_another_ca_is_not_fit_even_when_it_also_expires(node):
    impostor = cf.make_ca('front-proxy-ca')
    cf.write_pair(os.path.join(node, 'pki'), 'front-proxy-client',
                  cf.issue(impostor, 'front-proxy-client', not_after=cf.now() + datetime.timedelta(days=10)))
    advice = certificate_advice(check(node), 'cp1')
    assert [problem.split(': ', 1)[1].split(':')[0] for problem in advice['unfit']] == ['not signed by front-proxy-ca']
    assert len(advice['renew']) == 1 and advice['renew'][0].endswith('(less than min_days_valid 30)')
    # not fit first (a new certificate fixes the expiry too), renewal after
    message = advice['message']
    assert message.index(NOT_FIT) < message.index(RENEW)


def test_both_problems_at_once_name_both(tmp_path, node, cas):
    apiserver_of_another_node(tmp_path, node, cas)
    expiring_front_proxy_client(node, cas)
    advice = certificate_advice(check(node, min_days_valid=60), 'cp1', min_days_valid=60,
                                fix_hint='Run with -e control_plane_node_repair_certificates=true.')
    message = advice['message']
    assert NOT_FIT in message and REPLACE in message and 'apiserver.crt' in message
    assert ('Certificates also expire within 60 days (%s): once the above is fixed, renew what still expires with '
            '%s -e renew_certs_days=60.' % (advice['renew'][0], RENEW)) in message
    # the repair hint is about the certificates that are not fit, before the renewal
    assert message.index('repair_certificates') < message.index(RENEW)


def test_an_expiring_ca_is_not_sent_to_renew_certs(tmp_path):
    cas = cf.ClusterCAs()
    cas.front_proxy_ca = cf.make_ca('front-proxy-ca', days=20)
    kube = cf.make_node(str(tmp_path), NODE1[0], NODE1[1], cas)
    result = check(kube)
    assert [item['name'] for item in result['expiring']] == ['front-proxy-ca']
    advice = certificate_advice(result, 'cp1')
    assert advice['renew'] == [] and advice['not_renewable'] == result['problems']
    assert advice['message'].startswith('Certificates of cp1 expire within 30 days, which renew_certs does not renew: ')
    assert 'Manual rotation of CA certificates' in advice['message']
    assert RENEW not in advice['message'] and NOT_FIT not in advice['message']


def test_a_renewable_and_a_ca_expiring_together():
    result = {'identity': {'node_name': 'lab-cp-01', 'addresses': ['127.0.1.1']}, 'unfit': [], 'expiring': [
        {'name': 'apiserver', 'path': '/k/pki/apiserver.crt', 'days_left': 5, 'problem': '/k/pki/apiserver.crt: x'},
        {'name': 'kubelet.conf', 'path': '/k/kubelet.conf', 'days_left': 5, 'problem': '/k/kubelet.conf: y'}]}
    message = certificate_advice(result, 'cp1')['message']
    assert message.startswith('Certificates of cp1 expire within 30 days: renew them with %s. ' % RENEW)
    assert message.endswith('Also expiring, which renew_certs does not renew: /k/kubelet.conf: y (the kubelet renews '
                            'its own client certificate when rotateCertificates is on).')


def test_no_problem_no_message_and_a_failed_check_counts_as_not_fit():
    assert certificate_advice({'problems': [], 'expiring': [], 'unfit': []}, 'cp1')['message'] == ''
    failed = certificate_advice({'failed': True, 'problems': ['cannot tell this node\'s name']}, 'cp1')
    assert failed['unfit'] == ["cannot tell this node's name"] and NOT_FIT in failed['message']


def expired_front_proxy_client(kube, cas, days_ago=3):
    cf.write_pair(os.path.join(kube, 'pki'), 'front-proxy-client',
                  cf.issue(cas.front_proxy_ca, 'front-proxy-client', not_before=cf.now() - datetime.timedelta(days=90),
                           not_after=cf.now() - datetime.timedelta(days=days_ago)))


def test_an_expired_certificate_names_renew_certs_not_the_pki_of_another_node(node, cas):
    expired_front_proxy_client(node, cas)
    result = check(node)
    path = os.path.join(node, 'pki', 'front-proxy-client.crt')
    assert [item['name'] for item in result['expired']] == ['front-proxy-client'] and result['expiring'] == []
    assert result['unfit'] == result['problems'] and result['expired'][0]['problem'] == result['problems'][0]
    assert result['expired'][0]['days_left'] < 0 and result['expired'][0]['path'] == path
    advice = certificate_advice(result, 'cp1', min_days_valid=30)
    assert advice['renew'] == result['problems'] and advice['expired'] == result['problems']
    assert advice['unfit'] == [] and advice['not_renewable'] == []
    message = advice['message']
    assert message.startswith('Certificates of cp1 have expired: renew them with %s. Expired: %s: expired on '
                              % (RENEW, path))
    assert 'otherwise fit for this node' in message
    assert NOT_FIT not in message and 'kubeadm init phase certs' not in message and 'pki back' not in message


def test_expired_and_expiring_together_are_renewed_in_one_run(node, cas):
    expired_front_proxy_client(node, cas)
    cf.write_pair(os.path.join(node, 'pki'), 'apiserver-kubelet-client',
                  cf.issue(cas.ca, 'kube-apiserver-kubelet-client', organization='kubeadm:cluster-admins',
                           not_after=cf.now() + datetime.timedelta(days=10)))
    advice = certificate_advice(check(node), 'cp1')
    assert len(advice['renew']) == 2 and advice['unfit'] == [] and len(advice['expired']) == 1
    assert advice['message'].startswith('Certificates of cp1 have expired or expire within 30 days: renew them with '
                                        '%s. Expired or expiring: ' % RENEW)


def test_an_expired_certificate_that_is_also_unfit_names_both(tmp_path, node, cas):
    apiserver_of_another_node(tmp_path, node, cas)
    expired_front_proxy_client(node, cas)
    result = check(node, other_nodes=[{'name': NODE2[0], 'addresses': [NODE2[1]]}])
    advice = certificate_advice(result, 'cp1', fix_hint='Run with -e control_plane_node_repair_certificates=true.')
    message = advice['message']
    assert all('front-proxy-client' not in line for line in advice['unfit'])
    assert advice['unfit'] and all('apiserver.crt' in line for line in advice['unfit'])
    assert NOT_FIT in message and REPLACE in message
    assert ('Certificates also have expired (%s): once the above is fixed, renew what is still due with %s.'
            % (advice['renew'][0], RENEW)) in message
    assert message.index('repair_certificates') < message.index(RENEW)


def test_an_expired_ca_is_named_as_one_renew_certs_does_not_renew():
    result = {'identity': {}, 'expiring': [], 'unfit': ['/k/pki/ca.crt: expired on 2026-01-01T00:00:00Z'],
              'expired': [{'name': 'ca', 'path': '/k/pki/ca.crt', 'days_left': -300,
                           'problem': '/k/pki/ca.crt: expired on 2026-01-01T00:00:00Z'}]}
    advice = certificate_advice(result, 'cp1')
    assert advice['unfit'] == [] and advice['renew'] == [] and advice['not_renewable'] == result['unfit']
    assert advice['message'].startswith('Certificates of cp1 have expired, which renew_certs does not renew: '
                                        '/k/pki/ca.crt: expired on 2026-01-01T00:00:00Z (a CA: rotate it')
    assert RENEW not in advice['message'] and NOT_FIT not in advice['message']
