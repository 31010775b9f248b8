"""The lab's PKI, made the way kubeadm makes it.

One CA set per cluster (cluster CA, etcd CA, front-proxy CA, service-account key pair), shared by
every node as kubeadm shares it (`kubeadm join --control-plane` copies the CAs, then every node
signs its own serving and client certificates). Per node: the serving and client certificates
with kubeadm's subjects, key usages and Subject Alternative Names, and the kubeconfig files
with their client certificates embedded.
"""
import base64
import datetime
import ipaddress
import os
import tempfile

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(days=3650)
CERT_VALIDITY = datetime.timedelta(days=365)
SERVICE_CIDR_FIRST_IP = '10.96.0.1'
DNS_DOMAIN = 'cluster.local'
ADMINS_GROUP = 'kubeadm:cluster-admins'


class KeyPool:
    """RSA keys generated once per machine and drawn without repetition within one lab.

    Generating RSA 2048 keys is most of the time a lab takes to come up (about 60 keys for five
    nodes). Keys are private to one lab only in the sense that matters to the tests: no two
    certificates of one lab share a key. Set KUBEMAINT_LAB_FRESH_KEYS=1 to generate every key anew.
    """

    def __init__(self, directory=None):
        self.directory = directory or os.path.join(tempfile.gettempdir(), 'kubemaint-lab-keys-%d' % os.getuid())
        self.next_index = 0
        self.fresh = os.environ.get('KUBEMAINT_LAB_FRESH_KEYS') == '1'

    def rsa_key(self):
        if self.fresh:
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        path = os.path.join(self.directory, 'rsa-%04d.pem' % self.next_index)
        self.next_index += 1
        try:
            with open(path, 'rb') as handle:
                return serialization.load_pem_private_key(handle.read(), password=None)
        except (OSError, ValueError):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            tmp = '%s.%d.tmp' % (path, os.getpid())
            _write(tmp, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()), 0o600)
            os.replace(tmp, path)
            return key


_POOL = None


def new_key(key_type='rsa', pool=None):
    if key_type == 'ecdsa':
        return ec.generate_private_key(ec.SECP256R1())
    if pool is not None:
        return pool.rsa_key()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _name(common_name, organization=None):
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _sans(dns_names=(), ip_addresses=()):
    entries = [x509.DNSName(name) for name in dns_names]
    entries += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    return x509.SubjectAlternativeName(entries)


class CertKey:
    """A certificate with its private key."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self):
        # kubeadm writes RSA keys as PKCS#1 ("RSA PRIVATE KEY") and EC keys as SEC1 ("EC PRIVATE KEY").
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())


def make_ca(common_name, key_type='rsa', not_before=None, validity=CA_VALIDITY, pool=None):
    key = new_key(key_type, pool)
    start = not_before or _now()
    subject = _name(common_name)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + validity)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                            content_commitment=False, data_encipherment=False, key_agreement=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(_sans([common_name]), critical=False))
    return CertKey(builder.sign(key, hashes.SHA256()), key)


def issue(ca, common_name, organization=None, server=False, client=False, dns_names=(), ip_addresses=(),
          key_type='rsa', not_before=None, validity=CERT_VALIDITY, key=None, pool=None):
    """Sign a leaf certificate with `ca` the way kubeadm's certs phase does."""
    key = key or new_key(key_type, pool)
    start = not_before or _now()
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name, organization)).issuer_name(ca.cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + validity)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=False,
                                            content_commitment=False, data_encipherment=False, key_agreement=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False))
    if dns_names or ip_addresses:
        builder = builder.add_extension(_sans(dns_names, ip_addresses), critical=False)
    return CertKey(builder.sign(ca.key, hashes.SHA256()), key)


def _write(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)


def write_pair(directory, base, pair):
    """base.crt (0644) and base.key (0600), as kubeadm writes them."""
    _write(os.path.join(directory, base + '.crt'), pair.cert_pem(), 0o644)
    _write(os.path.join(directory, base + '.key'), pair.key_pem(), 0o600)


class ClusterCAs:
    """The CA set every node of one cluster shares."""

    def __init__(self, key_type='rsa', pool=None):
        self.key_type = key_type
        self.pool = pool
        self.ca = make_ca('kubernetes', key_type, pool=pool)
        self.etcd_ca = make_ca('etcd-ca', key_type, pool=pool)
        self.front_proxy_ca = make_ca('front-proxy-ca', key_type, pool=pool)
        self.sa_key = new_key('rsa', pool)


def apiserver_sans(node_name, address, dns_domain=DNS_DOMAIN, service_ip=SERVICE_CIDR_FIRST_IP):
    """kubeadm's SANs for apiserver.crt: (dns names, ip addresses)."""
    dns = [node_name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
           'kubernetes.default.svc.' + dns_domain]
    return dns, [service_ip, address]


def etcd_sans(node_name, address):
    """kubeadm's SANs for etcd/server.crt and etcd/peer.crt: (dns names, ip addresses)."""
    return [node_name, 'localhost'], [address, '127.0.0.1', '::1']


def kubeconfig(cluster_name, server, ca_pem, user, pair=None, client_cert_path=None):
    """A kubeconfig as kubeadm writes it: embedded client cert/key, or a path (kubelet.conf)."""
    if pair is not None:
        user_entry = {'client-certificate-data': base64.b64encode(pair.cert_pem()).decode(),
                      'client-key-data': base64.b64encode(pair.key_pem()).decode()}
    else:
        user_entry = {'client-certificate': client_cert_path, 'client-key': client_cert_path}
    context = '%s@%s' % (user, cluster_name)
    return {
        'apiVersion': 'v1',
        'clusters': [{'cluster': {'certificate-authority-data': base64.b64encode(ca_pem).decode(), 'server': server},
                      'name': cluster_name}],
        'contexts': [{'context': {'cluster': cluster_name, 'user': user}, 'name': context}],
        'current-context': context,
        'kind': 'Config',
        'preferences': {},
        'users': [{'name': user, 'user': user_entry}],
    }


def write_node_pki(cas, node_root, node_name, address, key_type=None):
    """Write /etc/kubernetes/{pki,*.conf} and the kubelet client cert for one node under node_root."""
    key_type = key_type or cas.key_type
    pool = cas.pool
    kube = os.path.join(node_root, 'etc', 'kubernetes')
    pki = os.path.join(kube, 'pki')
    etcd = os.path.join(pki, 'etcd')
    for directory in (kube, pki, etcd):
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)

    write_pair(pki, 'ca', cas.ca)
    write_pair(etcd, 'ca', cas.etcd_ca)
    write_pair(pki, 'front-proxy-ca', cas.front_proxy_ca)
    _write(os.path.join(pki, 'sa.key'),
           cas.sa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()), 0o600)
    _write(os.path.join(pki, 'sa.pub'),
           cas.sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)

    dns, ips = apiserver_sans(node_name, address)
    write_pair(pki, 'apiserver', issue(cas.ca, 'kube-apiserver', server=True, dns_names=dns, ip_addresses=ips,
                                       key_type=key_type, pool=pool))
    write_pair(pki, 'apiserver-kubelet-client',
               issue(cas.ca, 'kube-apiserver-kubelet-client', ADMINS_GROUP, client=True, key_type=key_type, pool=pool))
    write_pair(pki, 'apiserver-etcd-client',
               issue(cas.etcd_ca, 'kube-apiserver-etcd-client', client=True, key_type=key_type, pool=pool))
    write_pair(pki, 'front-proxy-client',
               issue(cas.front_proxy_ca, 'front-proxy-client', client=True, key_type=key_type, pool=pool))
    dns, ips = etcd_sans(node_name, address)
    write_pair(etcd, 'server', issue(cas.etcd_ca, node_name, server=True, client=True, dns_names=dns,
                                     ip_addresses=ips, key_type=key_type, pool=pool))
    write_pair(etcd, 'peer', issue(cas.etcd_ca, node_name, server=True, client=True, dns_names=dns,
                                   ip_addresses=ips, key_type=key_type, pool=pool))
    write_pair(etcd, 'healthcheck-client',
               issue(cas.etcd_ca, 'kube-etcd-healthcheck-client', client=True, key_type=key_type, pool=pool))

    server = 'https://%s:6443' % address
    ca_pem = cas.ca.cert_pem()
    users = [
        ('admin.conf', 'kubernetes-admin', ADMINS_GROUP),
        ('super-admin.conf', 'kubernetes-super-admin', 'system:masters'),
        ('controller-manager.conf', 'system:kube-controller-manager', None),
        ('scheduler.conf', 'system:kube-scheduler', None),
    ]
    for filename, user, group in users:
        pair = issue(cas.ca, user, group, client=True, key_type=key_type, pool=pool)
        config = kubeconfig('kubernetes', server, ca_pem, user, pair=pair)
        _write(os.path.join(kube, filename), yaml.safe_dump(config, sort_keys=True).encode(), 0o600)

    # kubelet.conf points at the rotated client certificate, as on a node after TLS bootstrap.
    kubelet_pki = os.path.join(node_root, 'var', 'lib', 'kubelet', 'pki')
    os.makedirs(kubelet_pki, exist_ok=True)
    kubelet_pair = issue(cas.ca, 'system:node:' + node_name, 'system:nodes', client=True, key_type=key_type, pool=pool)
    _write(os.path.join(kubelet_pki, 'kubelet-client-current.pem'),
           kubelet_pair.cert_pem() + kubelet_pair.key_pem(), 0o600)
    config = kubeconfig('kubernetes', server, ca_pem, 'system:node:' + node_name,
                        client_cert_path='/var/lib/kubelet/pki/kubelet-client-current.pem')
    config['users'][0]['name'] = 'default-auth'
    config['contexts'][0]['context']['user'] = 'default-auth'
    _write(os.path.join(kube, 'kubelet.conf'), yaml.safe_dump(config, sort_keys=True).encode(), 0o600)
