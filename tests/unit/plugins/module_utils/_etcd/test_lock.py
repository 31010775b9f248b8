"""The maintenance lock's pure parts (validation, record, transactions, decisions) and its I/O
against an in-memory etcd that evaluates transactions the way etcd does. The real thing is
tested against the lab in tests/integration/test_etcd_lock.py."""
import base64
import io
import json

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd import lock as lock_mod
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import EtcdClient
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdConnectionError,
    EtcdRequestError,
    EtcdTimeoutError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.lock import (
    DEFAULT_LOCK_KEY,
    LockHeldError,
    LockInputError,
    MaintenanceLock,
    decide,
    decode_record,
    delete_txn,
    describe_holder,
    encode_record,
    lock_info,
    parse_kv,
    put_if_absent_txn,
    replace_txn,
    validate_key,
    validate_request,
    validate_ttl,
    validate_wait_timeout,
)

ALICE = {'user': 'alice', 'controller': 'bastion', 'awx_job_id': '42', 'playbook': 'stop_node', 'node': 'cp-02'}
EP1, EP2 = 'https://127.0.1.1:2379', 'https://127.0.1.2:2379'


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize('key', [DEFAULT_LOCK_KEY, '/kubemaint.control_plane/locks/prod-1',
                                 '/kubemaint.control_plane/a_b.c'])
def test_keys_under_the_prefix_are_accepted(key):
    assert validate_key(key) == key


@pytest.mark.parametrize('key', ['', None, 'lock', '/registry/pods/x', '/kubemaint.control_plane',
                                 '/kubemaint.control_plane/', '/kubemaint.control_plane//x',
                                 '/kubemaint.control_plane/../registry', '/kubemaint.control_plane/./x',
                                 '/kubemaint.control_plane/x/', '/kubemaint.control_plane/a b',
                                 '/kubemaint.control_planeX/lock', '/kubemaint.control_plane/' + 'x' * 300,
                                 '/kubemaint.control_plane/\u00e9'])
def test_keys_outside_the_prefix_or_odd_are_refused(key):
    with pytest.raises(LockInputError):
        validate_key(key)


@pytest.mark.parametrize('ttl,expected', [(2, 2), (300, 300), (3600, 3600), (60.0, 60), ('30', 30)])
def test_ttl_accepted(ttl, expected):
    assert validate_ttl(ttl) == expected


@pytest.mark.parametrize('ttl,message', [
    (0, 'between 2 and 3600'), (-1, 'between 2 and 3600'), (1, 'between 2 and 3600'), (3601, 'between'),
    (1e13, 'between'), (float('nan'), 'finite'), (float('inf'), 'finite'), (float('-inf'), 'finite'),
    (2.5, 'whole number'), ('abc', 'number of seconds'), (None, 'number of seconds'), (True, 'number of seconds'),
    (10 ** 400, 'number of seconds'),
])
def test_ttl_refused(ttl, message):
    with pytest.raises(LockInputError, match=message):
        validate_ttl(ttl)


@pytest.mark.parametrize('value,ok', [(0, True), (0.5, True), (3600, True), (-0.1, False), (3601, False),
                                      (float('nan'), False), (float('inf'), False)])
def test_wait_timeout_bounds(value, ok):
    if ok:
        assert validate_wait_timeout(value) == value
    else:
        with pytest.raises(LockInputError, match='wait_timeout'):
            validate_wait_timeout(value)


def test_request_validation_names_what_is_wrong():
    good = validate_request('acquired', DEFAULT_LOCK_KEY, 300, 0, None, False, ALICE)
    assert good['token'] is None and good['holder'] == ALICE and good['ttl'] == 300
    with pytest.raises(LockInputError, match='token is required with state=released'):
        validate_request('released', DEFAULT_LOCK_KEY, 300, 0, None, False, {})
    assert validate_request('released', DEFAULT_LOCK_KEY, 300, 0, None, True, {})['break_lock'] is True
    with pytest.raises(LockInputError, match='token must be 8 to 128'):
        validate_request('acquired', DEFAULT_LOCK_KEY, 300, 0, 'a b c d e f', False, {})
    with pytest.raises(LockInputError, match='holder.user contains control characters'):
        validate_request('acquired', DEFAULT_LOCK_KEY, 300, 0, None, False, {'user': 'a\x1bb'})
    with pytest.raises(LockInputError, match='holder has unknown keys color'):
        validate_request('acquired', DEFAULT_LOCK_KEY, 300, 0, None, False, {'color': 'red'})
    with pytest.raises(LockInputError, match='state must be one of'):
        validate_request('locked', DEFAULT_LOCK_KEY, 300, 0, None, False, {})


# ---------------------------------------------------------------- record and transactions

def test_record_round_trip_and_foreign_values():
    value = encode_record('tok-0123456789', dict(ALICE, awx_job_id=None), '2026-11-28T07:00:00Z')
    assert json.loads(value)['kind'] == 'kubemaint.control_plane/maintenance-lock'
    record = decode_record(value)
    assert record['readable'] and record['token'] == 'tok-0123456789' and record['awx_job_id'] == ''
    assert record['node'] == 'cp-02' and record['started'] == '2026-11-28T07:00:00Z'
    for foreign in (b'locked', b'{"token": "x"}', b'[1]', b'\xff\xfe', b''):
        decoded = decode_record(foreign)
        assert decoded['readable'] is False and decoded['token'] is None


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_transactions_compare_what_makes_them_safe():
    put = put_if_absent_txn(b'/k', b'v', 7)
    assert put['compare'] == [{'key': b64('/k'), 'target': 'CREATE', 'result': 'EQUAL', 'create_revision': '0'}]
    assert put['success'] == [{'request_put': {'key': b64('/k'), 'value': b64('v'), 'lease': '7'}}]
    assert put['failure'] == [{'request_range': {'key': b64('/k')}}]
    replace = replace_txn(b'/k', 12, b'v', 8)
    assert replace['compare'][0]['target'] == 'MOD' and replace['compare'][0]['mod_revision'] == '12'
    assert replace['success'][0]['request_put']['lease'] == '8'
    delete = delete_txn(b'/k', 12)
    assert delete['success'] == [{'request_delete_range': {'key': b64('/k')}}]
    assert delete['compare'][0]['mod_revision'] == '12'


@pytest.mark.parametrize('state,current,token,break_lock,expected', [
    ('acquired', None, None, False, 'take'),
    ('acquired', None, 'tok-a', False, 'take'),
    ('acquired', {'token': 'tok-a'}, 'tok-a', False, 'refresh'),
    ('acquired', {'token': 'tok-a'}, 'tok-a', True, 'refresh'),
    ('acquired', {'token': 'tok-b'}, 'tok-a', False, 'wait'),
    ('acquired', {'token': 'tok-b'}, None, False, 'wait'),
    ('acquired', {'token': 'tok-b'}, 'tok-a', True, 'break'),
    ('acquired', {'token': None}, None, False, 'wait'),       # a value this collection did not write
    ('released', None, 'tok-a', False, 'absent'),
    ('released', None, None, True, 'absent'),
    ('released', {'token': 'tok-a'}, 'tok-a', False, 'release'),
    ('released', {'token': 'tok-b'}, 'tok-a', False, 'leave'),
    ('released', {'token': 'tok-b'}, 'tok-a', True, 'break'),
    ('released', {'token': None}, None, True, 'break'),
    ('query', {'token': 'tok-b'}, 'tok-a', True, 'query'),
])
def test_decision_matrix(state, current, token, break_lock, expected):
    assert decide(state, current, token, break_lock) == expected


def test_lock_info_and_summary():
    kv = {'value': encode_record('tok-0123456789', ALICE, '2026-11-28T07:00:00Z'), 'lease': 255,
          'create_revision': 5, 'mod_revision': 6}
    info = lock_info(DEFAULT_LOCK_KEY, kv, {'ttl': 87, 'granted_ttl': 300}, token='tok-0123456789')
    assert info['mine'] and info['lease_id'] == '00000000000000ff' and (info['ttl'], info['expires_in']) == (300, 87)
    assert info['summary'] == ('held by alice on bastion (AWX job 42), playbook stop_node, node cp-02, since '
                               '2026-11-28T07:00:00Z; lease expires in 87 s unless refreshed')
    assert lock_info(DEFAULT_LOCK_KEY, kv, {'ttl': 87, 'granted_ttl': 300})['mine'] is False
    assert lock_info(DEFAULT_LOCK_KEY, None, None) == {'key': DEFAULT_LOCK_KEY, 'held': False, 'summary': 'free'}
    foreign = lock_info(DEFAULT_LOCK_KEY, dict(kv, value=b'hello', lease=0), None)
    assert "a value this collection did not write ('hello')" in foreign['summary']
    assert 'never expires' in foreign['summary']
    assert 'lease expired' in describe_holder(dict(info, expires_in=-1))


# ---------------------------------------------------------------- the lock against a fake etcd

class FakeEtcd(object):
    """One etcd in memory, evaluating the lock's transactions like etcd; the lock's client."""

    def __init__(self, clock):
        self.clock = clock
        self.kvs = {}
        self.leases = {}
        self.revision = 1
        self.next_lease = 100
        self.calls = []
        self.down = set()
        self.fail_next = {}

    def _expire(self):
        for lease_id, (granted, deadline) in list(self.leases.items()):
            if deadline <= self.clock():
                self._revoke(lease_id)

    def _revoke(self, lease_id):
        self.leases.pop(lease_id, None)
        for key, kv in list(self.kvs.items()):
            if kv['lease'] == lease_id:
                del self.kvs[key]
                self.revision += 1

    def _enter(self, endpoint, name):
        self.calls.append((endpoint, name))
        if endpoint in self.down:
            raise EtcdConnectionError('%s: connection refused' % endpoint, endpoint)
        error = self.fail_next.pop(name, None)
        if error is not None:
            raise error
        self._expire()

    def _gateway_kv(self, key):
        kv = self.kvs[key]
        return {'key': base64.b64encode(key).decode(), 'value': base64.b64encode(kv['value']).decode(),
                'create_revision': str(kv['create']), 'mod_revision': str(kv['mod']), 'version': '1',
                'lease': str(kv['lease'])}

    def kv_get(self, endpoint, key):
        self._enter(endpoint, 'kv_get')
        return (self._gateway_kv(key) if key in self.kvs else None), {'revision': self.revision}

    def kv_txn(self, endpoint, request):
        self._enter(endpoint, 'kv_txn')
        compare = request['compare'][0]
        key = base64.b64decode(compare['key'])
        kv = self.kvs.get(key)
        if compare['target'] == 'CREATE':
            ok = (kv['create'] if kv else 0) == int(compare['create_revision'])
        else:
            ok = (kv['mod'] if kv else 0) == int(compare['mod_revision'])
        ops = request['success'] if ok else request['failure']
        responses = []
        for op in ops:
            if 'request_put' in op:
                put = op['request_put']
                self.revision += 1
                lease = int(put.get('lease', '0'))
                assert lease == 0 or lease in self.leases, 'put with a lease that does not exist'
                self.kvs[key] = {'value': base64.b64decode(put['value']), 'lease': lease, 'mod': self.revision,
                                 'create': kv['create'] if kv else self.revision}
                responses.append({'response_put': {}})
            elif 'request_delete_range' in op:
                self.revision += 1
                self.kvs.pop(key, None)
                responses.append({'response_delete_range': {}})
            else:
                responses.append({'response_range': {'kvs': [self._gateway_kv(key)] if key in self.kvs else []}})
        return {'succeeded': ok, 'responses': responses, 'revision': self.revision}

    def lease_grant(self, endpoint, ttl):
        self._enter(endpoint, 'lease_grant')
        self.next_lease += 1
        self.leases[self.next_lease] = (ttl, self.clock() + ttl)
        return {'id': self.next_lease, 'ttl': ttl}

    def lease_keepalive_once(self, endpoint, lease_id):
        self._enter(endpoint, 'lease_keepalive_once')
        if lease_id not in self.leases:
            return 0
        granted = self.leases[lease_id][0]
        self.leases[lease_id] = (granted, self.clock() + granted)
        return granted

    def lease_revoke(self, endpoint, lease_id):
        self._enter(endpoint, 'lease_revoke')
        found = lease_id in self.leases
        self._revoke(lease_id)
        return found

    def lease_time_to_live(self, endpoint, lease_id):
        self._enter(endpoint, 'lease_time_to_live')
        if lease_id not in self.leases:
            return {'ttl': -1, 'granted_ttl': 0}
        granted, deadline = self.leases[lease_id]
        return {'ttl': int(deadline - self.clock()), 'granted_ttl': granted}


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def etcd(clock):
    return FakeEtcd(clock)


def new_lock(etcd, clock, endpoints=(EP1,)):
    return MaintenanceLock(etcd, list(endpoints), DEFAULT_LOCK_KEY, clock=clock, sleep=clock.sleep)


def held_token(etcd):
    kv = etcd.kvs.get(DEFAULT_LOCK_KEY.encode())
    return decode_record(kv['value'])['token'] if kv else None


def test_take_refresh_renew_release(etcd, clock):
    lock = new_lock(etcd, clock)
    taken = lock.acquire('tok-aaaaaaaa', ALICE, 60)
    assert taken['changed'] and taken['action'] == 'taken' and held_token(etcd) == 'tok-aaaaaaaa'
    lease = etcd.kvs[DEFAULT_LOCK_KEY.encode()]['lease']
    clock.sleep(50)
    refreshed = lock.acquire('tok-aaaaaaaa', ALICE, 60)
    assert not refreshed['changed'] and refreshed['action'] == 'refreshed' and refreshed['lock']['expires_in'] == 60
    clock.sleep(50)
    assert held_token(etcd) == 'tok-aaaaaaaa', 'the refresh did not renew the lease'
    renewed = lock.acquire('tok-aaaaaaaa', ALICE, 120)
    assert renewed['changed'] and renewed['action'] == 'renewed' and renewed['lock']['ttl'] == 120
    assert lease not in etcd.leases and renewed['lock']['started'] == taken['lock']['started']
    released = lock.release('tok-aaaaaaaa')
    assert released['changed'] and released['action'] == 'released' and not etcd.kvs and not etcd.leases
    assert lock.release('tok-aaaaaaaa')['action'] == 'absent'


def test_check_mode_writes_nothing_and_tells_the_same(etcd, clock):
    lock = new_lock(etcd, clock)
    check = lock.acquire('tok-aaaaaaaa', ALICE, 60, check_mode=True)
    assert check['changed'] and check['action'] == 'taken' and not etcd.kvs and not etcd.leases
    lock.acquire('tok-aaaaaaaa', ALICE, 60)
    before = dict(etcd.kvs)
    assert lock.acquire('tok-aaaaaaaa', ALICE, 60, check_mode=True)['changed'] is False
    assert lock.acquire('tok-aaaaaaaa', ALICE, 90, check_mode=True)['action'] == 'renewed'
    assert lock.release('tok-aaaaaaaa', check_mode=True)['action'] == 'released'
    assert lock.acquire('tok-bbbbbbbb', ALICE, 60, break_lock=True, check_mode=True)['action'] == 'broken'
    assert etcd.kvs == before and len(etcd.leases) == 1


def test_waits_for_another_holder_then_names_it(etcd, clock):
    new_lock(etcd, clock).acquire('tok-aaaaaaaa', ALICE, 60)
    with pytest.raises(LockHeldError) as raised:
        new_lock(etcd, clock).acquire('tok-bbbbbbbb', {'user': 'bob'}, 60, wait_timeout=10)
    message = str(raised.value)
    assert 'held by alice on bastion (AWX job 42), playbook stop_node, node cp-02' in message
    assert 'Waited 10 s' in message and 'lease expires in 50 s' in message
    assert raised.value.lock['user'] == 'alice' and held_token(etcd) == 'tok-aaaaaaaa'


def test_a_waiting_run_gets_the_lock_when_the_lease_expires(etcd, clock):
    new_lock(etcd, clock).acquire('tok-aaaaaaaa', ALICE, 5)
    taken = new_lock(etcd, clock).acquire('tok-bbbbbbbb', {'user': 'bob'}, 60, wait_timeout=30)
    assert taken['action'] == 'taken' and 5 <= taken['waited'] <= 6 and held_token(etcd) == 'tok-bbbbbbbb'
    assert taken['lock_before']['user'] == 'alice'


def test_break_revokes_the_holder_lease_and_its_refresh_then_fails(etcd, clock):
    new_lock(etcd, clock).acquire('tok-aaaaaaaa', ALICE, 60)
    alice_lease = etcd.kvs[DEFAULT_LOCK_KEY.encode()]['lease']
    broken = new_lock(etcd, clock).acquire('tok-bbbbbbbb', {'user': 'bob'}, 60, break_lock=True)
    assert broken['action'] == 'broken' and broken['previous_holder']['user'] == 'alice'
    assert alice_lease not in etcd.leases and held_token(etcd) == 'tok-bbbbbbbb'
    with pytest.raises(LockHeldError, match='held by bob'):
        new_lock(etcd, clock).acquire('tok-aaaaaaaa', ALICE, 60)
    left = new_lock(etcd, clock).release('tok-aaaaaaaa')
    assert left['action'] == 'leave' and not left['changed'] and held_token(etcd) == 'tok-bbbbbbbb'
    cleared = new_lock(etcd, clock).release(None, break_lock=True)
    assert cleared['action'] == 'broken' and not etcd.kvs and not etcd.leases


def test_a_refresh_after_expiry_takes_the_free_lock_again(etcd, clock):
    lock = new_lock(etcd, clock)
    lock.acquire('tok-aaaaaaaa', ALICE, 5)
    clock.sleep(6)
    again = lock.acquire('tok-aaaaaaaa', ALICE, 5)
    assert again['changed'] and again['action'] == 'taken' and held_token(etcd) == 'tok-aaaaaaaa'


def test_lease_running_out_between_read_and_keepalive_is_renewed(etcd, clock):
    lock = new_lock(etcd, clock)
    lock.acquire('tok-aaaaaaaa', ALICE, 60)
    key = DEFAULT_LOCK_KEY.encode()
    old = etcd.kvs[key]['lease']
    real_keepalive = etcd.lease_keepalive_once

    def keepalive_after_expiry(endpoint, lease_id):
        etcd.leases.pop(lease_id)  # gone, but the key still there for a moment (etcd deletes it async)
        return real_keepalive(endpoint, lease_id)
    etcd.lease_keepalive_once = keepalive_after_expiry
    renewed = lock.acquire('tok-aaaaaaaa', ALICE, 60)
    assert renewed['action'] == 'renewed' and etcd.kvs[key]['lease'] != old and held_token(etcd) == 'tok-aaaaaaaa'


def test_lost_race_revokes_the_new_lease_and_reads_again(etcd, clock):
    lock = new_lock(etcd, clock)
    real_txn = etcd.kv_txn

    def someone_else_first(endpoint, request):
        etcd.kv_txn = real_txn
        new_lock(etcd, clock).acquire('tok-bbbbbbbb', {'user': 'bob'}, 60)
        return real_txn(endpoint, request)
    etcd.kv_txn = someone_else_first
    with pytest.raises(LockHeldError, match='held by bob'):
        lock.acquire('tok-aaaaaaaa', ALICE, 60)
    assert len(etcd.leases) == 1, 'the losing lease was left behind'


def test_a_txn_that_timed_out_but_landed_counts_as_taken(etcd, clock):
    lock = new_lock(etcd, clock, endpoints=(EP1, EP2))
    real_txn = etcd.kv_txn

    def applied_then_timed_out(endpoint, request):
        etcd.kv_txn = real_txn
        real_txn(endpoint, request)
        raise EtcdTimeoutError('%s: no answer within the timeout' % endpoint, endpoint)
    etcd.kv_txn = applied_then_timed_out
    taken = lock.acquire('tok-aaaaaaaa', ALICE, 60)
    assert taken['action'] == 'taken' and held_token(etcd) == 'tok-aaaaaaaa'
    assert etcd.kvs[DEFAULT_LOCK_KEY.encode()]['lease'] in etcd.leases, 'the lock lost its own lease'


def test_unreachable_or_leaderless_members_are_skipped_other_errors_are_not(etcd, clock):
    etcd.down.add(EP1)
    lock = new_lock(etcd, clock, endpoints=(EP1, EP2))
    assert lock.acquire('tok-aaaaaaaa', ALICE, 60)['action'] == 'taken'
    assert lock.endpoints[0] == EP2, 'the member that answered is not asked first'
    etcd.fail_next['kv_get'] = EtcdRequestError('no leader', EP2, code=14, etcd_message='etcdserver: no leader')
    etcd.down.clear()
    lock.endpoints = [EP2, EP1]
    assert lock.query()['lock']['held']
    etcd.fail_next['kv_get'] = EtcdRequestError('permission denied', EP1, code=7, etcd_message='permission denied')
    with pytest.raises(EtcdRequestError, match='permission denied'):
        lock.query()
    etcd.down.update((EP1, EP2))
    with pytest.raises(EtcdConnectionError, match='no etcd endpoint answered'):
        lock.query()


# ---------------------------------------------------------------- client methods, gateway answers

HEADER = {'cluster_id': '1126502087536705', 'member_id': '14593247367553392847', 'revision': '2', 'raft_term': '2'}


class Answer(object):
    def __init__(self, payload):
        self._body = io.BytesIO(payload)

    def read(self, size=-1):
        return self._body.read(size)


def client_answering(routes, calls):
    def opener(url, **kwargs):
        path = url.split('2379', 1)[1]
        calls.append((path, json.loads(kwargs['data'].decode())))
        answer = routes[path]
        return Answer(answer if isinstance(answer, bytes) else json.dumps(answer).encode())
    return EtcdClient('/ca', '/c', '/k', opener=opener)


def test_client_lease_and_txn_calls_speak_the_gateway():
    calls = []
    client = client_answering({
        '/v3/lease/grant': {'header': HEADER, 'ID': '2364286591678824453', 'TTL': '5'},
        # captured from etcd 3.5.1: one JSON line per keep-alive; a lease that is gone has no TTL
        '/v3/lease/keepalive': b'{"result":{"header":' + json.dumps(HEADER).encode() + b',"ID":"12345"}}\n',
        '/v3/lease/timetolive': {'header': HEADER, 'ID': '12345', 'TTL': '-1'},
        '/v3/kv/txn': {'header': HEADER, 'succeeded': True, 'responses': [{'response_put': {}}]},
        '/v3/kv/range': {'header': HEADER},
    }, calls)
    assert client.lease_grant(EP1, 5) == {'id': 2364286591678824453, 'ttl': 5}
    assert calls[-1] == ('/v3/lease/grant', {'TTL': '5'})
    assert client.lease_keepalive_once(EP1, 12345) == 0
    assert calls[-1] == ('/v3/lease/keepalive', {'ID': '12345'})
    assert client.lease_time_to_live(EP1, 12345) == {'ttl': -1, 'granted_ttl': 0}
    assert client.kv_txn(EP1, put_if_absent_txn(b'/k', b'v', 1))['succeeded'] is True
    assert client.kv_get(EP1, b'/k')[0] is None
    assert calls[-1] == ('/v3/kv/range', {'key': b64('/k')})


def test_client_revoke_of_a_lease_that_is_gone_is_not_an_error():
    calls = []
    client = client_answering({'/v3/lease/revoke': {'error': 'etcdserver: requested lease not found', 'code': 5,
                                                    'message': 'etcdserver: requested lease not found'}}, calls)
    assert client.lease_revoke(EP1, 12345) is False


def test_parse_kv_decodes_the_gateway_encoding():
    kv = parse_kv({'key': b64('/k'), 'value': b64('v'), 'create_revision': '2', 'mod_revision': '3',
                   'version': '1', 'lease': '2364286591678824456'})
    assert kv == {'key': b'/k', 'value': b'v', 'create_revision': 2, 'mod_revision': 3, 'version': 1,
                  'lease': 2364286591678824456}
    assert parse_kv({'key': b64('/k'), 'create_revision': '2', 'mod_revision': '2'})['value'] == b''
    assert lock_mod.kv_from_txn({'responses': [{'response_range': {}}]}) is None


@pytest.mark.parametrize('renewed_at, ttl, now, due', [
    (100.0, 30, 100.0, False),
    (100.0, 30, 109.9, False),
    (100.0, 30, 110.0, True),  # a third of the TTL passed: renew, 20 s of lease left
    (100.0, 2, 100.5, False),
    (100.0, 2, 100.7, True),
    (100.0, 30, 99.0, True),  # clock went backwards
    (None, 30, 100.0, True),
    ('', 30, 100.0, True),
    ('x', 30, 100.0, True),
    (float('inf'), 30, 100.0, True),
    (100.0, -1, 100.0, True),
])
def test_refresh_due(renewed_at, ttl, now, due):
    assert lock_mod.refresh_due(renewed_at, ttl, now) is due
