# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

kubeadm's rules for issuing the certificates of a control-plane node, and the signing itself:
which subject, SANs, key usages, key type and validity each certificate gets from
`kubeadm init phase certs` / `kubeadm init phase kubeconfig`, what `kubeadm certs renew` keeps,
and which certificates a reissue (wrong identity) or a renewal (expiring) replaces.
Nothing here touches the disk; `_pki/replace.py` does.

The rules (kubeadm's certs phase and pkiutil.NewSignedCert):
- every leaf: BasicConstraints CA:FALSE (critical), KeyUsage digitalSignature + keyEncipherment
  (critical), the extended key usages of its kind, AuthorityKeyIdentifier of its CA, a random
  serial, valid from now minus 5 minutes (kubeadm's CertificateBackdate, for clock skew between
  nodes) for one year (CertificateValidityPeriod), never past its CA's own expiry;
- subjects and SANs per certificate as in SPECS; etcd's server and peer certificates are named
  after the node; the kubeconfig users after the component.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import datetime
import ipaddress
import math

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.rules import (
    compare_sans,
    normalize_dns,
    normalize_ip,
    residual_seconds,
)

try:
    from cryptography import x509
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # reported by _pki.dep.require_cryptography before anything here runs
    pass

CERTIFICATE_VALIDITY = datetime.timedelta(days=365)
CERTIFICATE_BACKDATE = datetime.timedelta(minutes=5)
MAX_DAYS = 36500

SERVER_AUTH = 'serverAuth'
CLIENT_AUTH = 'clientAuth'
NODE_NAME = object()  # the common name is the node's name (etcd server and peer)

# Where each CA lives under kubernetes_dir: (certificate, key).
CA_FILES = collections.OrderedDict([
    ('ca', ('pki/ca.crt', 'pki/ca.key')),
    ('etcd-ca', ('pki/etcd/ca.crt', 'pki/etcd/ca.key')),
    ('front-proxy-ca', ('pki/front-proxy-ca.crt', 'pki/front-proxy-ca.key')),
])

Spec = collections.namedtuple('Spec', 'name kind path key_path ca common_name organizations usages san_rule')

SPECS = (
    # kubeadm name, where (under kubernetes_dir), signing CA, subject, extended key usages, SAN rule
    Spec('apiserver', 'pki', 'pki/apiserver.crt', 'pki/apiserver.key', 'ca',
         'kube-apiserver', (), (SERVER_AUTH,), 'apiserver'),
    Spec('apiserver-kubelet-client', 'pki', 'pki/apiserver-kubelet-client.crt', 'pki/apiserver-kubelet-client.key',
         'ca', 'kube-apiserver-kubelet-client', ('kubeadm:cluster-admins',), (CLIENT_AUTH,), None),
    Spec('apiserver-etcd-client', 'pki', 'pki/apiserver-etcd-client.crt', 'pki/apiserver-etcd-client.key',
         'etcd-ca', 'kube-apiserver-etcd-client', (), (CLIENT_AUTH,), None),
    Spec('front-proxy-client', 'pki', 'pki/front-proxy-client.crt', 'pki/front-proxy-client.key',
         'front-proxy-ca', 'front-proxy-client', (), (CLIENT_AUTH,), None),
    Spec('etcd-server', 'pki', 'pki/etcd/server.crt', 'pki/etcd/server.key', 'etcd-ca',
         NODE_NAME, (), (SERVER_AUTH, CLIENT_AUTH), 'etcd'),
    Spec('etcd-peer', 'pki', 'pki/etcd/peer.crt', 'pki/etcd/peer.key', 'etcd-ca',
         NODE_NAME, (), (SERVER_AUTH, CLIENT_AUTH), 'etcd'),
    Spec('etcd-healthcheck-client', 'pki', 'pki/etcd/healthcheck-client.crt', 'pki/etcd/healthcheck-client.key',
         'etcd-ca', 'kube-etcd-healthcheck-client', (), (CLIENT_AUTH,), None),
    Spec('admin.conf', 'kubeconfig', 'admin.conf', None, 'ca',
         'kubernetes-admin', ('kubeadm:cluster-admins',), (CLIENT_AUTH,), None),
    Spec('super-admin.conf', 'kubeconfig', 'super-admin.conf', None, 'ca',
         'kubernetes-super-admin', ('system:masters',), (CLIENT_AUTH,), None),
    Spec('controller-manager.conf', 'kubeconfig', 'controller-manager.conf', None, 'ca',
         'system:kube-controller-manager', (), (CLIENT_AUTH,), None),
    Spec('scheduler.conf', 'kubeconfig', 'scheduler.conf', None, 'ca',
         'system:kube-scheduler', (), (CLIENT_AUTH,), None),
)
SPEC_NAMES = tuple(spec.name for spec in SPECS)
ETCD_MEMBER_CERTIFICATES = ('etcd-server', 'etcd-peer', 'etcd-healthcheck-client')


class IssueError(ValueError):
    """A certificate cannot be issued as asked; the message says which and why (never key bytes)."""


def spec_by_name(name):
    for spec in SPECS:
        if spec.name == name:
            return spec
    raise IssueError('unknown certificate %r (known: %s)' % (name, ', '.join(SPEC_NAMES)))


def check_days(days):
    """`days` as an int in [0, MAX_DAYS]; refuses negative, fractional, NaN, infinite and huge values."""
    if isinstance(days, bool) or days is None:
        raise IssueError('days must be a whole number of days between 0 and %d, got %r' % (MAX_DAYS, days))
    if isinstance(days, float):
        if math.isnan(days) or math.isinf(days) or days != int(days):
            raise IssueError('days must be a whole number of days between 0 and %d, got %r' % (MAX_DAYS, days))
        days = int(days)
    if not isinstance(days, int) or days < 0 or days > MAX_DAYS:
        raise IssueError('days must be a whole number of days between 0 and %d, got %r' % (MAX_DAYS, days))
    return days


def kubeadm_subject(spec, node_name, existing=None):
    """(common name, organizations) kubeadm gives the certificate on this node.

    etcd's server and peer certificates are named after the node. For the others, the subject of
    an existing certificate with kubeadm's common name is kept with its organizations: kubeadm
    before 1.29 put admin.conf and apiserver-kubelet-client in system:masters, and changing the
    group of a credential is not this module's business. `existing` is (common name, [orgs]) or None.
    """
    if spec.common_name is NODE_NAME:
        return node_name, []
    if existing and existing[0] == spec.common_name:
        return spec.common_name, list(existing[1])
    return spec.common_name, list(spec.organizations)


def subject_problems(spec, node_name, common_name):
    """Why the subject names another node (etcd server/peer carry the node name as CN)."""
    if spec.common_name is NODE_NAME and normalize_dns(common_name or '') != normalize_dns(node_name):
        return ['its subject CN=%s is not this node (%s)' % (common_name, node_name)]
    return []


def san_problems(actual, expected, other_nodes, node_name):
    """The reasons a serving certificate does not belong to this node: SANs missing, SANs of another node."""
    comparison = compare_sans(actual, expected, other_nodes)
    problems = []
    missing = ['DNS:%s' % name for name in comparison['missing']['dns']] + [
        'IP:%s' % ip for ip in comparison['missing']['ip']]
    foreign = ['DNS:%s' % name for name in comparison['foreign']['dns']] + [
        'IP:%s' % ip for ip in comparison['foreign']['ip']]
    if missing:
        problems.append('SANs missing for this node (%s): %s' % (node_name, ', '.join(missing)))
    if foreign:
        problems.append('SANs of another control-plane node: %s' % ', '.join(foreign))
    return problems


def node_named_by(common_name, sans, node_name, addresses):
    """The other node an etcd server or peer certificate was issued for, or None when it is this node's.

    kubeadm names those certificates after their node and gives them its addresses, so a copied
    one tells where it came from even when nobody listed that node (the first node's etcd manifest
    names only itself): {'name': CN, 'addresses': its IP SANs other than loopback and this node's}.
    """
    if not common_name or normalize_dns(common_name) == normalize_dns(node_name):
        return None
    own = set(normalize_ip(ip) or ip for ip in addresses)
    loopback = set(['127.0.0.1', '::1'])
    found = []
    for ip in (sans or {}).get('ip', []):
        canonical = normalize_ip(ip) or ip
        if canonical not in own and canonical not in loopback and canonical not in found:
            found.append(canonical)
    return {'name': common_name, 'addresses': found}


def reissue_sans(expected, existing, other_nodes, keep_extra=True):
    """The SANs of a reissued serving certificate: kubeadm's for this node first, then (with
    `keep_extra`) the existing certificate's other SANs unless they name another control-plane
    node: certSANs, a load balancer's name, stay; the copied node's name and address go."""
    dns = list(expected.get('dns', []))
    ips = list(expected.get('ip', []))
    if keep_extra and existing:
        foreign = compare_sans(existing, expected, other_nodes)['foreign']
        foreign_dns = set(normalize_dns(name) for name in foreign['dns'])
        foreign_ips = set(normalize_ip(ip) or ip for ip in foreign['ip'])
        have_dns = set(normalize_dns(name) for name in dns)
        for name in existing.get('dns', []):
            if normalize_dns(name) not in foreign_dns and normalize_dns(name) not in have_dns:
                dns.append(name)
                have_dns.add(normalize_dns(name))
        have_ips = set(normalize_ip(ip) or ip for ip in ips)
        for ip in existing.get('ip', []):
            canonical = normalize_ip(ip) or ip
            if canonical not in foreign_ips and canonical not in have_ips:
                ips.append(canonical)
                have_ips.add(canonical)
    return {'dns': dns, 'ip': ips}


def renewal_due(not_after, now, days, force=False):
    """True when a certificate expiring at `not_after` is renewed: it expires within `days` days
    (already expired counts), or `force` (kubeadm certs renew all)."""
    if force:
        return True
    return residual_seconds(not_after, now) < days * 86400


def certificate_validity(now, ca_not_before, ca_not_after, period=CERTIFICATE_VALIDITY):
    """(not_before, not_after) of a new leaf: kubeadm's backdate and period, inside its CA's validity.

    Raises IssueError when the CA has expired or is not valid yet: a certificate it signs now
    would not verify.
    """
    now = now.replace(microsecond=0)
    if ca_not_after <= now:
        raise IssueError('the CA expired on %s: renew the CA first (kubeadm does not renew CAs)'
                         % ca_not_after.strftime('%Y-%m-%dT%H:%M:%SZ'))
    if ca_not_before > now:
        raise IssueError('the CA is not valid before %s (is the clock of this node right?)'
                         % ca_not_before.strftime('%Y-%m-%dT%H:%M:%SZ'))
    start = max(now - CERTIFICATE_BACKDATE, ca_not_before)
    return start, min(now + period, ca_not_after)


# ---- cryptography ---------------------------------------------------------------------------

def key_spec(key):
    """('rsa', bits) or ('ec', curve name) of a private or public key; None for other kinds."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return ('rsa', key.key_size)
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return ('ec', key.curve.name)
    return None


_CURVES = {'secp256r1': 'SECP256R1', 'secp384r1': 'SECP384R1', 'secp521r1': 'SECP521R1'}


def generate_key(spec):
    """A fresh private key of kind ('rsa', bits) or ('ec', curve)."""
    kind, size = spec
    if kind == 'rsa':
        return rsa.generate_private_key(public_exponent=65537, key_size=int(size), backend=default_backend())
    curve = _CURVES.get(size)
    if curve is None:
        raise IssueError('cannot generate a key on curve %s (kubeadm uses P-256 or P-384)' % size)
    return ec.generate_private_key(getattr(ec, curve)(), default_backend())


def new_key_spec(existing_key, ca_key):
    """The key type of a reissued certificate: as the existing key (RSA size, EC curve), else as its CA's."""
    for key in (existing_key, ca_key):
        spec = key_spec(key) if key is not None else None
        if spec is not None and (spec[0] == 'rsa' or spec[1] in _CURVES):
            return spec
    return ('rsa', 2048)


def private_key_pem(key):
    """PEM as kubeadm writes keys: PKCS#1 for RSA, SEC1 for ECDSA, unencrypted."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def certificate_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def subject_name(common_name, organizations=()):
    """O=... then CN=..., one attribute per RDN, the order Go's crypto/x509 writes them."""
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def name_parts(name):
    """(common name, [organizations]) of an x509.Name."""
    common = [attr.value for attr in name.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [attr.value for attr in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return (common[0] if common else None), orgs


def _hash_for(ca_key):
    if isinstance(ca_key, ec.EllipticCurvePrivateKey):
        return {'secp384r1': hashes.SHA384(), 'secp521r1': hashes.SHA512()}.get(ca_key.curve.name, hashes.SHA256())
    return hashes.SHA256()


def _authority_key_identifier(ca_cert, ca_key):
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())


_EKU = {SERVER_AUTH: 'SERVER_AUTH', CLIENT_AUTH: 'CLIENT_AUTH'}

KUBEADM_KEY_USAGE = dict(digital_signature=True, key_encipherment=True, key_cert_sign=False, content_commitment=False,
                         data_encipherment=False, key_agreement=False, crl_sign=False, encipher_only=False,
                         decipher_only=False)


def _san_extension(sans):
    entries = [x509.DNSName(name) for name in sans.get('dns', [])]
    entries += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in sans.get('ip', [])]
    return x509.SubjectAlternativeName(entries)


def issue_certificate(ca_cert, ca_key, public_key, common_name, organizations, usages, sans, not_before, not_after):
    """A new leaf certificate as kubeadm's certs phase signs it."""
    builder = (x509.CertificateBuilder()
               .subject_name(subject_name(common_name, organizations))
               .issuer_name(ca_cert.subject)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(**KUBEADM_KEY_USAGE), critical=True)
               .add_extension(x509.ExtendedKeyUsage([getattr(ExtendedKeyUsageOID, _EKU[usage]) for usage in usages]),
                              critical=False)
               .add_extension(_authority_key_identifier(ca_cert, ca_key), critical=False))
    if sans and (sans.get('dns') or sans.get('ip')):
        builder = builder.add_extension(_san_extension(sans), critical=False)
    return builder.sign(ca_key, _hash_for(ca_key), default_backend())


# Extensions a renewal carries over from the old certificate, as kubeadm certs renew keeps the
# subject, SANs and usages; the authority key identifier follows the CA that signs now.
_KEPT_EXTENSIONS = ('BasicConstraints', 'KeyUsage', 'ExtendedKeyUsage', 'SubjectAlternativeName')


def renew_certificate(old_cert, ca_cert, ca_key, public_key, not_before, not_after):
    """`old_cert` again with a new serial and validity, signed by the CA on this node, for `public_key`
    (the existing key, as kubeadm certs renew keeps it)."""
    builder = (x509.CertificateBuilder()
               .subject_name(old_cert.subject)
               .issuer_name(ca_cert.subject)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    kept = set()
    for extension in old_cert.extensions:
        kind = extension.value.__class__.__name__
        if kind in _KEPT_EXTENSIONS:
            builder = builder.add_extension(extension.value, critical=extension.critical)
            kept.add(kind)
    if 'BasicConstraints' not in kept:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(_authority_key_identifier(ca_cert, ca_key), critical=False)
    return builder.sign(ca_key, _hash_for(ca_key), default_backend())


def usages_of(cert):
    """{'key_usage': [...], 'extended_key_usage': [...]} by name, for reports and comparisons."""
    result = {'key_usage': [], 'extended_key_usage': []}
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        for name in ('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment',
                     'key_agreement', 'key_cert_sign', 'crl_sign'):
            if getattr(usage, name):
                result['key_usage'].append(name)
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        names = dict((getattr(ExtendedKeyUsageOID, value), key) for key, value in _EKU.items())
        result['extended_key_usage'] = [names.get(oid, oid.dotted_string) for oid in eku]
    except x509.ExtensionNotFound:
        pass
    return result
