# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

A small etcd v3 client over etcd's own gRPC-JSON gateway (served on the client port by
etcd 3.4, 3.5 and 3.6), with nothing beyond the standard library and
`ansible.module_utils.urls.open_url`. TLS is always verified against the given CA and the
client authenticates with a certificate, as etcdctl does on a kubeadm node.

Gateway rules the parsers follow: int64 fields are decimal strings, bytes are base64, zero
values are left out (no `isLearner` means false, no `leader` means none), and every answer
speaks for the member that served it only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import json
import os
import pwd
import socket
import ssl
import tempfile
import threading
import time

from ansible.module_utils.urls import open_url

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdCertFileError,
    EtcdCertFileNotReadable,
    EtcdClientCertRejected,
    EtcdCompactedError,
    EtcdConnectionError,
    EtcdError,
    EtcdFutureRevisionError,
    EtcdMalformedURLError,
    EtcdNotEtcdError,
    EtcdRequestError,
    EtcdSnapshotError,
    EtcdTLSVerifyError,
    EtcdTimeoutError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import (
    fsync_dir,
    sha256_file,
)

DEFAULT_TIMEOUT = 5.0
HEALTH_KEY = b'health'
# bbolt's magic number, little endian, at byte 16 of the first meta page of an etcd db.
BOLT_MAGIC = b'\xed\xda\x0c\xed'
SHA256_SIZE = 32
SNAPSHOT_MODE = 0o600
ALARM_KINDS = ('NOSPACE', 'CORRUPT')
# The messages etcd's mvcc answers with (3.4, 3.5 and 3.6 alike, behind "etcdserver: ").
COMPACTED_MESSAGE = 'required revision has been compacted'
FUTURE_REVISION_MESSAGE = 'required revision is a future revision'


def member_id_hex(value):
    """etcd member/cluster id (int or decimal string) in hex, always 16 digits: etcdctl prints the
    same number without its leading zeros."""
    return '%016x' % int(value)


def member_id_int(value):
    """Accept an id as int, decimal string, or hex string (16 digits as member_id_hex writes it)."""
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.startswith('0x'):
        return int(text[2:], 16)
    if len(text) == 16 or any(char in 'abcdef' for char in text):
        return int(text, 16)
    return int(text)


def _int(value):
    return int(value) if value not in (None, '') else 0


def validate_endpoint(url):
    """Return the endpoint without a trailing slash, or raise EtcdMalformedURLError."""
    if not isinstance(url, str) or not url.strip():
        raise EtcdMalformedURLError('empty etcd endpoint: give a URL such as https://10.0.0.1:2379', url)
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise EtcdMalformedURLError('malformed etcd endpoint %r: %s (expected https://HOST:PORT)' % (text, exc), text)
    if parts.scheme != 'https':
        raise EtcdMalformedURLError(
            'malformed etcd endpoint %r: the scheme must be https (TLS is always used and verified), '
            'e.g. https://10.0.0.1:2379' % text, text)
    if not host:
        raise EtcdMalformedURLError('malformed etcd endpoint %r: no host (expected https://HOST:PORT)' % text, text)
    if parts.path not in ('', '/') or parts.query or parts.fragment or parts.username or parts.password:
        raise EtcdMalformedURLError(
            'malformed etcd endpoint %r: only scheme, host and port are allowed (expected https://HOST:PORT)' % text,
            text)
    if port is None:
        port = 2379
    host_part = '[%s]' % host if ':' in host else host
    return 'https://%s:%d' % (host_part, port)


def parse_header(data):
    header = data.get('header') or {}
    return {
        'cluster_id': _int(header.get('cluster_id')),
        'member_id': _int(header.get('member_id')),
        'revision': _int(header.get('revision')),
        'raft_term': _int(header.get('raft_term')),
    }


def parse_member(data):
    """One member of a MemberList answer. A member added but never started has no name
    and no client URLs yet."""
    return {
        'id': _int(data.get('ID')),
        'name': data.get('name') or '',
        'peer_urls': list(data.get('peerURLs') or []),
        'client_urls': list(data.get('clientURLs') or []),
        'is_learner': bool(data.get('isLearner', False)),
    }


def parse_member_list(data):
    result = parse_header(data)
    result['members'] = [parse_member(member) for member in data.get('members') or []]
    return result


def parse_status(data):
    result = parse_header(data)
    leader = _int(data.get('leader'))
    result.update({
        'version': data.get('version') or '',
        'db_size': _int(data.get('dbSize')),
        'db_size_in_use': _int(data.get('dbSizeInUse')),
        'leader': leader or None,
        'raft_index': _int(data.get('raftIndex')),
        'raft_term': _int(data.get('raftTerm')) or result['raft_term'],
        'raft_applied_index': _int(data.get('raftAppliedIndex')),
        'errors': list(data.get('errors') or []),
        'is_learner': bool(data.get('isLearner', False)),
    })
    return result


def parse_alarms(data):
    """[{'member_id': int, 'alarm': 'NOSPACE'|'CORRUPT'}]; 'NONE' entries are dropped."""
    alarms = []
    for alarm in data.get('alarms') or []:
        kind = alarm.get('alarm') or 'NONE'
        if kind != 'NONE':
            alarms.append({'member_id': _int(alarm.get('memberID')), 'alarm': kind})
    return alarms


def _describe_ssl_error(exc, endpoint):
    """Map an ssl exception (or URLError reason) onto the error classes above."""
    if isinstance(exc, ssl.SSLCertVerificationError) or 'CERTIFICATE_VERIFY_FAILED' in str(exc):
        detail = getattr(exc, 'verify_message', None) or str(exc)
        if 'hostname' in detail.lower() or 'ip address mismatch' in detail.lower():
            return EtcdTLSVerifyError(
                '%s: the server certificate does not name this host (%s): use the address the '
                'certificate was issued for, or fix its SANs' % (endpoint, detail), endpoint)
        return EtcdTLSVerifyError(
            '%s: TLS verification failed (%s): the CA in ca_cert did not sign the server certificate; '
            'use the etcd CA (kubeadm: /etc/kubernetes/pki/etcd/ca.crt)' % (endpoint, detail), endpoint)
    text = str(exc)
    upper = text.upper()
    if 'WRONG_VERSION_NUMBER' in upper or 'UNKNOWN_PROTOCOL' in upper or 'RECORD_LAYER_FAILURE' in upper:
        return EtcdNotEtcdError(
            '%s: the server does not speak TLS (%s): this is not an etcd client port' % (endpoint, text), endpoint)
    if isinstance(exc, ssl.SSLEOFError) or 'EOF OCCURRED IN VIOLATION OF PROTOCOL' in upper:
        # etcd 3.4 (older Go TLS) drops the connection without an alert when it refuses the client
        # certificate; the handshake then ends in an unexpected EOF instead of a "bad certificate" alert.
        return EtcdClientCertRejected(
            '%s: the server closed the connection during the TLS handshake (%s): most likely it rejected the '
            'client certificate; client_cert must be signed by the etcd CA (kubeadm: '
            '/etc/kubernetes/pki/etcd/server.crt or healthcheck-client.crt)' % (endpoint, text), endpoint)
    if 'ALERT' in upper:
        return EtcdClientCertRejected(
            '%s: the server rejected the client certificate (%s): client_cert must be signed by the '
            'etcd CA (kubeadm: /etc/kubernetes/pki/etcd/server.crt or healthcheck-client.crt)' % (endpoint, text),
            endpoint)
    return None


def classify_exception(exc, endpoint):
    """Turn whatever open_url raised into an EtcdError with a message that says what to do."""
    if isinstance(exc, EtcdError):
        return exc
    if isinstance(exc, HTTPError):
        body = b''
        try:
            body = exc.read() or b''
        except Exception:  # pylint: disable=broad-except
            pass
        return classify_http_error(exc.code, body, endpoint)
    reason = exc.reason if isinstance(exc, URLError) else exc
    if isinstance(reason, (socket.timeout, TimeoutError)) or 'timed out' in str(reason):
        return EtcdTimeoutError('%s: no answer within the timeout (%s)' % (endpoint, reason), endpoint)
    if isinstance(reason, ssl.SSLError) or isinstance(reason, ssl.CertificateError):
        mapped = _describe_ssl_error(reason, endpoint)
        if mapped is not None:
            return mapped
        return EtcdConnectionError('%s: TLS error: %s' % (endpoint, reason), endpoint)
    if isinstance(reason, ConnectionRefusedError):
        return EtcdConnectionError('%s: connection refused (etcd not running or not listening there)' % endpoint,
                                   endpoint)
    if isinstance(reason, (ConnectionResetError, BrokenPipeError)):
        return EtcdClientCertRejected(
            '%s: the server closed the connection during TLS (%s): most likely it rejected the client '
            'certificate; client_cert must be signed by the etcd CA' % (endpoint, reason), endpoint)
    if isinstance(reason, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return EtcdCertFileError('cannot read a certificate or key file (%s %s): %s' % (
            reason.filename or '', reason.filename2 or '', reason.strerror or reason), endpoint)
    if isinstance(reason, str) and 'unknown url type' in reason:
        return EtcdMalformedURLError('%s: malformed endpoint (%s)' % (endpoint, reason), endpoint)
    return EtcdConnectionError('%s: cannot connect: %s' % (endpoint, reason), endpoint)


def classify_http_error(code, body, endpoint):
    """etcd's gateway answers errors as JSON {"error", "code", "message"}; anything else is not etcd."""
    try:
        data = json.loads(body.decode('utf-8'))
    except (ValueError, UnicodeDecodeError, AttributeError):
        data = None
    if isinstance(data, dict) and ('code' in data or 'error' in data):
        message = data.get('message') or data.get('error') or ''
        return EtcdRequestError('%s: etcd refused the request: %s' % (endpoint, message), endpoint,
                                code=data.get('code'), etcd_message=message)
    return EtcdNotEtcdError(
        '%s: HTTP %s without etcd gateway JSON: this endpoint is not an etcd client port (or its '
        'gRPC gateway is disabled)' % (endpoint, code), endpoint)


BECOME_ADVICE = 'Run with become (-b, or become: true in the job template): kubeadm keeps these files readable by root only.'


def running_user():
    """Who this process runs as, for a message: 'name (uid N)', or 'uid N' without a name."""
    uid = os.geteuid()
    try:
        return '%s (uid %d)' % (pwd.getpwuid(uid).pw_name, uid)
    except KeyError:
        return 'uid %d' % uid


def check_readable(path, what, option):
    """Raise EtcdCertFileError naming the file when it cannot be read; EtcdCertFileNotReadable, which says to
    run with become, when it exists but the user the module runs as may not read it. Reads one byte, never more."""
    if not path:
        raise EtcdCertFileError('%s: no file given (option %s)' % (what, option))
    try:
        with open(path, 'rb') as handle:
            handle.read(1)
    except PermissionError as exc:
        raise EtcdCertFileNotReadable('%s %s (option %s) is not readable by the remote user %s: %s. %s' % (
            what, path, option, running_user(), exc.strerror or exc, BECOME_ADVICE))
    except (IOError, OSError) as exc:
        raise EtcdCertFileError('%s %s (option %s) is not readable: %s' % (what, path, option, exc.strerror or exc))


class EtcdClient:
    """One instance per set of credentials; every method takes the endpoint to ask."""

    def __init__(self, ca_cert, client_cert, client_key, timeout=DEFAULT_TIMEOUT, opener=None):
        self.ca_cert = ca_cert
        self.client_cert = client_cert
        self.client_key = client_key
        self.timeout = float(timeout)
        # Tests swap the transport; production always goes through open_url.
        self._open = opener or open_url

    def check_credentials(self):
        """Fail early, naming the file, when a cert or key is missing, unreadable or does not fit."""
        check_readable(self.ca_cert, 'CA certificate', 'ca_cert')
        check_readable(self.client_cert, 'client certificate', 'client_cert')
        check_readable(self.client_key, 'client key', 'client_key')
        try:
            context = ssl.create_default_context(cafile=self.ca_cert)
        except (ssl.SSLError, ValueError) as exc:
            raise EtcdCertFileError('CA certificate %s (option ca_cert) is not a PEM certificate: %s'
                                    % (self.ca_cert, exc))
        try:
            context.load_cert_chain(self.client_cert, keyfile=self.client_key)
        except (ssl.SSLError, ValueError) as exc:
            raise EtcdCertFileError(
                'client certificate %s and key %s (options client_cert, client_key) cannot be used '
                'together: %s (not PEM, or the key does not belong to the certificate)'
                % (self.client_cert, self.client_key, exc))

    def _request(self, endpoint, path, body, timeout=None, stream=False):
        url = endpoint + path
        try:
            response = self._open(
                url, data=json.dumps(body).encode('utf-8'), method='POST',
                headers={'Content-Type': 'application/json'},
                validate_certs=True, ca_path=self.ca_cert,
                client_cert=self.client_cert, client_key=self.client_key,
                timeout=timeout if timeout is not None else self.timeout,
                follow_redirects='none', use_proxy=False)
        except Exception as exc:  # pylint: disable=broad-except
            raise classify_exception(exc, endpoint)
        if stream:
            return response
        try:
            raw = response.read()
        except Exception as exc:  # pylint: disable=broad-except
            raise classify_exception(exc, endpoint)
        return self._decode(raw, endpoint, path)

    @staticmethod
    def _decode(raw, endpoint, path):
        try:
            data = json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            raise EtcdNotEtcdError('%s: %s answered something that is not JSON: this is not etcd\'s gateway'
                                   % (endpoint, path), endpoint)
        if not isinstance(data, dict):
            raise EtcdNotEtcdError('%s: %s answered JSON that is not an object: this is not etcd\'s gateway'
                                   % (endpoint, path), endpoint)
        if 'error' in data and 'code' in data:
            raise classify_http_error(200, raw, endpoint)
        return data

    def _expect_header(self, data, endpoint, path):
        if not isinstance(data.get('header'), dict):
            raise EtcdNotEtcdError('%s: %s answered JSON without an etcd response header: this is not etcd'
                                   % (endpoint, path), endpoint)
        return data

    def member_list(self, endpoint, timeout=None):
        """MemberList as this member sees it (answers without quorum, from its local view)."""
        path = '/v3/cluster/member/list'
        data = self._expect_header(self._request(endpoint, path, {}, timeout), endpoint, path)
        return parse_member_list(data)

    def status(self, endpoint, timeout=None):
        path = '/v3/maintenance/status'
        data = self._expect_header(self._request(endpoint, path, {}, timeout), endpoint, path)
        return parse_status(data)

    def alarm_list(self, endpoint, timeout=None):
        """Active alarms of the whole cluster (goes through raft: blocks without quorum)."""
        return self._alarm(endpoint, {'action': 'GET'}, timeout)

    def _alarm(self, endpoint, body, timeout):
        # etcd 3.4 answers alarm requests without a response header (3.5 and 3.6 send one): any JSON
        # object without an error is etcd's answer here.
        return parse_alarms(self._request(endpoint, '/v3/maintenance/alarm', body, timeout))

    def alarm_disarm(self, endpoint, member_id, alarm, timeout=None):
        """Alarm DEACTIVATE for one (member, alarm kind); goes through raft. Returns the alarms the
        answer lists (etcd 3.4-3.6 list the disarmed one there; the list is not the remaining alarms)."""
        body = {'action': 'DEACTIVATE', 'memberID': str(member_id_int(member_id)), 'alarm': alarm}
        return self._alarm(endpoint, body, timeout)

    def defragment(self, endpoint, timeout=None):
        """Defragment the backend of the member at `endpoint` only; blocks that member until done.
        etcd answers with an empty object (no response header), so any JSON object without an error is success."""
        self._request(endpoint, '/v3/maintenance/defragment', {}, timeout)

    def compact(self, endpoint, revision, physical=True, timeout=None):
        """Compaction up to `revision`; with `physical`, returns once the backend applied it.
        Raises EtcdCompactedError or EtcdFutureRevisionError for a revision etcd refuses."""
        path = '/v3/kv/compaction'
        body = {'revision': str(int(revision)), 'physical': bool(physical)}
        data = self._expect_header(self._revision_request(endpoint, path, body, timeout), endpoint, path)
        return parse_header(data)

    def revision_readable(self, endpoint, revision, timeout=None):
        """Whether the keyspace still holds `revision` (a linearizable read at that revision, one key at
        most): False when it was compacted away. Raises EtcdFutureRevisionError above the current one."""
        path = '/v3/kv/range'
        body = {'key': base64.b64encode(HEALTH_KEY).decode('ascii'), 'revision': str(int(revision)),
                'countOnly': True}
        try:
            self._expect_header(self._revision_request(endpoint, path, body, timeout), endpoint, path)
        except EtcdCompactedError:
            return False
        return True

    def _revision_request(self, endpoint, path, body, timeout):
        try:
            return self._request(endpoint, path, body, timeout)
        except EtcdRequestError as exc:
            message = exc.etcd_message or ''
            if COMPACTED_MESSAGE in message:
                raise EtcdCompactedError(str(exc), endpoint, code=exc.code, etcd_message=message)
            if FUTURE_REVISION_MESSAGE in message:
                raise EtcdFutureRevisionError(str(exc), endpoint, code=exc.code, etcd_message=message)
            raise

    def health_probe(self, endpoint, timeout=None):
        """A linearizable read (what etcdctl endpoint health does): succeeds only with quorum."""
        path = '/v3/kv/range'
        body = {'key': base64.b64encode(HEALTH_KEY).decode('ascii'), 'serializable': False}
        data = self._expect_header(self._request(endpoint, path, body, timeout), endpoint, path)
        return parse_header(data)

    def move_leader(self, leader_endpoint, target_id, timeout=None):
        """MoveLeader; must be sent to the current leader (others answer 'not leader')."""
        path = '/v3/maintenance/transfer-leadership'
        self._request(leader_endpoint, path, {'targetID': str(member_id_int(target_id))}, timeout)

    def snapshot(self, endpoint, dest_path, timeout=None):
        """Stream a snapshot into `dest_path` (temp file in the same directory, fsync, rename).

        The stream is the bbolt database followed by its sha256, exactly what etcdctl
        `snapshot save` writes; `etcdutl snapshot restore` checks that hash. It is checked
        here before the file is renamed into place. Returns size and hashes.
        """
        path = '/v3/maintenance/snapshot'
        response = self._request(endpoint, path, {}, timeout, stream=True)
        directory = os.path.dirname(os.path.abspath(dest_path))
        handle, temp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest_path), suffix='.part',
                                             dir=directory)
        try:
            os.fchmod(handle, SNAPSHOT_MODE)
            digest = hashlib.sha256()
            tail = b''
            size = 0
            with os.fdopen(handle, 'wb') as out:
                for chunk in self._snapshot_chunks(response, endpoint):
                    out.write(chunk)
                    size += len(chunk)
                    # hash all but the last 32 bytes, which are the hash itself
                    tail += chunk
                    if len(tail) > SHA256_SIZE:
                        digest.update(tail[:-SHA256_SIZE])
                        tail = tail[-SHA256_SIZE:]
                out.flush()
                os.fsync(out.fileno())
            self._verify_snapshot(temp_path, size, digest, tail, endpoint)
            os.rename(temp_path, dest_path)
            fsync_dir(directory)
        except BaseException:
            if os.path.exists(temp_path):
                os.unlink(temp_path)
            raise
        return {'size': size, 'sha256': sha256_file(dest_path), 'embedded_sha256': tail.hex()}

    @staticmethod
    def _snapshot_chunks(response, endpoint):
        """Newline-delimited JSON objects {"result": {"blob": base64, "remainingBytes": n}}."""
        buffered = b''
        while True:
            try:
                data = response.read(65536)
            except Exception as exc:  # pylint: disable=broad-except
                raise classify_exception(exc, endpoint)
            if not data:
                break
            buffered += data
            while b'\n' in buffered:
                line, buffered = buffered.split(b'\n', 1)
                chunk = _snapshot_line(line, endpoint)
                if chunk:
                    yield chunk
        if buffered.strip():
            chunk = _snapshot_line(buffered, endpoint)
            if chunk:
                yield chunk

    @staticmethod
    def _verify_snapshot(path, size, digest, tail, endpoint):
        if size <= SHA256_SIZE:
            raise EtcdSnapshotError('%s: the snapshot stream was empty or cut short (%d bytes)' % (endpoint, size),
                                    endpoint)
        if digest.digest() != tail:
            raise EtcdSnapshotError(
                '%s: snapshot integrity check failed: the sha256 etcd appended does not match the data '
                '(stream truncated or corrupted); nothing was written' % endpoint, endpoint)
        with open(path, 'rb') as handle:
            head = handle.read(20)
        if head[16:20] != BOLT_MAGIC:
            raise EtcdSnapshotError('%s: the snapshot is not a bbolt database (bad magic); nothing was written'
                                    % endpoint, endpoint)

    # ---- membership changes (etcd_member). They go through raft, so they need quorum; learners
    # refuse them (send them to the leader). Each answers with the member list after the change.

    def member_add(self, endpoint, peer_urls, is_learner=True, timeout=None):
        """MemberAdd; the member list after it, plus `member`: the new one (nameless until it starts)."""
        path = '/v3/cluster/member/add'
        body = {'peerURLs': list(peer_urls), 'isLearner': bool(is_learner)}
        data = self._expect_header(self._request(endpoint, path, body, timeout), endpoint, path)
        result = parse_member_list(data)
        result['member'] = parse_member(data.get('member') or {})
        return result

    def member_remove(self, endpoint, member_id, timeout=None):
        path = '/v3/cluster/member/remove'
        body = {'ID': str(member_id_int(member_id))}
        return parse_member_list(self._expect_header(self._request(endpoint, path, body, timeout), endpoint, path))

    def member_promote(self, endpoint, member_id, timeout=None):
        """MemberPromote; etcd refuses a learner that is not in sync with the leader yet."""
        path = '/v3/cluster/member/promote'
        body = {'ID': str(member_id_int(member_id))}
        return parse_member_list(self._expect_header(self._request(endpoint, path, body, timeout), endpoint, path))

    # Leases and transactions, for the maintenance lock (module_utils/_etcd/lock.py).

    def lease_grant(self, endpoint, ttl, timeout=None):
        """LeaseGrant: a new lease of `ttl` seconds. Returns {'id': int, 'ttl': int} (etcd may
        raise a TTL below its minimum, about 1.5 election timeouts, to that minimum)."""
        path = '/v3/lease/grant'
        data = self._expect_header(self._request(endpoint, path, {'TTL': str(int(ttl))}, timeout), endpoint, path)
        if data.get('error'):
            raise EtcdRequestError('%s: etcd refused the lease: %s' % (endpoint, data['error']), endpoint,
                                   etcd_message=data['error'])
        return {'id': _int(data.get('ID')), 'ttl': _int(data.get('TTL'))}

    def lease_keepalive_once(self, endpoint, lease_id, timeout=None):
        """One LeaseKeepAlive round trip (the gateway turns the stream into one JSON line per
        request). Returns the TTL the lease got back: 0 when the lease no longer exists."""
        path = '/v3/lease/keepalive'
        data = self._request(endpoint, path, {'ID': str(int(lease_id))}, timeout)
        if 'error' in data:
            error = data['error']
            message = error.get('message') if isinstance(error, dict) else error
            raise EtcdRequestError('%s: etcd refused the lease keep-alive: %s' % (endpoint, message), endpoint,
                                   etcd_message=message)
        result = data.get('result')
        if not isinstance(result, dict) or not isinstance(result.get('header'), dict):
            raise EtcdNotEtcdError('%s: %s answered JSON without a keep-alive result: this is not etcd'
                                   % (endpoint, path), endpoint)
        return _int(result.get('TTL'))

    def lease_revoke(self, endpoint, lease_id, timeout=None):
        """LeaseRevoke (etcd deletes every key attached). False when the lease was already gone."""
        path = '/v3/lease/revoke'
        try:
            self._expect_header(self._request(endpoint, path, {'ID': str(int(lease_id))}, timeout), endpoint, path)
        except EtcdRequestError as exc:
            if 'lease not found' in (exc.etcd_message or ''):
                return False
            raise
        return True

    def lease_time_to_live(self, endpoint, lease_id, timeout=None):
        """LeaseTimeToLive: {'ttl': seconds left (-1: the lease is gone), 'granted_ttl': int}."""
        path = '/v3/lease/timetolive'
        data = self._expect_header(self._request(endpoint, path, {'ID': str(int(lease_id))}, timeout),
                                   endpoint, path)
        ttl = data.get('TTL')
        return {'ttl': -1 if ttl in (None, '') else int(ttl), 'granted_ttl': _int(data.get('grantedTTL'))}

    def kv_get(self, endpoint, key, timeout=None):
        """Linearizable read of one key (`key` in bytes): (the gateway's kv object or None, header).
        The kv object keeps the gateway's encoding (base64 key/value, decimal-string ints)."""
        path = '/v3/kv/range'
        body = {'key': base64.b64encode(key).decode('ascii')}
        data = self._expect_header(self._request(endpoint, path, body, timeout), endpoint, path)
        kvs = data.get('kvs') or []
        return (kvs[0] if kvs else None), parse_header(data)

    def kv_txn(self, endpoint, request, timeout=None):
        """Txn with an already built request body (compare/success/failure). Returns
        {'succeeded': bool, 'responses': [...raw gateway responses...], 'revision': int}."""
        path = '/v3/kv/txn'
        data = self._expect_header(self._request(endpoint, path, request, timeout), endpoint, path)
        return {'succeeded': bool(data.get('succeeded', False)), 'responses': list(data.get('responses') or []),
                'revision': parse_header(data)['revision']}


def _snapshot_line(line, endpoint):
    line = line.strip()
    if not line:
        return b''
    try:
        data = json.loads(line.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        raise EtcdNotEtcdError('%s: the snapshot stream is not newline-delimited JSON' % endpoint, endpoint)
    if not isinstance(data, dict):
        raise EtcdNotEtcdError('%s: the snapshot stream is not newline-delimited JSON objects' % endpoint, endpoint)
    if 'error' in data:
        error = data['error']
        message = error.get('message') if isinstance(error, dict) else error
        raise EtcdRequestError('%s: etcd aborted the snapshot: %s' % (endpoint, message), endpoint,
                               etcd_message=message)
    result = data.get('result') or {}
    try:
        return base64.b64decode(result.get('blob') or '')
    except (TypeError, ValueError):
        raise EtcdNotEtcdError('%s: the snapshot stream carries a blob that is not base64' % endpoint, endpoint)


def run_parallel(calls, timeout):
    """Run {key: zero-argument callable} in daemon threads; wait at most `timeout` seconds overall.

    Returns {key: (result, error, seconds)}. A call still running at the deadline is reported
    as EtcdTimeoutError (its thread is left to its own socket timeout and dies with the process),
    so one dead member costs one timeout, never one per member.
    """
    results = {}
    lock = threading.Lock()

    def worker(key, call):
        started = time.monotonic()
        try:
            value, error = call(), None
        except EtcdError as exc:
            value, error = None, exc
        except Exception as exc:  # pylint: disable=broad-except
            value, error = None, EtcdError('unexpected error: %s' % exc)
        with lock:
            results[key] = (value, error, time.monotonic() - started)

    threads = []
    for key, call in calls.items():
        thread = threading.Thread(target=worker, args=(key, call))
        thread.daemon = True
        thread.start()
        threads.append((key, thread))
    deadline = time.monotonic() + timeout
    for key, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        final = dict(results)
    for key, thread in threads:
        if key not in final:
            final[key] = (None, EtcdTimeoutError('no answer within %.1f s' % timeout), timeout)
    return final
