# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Reading certificates, private keys and kubeconfig credentials from disk, and the facts one
needs about them: subject, issuer, serial, SANs, validity, whether a key belongs to a
certificate and whether a CA signed it. Needs `cryptography` (checked by `_cert_dep`).

Private keys are loaded only to compare their public half with a certificate: no function
here returns, logs or puts key material into an error message.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import datetime
import os
import re

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    DEFAULT_KUBERNETES_DIR,
    reroot,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.yaml_subset import (
    YamlSubsetError,
    load_yaml,
)

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
except ImportError:  # reported by _cert_dep.require_cryptography before anything here runs
    pass

PEM_CERTIFICATE_RE = re.compile(br'-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----', re.S)
PEM_PRIVATE_KEY_RE = re.compile(br'-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----\s.*?-----END \1-----', re.S)
PEM_ANY_RE = re.compile(br'-----BEGIN [A-Z0-9 ]+-----')
UTC = datetime.timezone.utc if hasattr(datetime, 'timezone') else None


class CertFileError(Exception):
    """A certificate, key or kubeconfig cannot be used; the message says why (never key bytes)."""


def read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            raise CertFileError('missing')
        raise CertFileError('cannot read: %s' % (exc.strerror or exc))


def load_certificate(data):
    """First certificate in `data`; returns (certificate, 'PEM' | 'DER').

    kubeadm and the components read PEM only, so a DER file loads (to report what it is) but
    the caller reports its encoding as a problem.
    """
    match = PEM_CERTIFICATE_RE.search(data)
    if match:
        try:
            return x509.load_pem_x509_certificate(match.group(0), default_backend()), 'PEM'
        except ValueError as exc:
            raise CertFileError('has a PEM CERTIFICATE block that does not parse (%s)' % _reason(exc))
    if data[:1] == b'\x30':
        try:
            return x509.load_der_x509_certificate(data, default_backend()), 'DER'
        except ValueError:
            pass
    if not data.strip():
        raise CertFileError('is empty')
    other = PEM_ANY_RE.search(data)
    if other:
        raise CertFileError('holds no certificate (found %s)' % other.group(0).decode('ascii', 'replace').strip('-'))
    raise CertFileError('is not a certificate (neither PEM nor DER)')


def load_private_key(data, public_half_only=False):
    """First private key in `data` (PEM, unencrypted, as kubeadm writes it).

    With `public_half_only`, an RSA key's costly consistency check (its primes against its modulus,
    about 25 ms a key) is skipped where cryptography allows it (39 and later): for a caller that only
    compares the key's public half with a certificate's. Never for a key that signs or is written.
    """
    match = PEM_PRIVATE_KEY_RE.search(data)
    if not match:
        if not data.strip():
            raise CertFileError('is empty')
        raise CertFileError('holds no PEM private key')
    if match.group(1) == b'ENCRYPTED PRIVATE KEY' or b'Proc-Type: 4,ENCRYPTED' in match.group(0):
        raise CertFileError('holds an encrypted private key (kubeadm components need it unencrypted)')
    try:
        if public_half_only:
            try:
                return serialization.load_pem_private_key(match.group(0), password=None, backend=default_backend(),
                                                          unsafe_skip_rsa_key_validation=True)
            except TypeError:
                # cryptography before 39 (Debian 12, Ubuntu 22.04, RHEL 9 ship it) has no such parameter and
                # checks every RSA key in full: the public half is read from the key's own DER instead.
                half = rsa_public_half(match.group(1), match.group(0))
                if half is not None:
                    return half
        return serialization.load_pem_private_key(match.group(0), password=None, backend=default_backend())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertFileError('holds a private key that does not parse (%s)' % _reason(exc))


class RsaPublicHalf(object):
    """An RSA private key read only as far as its public half: offers public_key() as a loaded key does."""

    def __init__(self, public_key):
        self._public_key = public_key

    def public_key(self):
        return self._public_key


RSA_ENCRYPTION_OID = b'\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01'  # 1.2.840.113549.1.1.1
DER_SEQUENCE, DER_INTEGER, DER_OCTET_STRING = 0x30, 0x02, 0x04


def _der_items(data):
    """The (tag, value) pairs of DER-encoded `data`, each read whole; ValueError when it is not DER."""
    items, pos, octets = [], 0, bytearray(data)
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError('truncated DER')
        tag, length = octets[pos], octets[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7f
            if count < 1 or count > 4 or pos + count > len(data):
                raise ValueError('bad DER length')
            length = int(binascii.hexlify(data[pos:pos + count]), 16)
            pos += count
        if pos + length > len(data):
            raise ValueError('truncated DER')
        items.append((tag, data[pos:pos + length]))
        pos += length
    return items


def _der_integer(value):
    if not value or (bytearray(value)[0] & 0x80):
        raise ValueError('an RSA key field is not a positive INTEGER')
    return int(binascii.hexlify(value), 16)


def rsa_public_half(label, pem):
    """The public half of an unencrypted RSA private key, read from its DER structure alone; None when the key is
    not a two-prime RSA key (an EC key, for one), which the caller then loads in full.

    `label` is the PEM label (C(RSA PRIVATE KEY): PKCS#1; C(PRIVATE KEY): PKCS#8). The whole structure is
    read (nine positive integers, nothing left over), as a load that skips the primes' check reads it; only
    the modulus and the public exponent are kept. Raises CertFileError when the key does not parse.
    """
    try:
        body = base64.b64decode(b''.join(pem.splitlines()[1:-1]), validate=True)
        outer = _der_items(body)
        if len(outer) != 1 or outer[0][0] != DER_SEQUENCE:
            raise ValueError('not one DER SEQUENCE')
        fields = _der_items(outer[0][1])
        if label == b'PRIVATE KEY':
            if (len(fields) < 3 or fields[0] != (DER_INTEGER, b'\x00') or fields[1][0] != DER_SEQUENCE
                    or fields[2][0] != DER_OCTET_STRING):
                raise ValueError('not a PKCS#8 private key')
            if not fields[1][1].startswith(RSA_ENCRYPTION_OID):
                return None
            inner = _der_items(fields[2][1])
            if len(inner) != 1 or inner[0][0] != DER_SEQUENCE:
                raise ValueError('not one DER SEQUENCE')
            fields = _der_items(inner[0][1])
        elif label != b'RSA PRIVATE KEY':
            return None
        if [tag for tag, _value in fields] != [DER_INTEGER] * 9:
            if fields and fields[0] == (DER_INTEGER, b'\x01'):
                return None  # a multi-prime key: the full load reads it
            raise ValueError('not a PKCS#1 RSA private key')
        if fields[0][1] != b'\x00':
            raise ValueError('unknown RSA private key version')
        modulus, exponent = _der_integer(fields[1][1]), _der_integer(fields[2][1])
        return RsaPublicHalf(rsa.RSAPublicNumbers(exponent, modulus).public_key(default_backend()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise CertFileError('holds a private key that does not parse (%s)' % _reason(exc))


def _reason(exc):
    """The exception's first line, short; cryptography's messages carry no key material."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


def _utc(value):
    if value.tzinfo is None and UTC is not None:
        return value.replace(tzinfo=UTC)
    return value


def not_before(cert):
    return _utc(getattr(cert, 'not_valid_before_utc', None) or cert.not_valid_before)


def not_after(cert):
    return _utc(getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after)


def isoformat(value):
    return value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def subject_alternative_names(cert):
    """{'dns': [...], 'ip': [...]} as written in the certificate (empty lists without the extension)."""
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return {'dns': [], 'ip': []}
    return {
        'dns': list(extension.value.get_values_for_type(x509.DNSName)),
        'ip': [str(ip) for ip in extension.value.get_values_for_type(x509.IPAddress)],
    }


def is_ca(cert):
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def certificate_facts(cert):
    return {
        'subject': cert.subject.rfc4514_string(),
        'issuer': cert.issuer.rfc4514_string(),
        'serial': '%X' % cert.serial_number,
        'sans': subject_alternative_names(cert),
        'not_before': isoformat(not_before(cert)),
        'not_after': isoformat(not_after(cert)),
        'is_ca': is_ca(cert),
        'public_key': describe_public_key(cert.public_key()),
    }


def describe_public_key(public_key):
    if isinstance(public_key, rsa.RSAPublicKey):
        return 'RSA %d' % public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return 'ECDSA %s' % public_key.curve.name
    return public_key.__class__.__name__.replace('PublicKey', '').lstrip('_')


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(first, second):
    return _spki(first) == _spki(second)


def key_matches_certificate(private_key, cert):
    """True when the private key is the other half of the certificate's public key (RSA, ECDSA, EdDSA)."""
    return same_public_key(private_key.public_key(), cert.public_key())


def load_public_key(data):
    """A PEM public key (sa.pub)."""
    if b'-----BEGIN PUBLIC KEY-----' not in data and b'-----BEGIN RSA PUBLIC KEY-----' not in data:
        raise CertFileError('is empty' if not data.strip() else 'holds no PEM public key')
    try:
        return serialization.load_pem_public_key(data, backend=default_backend())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertFileError('holds a public key that does not parse (%s)' % _reason(exc))


def signature_check(cert, ca_cert):
    """None when `ca_cert` signed `cert`, else the reason it did not (issuer name or signature)."""
    if cert.issuer != ca_cert.subject:
        return 'issued by %s, not by its CA %s' % (cert.issuer.rfc4514_string(), ca_cert.subject.rfc4514_string())
    verify_directly = getattr(cert, 'verify_directly_issued_by', None)
    try:
        if verify_directly is not None:
            verify_directly(ca_cert)
        else:  # cryptography < 40
            _verify_signature(ca_cert.public_key(), cert)
    except (InvalidSignature, ValueError):
        # ValueError: newer cryptography's verdict when the signature's algorithm is not the CA key's type
        return 'its signature does not verify with the CA %s (issued by another CA of the same name)' % (
            ca_cert.subject.rfc4514_string())
    except (TypeError, UnsupportedAlgorithm) as exc:
        return 'cannot verify its signature with the CA %s: %s' % (ca_cert.subject.rfc4514_string(), _reason(exc))
    return None


def _verify_signature(public_key, cert):
    algorithm = cert.signature_hash_algorithm
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
    else:
        public_key.verify(cert.signature, cert.tbs_certificate_bytes)


def kubeconfig_credentials(path, kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    """The client certificate and key a kubeconfig authenticates with.

    Returns {'user', 'cert_data', 'cert_source', 'key_data', 'key_source'}: the data are bytes
    (PEM as kubeadm writes it) and the sources say 'embedded' or the file read. Uses the user of
    the current context, else the only user.
    """
    raw = read_bytes(path)
    try:
        config = load_yaml(raw.decode('utf-8'))
    except (UnicodeDecodeError, YamlSubsetError) as exc:
        raise CertFileError('is not a kubeconfig (not YAML: %s)' % _reason(exc))
    if not isinstance(config, dict) or not isinstance(config.get('users'), list) or not config['users']:
        raise CertFileError('is not a kubeconfig with users')
    user_name = None
    for context in config.get('contexts') or []:
        if isinstance(context, dict) and context.get('name') == config.get('current-context'):
            user_name = (context.get('context') or {}).get('user')
    users = [item for item in config['users'] if isinstance(item, dict)]
    chosen = [item for item in users if item.get('name') == user_name] or users[:1]
    if not chosen or not isinstance(chosen[0].get('user'), dict):
        raise CertFileError('has no user entry')
    user = chosen[0]['user']
    directory = os.path.dirname(os.path.abspath(path))
    result = {'user': chosen[0].get('name')}
    for what, data_key, file_key in (('cert', 'client-certificate-data', 'client-certificate'),
                                     ('key', 'client-key-data', 'client-key')):
        if user.get(data_key):
            try:
                result[what + '_data'] = base64.b64decode(user[data_key], validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise CertFileError('has %s that is not base64' % data_key)
            result[what + '_source'] = 'embedded'
        elif user.get(file_key):
            source = reroot(user[file_key], kubernetes_dir, relative_to=directory)
            try:
                result[what + '_data'] = read_bytes(source)
            except CertFileError as exc:
                raise CertFileError('points at %s (%s) for its %s, which is %s' % (
                    user[file_key], source, file_key, exc))
            result[what + '_source'] = source
        else:
            raise CertFileError('has no %s or %s for user %s (not a client-certificate kubeconfig)' % (
                data_key, file_key, chosen[0].get('name')))
    return result
