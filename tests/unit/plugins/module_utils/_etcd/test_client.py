import base64
import hashlib
import io
import json
import os
import socket
import ssl
import time

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd import client as client_mod
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    EtcdClient,
    classify_exception,
    member_id_hex,
    member_id_int,
    parse_alarms,
    parse_member_list,
    parse_status,
    run_parallel,
    validate_endpoint,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdClientCertRejected,
    EtcdCompactedError,
    EtcdConnectionError,
    EtcdFutureRevisionError,
    EtcdMalformedURLError,
    EtcdNotEtcdError,
    EtcdRequestError,
    EtcdSnapshotError,
    EtcdTimeoutError,
    EtcdTLSVerifyError,
)

from urllib.error import HTTPError, URLError

# Answers captured from etcd 3.5.1's gateway.
MEMBER_LIST = {
    "header": {"cluster_id": "8925562802991747522", "member_id": "6736739164106612321", "raft_term": "2"},
    "members": [
        {"ID": "6736739164106612321", "name": "n1", "peerURLs": ["https://127.0.9.1:2380"],
         "clientURLs": ["https://127.0.9.1:2379"]},
        {"ID": "15090177972566924686", "peerURLs": ["https://127.0.9.4:2380"], "isLearner": True},
    ]}
STATUS_NO_LEADER = {
    "header": {"cluster_id": "8925562802991747522", "member_id": "6736739164106612321", "revision": "1",
               "raft_term": "3"},
    "version": "3.5.1", "dbSize": "20480", "raftIndex": "11", "raftTerm": "3", "raftAppliedIndex": "11",
    "errors": ["etcdserver: no leader"], "dbSizeInUse": "16384"}


def test_member_list_parsing_ints_hex_and_omitted_zero_values():
    parsed = parse_member_list(MEMBER_LIST)
    assert parsed['cluster_id'] == 8925562802991747522
    first, learner = parsed['members']
    assert member_id_hex(first['id']) == '5d7db493b5095e61'
    assert first['is_learner'] is False and first['name'] == 'n1'
    assert learner['is_learner'] is True
    assert learner['name'] == '' and learner['client_urls'] == []
    assert member_id_hex(learner['id']) == 'd16b14ea34469d8e'


def test_status_without_leader():
    status = parse_status(STATUS_NO_LEADER)
    assert status['leader'] is None
    assert status['errors'] == ['etcdserver: no leader']
    assert (status['db_size'], status['db_size_in_use'], status['raft_applied_index']) == (20480, 16384, 11)
    assert status['revision'] == 1 and status['raft_term'] == 3


def test_alarms_drop_none():
    alarms = parse_alarms({'alarms': [{'memberID': '10', 'alarm': 'NOSPACE'}, {'memberID': '11'}]})
    assert alarms == [{'member_id': 10, 'alarm': 'NOSPACE'}]


@pytest.mark.parametrize('text,value', [('5d7db493b5095e61', 6736739164106612321),
                                        ('6736739164106612321', 6736739164106612321),
                                        ('0x10', 16), (42, 42)])
def test_member_id_forms(text, value):
    assert member_id_int(text) == value


@pytest.mark.parametrize('url,expected', [
    ('https://127.0.1.1:2379', 'https://127.0.1.1:2379'),
    ('https://127.0.1.1:2379/', 'https://127.0.1.1:2379'),
    ('https://etcd.example', 'https://etcd.example:2379'),
    ('https://[::1]:2379', 'https://[::1]:2379'),
])
def test_valid_endpoints(url, expected):
    assert validate_endpoint(url) == expected


@pytest.mark.parametrize('url,words', [
    ('http://127.0.1.1:2379', 'scheme must be https'),
    ('127.0.1.1:2379', 'scheme must be https'),
    ('https://127.0.1.1:99999', 'malformed'),
    ('https://[::1:2379', 'malformed'),
    ('https://127.0.1.1:2379/v3/kv', 'only scheme, host and port'),
    ('https://:2379', 'no host'),
    ('', 'empty'),
])
def test_malformed_endpoints(url, words):
    with pytest.raises(EtcdMalformedURLError) as info:
        validate_endpoint(url)
    assert words in str(info.value)


def _verify_error():
    error = ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: '
                                            'unable to get local issuer certificate')
    error.verify_message = 'unable to get local issuer certificate'
    return error


@pytest.mark.parametrize('exc,cls,words', [
    (URLError(_verify_error()), EtcdTLSVerifyError, 'did not sign the server certificate'),
    (URLError(ssl.SSLError(1, '[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate')),
     EtcdClientCertRejected, 'rejected the client certificate'),
    (URLError(ssl.SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required')),
     EtcdClientCertRejected, 'rejected the client certificate'),
    (URLError(ssl.SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number')), EtcdNotEtcdError,
     'does not speak TLS'),
    (URLError(ConnectionRefusedError(111, 'Connection refused')), EtcdConnectionError, 'connection refused'),
    (URLError(socket.timeout('timed out')), EtcdTimeoutError, 'timeout'),
    # etcd 3.4 closes the handshake without an alert when it refuses the client certificate.
    (URLError(ssl.SSLEOFError(8, 'EOF occurred in violation of protocol (_ssl.c:2427)')), EtcdClientCertRejected,
     'rejected the client certificate'),
    (URLError(TimeoutError('_ssl.c:989: The handshake operation timed out')), EtcdTimeoutError, 'timeout'),
    (HTTPError('https://x/v3/a', 404, 'Not Found', {}, io.BytesIO(b'Not Found\n')), EtcdNotEtcdError,
     'not an etcd client port'),
    (HTTPError('https://x/v3/a', 500, 'err', {},
               io.BytesIO(b'{"error":"etcdserver: not leader","code":9,"message":"etcdserver: not leader"}')),
     EtcdRequestError, 'not leader'),
])
def test_exception_classification(exc, cls, words):
    error = classify_exception(exc, 'https://127.0.1.1:2379')
    assert error.__class__ is cls  # the exact class, not a parent
    assert words in str(error)
    assert 'https://127.0.1.1:2379' in str(error)


class FakeResponse(object):
    def __init__(self, body):
        self._body = io.BytesIO(body)

    def read(self, size=-1):
        return self._body.read(size)


def fake_opener(routes):
    calls = []

    def opener(url, **kwargs):
        calls.append((url, json.loads(kwargs['data'].decode()), kwargs))
        answer = routes[url.split('2379', 1)[1]]
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(answer if isinstance(answer, bytes) else json.dumps(answer).encode())
    opener.calls = calls
    return opener


def test_requests_always_verify_tls_with_client_cert():
    opener = fake_opener({'/v3/maintenance/status': STATUS_NO_LEADER})
    client = EtcdClient('/ca', '/cert', '/key', timeout=2, opener=opener)
    client.status('https://127.0.1.1:2379')
    url, body, kwargs = opener.calls[0]
    assert url == 'https://127.0.1.1:2379/v3/maintenance/status'
    assert kwargs['validate_certs'] is True
    assert (kwargs['ca_path'], kwargs['client_cert'], kwargs['client_key']) == ('/ca', '/cert', '/key')
    assert kwargs['timeout'] == 2 and kwargs['method'] == 'POST'


def test_move_leader_sends_decimal_target():
    opener = fake_opener({'/v3/maintenance/transfer-leadership': {}})
    EtcdClient('/ca', '/c', '/k', opener=opener).move_leader('https://127.0.1.1:2379', '5d7db493b5095e61')
    assert opener.calls[0][1] == {'targetID': '6736739164106612321'}


def test_health_probe_is_linearizable():
    opener = fake_opener({'/v3/kv/range': {'header': {'cluster_id': '1'}}})
    EtcdClient('/ca', '/c', '/k', opener=opener).health_probe('https://127.0.1.1:2379')
    assert opener.calls[0][1]['serializable'] is False


@pytest.mark.parametrize('answer,words', [
    (b'<html>hello</html>', 'not JSON'),
    ({'kind': 'Status'}, 'without an etcd response header'),
    ([1, 2], 'not an object'),
])
def test_not_etcd_answers(answer, words):
    opener = fake_opener({'/v3/maintenance/status': answer})
    with pytest.raises(EtcdNotEtcdError) as info:
        EtcdClient('/ca', '/c', '/k', opener=opener).status('https://127.0.1.1:2379')
    assert words in str(info.value)


def make_db(size=8192):
    data = bytearray(os.urandom(size))
    data[16:20] = client_mod.BOLT_MAGIC
    return bytes(data)


def snapshot_stream(payload, chunk=3000):
    lines = []
    for start in range(0, len(payload), chunk):
        piece = payload[start:start + chunk]
        lines.append(json.dumps({'result': {'blob': base64.b64encode(piece).decode(),
                                            'remainingBytes': str(len(payload) - start - len(piece))}}))
    return ('\n'.join(lines) + '\n').encode()


def test_snapshot_written_verified_0600(tmp_path):
    db = make_db()
    payload = db + hashlib.sha256(db).digest()
    opener = fake_opener({'/v3/maintenance/snapshot': snapshot_stream(payload)})
    dest = str(tmp_path / 'snap.db')
    old = os.umask(0)
    try:
        result = EtcdClient('/ca', '/c', '/k', opener=opener).snapshot('https://127.0.1.1:2379', dest)
    finally:
        os.umask(old)
    with open(dest, 'rb') as handle:
        assert handle.read() == payload
    assert os.stat(dest).st_mode & 0o777 == 0o600
    assert result['size'] == len(payload)
    assert result['embedded_sha256'] == hashlib.sha256(db).hexdigest()
    assert os.listdir(str(tmp_path)) == ['snap.db']


@pytest.mark.parametrize('mangle,words', [
    (lambda db, h: db + h[:-1] + b'x', 'integrity check failed'),
    (lambda db, h: db[:-100] + h, 'integrity check failed'),
    (lambda db, h: b'', 'empty or cut short'),
    (lambda db, h: b'\0' * 20 + db[20:] + hashlib.sha256(b'\0' * 20 + db[20:]).digest(), 'not a bbolt'),
])
def test_bad_snapshot_leaves_nothing(tmp_path, mangle, words):
    db = make_db()
    payload = mangle(db, hashlib.sha256(db).digest())
    opener = fake_opener({'/v3/maintenance/snapshot': snapshot_stream(payload) if payload else b''})
    with pytest.raises(EtcdSnapshotError) as info:
        EtcdClient('/ca', '/c', '/k', opener=opener).snapshot('https://127.0.1.1:2379', str(tmp_path / 's.db'))
    assert words in str(info.value)
    assert os.listdir(str(tmp_path)) == []


def test_snapshot_error_in_stream(tmp_path):
    body = b'{"error":{"grpc_code":8,"message":"snapshot too large"}}\n'
    opener = fake_opener({'/v3/maintenance/snapshot': body})
    with pytest.raises(EtcdRequestError):
        EtcdClient('/ca', '/c', '/k', opener=opener).snapshot('https://127.0.1.1:2379', str(tmp_path / 's.db'))
    assert os.listdir(str(tmp_path)) == []


def test_parallel_calls_cost_one_timeout():
    def slow():
        time.sleep(3)
        return 'late'
    started = time.monotonic()
    results = run_parallel({'a': slow, 'b': slow, 'c': slow, 'd': lambda: 'fast'}, timeout=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert results['d'][0] == 'fast'
    for key in 'abc':
        assert isinstance(results[key][1], EtcdTimeoutError)


@pytest.fixture
def self_signed(tmp_path):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'unit')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / 'unit.crt', tmp_path / 'unit.key'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_black_hole_endpoints_cost_one_timeout_in_parallel(self_signed):
    """Listeners that accept and never answer: the TLS handshake hangs until the timeout."""
    sockets = []
    for _index in range(3):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        sock.listen(8)
        sockets.append(sock)
    try:
        cert, key = self_signed
        client = EtcdClient(cert, cert, key, timeout=1.0)
        client.check_credentials()
        urls = ['https://127.0.0.1:%d' % sock.getsockname()[1] for sock in sockets]
        started = time.monotonic()
        results = run_parallel(dict((url, (lambda u=url: client.status(u))) for url in urls), timeout=3)
        elapsed = time.monotonic() - started
    finally:
        for sock in sockets:
            sock.close()
    assert elapsed < 2.5, elapsed
    for url in urls:
        assert isinstance(results[url][1], EtcdTimeoutError), results[url]


def test_check_credentials_names_the_file(tmp_path):
    missing = str(tmp_path / 'nope.crt')
    with pytest.raises(client_mod.EtcdCertFileError) as info:
        EtcdClient(missing, missing, missing).check_credentials()
    assert missing in str(info.value) and 'ca_cert' in str(info.value)
    junk = tmp_path / 'junk.crt'
    junk.write_text('not a certificate')
    with pytest.raises(client_mod.EtcdCertFileError) as info:
        EtcdClient(str(junk), str(junk), str(junk)).check_credentials()
    assert 'not a PEM certificate' in str(info.value)


def test_a_key_the_remote_user_may_not_read_says_run_with_become(tmp_path, self_signed, monkeypatch):
    """Issue 25: a run without become cannot read kubeadm's etcd key (root's, 0600). The error names the key and
    the user, says to run with become, and carries no key material."""
    cert, key = self_signed
    real_open = open

    def open_as_another_user(path, *args, **kwargs):
        if path == key:
            raise PermissionError(13, 'Permission denied', path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(client_mod, 'open', open_as_another_user, raising=False)
    with pytest.raises(client_mod.EtcdCertFileNotReadable) as info:
        EtcdClient(cert, cert, key).check_credentials()
    message = str(info.value)
    assert info.value.reason == 'cert_file_not_readable' and isinstance(info.value, client_mod.EtcdCertFileError)
    assert message.startswith('client key %s (option client_key) is not readable by the remote user %s: '
                              'Permission denied. ' % (key, client_mod.running_user()))
    assert 'Run with become (-b, or become: true in the job template)' in message
    with real_open(key) as handle:
        assert 'PRIVATE KEY' not in message and handle.read().strip().splitlines()[1] not in message
    # a file that is not there is no matter of become
    missing = str(tmp_path / 'nope.key')
    with pytest.raises(client_mod.EtcdCertFileError) as info:
        EtcdClient(cert, cert, missing).check_credentials()
    assert not isinstance(info.value, client_mod.EtcdCertFileNotReadable) and 'become' not in str(info.value)


def test_check_credentials_key_not_matching(tmp_path, self_signed):
    cert, _key = self_signed
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    other = tmp_path / 'other.key'
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(client_mod.EtcdCertFileError) as info:
        EtcdClient(cert, cert, str(other)).check_credentials()
    assert 'cannot be used together' in str(info.value)
    assert 'PRIVATE KEY' not in str(info.value)


COMPACTED = {'error': 'etcdserver: mvcc: required revision has been compacted', 'code': 11,
             'message': 'etcdserver: mvcc: required revision has been compacted'}
FUTURE = {'error': 'etcdserver: mvcc: required revision is a future revision', 'code': 11,
          'message': 'etcdserver: mvcc: required revision is a future revision'}


def test_compact_sends_a_decimal_revision_and_physical():
    opener = fake_opener({'/v3/kv/compaction': {'header': {'revision': '42'}}})
    header = EtcdClient('/ca', '/c', '/k', opener=opener).compact('https://127.0.1.1:2379', 40)
    assert opener.calls[0][1] == {'revision': '40', 'physical': True} and header['revision'] == 42


@pytest.mark.parametrize('answer,cls', [(COMPACTED, EtcdCompactedError), (FUTURE, EtcdFutureRevisionError)])
def test_compact_names_the_revision_etcd_refused(answer, cls):
    opener = fake_opener({'/v3/kv/compaction': answer})
    with pytest.raises(cls):
        EtcdClient('/ca', '/c', '/k', opener=opener).compact('https://127.0.1.1:2379', 40)


@pytest.mark.parametrize('answer,readable', [({'header': {'revision': '9'}, 'count': '0'}, True), (COMPACTED, False)])
def test_revision_readable(answer, readable):
    opener = fake_opener({'/v3/kv/range': answer})
    assert EtcdClient('/ca', '/c', '/k', opener=opener).revision_readable('https://127.0.1.1:2379', 5) is readable
    assert opener.calls[0][1]['revision'] == '5' and opener.calls[0][1]['countOnly'] is True


def test_defragment_accepts_etcds_empty_answer():
    opener = fake_opener({'/v3/maintenance/defragment': {}})
    EtcdClient('/ca', '/c', '/k', opener=opener).defragment('https://127.0.1.1:2379', timeout=300)
    assert opener.calls[0][2]['timeout'] == 300


def test_alarm_answers_without_header_as_etcd_34_sends_them():
    opener = fake_opener({'/v3/maintenance/alarm': {'alarms': [{'memberID': '10', 'alarm': 'NOSPACE'}]}})
    client = EtcdClient('/ca', '/c', '/k', opener=opener)
    assert client.alarm_list('https://127.0.1.1:2379') == [{'member_id': 10, 'alarm': 'NOSPACE'}]
    assert client.alarm_disarm('https://127.0.1.1:2379', '000000000000000a', 'NOSPACE') == [
        {'member_id': 10, 'alarm': 'NOSPACE'}]
    assert opener.calls[1][1] == {'action': 'DEACTIVATE', 'memberID': '10', 'alarm': 'NOSPACE'}
