"""space: a member's db figures with what is missing derived, and sizes as the operator reads them."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd import space
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.space import GIB, MIB

human_size, member_space, number, percent = space.human_size, space.member_space, space.number, space.percent


@pytest.mark.parametrize('value,text', [
    (None, '-'), (0, '0 B'), (1023, '1023 B'), (1024, '1.0 KiB'), (412 * MIB, '412 MiB'), (GIB, '1.0 GiB'),
    (int(9.96 * MIB), '10.0 MiB'), (2 * GIB, '2.0 GiB'), (8 * GIB, '8.0 GiB'), (20480, '20 KiB'),
])
def test_sizes_read_in_binary_units(value, text):
    assert human_size(value) == text


def test_percent_rounds_down_so_a_threshold_never_looks_met_when_it_is_not():
    assert percent(0.449) == '44%' and percent(0.45) == '45%' and percent(None) == '-' and percent(1.0) == '100%'


@pytest.mark.parametrize('member,space', [
    ({'db_size': 100, 'db_size_in_use': 60}, {'size': 100, 'in_use': 60, 'free': 40, 'quota': None, 'usage': None}),
    ({'db_size': 100, 'db_size_in_use': 60, 'db_size_free': 10, 'quota_bytes': 200},
     {'size': 100, 'in_use': 60, 'free': 10, 'quota': 200, 'usage': 0.5}),
    ({'db_size': 100, 'db_size_in_use': 60, 'quota_bytes': 400, 'quota_usage': 0.3},
     {'size': 100, 'in_use': 60, 'free': 40, 'quota': 400, 'usage': 0.3}),
    # etcd reports in use above the size for a moment after a commit: nothing is free, never a negative figure
    ({'db_size': 100, 'db_size_in_use': 120, 'quota_bytes': 0}, {'size': 100, 'in_use': 120, 'free': 0, 'quota': None,
                                                                 'usage': None}),
    ({}, {'size': None, 'in_use': None, 'free': None, 'quota': None, 'usage': None}),
    ({'db_size': '100', 'db_size_in_use': '50'}, {'size': 100, 'in_use': 50, 'free': 50, 'quota': None, 'usage': None}),
])
def test_member_space_derives_what_is_missing(member, space):
    assert member_space(member) == space


@pytest.mark.parametrize('value,match', [
    ('x', "size must be a number, got 'x'"), (True, 'size must be a number, got True'),
    (float('inf'), 'size must be a finite number'), ([], 'size must be a number'),
])
def test_number_names_what_is_wrong(value, match):
    with pytest.raises(space.SpaceInputError, match=match):
        number(value, 'size')
    assert number(None, 'size') is None and number('', 'size') is None and number('2.5', 'size') == 2.5


def test_a_member_that_is_no_dict_is_named():
    with pytest.raises(space.SpaceInputError, match='a member must be a dict'):
        member_space('cp1')
