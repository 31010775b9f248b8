"""Reading a private key's public half: the DER reader for cryptography before 39, and load_private_key's choice."""
import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki import load
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.load import (
    CertFileError,
    load_private_key,
    rsa_public_half,
    same_public_key,
)

PKCS1 = serialization.PrivateFormat.TraditionalOpenSSL
PKCS8 = serialization.PrivateFormat.PKCS8


@pytest.fixture(scope='module')
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key, private_format):
    return key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())


def label_of(data):
    return re.search(br'-----BEGIN ([A-Z ]+)-----', data).group(1)


def reencode(data, der):
    """The same PEM armour around other DER bytes."""
    label = label_of(data)
    body = base64.encodebytes(der).replace(b'\n', b'')
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return b'\n'.join([b'-----BEGIN ' + label + b'-----'] + lines + [b'-----END ' + label + b'-----']) + b'\n'


def der_of(data):
    return base64.b64decode(b''.join(data.strip().splitlines()[1:-1]))


@pytest.mark.parametrize('private_format', [PKCS1, PKCS8], ids=['pkcs1', 'pkcs8'])
def test_the_public_half_of_an_rsa_key_is_its_own(rsa_key, private_format):
    data = pem(rsa_key, private_format)
    half = rsa_public_half(label_of(data), data)
    assert same_public_key(half.public_key(), rsa_key.public_key())


def test_another_keys_public_half_differs(rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = pem(other, PKCS1)
    assert not same_public_key(rsa_public_half(label_of(data), data).public_key(), rsa_key.public_key())


@pytest.mark.parametrize('private_format', [PKCS1, PKCS8], ids=['sec1', 'pkcs8'])
def test_an_ec_key_is_left_to_the_full_load(private_format):
    data = pem(ec.generate_private_key(ec.SECP256R1()), private_format)
    assert rsa_public_half(label_of(data), data) is None


@pytest.mark.parametrize('damage', ['truncated', 'trailing', 'eight_fields', 'negative_modulus', 'not_base64'])
def test_a_damaged_rsa_key_does_not_parse_and_says_so_without_key_bytes(rsa_key, damage):
    data = pem(rsa_key, PKCS1)
    der = der_of(data)
    if damage == 'truncated':
        bad = reencode(data, der[:-10])
    elif damage == 'trailing':
        bad = reencode(data, der + b'\x02\x01\x00')
    elif damage == 'eight_fields':
        inner = der[4:]  # the SEQUENCE of a 2048-bit key has a two-byte long-form length
        last = inner.rfind(b'\x02\x81')  # the last field (qInv, about 128 bytes)
        body = inner[:last]
        bad = reencode(data, b'\x30\x82' + len(body).to_bytes(2, 'big') + body)
    elif damage == 'negative_modulus':
        # the modulus INTEGER starts after the SEQUENCE header (4 bytes) and the version (3 bytes): 02 82 01 01 00 ...
        assert der[7:12] == b'\x02\x82\x01\x01\x00'
        bad = reencode(data, der[:11] + b'\x80' + der[12:])
    else:
        bad = data.replace(data.splitlines()[1], b'!!!!' + data.splitlines()[1][4:])
    with pytest.raises(CertFileError) as caught:
        rsa_public_half(label_of(bad), bad)
    message = str(caught.value)
    assert message.startswith('holds a private key that does not parse')
    assert data.splitlines()[2].decode() not in message


def test_before_cryptography_39_an_rsa_key_is_not_checked_in_full_for_its_public_half(monkeypatch, rsa_key):
    """cryptography 38 refuses the skip parameter; then the public half comes from the DER reader, and a key that
    signs or is written (public_half_only false) still gets the full load."""
    real = serialization.load_pem_private_key
    full_loads = []

    def old_cryptography(data, password, backend=None, **kwargs):
        if kwargs:
            raise TypeError("load_pem_private_key() got an unexpected keyword argument 'unsafe_skip_rsa_key_validation'")
        full_loads.append(data)
        return real(data, password)

    monkeypatch.setattr(load.serialization, 'load_pem_private_key', old_cryptography)
    data = pem(rsa_key, PKCS1)
    half = load_private_key(data, public_half_only=True)
    assert isinstance(half, load.RsaPublicHalf)
    assert same_public_key(half.public_key(), rsa_key.public_key())
    assert full_loads == []

    whole = load_private_key(data)
    assert isinstance(whole, rsa.RSAPrivateKey)
    assert len(full_loads) == 1

    ec_data = pem(ec.generate_private_key(ec.SECP256R1()), PKCS8)
    assert isinstance(load_private_key(ec_data, public_half_only=True), ec.EllipticCurvePrivateKey)
    assert len(full_loads) == 2
