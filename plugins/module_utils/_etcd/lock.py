# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The maintenance lock: one etcd key under this collection's prefix, written in a transaction
only while it is absent (compare create_revision == 0) and attached to a lease. The value is a
JSON record naming the holder (user, controller host, AWX job id, playbook, node, since when)
and a random token that identifies the run holding it.

Why a lease with a TTL and refreshes, and no keep-alive process: a module run ends with its
task and the controller may be SIGKILLed at any moment. Nothing may keep the lease alive once
the run is gone, so the run itself renews the lease at its step boundaries (state acquired with
the same token) and etcd deletes the key when the lease expires: a dead run's lock frees itself
within the TTL, with nothing left behind on any node.

The pure parts (validation, record encoding, transaction bodies, the decision table) are
plain functions; MaintenanceLock does the I/O through EtcdClient, trying the endpoints in turn.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import datetime
import json
import math
import re
import time
import uuid

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import majority_endpoints
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdConnectionError,
    EtcdError,
    EtcdRequestError,
)

LOCK_PREFIX = '/kubemaint.control_plane/'
DEFAULT_LOCK_KEY = LOCK_PREFIX + 'lock'
RECORD_KIND = 'kubemaint.control_plane/maintenance-lock'
RECORD_VERSION = 1
# The TTL must cover the longest step between two refreshes (the roles refresh at every step
# boundary; the longest step is a component's stop or start wait). After a controller SIGKILL the
# lock stays this long at most.
DEFAULT_TTL = 300
# etcd raises shorter TTLs to its minimum (1.5 election timeouts, 1.5 s by default).
MIN_TTL = 2
# An hour: a dead run must not hold the cluster longer than that; refresh more often instead.
MAX_TTL = 3600
MAX_WAIT_TIMEOUT = 3600.0
POLL_INTERVAL = 1.0
MAX_KEY_LENGTH = 256
MAX_FIELD_LENGTH = 256
HOLDER_FIELDS = ('user', 'controller', 'awx_job_id', 'playbook', 'node')
KEY_PATTERN = re.compile(r'^/kubemaint\.control_plane(/[A-Za-z0-9_.-]+)+$')
TOKEN_PATTERN = re.compile(r'^[A-Za-z0-9_.:-]{8,128}$')

STATES = ('acquired', 'released', 'query')
# gRPC Unavailable and DeadlineExceeded: that member cannot serve now, another one may.
UNAVAILABLE_CODES = (4, 14)


class LockInputError(Exception):
    """Bad input, found before anything was sent to etcd."""


class LockHeldError(Exception):
    """Another holder has the lock (after waiting, when waiting was asked for)."""

    def __init__(self, message, lock, waited=0.0):
        super(LockHeldError, self).__init__(message)
        self.lock = lock
        self.waited = waited


# ---------------------------------------------------------------- validation

def validate_key(key):
    """The lock key, or LockInputError: only keys under this collection's prefix, so that a typo
    can never make the lock write or delete a key of Kubernetes (/registry/...) or anyone else."""
    if not isinstance(key, str) or not key:
        raise LockInputError('key must be a non-empty string under %s, e.g. %s' % (LOCK_PREFIX, DEFAULT_LOCK_KEY))
    if len(key) > MAX_KEY_LENGTH:
        raise LockInputError('key is %d characters long; at most %d are allowed' % (len(key), MAX_KEY_LENGTH))
    if not KEY_PATTERN.match(key) or '/./' in key + '/' or '/../' in key + '/':
        raise LockInputError(
            'key %r is refused: it must start with %s and consist of path segments of letters, digits, '
            '".", "_" or "-" (no empty, "." or ".." segment, no trailing "/"), e.g. %s'
            % (key, LOCK_PREFIX, DEFAULT_LOCK_KEY))
    return key


def _finite_number(value, option):
    if isinstance(value, bool):
        raise LockInputError('%s must be a number of seconds, not %r' % (option, value))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise LockInputError('%s must be a number of seconds, not %r' % (option, value))
    if math.isnan(number) or math.isinf(number):
        raise LockInputError('%s must be a finite number of seconds, not %r' % (option, value))
    return number


def validate_ttl(ttl):
    """Lease TTL in whole seconds, MIN_TTL..MAX_TTL."""
    number = _finite_number(ttl, 'ttl')
    if number != int(number):
        raise LockInputError('ttl must be a whole number of seconds, not %r' % (ttl,))
    if not MIN_TTL <= number <= MAX_TTL:
        raise LockInputError(
            'ttl must be between %d and %d seconds, not %r: the lease must outlive the longest step between '
            'two refreshes, and a run that dies must not hold the lock longer than that' % (MIN_TTL, MAX_TTL, ttl))
    return int(number)


def validate_wait_timeout(value):
    number = _finite_number(value, 'wait_timeout')
    if not 0 <= number <= MAX_WAIT_TIMEOUT:
        raise LockInputError('wait_timeout must be between 0 and %d seconds, not %r' % (MAX_WAIT_TIMEOUT, value))
    return number


def validate_token(token, required=False, state=None):
    if token in (None, ''):
        if required:
            raise LockInputError('token is required with state=%s (the token that state=acquired returned), '
                                 'or set break_lock=true to remove the lock whoever holds it' % state)
        return None
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        raise LockInputError('token must be 8 to 128 characters of letters, digits, ".", "_", ":" or "-", not %r'
                             % (token,))
    return token


def validate_holder(holder):
    """The holder fields as strings (missing ones empty); refuses control characters and long text."""
    holder = holder or {}
    if not isinstance(holder, dict):
        raise LockInputError('holder must be a dictionary with the keys %s' % ', '.join(HOLDER_FIELDS))
    unknown = sorted(set(holder) - set(HOLDER_FIELDS))
    if unknown:
        raise LockInputError('holder has unknown keys %s; allowed: %s' % (', '.join(unknown), ', '.join(HOLDER_FIELDS)))
    clean = {}
    for field in HOLDER_FIELDS:
        value = holder.get(field)
        value = '' if value is None else str(value)
        if len(value) > MAX_FIELD_LENGTH:
            raise LockInputError('holder.%s is %d characters long; at most %d are allowed'
                                 % (field, len(value), MAX_FIELD_LENGTH))
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise LockInputError('holder.%s contains control characters: %r' % (field, value))
        clean[field] = value
    return clean


def validate_request(state, key, ttl, wait_timeout, token, break_lock, holder):
    """Every option checked before the first request; returns the cleaned values."""
    if state not in STATES:
        raise LockInputError('state must be one of %s, not %r' % (', '.join(STATES), state))
    return {
        'state': state,
        'key': validate_key(key),
        'ttl': validate_ttl(ttl),
        'wait_timeout': validate_wait_timeout(wait_timeout),
        'token': validate_token(token, required=(state == 'released' and not break_lock), state=state),
        'break_lock': bool(break_lock),
        'holder': validate_holder(holder),
    }


def new_token():
    return uuid.uuid4().hex


def utc_now_iso(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime('%Y-%m-%dT%H:%M:%SZ')


# ---------------------------------------------------------------- the record

def encode_record(token, holder, started):
    """The key's value: compact, sorted JSON (bytes)."""
    record = {'kind': RECORD_KIND, 'version': RECORD_VERSION, 'token': token, 'started': started}
    record.update(validate_holder(holder))
    return json.dumps(record, sort_keys=True, separators=(',', ':')).encode('utf-8')


def decode_record(value):
    """The record in a key's value; a value this collection did not write comes back with
    readable=False (and is never taken for anyone's lock but break_lock's)."""
    try:
        record = json.loads(value.decode('utf-8'))
    except (ValueError, UnicodeDecodeError, AttributeError):
        record = None
    if not isinstance(record, dict) or record.get('kind') != RECORD_KIND or not isinstance(record.get('token'), str):
        excerpt = value[:80].decode('utf-8', 'replace') if isinstance(value, bytes) else ''
        return {'readable': False, 'token': None, 'started': '', 'raw': excerpt,
                'user': '', 'controller': '', 'awx_job_id': '', 'playbook': '', 'node': ''}
    decoded = {'readable': True, 'token': record['token'], 'started': str(record.get('started') or '')}
    for field in HOLDER_FIELDS:
        decoded[field] = str(record.get(field) or '')
    return decoded


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def _int(value):
    return int(value) if value not in (None, '') else 0


def parse_kv(kv):
    """The gateway's kv object (base64 bytes, decimal-string ints) as Python values."""
    try:
        value = base64.b64decode(kv.get('value') or '')
        key = base64.b64decode(kv.get('key') or '')
    except (TypeError, ValueError, binascii.Error):
        raise EtcdError('etcd answered a key or value that is not base64')
    return {'key': key, 'value': value, 'create_revision': _int(kv.get('create_revision')),
            'mod_revision': _int(kv.get('mod_revision')), 'version': _int(kv.get('version')),
            'lease': _int(kv.get('lease'))}


def kv_from_txn(txn):
    """The kv a failed transaction's request_range read (None when the key is absent)."""
    for response in txn.get('responses') or []:
        ranged = response.get('response_range') if isinstance(response, dict) else None
        if ranged is not None:
            kvs = ranged.get('kvs') or []
            return parse_kv(kvs[0]) if kvs else None
    return None


# ---------------------------------------------------------------- transactions

def _guarded_txn(key, target, revision_field, revision, operation):
    """`operation` only if the key's `target` revision equals `revision`; else read the key back
    (the failed transaction then tells who holds it, in the same round trip)."""
    return {
        'compare': [{'key': _b64(key), 'target': target, 'result': 'EQUAL', revision_field: str(int(revision))}],
        'success': [operation],
        'failure': [{'request_range': {'key': _b64(key)}}],
    }


def _put(key, value, lease_id):
    return {'request_put': {'key': _b64(key), 'value': _b64(value), 'lease': str(int(lease_id))}}


def put_if_absent_txn(key, value, lease_id):
    """Write the key only if it does not exist (create_revision == 0)."""
    return _guarded_txn(key, 'CREATE', 'create_revision', 0, _put(key, value, lease_id))


def replace_txn(key, mod_revision, value, lease_id):
    """Overwrite the key only if nobody wrote it since we read it (mod_revision unchanged)."""
    return _guarded_txn(key, 'MOD', 'mod_revision', mod_revision, _put(key, value, lease_id))


def delete_txn(key, mod_revision):
    """Delete the key only if nobody wrote it since we read it."""
    return _guarded_txn(key, 'MOD', 'mod_revision', mod_revision, {'request_delete_range': {'key': _b64(key)}})


# ---------------------------------------------------------------- decisions

# state: (lock free, held by this token, held by another token without break_lock)
DECISIONS = {'acquired': ('take', 'refresh', 'wait'), 'released': ('absent', 'release', 'leave')}


def decide(state, current, token, break_lock):
    """What to do about the lock as read (`current`: None when free, else lock_info()).

    acquired: 'take' (free), 'refresh' (ours), 'break' (another holder, break_lock), 'wait'.
    released: 'absent' (free), 'release' (ours), 'break' (another holder, break_lock),
              'leave' (another holder: not ours to remove).
    query:    'query'.
    """
    if state == 'query':
        return 'query'
    if state not in DECISIONS:
        raise LockInputError('unknown state %r' % state)
    when_free, when_mine, when_other = DECISIONS[state]
    if current is None:
        return when_free
    if token is not None and current.get('token') == token:
        return when_mine
    return 'break' if break_lock else when_other


# A run renews its lease at a step boundary only once this share of the TTL has passed since the
# last renewal: a step then starts with at least the rest of the TTL left on the lease.
REFRESH_AFTER_SHARE = 1.0 / 3


def refresh_due(renewed_at, ttl, now, share=REFRESH_AFTER_SHARE):
    """Whether a lock whose lease (of `ttl` seconds) was last renewed at `renewed_at` needs renewing at
    `now` (seconds on one clock, the controller's). Pure.

    Due once `share` of the TTL has passed, so a step that starts without a renewal still has at least
    (1 - share) * ttl left. Anything unknown or odd counts as due, since renewing is always safe:
    no renewal time, a bad number, a clock that went backwards.
    """
    try:
        renewed_at, ttl, now = float(renewed_at), float(ttl), float(now)
    except (TypeError, ValueError):
        return True
    if not all(math.isfinite(value) for value in (renewed_at, ttl, now)) or ttl <= 0 or now < renewed_at:
        return True
    return now - renewed_at >= ttl * share


def lock_info(key, kv, lease_ttl, token=None):
    """What the modules return about the lock: `held` False when free."""
    if kv is None:
        return {'key': key, 'held': False, 'summary': 'free'}
    record = decode_record(kv['value'])
    info = {
        'key': key, 'held': True, 'readable': record['readable'],
        'token': record['token'], 'mine': bool(token) and record['token'] == token,
        'started': record['started'],
        'lease_id': '%016x' % kv['lease'] if kv['lease'] else None,
        'ttl': lease_ttl['granted_ttl'] if lease_ttl else None,
        'expires_in': lease_ttl['ttl'] if lease_ttl else None,
        'create_revision': kv['create_revision'], 'mod_revision': kv['mod_revision'],
    }
    for field in HOLDER_FIELDS:
        info[field] = record[field]
    if not record['readable']:
        info['raw'] = record['raw']
    info['summary'] = describe_holder(info)
    return info


def describe_holder(info):
    """One line naming the holder, for messages and for cluster_info."""
    if not info.get('held'):
        return 'free'
    if not info.get('readable', True):
        who = 'a value this collection did not write (%r)' % info.get('raw', '')
    else:
        who = '%s on %s' % (info.get('user') or 'an unknown user', info.get('controller') or 'an unknown controller')
        if info.get('awx_job_id'):
            who += ' (AWX job %s)' % info['awx_job_id']
        if info.get('playbook'):
            who += ', playbook %s' % info['playbook']
        if info.get('node'):
            who += ', node %s' % info['node']
        if info.get('started'):
            who += ', since %s' % info['started']
    if info.get('lease_id') is None:
        expiry = 'with no lease: it never expires by itself'
    elif info.get('expires_in') is not None and info['expires_in'] >= 0:
        expiry = 'lease expires in %d s unless refreshed' % info['expires_in']
    else:
        expiry = 'lease expired, etcd is removing the key'
    return 'held by %s; %s' % (who, expiry)


def held_message(info, waited, break_option='break_lock'):
    return ('the maintenance lock %s is %s. Waited %d s. Another maintenance run is working on the control plane: '
            'wait until it finishes and run again. If that run is dead (its controller was killed) the lock frees '
            'itself when the lease expires; to take it over at once set %s=true, only if you are sure nobody '
            'else is working on the cluster.' % (info['key'], info['summary'], int(round(waited)), break_option))


# ---------------------------------------------------------------- I/O

class MaintenanceLock:
    """The lock at `key`, through the first endpoint of `endpoints` that answers."""

    def __init__(self, client, endpoints, key, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.endpoints = list(endpoints)
        self.key = validate_key(key)
        self._key_bytes = key.encode('utf-8')
        self._clock = clock
        self._sleep = sleep

    def _call(self, method, *args):
        """client.<method>(endpoint, *args) on the endpoints in turn; the one that answers comes
        first from then on. Only "not reachable" moves on: every write is a guarded transaction,
        a lease grant, a keep-alive or a revoke, so repeating one that timed out is harmless."""
        errors = []
        for endpoint in list(self.endpoints):
            try:
                result = getattr(self.client, method)(endpoint, *args)
            except EtcdConnectionError as exc:
                errors.append(str(exc))
                continue
            except EtcdRequestError as exc:
                # a member cut off from the leader answers "no leader" / "request timed out"
                if exc.code not in UNAVAILABLE_CODES:
                    raise
                errors.append(str(exc))
                continue
            if self.endpoints[0] != endpoint:
                self.endpoints.remove(endpoint)
                self.endpoints.insert(0, endpoint)
            return result
        raise EtcdConnectionError('no etcd endpoint answered (%s)' % '; '.join(errors) if errors else
                                  'no etcd endpoint to ask')

    def read(self, token=None):
        """(kv or None, lock_info)."""
        raw, _header = self._call('kv_get', self._key_bytes)
        kv = parse_kv(raw) if raw else None
        lease_ttl = None
        if kv and kv['lease']:
            lease_ttl = self._call('lease_time_to_live', kv['lease'])
        return kv, lock_info(self.key, kv, lease_ttl, token)

    def _revoke_quietly(self, lease_id):
        try:
            self._call('lease_revoke', lease_id)
        except EtcdError:
            pass  # an orphan lease expires by itself within its TTL

    def _write_with_new_lease(self, build, ttl):
        """Grant a lease and run the transaction `build(lease_id)`. Returns (succeeded, lease).
        A transaction that failed only because an earlier attempt of this very request (timed out
        on another endpoint) got through is a success; otherwise the new lease is revoked."""
        lease = self._call('lease_grant', ttl)
        try:
            txn = self._call('kv_txn', build(lease['id']))
        except BaseException:
            self._revoke_quietly(lease['id'])
            raise
        if txn['succeeded']:
            return True, lease
        seen = kv_from_txn(txn)
        if seen is not None and seen['lease'] == lease['id']:
            return True, lease
        self._revoke_quietly(lease['id'])
        return False, lease

    def acquire(self, token, holder, ttl, wait_timeout=0.0, break_lock=False, check_mode=False):
        """Take the lock, refresh it when `token` holds it, wait for another holder up to
        `wait_timeout` seconds (then LockHeldError), or take it over with break_lock."""
        token = token or new_token()
        started_wait = self._clock()
        deadline = started_wait + wait_timeout
        first = None
        waited = 0.0
        while True:
            kv, current = self.read(token)
            if first is None:
                first = current
            action = decide('acquired', current if kv else None, token, break_lock)
            if action == 'wait':
                now = self._clock()
                if now >= deadline:
                    raise LockHeldError(held_message(current, now - started_wait), current,
                                        round(now - started_wait, 3))
                pause = min(POLL_INTERVAL, max(0.0, deadline - now))
                self._sleep(pause)
                waited += pause
                continue
            outcome = self._apply_acquire(action, kv, current, token, holder, ttl, check_mode)
            if outcome is None:
                continue  # lost a race: read again
            outcome.update({'token': token, 'lock_before': first, 'waited': round(waited, 3)})
            return outcome

    def _apply_acquire(self, action, kv, current, token, holder, ttl, check_mode):
        if action == 'refresh' and current['ttl'] == ttl and current['expires_in'] is not None \
                and current['expires_in'] >= 0:
            if check_mode:
                return {'changed': False, 'action': 'refreshed', 'lock': current}
            left = self._call('lease_keepalive_once', kv['lease'])
            if left > 0:
                _kv, after = self.read(token)
                return {'changed': False, 'action': 'refreshed', 'lock': after}
            # the lease ran out between the read and the keep-alive: renew with a new lease below
        if action == 'take':
            started = utc_now_iso()
            if check_mode:
                return {'changed': True, 'action': 'taken', 'lock': self._would_hold(token, holder, started, ttl)}
            value = encode_record(token, holder, started)
            ok, _lease = self._write_with_new_lease(lambda lease: put_if_absent_txn(self._key_bytes, value, lease), ttl)
        else:
            # 'refresh' with another TTL or a lease that ran out ('renewed'), or 'break': the same
            # key rewritten with a new lease, guarded by the mod_revision we read
            started = current['started'] if action == 'refresh' and current['started'] else utc_now_iso()
            if check_mode:
                return self._acquire_outcome(action, current, self._would_hold(token, holder, started, ttl))
            value = encode_record(token, holder, started)
            ok, _lease = self._write_with_new_lease(
                lambda lease: replace_txn(self._key_bytes, kv['mod_revision'], value, lease), ttl)
            if ok and kv['lease']:
                self._revoke_quietly(kv['lease'])
        if not ok:
            return None
        _kv, after = self.read(token)
        if action == 'take':
            return {'changed': True, 'action': 'taken', 'lock': after}
        return self._acquire_outcome(action, current, after)

    @staticmethod
    def _acquire_outcome(action, before, after):
        if action == 'break':
            return {'changed': True, 'action': 'broken', 'lock': after, 'previous_holder': before}
        return {'changed': True, 'action': 'renewed', 'lock': after}

    def _would_hold(self, token, holder, started, ttl):
        clean = validate_holder(holder)
        info = {'key': self.key, 'held': True, 'readable': True, 'token': token, 'mine': True, 'started': started,
                'lease_id': None, 'ttl': ttl, 'expires_in': ttl, 'create_revision': None, 'mod_revision': None}
        info.update(clean)
        info['summary'] = describe_holder(dict(info, lease_id='(new)'))
        return info

    def release(self, token, break_lock=False, check_mode=False):
        """Remove the lock when `token` holds it (or whoever holds it, with break_lock) and
        revoke its lease. Leaves another holder's lock alone and says so."""
        while True:
            kv, current = self.read(token)
            action = decide('released', current if kv else None, token, break_lock)
            if action in ('absent', 'leave'):
                return {'changed': False, 'action': action, 'lock': current, 'lock_before': current,
                        'token': token}
            if check_mode:
                result = {'changed': True, 'action': 'released' if action == 'release' else 'broken',
                          'lock': {'key': self.key, 'held': False, 'summary': 'free'}, 'lock_before': current,
                          'token': token}
                if action == 'break':
                    result['previous_holder'] = current
                return result
            txn = self._call('kv_txn', delete_txn(self._key_bytes, kv['mod_revision']))
            if not txn['succeeded']:
                continue  # written since we read it: decide again
            if kv['lease']:
                self._revoke_quietly(kv['lease'])
            _kv, after = self.read(token)
            result = {'changed': True, 'action': 'released' if action == 'release' else 'broken',
                      'lock': after, 'lock_before': current, 'token': token}
            if action == 'break':
                result['previous_holder'] = current
            return result

    def query(self, token=None):
        _kv, current = self.read(token)
        return {'changed': False, 'action': 'query', 'lock': current, 'lock_before': current, 'token': token}


def run_lock(client, endpoints, request, check_mode=False):
    """The etcd_lock module's work for a validated request (validate_request)."""
    lock = MaintenanceLock(client, endpoints, request['key'])
    if request['state'] == 'acquired':
        return lock.acquire(request['token'], request['holder'], request['ttl'], request['wait_timeout'],
                            request['break_lock'], check_mode)
    if request['state'] == 'released':
        return lock.release(request['token'], request['break_lock'], check_mode)
    return lock.query(request['token'])


def query_lock(client, endpoints, key=DEFAULT_LOCK_KEY):
    """Read-only: lock_info of the lock at `key` (for cluster_info and the guard)."""
    return MaintenanceLock(client, endpoints, key).query()['lock']


def diff_text(info):
    """The lock as a few lines for diff mode (no lease ids: they change on every renewal)."""
    if not info or not info.get('held'):
        return 'free\n'
    lines = ['key: %s' % info['key']]
    for field in ('token',) + HOLDER_FIELDS + ('started', 'ttl'):
        lines.append('%s: %s' % (field, info.get(field) if info.get(field) is not None else ''))
    return '\n'.join(lines) + '\n'


def lock_request_from_module(module):
    """The module's options checked before anything else happens (fail_json names the option)."""
    params = module.params
    try:
        return validate_request(params['state'], params['key'], params['ttl'], params['wait_timeout'],
                                params['token'], params['break_lock'], params['holder'])
    except LockInputError as exc:
        module.fail_json(msg=str(exc))
    return None  # not reached: fail_json exits


def run_etcd_lock(module, client, connection, request, connection_fields):
    """The etcd_lock module's work after its options were checked; fail_json on any error."""
    result = dict(connection_fields)
    try:
        # In a split brain, only the majority's side: a lock taken on the other side would bind no other run.
        outcome = run_lock(client, majority_endpoints(client, connection['endpoints']), request,
                           check_mode=module.check_mode)
    except LockHeldError as exc:
        module.fail_json(msg=str(exc), lock=exc.lock, action='wait', waited=exc.waited, **result)
    except EtcdError as exc:
        module.fail_json(msg='maintenance lock %s: %s' % (request['key'], exc), reason=exc.reason, **result)
    result.update(outcome)
    if outcome['action'] == 'broken':
        module.warn('break_lock: removed the maintenance lock of another run (%s)'
                    % outcome['previous_holder']['summary'])
    elif outcome['action'] == 'leave':
        module.warn('the maintenance lock %s is %s, not by this token: left alone'
                    % (request['key'], outcome['lock']['summary']))
    if module._diff and request['state'] != 'query':
        result['diff'] = {'before': diff_text(outcome['lock_before']), 'after': diff_text(outcome['lock']),
                          'before_header': request['key'], 'after_header': request['key']}
    module.exit_json(**result)
