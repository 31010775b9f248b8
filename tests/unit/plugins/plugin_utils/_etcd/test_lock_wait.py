"""lock_wait: the etcd_lock action plugin's arithmetic. A wait longer than one slice is cut into
slices that add up to wait_timeout; one line per slice names the holder, never its token; the slices'
results make one result that reads like one long wait."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.lock_wait import (
    WAIT_SLICE,
    combine,
    next_slice,
    progress_line,
    slice_waited,
    still_held,
    wants_slices,
)

KEY = '/kubemaint.control_plane/lock'
ALICE = {'key': KEY, 'held': True, 'readable': True, 'mine': False, 'token': 'secret-token-of-alice',
         'user': 'alice', 'summary': 'held by alice on bastion-a, node lab-cp-02; lease expires in 50 s unless refreshed'}


def held(waited, summary=None):
    lock = dict(ALICE, summary=summary or ALICE['summary'])
    return {'failed': True, 'action': 'wait', 'waited': waited, 'lock': lock,
            'msg': 'the maintenance lock %s is %s. Waited %d s. ... break_lock=true' % (KEY, lock['summary'], waited),
            'invocation': {'module_args': {'state': 'acquired', 'wait_timeout': 10.0}}}


@pytest.mark.parametrize('args, expected', [
    ({'state': 'acquired', 'wait_timeout': 60}, True),
    ({'state': 'acquired', 'wait_timeout': '25'}, True),
    ({'state': 'acquired', 'wait_timeout': WAIT_SLICE + 0.5}, True),
    ({'state': 'acquired', 'wait_timeout': WAIT_SLICE}, False),
    ({'state': 'acquired', 'wait_timeout': 0}, False),
    ({'state': 'acquired'}, False),
    ({'state': 'released', 'wait_timeout': 60}, False),
    ({'state': 'query', 'wait_timeout': 60}, False),
    # left to the module to refuse, in one run
    ({'state': 'acquired', 'wait_timeout': 'soon'}, False),
    ({'state': 'acquired', 'wait_timeout': True}, False),
    ({'state': 'acquired', 'wait_timeout': float('inf')}, False),
    ({'state': 'acquired', 'wait_timeout': None}, False),
    ({'state': 'acquired', 'wait_timeout': 3600}, True),
    ({'state': 'acquired', 'wait_timeout': 3600.5}, False),
    ({'state': 'acquired', 'wait_timeout': 1e13}, False),
])
def test_only_a_wait_longer_than_one_slice_is_sliced(args, expected):
    assert wants_slices(args) is expected


def test_slices_add_up_to_the_wait_timeout():
    slices, waited = [], 0.0
    while next_slice(25, waited) > 0:
        slices.append(next_slice(25, waited))
        waited += slices[-1]
    assert slices == [10.0, 10.0, 5.0] and waited == 25
    assert next_slice(60, 0, wait_slice=20) == 20 and next_slice(60, 59.5) == 0.5
    assert next_slice(60, 61) == 0.0


def test_a_slice_waited_what_it_says_and_a_held_slice_at_least_what_it_was_asked():
    assert slice_waited({'waited': 3.25, 'action': 'taken'}, 10) == 3.25
    assert slice_waited(held(10.04), 10) == 10.04
    assert slice_waited({'failed': True, 'action': 'wait'}, 10) == 10.0  # no `waited`: what was asked
    assert slice_waited({'failed': True, 'msg': 'no etcd endpoint answered'}, 10) == 0.0
    assert slice_waited({'waited': 'odd'}, 10) == 0.0 and slice_waited({'waited': -1}, 10) == 0.0


def test_only_a_run_that_found_the_lock_held_to_the_end_waits_again():
    assert still_held(held(10)) is True
    assert still_held({'failed': True, 'msg': 'no etcd endpoint answered'}) is False
    assert still_held({'changed': True, 'action': 'taken'}) is False


def test_the_progress_line_names_host_holder_and_time_never_the_token():
    line = progress_line('lab-cp-01', held(10), 10.02, 60)
    assert line == ('lab-cp-01: waiting for the maintenance lock, held by alice on bastion-a, node lab-cp-02; '
                    'lease expires in 50 s unless refreshed: 10 s of 60 s')
    assert 'secret-token' not in line and '\n' not in line
    assert progress_line('h', held(10), 20, 25.0, show_holder=False) == \
        'h: waiting for the maintenance lock, held by another run: 20 s of 25 s'
    assert progress_line('h', {'failed': True, 'action': 'wait'}, 10, 60).endswith('held by another run: 10 s of 60 s')


def test_a_wait_that_ran_out_fails_with_the_module_message_for_the_whole_wait():
    results = [held(10.01), held(10.02), dict(held(5.01), exception='the last slice: Waited 5 s')]
    combined = combine(results, 25.04, 25, key=KEY)
    assert combined['failed'] is True and combined['action'] == 'wait' and combined['waited'] == 25.04
    assert 'Waited 25 s.' in combined['msg'] and 'Waited 5 s' not in combined['msg']
    for text in (KEY, 'held by alice on bastion-a', 'break_lock=true'):
        assert text in combined['msg']
    assert combined['invocation']['module_args']['wait_timeout'] == 25.0
    assert 'exception' not in combined  # ansible-core 2.19 would print the last slice's message from it
    assert results[-1]['msg'].count('Waited 5 s') == 1  # the slices' results are left as they were


def test_a_lock_freed_during_the_wait_is_taken_and_reported_as_one_wait():
    taken = {'changed': True, 'action': 'taken', 'waited': 3.0, 'token': 't',
             'lock': {'key': KEY, 'held': True, 'mine': True}, 'lock_before': {'key': KEY, 'held': True, 'user': 'bob'}}
    taken['diff'] = {'before': 'free\n', 'after': 'key: %s\n' % KEY}
    combined = combine([held(10), held(10), taken], 23.0, 60)
    assert combined['changed'] is True and combined['action'] == 'taken' and combined['waited'] == 23.0
    assert combined['lock_before'] == held(10)['lock'] and 'msg' not in combined
    # diff mode: before is the lock the wait began with, as one long module run shows it
    assert 'user: alice' in combined['diff']['before'] and combined['diff']['after'] == taken['diff']['after']


def test_one_slice_is_the_module_result_with_its_own_numbers():
    taken = {'changed': True, 'action': 'taken', 'waited': 0.0, 'lock_before': {'key': KEY, 'held': False}}
    assert combine([taken], 0.0, 60) == taken


def test_an_error_in_a_later_slice_is_that_error_with_the_time_waited_before():
    error = {'failed': True, 'msg': 'maintenance lock %s: no etcd endpoint answered' % KEY, 'reason': 'unreachable'}
    combined = combine([held(10), error], 10.0, 60)
    assert combined['msg'] == error['msg'] and combined['waited'] == 10.0 and 'lock_before' not in combined
