import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    DAYS,
    REQUEST_TIMEOUT,
    SNAPSHOT_KEEP,
    WAIT_TIMEOUT,
    argument_problems,
    check_arguments,
)


# The hostile inputs of issue 14 that crashed or misbehaved, and their neighbours.
@pytest.mark.parametrize('value,bounds,ok', [
    (5.0, REQUEST_TIMEOUT, True),
    (0.001, REQUEST_TIMEOUT, True),
    (3600, REQUEST_TIMEOUT, True),
    (0, REQUEST_TIMEOUT, False),
    (-1, REQUEST_TIMEOUT, False),
    (1e13, REQUEST_TIMEOUT, False),              # OverflowError in a deadline before
    (float('inf'), REQUEST_TIMEOUT, False),
    (float('-inf'), REQUEST_TIMEOUT, False),
    (float('nan'), REQUEST_TIMEOUT, False),      # accepted, then "0 members" of a healthy cluster
    (-1, WAIT_TIMEOUT, False),                   # stashed a manifest, then failed
    (0, WAIT_TIMEOUT, False),
    (1, WAIT_TIMEOUT, True),
    (10 ** 30, WAIT_TIMEOUT, False),
    (0, SNAPSHOT_KEEP, True),
    (-2, SNAPSHOT_KEEP, False),
    (0, DAYS, True),
    (-1, DAYS, False),
    ('12', WAIT_TIMEOUT, True),
    ('soon', WAIT_TIMEOUT, False),
    (True, WAIT_TIMEOUT, False),
    (None, WAIT_TIMEOUT, True),                  # an option not set
])
def test_numbers_are_finite_and_bounded(value, bounds, ok):
    problems = argument_problems({'n': value}, numbers={'n': bounds})
    assert (problems == []) is ok, problems
    if not ok:
        assert problems[0].startswith('n must be')


@pytest.mark.parametrize('value,ok', [
    ('/var/backups/etcd', True),
    (None, True),
    ('backups', False),
    ('./backups', False),
    ('', False),
    ('/a\0b', False),
])
def test_paths_are_absolute(value, ok):
    problems = argument_problems({'dest': value}, absolute_paths=('dest',))
    assert (problems == []) is ok, problems
    if value == 'backups':
        assert "temporary working directory" in problems[0]


@pytest.mark.parametrize('value,ok', [
    ('etcd-snapshot', True),
    ('nightly.v2', True),
    ('../escaped', False),
    ('sub/name', False),
    ('..', False),
    ('.', False),
    ('.hidden', False),
    ('', False),
])
def test_file_name_parts_stay_in_their_directory(value, ok):
    problems = argument_problems({'prefix': value}, file_name_parts=('prefix',))
    assert (problems == []) is ok, problems


class _Failed(Exception):
    pass


class _Module:
    def __init__(self, params):
        self.params = params
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise _Failed()


def test_check_arguments_names_every_problem_at_once():
    module = _Module({'timeout': float('nan'), 'dest': 'rel', 'prefix': '../x'})
    with pytest.raises(_Failed):
        check_arguments(module, numbers={'timeout': REQUEST_TIMEOUT}, absolute_paths=('dest',),
                        file_name_parts=('prefix',))
    assert module.failed['changed'] is False and len(module.failed['invalid_arguments']) == 3
    assert module.failed['msg'].startswith('invalid arguments, nothing was changed: timeout must be a finite number')
    check_arguments(_Module({'timeout': 5.0}), numbers={'timeout': REQUEST_TIMEOUT})  # passes silently
