"""Certificates for tests: CAs, leaf certificates and whole kubeadm-shaped nodes, crafted to order.

Independent of the lab on purpose: tests craft the broken cases (expired, not yet valid,
another CA, mismatched key, DER, garbage, IPv6, letter case) the lab never produces.
"""
import base64
import datetime
import ipaddress
import os

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_MANIFESTS = os.path.join(HERE, 'data', 'kubeadm-node', 'manifests')
REFERENCE_NAME = 'k-kube-lab-01'
REFERENCE_ADDRESS = '10.101.11.240'
DAY = datetime.timedelta(days=1)

_KEYS = {}


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def new_key(key_type='rsa', fresh=False):
    """RSA 2048 or ECDSA P-256; keys are reused per type unless `fresh` (RSA generation is slow)."""
    if not fresh and key_type in _KEYS:
        return _KEYS[key_type]
    key = ec.generate_private_key(ec.SECP256R1()) if key_type == 'ecdsa' else rsa.generate_private_key(65537, 2048)
    if not fresh:
        _KEYS[key_type] = key
    return key


class Pair:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self):
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())


def _name(common_name, organization=None):
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    return x509.Name(attributes + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name='kubernetes', key_type='rsa', not_before=None, days=3650, fresh_key=True):
    key = new_key(key_type, fresh=fresh_key)
    start = not_before or now() - DAY
    subject = _name(common_name)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return Pair(cert, key)


def issue(ca, common_name, organization=None, dns=(), ips=(), key_type='rsa', key=None, not_before=None,
          not_after=None, days=365, server=False):
    key = key or new_key(key_type)
    start = not_before or now() - DAY
    end = not_after or start + datetime.timedelta(days=days)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name, organization)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if dns or ips:
        entries = [x509.DNSName(name) for name in dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    return Pair(builder.sign(ca.key, hashes.SHA256()), key)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)


def write_pair(pki_dir, base, pair):
    write(os.path.join(pki_dir, base + '.crt'), pair.cert_pem)
    write(os.path.join(pki_dir, base + '.key'), pair.key_pem, 0o600)


def kubeconfig_text(user, server, ca_pem, pair=None, cert_path=None, key_path=None):
    if pair is not None:
        entry = {'client-certificate-data': base64.b64encode(pair.cert_pem).decode(),
                 'client-key-data': base64.b64encode(pair.key_pem).decode()}
    else:
        entry = {'client-certificate': cert_path, 'client-key': key_path or cert_path}
    context = '%s@kubernetes' % user
    return yaml.safe_dump({
        'apiVersion': 'v1', 'kind': 'Config', 'preferences': {}, 'current-context': context,
        'clusters': [{'name': 'kubernetes', 'cluster': {
            'certificate-authority-data': base64.b64encode(ca_pem).decode(), 'server': server}}],
        'contexts': [{'name': context, 'context': {'cluster': 'kubernetes', 'user': user}}],
        'users': [{'name': user, 'user': entry}],
    }).encode()


class ClusterCAs:
    def __init__(self, key_type='rsa'):
        self.key_type = key_type
        self.ca = make_ca('kubernetes', key_type)
        self.etcd_ca = make_ca('etcd-ca', key_type)
        self.front_proxy_ca = make_ca('front-proxy-ca', key_type)
        self.sa_key = new_key('rsa', fresh=True)


def apiserver_sans(node_name, address, service_ip='10.96.0.1', dns_domain='cluster.local'):
    return ([node_name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
             'kubernetes.default.svc.' + dns_domain], [service_ip, address])


def etcd_sans(node_name, address):
    return [node_name, 'localhost'], [address, '127.0.0.1', '::1']


def _url_host(address):
    return '[%s]' % address if ':' in address else address


def write_manifests(kubernetes_dir, node_name, address, initial_cluster=None):
    """The reference kubeadm manifests (etcd, kube-apiserver) rewritten for this node."""
    manifests = os.path.join(kubernetes_dir, 'manifests')
    os.makedirs(manifests, exist_ok=True)
    for name in ('etcd.yaml', 'kube-apiserver.yaml'):
        with open(os.path.join(REFERENCE_MANIFESTS, name)) as handle:
            text = handle.read()
        text = text.replace('https://' + REFERENCE_ADDRESS, 'https://' + _url_host(address))
        text = text.replace(REFERENCE_ADDRESS, address).replace(REFERENCE_NAME, node_name)
        if initial_cluster and name == 'etcd.yaml':
            text = text.replace('--initial-cluster=%s=https://%s:2380' % (node_name, _url_host(address)),
                                '--initial-cluster=' + initial_cluster)
        write(os.path.join(manifests, name), text.encode())


def make_node(root, node_name, address, cas=None, key_type=None, kubelet_conf=True, super_admin=True,
              initial_cluster=None, validity_days=365):
    """A kubeadm control-plane node under root/etc/kubernetes; returns its kubernetes_dir."""
    cas = cas or ClusterCAs()
    key_type = key_type or cas.key_type
    kube = os.path.join(root, 'etc', 'kubernetes')
    pki = os.path.join(kube, 'pki')
    etcd = os.path.join(pki, 'etcd')
    write_pair(pki, 'ca', cas.ca)
    write_pair(etcd, 'ca', cas.etcd_ca)
    write_pair(pki, 'front-proxy-ca', cas.front_proxy_ca)
    write(os.path.join(pki, 'sa.key'), cas.sa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()),
        0o600)
    write(os.path.join(pki, 'sa.pub'), cas.sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    days = validity_days
    dns, ips = apiserver_sans(node_name, address)
    write_pair(pki, 'apiserver', issue(cas.ca, 'kube-apiserver', dns=dns, ips=ips, key_type=key_type, days=days,
                                       server=True))
    write_pair(pki, 'apiserver-kubelet-client', issue(cas.ca, 'kube-apiserver-kubelet-client',
                                                      'kubeadm:cluster-admins', key_type=key_type, days=days))
    write_pair(pki, 'apiserver-etcd-client', issue(cas.etcd_ca, 'kube-apiserver-etcd-client', key_type=key_type,
                                                   days=days))
    write_pair(pki, 'front-proxy-client', issue(cas.front_proxy_ca, 'front-proxy-client', key_type=key_type,
                                                days=days))
    dns, ips = etcd_sans(node_name, address)
    write_pair(etcd, 'server', issue(cas.etcd_ca, node_name, dns=dns, ips=ips, key_type=key_type, days=days,
                                     server=True))
    write_pair(etcd, 'peer', issue(cas.etcd_ca, node_name, dns=dns, ips=ips, key_type=key_type, days=days,
                                   server=True))
    write_pair(etcd, 'healthcheck-client', issue(cas.etcd_ca, 'kube-etcd-healthcheck-client', key_type=key_type,
                                                 days=days))
    server = 'https://%s:6443' % _url_host(address)
    confs = [('admin.conf', 'kubernetes-admin'), ('controller-manager.conf', 'system:kube-controller-manager'),
             ('scheduler.conf', 'system:kube-scheduler')]
    if super_admin:
        confs.append(('super-admin.conf', 'kubernetes-super-admin'))
    for filename, user in confs:
        pair = issue(cas.ca, user, key_type=key_type, days=days)
        write(os.path.join(kube, filename), kubeconfig_text(user, server, cas.ca.cert_pem, pair), 0o600)
    if kubelet_conf:
        pair = issue(cas.ca, 'system:node:' + node_name, 'system:nodes', key_type=key_type, days=days)
        write(os.path.join(root, 'var', 'lib', 'kubelet', 'pki', 'kubelet-client-current.pem'),
              pair.cert_pem + pair.key_pem, 0o600)
        write(os.path.join(kube, 'kubelet.conf'), kubeconfig_text(
            'default-auth', server, cas.ca.cert_pem, cert_path='/var/lib/kubelet/pki/kubelet-client-current.pem'),
            0o600)
    write_manifests(kube, node_name, address, initial_cluster)
    return kube


def certificate_fields(cert):
    """What kubeadm decides about a leaf certificate, for field-by-field comparisons: subject, issuer,
    SANs in order, every extension with its value and criticality, key type, signature hash. Validity
    is compared apart: kubeadm backdates not_before by 5 minutes, the lab does not."""
    extensions = {}
    for extension in cert.extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            value = [str(name.value) for name in value]
        elif isinstance(value, x509.ExtendedKeyUsage):
            value = [oid.dotted_string for oid in value]
        elif isinstance(value, x509.AuthorityKeyIdentifier):
            value = value.key_identifier
        extensions[extension.oid.dotted_string] = (extension.critical, value)
    public_key = cert.public_key()
    key = ('RSA', public_key.key_size) if isinstance(public_key, rsa.RSAPublicKey) else ('EC', public_key.curve.name)
    return {
        'subject': cert.subject.rfc4514_string(),
        'issuer': cert.issuer.rfc4514_string(),
        'extensions': extensions,
        'public_key': key,
        'signature_hash': cert.signature_hash_algorithm.name,
        'version': cert.version,
    }
