"""etcd_lock against the lab: four-way acquire and release, a second holder, break_lock, lease
expiry, a killed run, failover to another member, and bad input refused with nothing written.
etcdctl is the oracle for what is in etcd."""
import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import yaml

from tests.integration.etcd_helpers import conn, etcd_stopped
from tests.integration.helpers import BIN, ansible_env, run_module, wait_for

PREFIX = '/kubemaint.control_plane/test-'
ALICE = {'user': 'alice', 'controller': 'bastion-a', 'awx_job_id': '4711', 'playbook': 'stop_node',
         'node': 'lab-cp-02'}
BOB = {'user': 'bob', 'controller': 'bastion-b', 'playbook': 'rolling_restart', 'node': 'lab-cp-03'}


def stored(lab, key):
    """(record dict, lease id int) as etcdctl reads the key; (None, None) when absent."""
    proc = lab.etcdctl(lab.nodes[0], 'get', key, '-w', 'json')
    assert proc.returncode == 0, proc.stderr
    kvs = json.loads(proc.stdout).get('kvs') or []
    if not kvs:
        return None, None
    return json.loads(base64.b64decode(kvs[0]['value'])), kvs[0].get('lease')


def lease_ttl(lab, lease_id):
    proc = lab.etcdctl(lab.nodes[0], 'lease', 'timetolive', '%x' % lease_id, '-w', 'json')
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)['ttl']


def lease_ids(lab):
    proc = lab.etcdctl(lab.nodes[0], 'lease', 'list', '-w', 'json')
    assert proc.returncode == 0, proc.stderr
    return set(lease['id'] for lease in json.loads(proc.stdout).get('leases') or [])


def lock(node, key, **extra):
    return conn(node, key=key, **extra)


def test_acquire_four_ways_then_release_four_ways(lab):
    node = lab.nodes[0]
    key = PREFIX + 'four-ways'
    args = lock(node, key, state='acquired', token='tok-alice-0001', ttl=60, holder=ALICE)

    check = run_module('etcd_lock', args, check_mode=True, diff=True)
    assert not check['failed'], check.get('msg')
    assert check['changed'] is True and check['action'] == 'taken'
    assert check['lock_before']['held'] is False and check['lock']['user'] == 'alice'
    assert 'user: alice' in check['diff']['after'] and check['diff']['before'] == 'free\n'
    assert stored(lab, key) == (None, None), 'check mode wrote the lock'

    apply = run_module('etcd_lock', args)
    assert not apply['failed'], apply.get('msg')
    assert apply['changed'] is True and apply['action'] == 'taken' and apply['token'] == 'tok-alice-0001'
    record, lease = stored(lab, key)
    assert record['token'] == 'tok-alice-0001'
    assert dict((k, record[k]) for k in ALICE) == ALICE
    assert record['started'].endswith('Z')
    assert 0 < lease_ttl(lab, lease) <= 60
    info = apply['lock']
    assert info['held'] and info['mine'] and info['ttl'] == 60 and int(info['lease_id'], 16) == lease
    assert 'held by alice on bastion-a (AWX job 4711), playbook stop_node, node lab-cp-02' in info['summary']

    time.sleep(1.5)
    again = run_module('etcd_lock', args)
    assert not again['failed'], again.get('msg')
    assert again['changed'] is False and again['action'] == 'refreshed'
    assert stored(lab, key) == (record, lease), 'a refresh rewrote the key'
    assert again['lock']['expires_in'] >= 59, 'the refresh did not renew the lease'

    check_again = run_module('etcd_lock', args, check_mode=True)
    assert check_again['changed'] is False and check_again['action'] == 'refreshed'

    # another ttl moves the lock to a new lease, same record
    longer = run_module('etcd_lock', dict(args, ttl=90))
    assert longer['changed'] is True and longer['action'] == 'renewed', longer.get('msg')
    record2, lease2 = stored(lab, key)
    assert record2 == record and lease2 != lease and 60 < lease_ttl(lab, lease2) <= 90
    assert lease_ttl(lab, lease) == -1, 'the old lease was not revoked'

    release = lock(node, key, state='released', token='tok-alice-0001')
    check = run_module('etcd_lock', release, check_mode=True, diff=True)
    assert check['changed'] is True and check['action'] == 'released', check.get('msg')
    assert check['diff']['after'] == 'free\n'
    assert stored(lab, key)[0] == record, 'check mode released the lock'

    apply = run_module('etcd_lock', release)
    assert apply['changed'] is True and apply['action'] == 'released', apply.get('msg')
    assert apply['lock']['held'] is False
    assert stored(lab, key) == (None, None)
    assert lease_ttl(lab, lease2) == -1, 'the lease was not revoked'

    again = run_module('etcd_lock', release)
    assert not again['failed'] and again['changed'] is False and again['action'] == 'absent'
    check_again = run_module('etcd_lock', release, check_mode=True)
    assert check_again['changed'] is False and check_again['action'] == 'absent'


def test_second_holder_waits_then_fails_naming_the_first_and_break_lock(lab):
    node, other = lab.nodes[0], lab.nodes[1]
    key = PREFIX + 'contended'
    first = run_module('etcd_lock', lock(node, key, state='acquired', ttl=60, holder=ALICE))
    assert first['changed'] and first['action'] == 'taken', first.get('msg')
    alice_token = first['token']
    assert len(alice_token) >= 16
    record, lease = stored(lab, key)

    for check_mode in (True, False):
        started = time.monotonic()
        second = run_module('etcd_lock', lock(other, key, state='acquired', ttl=60, wait_timeout=2, holder=BOB),
                            check_mode=check_mode)
        assert second['failed'] and second['action'] == 'wait'
        assert time.monotonic() - started >= 2
        for text in ('alice on bastion-a', 'AWX job 4711', 'playbook stop_node', 'node lab-cp-02',
                     'since ' + record['started'], 'lease expires in', 'Waited 2 s', 'break_lock=true'):
            assert text in second['msg'], (text, second['msg'])
        assert second['lock']['user'] == 'alice' and second['lock']['mine'] is False
        assert stored(lab, key) == (record, lease)

    query = run_module('etcd_lock', lock(other, key, state='query'))
    assert query['changed'] is False and query['lock']['user'] == 'alice'
    assert query['lock']['summary'].startswith('held by alice')

    # bob releasing alice's lock with his token changes nothing
    leave = run_module('etcd_lock', lock(other, key, state='released', token='tok-bob-00000001'))
    assert not leave['failed'] and leave['changed'] is False and leave['action'] == 'leave'
    assert any('not by this token' in warning for warning in leave.get('warnings', []))
    assert stored(lab, key) == (record, lease)

    broken = run_module('etcd_lock', lock(other, key, state='acquired', ttl=60, break_lock=True, holder=BOB,
                                          token='tok-bob-00000001'), diff=True)
    assert not broken['failed'], broken.get('msg')
    assert broken['changed'] is True and broken['action'] == 'broken'
    assert broken['previous_holder']['user'] == 'alice' and broken['lock']['user'] == 'bob'
    assert any('break_lock' in warning for warning in broken.get('warnings', []))
    bob_record, bob_lease = stored(lab, key)
    assert bob_record['token'] == 'tok-bob-00000001' and lease_ttl(lab, lease) == -1

    # alice's next refresh fails naming bob; her release leaves bob's lock alone
    refresh = run_module('etcd_lock', lock(node, key, state='acquired', ttl=60, token=alice_token, holder=ALICE))
    assert refresh['failed'] and 'bob on bastion-b' in refresh['msg'] and 'node lab-cp-03' in refresh['msg']
    release = run_module('etcd_lock', lock(node, key, state='released', token=alice_token))
    assert release['changed'] is False and release['action'] == 'leave'
    assert stored(lab, key) == (bob_record, bob_lease)

    # break_lock with state released removes the lock whoever holds it
    cleared = run_module('etcd_lock', lock(node, key, state='released', break_lock=True))
    assert cleared['changed'] is True and cleared['action'] == 'broken', cleared.get('msg')
    assert stored(lab, key) == (None, None) and lease_ttl(lab, bob_lease) == -1


def test_runs_launched_together_exactly_one_gets_the_lock(lab):
    """Three runs race for a free lock at the same moment: one takes it, the others fail naming it."""
    key = PREFIX + 'race'
    users = ['racer-%d' % index for index in range(3)]
    results = {}

    def race(user, node):
        results[user] = run_module('etcd_lock', lock(node, key, state='acquired', ttl=60,
                                                     holder={'user': user, 'node': node.name}))
    threads = [threading.Thread(target=race, args=(user, node)) for user, node in zip(users, lab.nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [user for user in users if not results[user]['failed']]
    assert len(winners) == 1, dict((user, results[user].get('msg')) for user in users)
    winner = winners[0]
    assert results[winner]['action'] == 'taken' and stored(lab, key)[0]['user'] == winner
    for user in users:
        if user != winner:
            assert 'held by %s' % winner in results[user]['msg'], results[user]['msg']
    assert run_module('etcd_lock', lock(lab.nodes[0], key, state='released', token=results[winner]['token']))['changed']


def test_expired_lease_frees_the_lock_for_a_waiting_run_and_a_late_refresh_retakes_it_once_free(lab):
    node = lab.nodes[0]
    key = PREFIX + 'expiry'
    ttl = 8
    first = run_module('etcd_lock', lock(node, key, state='acquired', ttl=ttl, holder=ALICE))
    assert first['changed'], first.get('msg')
    lease = stored(lab, key)[1]
    # The first holder lives on (its lease renewed, as a running playbook's renewals would) while the
    # second run starts and finds the lock held, however slow the machine is; then it dies and its lease
    # runs out on its own.
    second = {}
    waiter = threading.Thread(target=lambda: second.update(run_module(
        'etcd_lock', lock(node, key, state='acquired', ttl=60, wait_timeout=120, holder=BOB))))
    waiter.start()
    spawned = last_renewal = time.monotonic()
    while waiter.is_alive() and time.monotonic() - spawned < 20:
        renewed = lab.etcdctl(node, 'lease', 'keep-alive', '--once', '%x' % lease)
        assert renewed.returncode == 0, renewed.stderr
        last_renewal = time.monotonic()
        time.sleep(1)
    waiter.join(180)
    assert not second['failed'], second.get('msg')
    assert second['changed'] is True and second['action'] == 'taken' and second['waited'] >= 1, second
    assert second['lock_before']['user'] == 'alice' and second['lock']['user'] == 'bob'
    assert time.monotonic() - last_renewal < ttl + 2 + 10, 'the lock outlived its lease'
    # the first run comes back: its refresh names the new holder
    late = run_module('etcd_lock', lock(node, key, state='acquired', ttl=ttl, token=first['token'], holder=ALICE))
    assert late['failed'] and 'held by bob' in late['msg']
    assert run_module('etcd_lock', lock(node, key, state='released', token=second['token']))['changed']
    # once the lock is free, the first run's refresh takes it again (a lease long enough to release it)
    retake = run_module('etcd_lock', lock(node, key, state='acquired', ttl=60, token=first['token'], holder=ALICE))
    assert retake['changed'] is True and retake['action'] == 'taken', retake.get('msg')
    assert stored(lab, key)[0]['token'] == first['token']
    assert run_module('etcd_lock', lock(node, key, state='released', token=first['token']))['changed']


def test_killed_run_frees_the_lock_within_its_ttl(lab, tmp_path):
    """A playbook takes the lock and is SIGKILLed (controller killed) while holding it."""
    node = lab.nodes[0]
    key = PREFIX + 'killed'
    ttl = 4
    playbook = tmp_path / 'hold.yml'
    take = lock(node, key, state='acquired', ttl=ttl, holder=ALICE)
    playbook.write_text(yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'take the lock', 'kubemaint.control_plane.etcd_lock': take},
        {'name': 'a long step', 'ansible.builtin.wait_for': {'timeout': 120}},
    ]}]))
    command = [os.path.join(BIN, 'ansible-playbook'), str(playbook), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable]
    proc = subprocess.Popen(command, env=ansible_env(), cwd=str(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: stored(lab, key)[0] is not None, 120, 'the playbook to take the lock')
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_at = time.monotonic()
    assert stored(lab, key)[0]['user'] == 'alice', 'the lock did not survive until the kill'
    wait_for(lambda: stored(lab, key) == (None, None), ttl + 5, 'the lock to free itself')
    assert time.monotonic() - killed_at <= ttl + 3


def test_refresh_and_release_through_another_member_when_the_local_one_is_down(lab):
    node, other = lab.nodes[1], lab.nodes[0]
    key = PREFIX + 'failover'
    endpoints = [node.client_url, other.client_url]
    first = run_module('etcd_lock', lock(node, key, state='acquired', ttl=60, holder=ALICE, endpoints=endpoints))
    assert first['changed'], first.get('msg')
    with etcd_stopped(lab, node):
        refresh = run_module('etcd_lock', lock(node, key, state='acquired', ttl=60, token=first['token'],
                                               holder=ALICE, endpoints=endpoints))
        assert not refresh['failed'], refresh.get('msg')
        assert refresh['action'] == 'refreshed' and refresh['endpoints'] == endpoints
        release = run_module('etcd_lock', lock(node, key, state='released', token=first['token'],
                                               endpoints=endpoints))
        assert release['changed'] and release['action'] == 'released', release.get('msg')
        assert stored(lab, key) == (None, None)


BAD_INPUT = [
    ({'ttl': 0}, 'ttl must be between 2 and 3600'),
    ({'ttl': -5}, 'ttl must be between 2 and 3600'),
    ({'ttl': 3601}, 'ttl must be between 2 and 3600'),
    ({'ttl': 10 ** 13}, 'ttl must be between 2 and 3600'),
    ({'ttl': 'nan'}, 'ttl must be a finite number'),
    ({'ttl': 'inf'}, 'ttl must be a finite number'),
    ({'ttl': 2.5}, 'ttl must be a whole number'),
    ({'ttl': 'abc'}, 'ttl'),
    ({'wait_timeout': 'nan'}, 'wait_timeout must be a finite number'),
    ({'wait_timeout': 'inf'}, 'wait_timeout must be a finite number'),
    ({'wait_timeout': -1}, 'wait_timeout must be between 0 and 3600'),
    ({'wait_timeout': 1e13}, 'wait_timeout must be between 0 and 3600'),
    ({'key': '/registry/pods/kube-system/etcd'}, 'must start with /kubemaint.control_plane/'),
    ({'key': '/kubemaint.control_plane/'}, 'must start with /kubemaint.control_plane/'),
    ({'key': '/kubemaint.control_plane/../registry'}, 'no empty, "." or ".." segment'),
    ({'key': 'kubemaint.control_plane/lock'}, 'must start with /kubemaint.control_plane/'),
    ({'token': 'short'}, 'token must be 8 to 128 characters'),
    ({'holder': {'user': 'alice\nbob'}}, 'holder.user contains control characters'),
    ({'holder': {'node': 'x' * 300}}, 'holder.node is 300 characters long'),
    ({'state': 'released', 'token': None}, 'token is required with state=released'),
]


OPTIONS = ('state', 'key', 'token', 'ttl', 'wait_timeout', 'break_lock', 'holder', 'kubernetes_dir', 'timeout')


def run_module_cases(module_name, cases, timeout=600):
    """Run the module once per case in ONE ansible-playbook (a loop): the list of results."""
    with tempfile.TemporaryDirectory(prefix='kubemaint-cases-') as tmp:
        out = os.path.join(tmp, 'results.json')
        args = dict((option, '{{ item.%s | default(omit) }}' % option) for option in OPTIONS)
        task = {'name': 'cases', 'kubemaint.control_plane.' + module_name: args, 'loop': '{{ cases }}',
                'ignore_errors': True, 'register': 'result'}
        save = {'name': 'save', 'ansible.builtin.copy': {'content': '{{ result.results | to_json }}', 'dest': out}}
        playbook = os.path.join(tmp, 'play.yml')
        with open(playbook, 'w') as handle:
            yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'vars': {'cases': cases},
                             'tasks': [task, save]}], handle)
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), playbook, '-i', 'localhost,', '-c', 'local',
                               '-e', 'ansible_python_interpreter=%s' % sys.executable],
                              capture_output=True, text=True, timeout=timeout, env=ansible_env(), cwd=tmp, check=False)
        assert os.path.exists(out), proc.stdout[-4000:] + proc.stderr[-4000:]
        with open(out) as handle:
            return json.load(handle), proc.stdout + proc.stderr


def test_bad_input_is_refused_before_anything_is_written(lab):
    node = lab.nodes[0]
    key = PREFIX + 'bad-input'
    leases = lease_ids(lab)
    cases = []
    for extra, _message in BAD_INPUT:
        args = lock(node, key, state='acquired', token='tok-alice-0001', holder=ALICE)
        args.update(extra)
        if args.get('token') is None:
            args.pop('token')
        cases.append(args)
    # refused even without certificates: the options are checked first
    cases.append({'state': 'acquired', 'ttl': 0, 'kubernetes_dir': '/nonexistent'})
    results, output = run_module_cases('etcd_lock', cases)
    assert len(results) == len(BAD_INPUT) + 1
    for (extra, message), result in zip(BAD_INPUT + [({'kubernetes_dir': '/nonexistent'}, 'ttl must be between')],
                                        results):
        assert result.get('failed'), (extra, result)
        assert message in result['msg'], (extra, result['msg'])
    assert 'Traceback' not in output, output[-4000:]
    assert stored(lab, key) == (None, None)
    assert lease_ids(lab) <= leases, 'bad input left a lease behind'


def role_play(tmp_path, name, tasks_from, extra_tasks=(), hosts='control_plane', **role_vars):
    """A playbook that includes maintenance_lock with tasks_from, then prints what it holds."""
    path = tmp_path / ('%s.yml' % name)
    include = {'name': 'kubemaint.control_plane.maintenance_lock', 'tasks_from': tasks_from}
    tasks = [{'name': 'lock', 'ansible.builtin.include_role': include, 'vars': role_vars}]
    tasks += list(extra_tasks)
    tasks.append({'name': 'show', 'ansible.builtin.debug': {
        'msg': 'LOCK token={{ maintenance_lock_token | default("") }} '
               'held={{ maintenance_lock_status.held | default("") }} summary={{ maintenance_lock_status.summary }}'}})
    path.write_text(yaml.safe_dump([{'name': name, 'hosts': hosts, 'gather_facts': False, 'serial': 1,
                                     'tasks': tasks}]))
    return str(path)


def test_role_acquire_refresh_release_and_a_second_run(lab, tmp_path):
    from tests.integration.helpers import run_playbook
    key = PREFIX + 'role'
    common = {'maintenance_lock_key': key, 'maintenance_lock_ttl': 30}
    refresh_task = {'name': 'refresh', 'ansible.builtin.include_role': {
        'name': 'kubemaint.control_plane.maintenance_lock', 'tasks_from': 'refresh'}, 'vars': common}
    holding = role_play(tmp_path, 'Stop one node', 'acquire', [refresh_task], **common)
    first = run_playbook(holding, lab.inventory_path, extra_vars={'awx_job_id': 77}, limit=lab.nodes[1].name,
                         env={'USER': 'alice'})
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    record, lease = stored(lab, key)
    assert (record['user'], record['awx_job_id'], record['playbook'], record['node']) == (
        'alice', '77', 'Stop one node', lab.nodes[1].name)
    assert record['controller'] == os.uname()[1] and 0 < lease_ttl(lab, lease) <= 30

    # another run on another node: fails at once naming the holder, changes nothing
    second = run_playbook(role_play(tmp_path, 'Stop another node', 'acquire', maintenance_lock_wait_timeout=0,
                                    **common),
                          lab.inventory_path, limit=lab.nodes[2].name, env={'USER': 'bob'})
    assert second.returncode != 0
    text = second.stdout + second.stderr
    assert 'held by alice on %s (AWX job 77), playbook Stop one node, node %s' % (os.uname()[1], lab.nodes[1].name) \
        in text, text[-4000:]
    assert stored(lab, key) == (record, lease)

    # query reads it from any node and changes nothing
    query = run_playbook(role_play(tmp_path, 'Show the lock', 'query', **common), lab.inventory_path,
                         limit=lab.nodes[0].name)
    assert query.returncode == 0 and 'held=True summary=held by alice' in query.stdout, query.stdout[-3000:]
    assert 'changed=0' in query.stdout

    # a run that holds no lock and sets maintenance_lock_break removes it
    cleared = run_playbook(role_play(tmp_path, 'Clear a dead run', 'release', maintenance_lock_break=True,
                                     **common),
                           lab.inventory_path, limit=lab.nodes[0].name)
    assert cleared.returncode == 0, cleared.stdout[-4000:]
    assert stored(lab, key) == (None, None) and lease_ttl(lab, lease) == -1

    # a whole run: acquire, refresh, release; nothing left behind
    release_task = {'name': 'release', 'ansible.builtin.include_role': {
        'name': 'kubemaint.control_plane.maintenance_lock', 'tasks_from': 'release'}, 'vars': common}
    whole = run_playbook(role_play(tmp_path, 'Whole run', 'acquire', [refresh_task, release_task], **common),
                         lab.inventory_path)
    assert whole.returncode == 0, whole.stdout[-4000:]
    assert whole.stdout.count('LOCK token= held=False summary=free') == 3, whole.stdout[-4000:]
    assert stored(lab, key) == (None, None)


PROGRESS = re.compile(r'^(\S+): waiting for the maintenance lock, (held by .*): (\d+) s of (\d+) s$', re.M)


def test_a_long_wait_prints_one_line_per_slice_and_fails_or_takes_the_lock_as_one_wait(lab, tmp_path):
    """The etcd_lock action plugin through the role (delegate_to and run_once, as _call.yml runs it): a
    25 s wait is three slices of at most 10 s, with a line between two of them naming the holder, never
    its token; it fails as one wait of 25 s would, naming the holder and break_lock; a lock freed during
    the wait is taken, and the wait reported is the whole one."""
    from tests.integration.helpers import run_playbook
    key = PREFIX + 'sliced'
    common = {'maintenance_lock_key': key, 'maintenance_lock_ttl': 60, 'maintenance_lock_wait_timeout': 25}
    first = run_module('etcd_lock', lock(lab.nodes[0], key, state='acquired', ttl=60, holder=ALICE))
    assert first['action'] == 'taken', first.get('msg')
    record, lease = stored(lab, key)
    waiter = lab.nodes[2].name

    started = time.monotonic()
    refused = run_playbook(role_play(tmp_path, 'Wait then give up', 'acquire', **common), lab.inventory_path,
                           limit=waiter, env={'USER': 'bob'})
    took = time.monotonic() - started
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0 and 25 <= took < 60, (took, text[-4000:])
    lines = PROGRESS.findall(refused.stdout)
    assert [(host, waited, total) for host, _held, waited, total in lines] == [
        (waiter, '10', '25'), (waiter, '20', '25')], text[-4000:]
    assert all(held.startswith('held by alice on bastion-a (AWX job 4711)') for _h, held, _w, _t in lines)
    assert all(first['token'] not in line for line in refused.stdout.splitlines() if 'waiting for the' in line)
    failure = [line for line in text.splitlines() if 'Waited 25 s.' in line]
    assert failure and 'held by alice on bastion-a' in failure[0] and 'break_lock=true' in failure[0], text[-4000:]
    assert 'Waited 5 s' not in text and 'Waited 10 s' not in text
    assert stored(lab, key) == (record, lease)

    # alice releases during bob's wait: bob takes the lock in its second slice, and says how long it waited
    proc = subprocess.Popen([os.path.join(BIN, 'ansible-playbook'), role_play(tmp_path, 'Wait then take', 'acquire',
                                                                              **common),
                             '-i', lab.inventory_path, '--limit', waiter], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=ansible_env({'USER': 'bob'}))
    try:
        time.sleep(13)
        released = run_module('etcd_lock', lock(lab.nodes[0], key, state='released', token=first['token']))
        assert released['action'] == 'released', released.get('msg')
        output = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output[-4000:]
    assert [waited for _h, _held, waited, _t in PROGRESS.findall(output)] == ['10'], output[-4000:]
    waited = re.search(r'Waited ([0-9.]+) s for the maintenance lock; until then it was\s+held by alice', output)
    assert waited and 10 <= float(waited.group(1)) < 20, output[-4000:]
    assert 'LOCK token=' in output and stored(lab, key)[0]['user'] == 'bob'
    assert run_module('etcd_lock', lock(lab.nodes[0], key, state='released', break_lock=True))['changed']


def test_module_defaults_and_check_mode_reach_the_sliced_wait(lab, tmp_path):
    """module_defaults of the etcd group (the key and the wait_timeout here) apply to the task that the
    action plugin runs in slices; in check mode it waits the same way and writes nothing."""
    from tests.integration.helpers import run_playbook
    key = PREFIX + 'defaults'
    first = run_module('etcd_lock', lock(lab.nodes[0], key, state='acquired', ttl=60, holder=ALICE))
    assert first['action'] == 'taken', first.get('msg')
    record, lease = stored(lab, key)
    runner = lab.nodes[1].name
    task = {'name': 'bob asks', 'kubemaint.control_plane.etcd_lock': {
        'state': 'acquired', 'holder': BOB,
        'kubernetes_dir': "{{ hostvars['%s']['kubernetes_dir'] | default('/etc/kubernetes') }}" % runner},
        'delegate_to': runner, 'run_once': True, 'check_mode': True, 'ignore_errors': True, 'register': 'bob'}
    show = {'name': 'show', 'ansible.builtin.debug': {
        'msg': 'RESULT waited={{ bob.waited }} action={{ bob.action }} key={{ bob.lock.key }}'}, 'run_once': True}
    playbook = tmp_path / 'defaults.yml'
    playbook.write_text(yaml.safe_dump([{
        'name': 'Defaults', 'hosts': 'control_plane', 'gather_facts': False,
        'module_defaults': {'group/kubemaint.control_plane.etcd': {'key': key, 'wait_timeout': 12, 'ttl': 60,
                                                                   'timeout': 5}},
        'tasks': [task, show]}]))
    proc = run_playbook(str(playbook), lab.inventory_path)
    text = proc.stdout + proc.stderr
    lines = PROGRESS.findall(proc.stdout)
    assert [(host, waited, total) for host, _held, waited, total in lines] == [(lab.nodes[0].name, '10', '12')], \
        text[-4000:]
    assert lines[0][1].startswith('held by alice on bastion-a')
    result = re.search(r'RESULT waited=([0-9.]+) action=wait key=(\S+)"', proc.stdout)
    assert result and 12 <= float(result.group(1)) < 14 and result.group(2) == key, text[-4000:]
    assert 'Waited 12 s.' in text and 'break_lock=true' in text
    assert stored(lab, key) == (record, lease)
    assert run_module('etcd_lock', lock(lab.nodes[0], key, state='released', break_lock=True))['changed']
