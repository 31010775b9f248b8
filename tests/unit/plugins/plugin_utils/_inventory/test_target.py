"""control_plane_target: a wrong group, an empty one, a node or a limit outside the group are refused
with a message that names the group's hosts (or the inventory's groups) and the option to fix it."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._inventory.target import control_plane_target

GROUPS = {
    'all': ['cp1', 'cp2', 'cp3', 'web1'],
    'ungrouped': [],
    'control_plane': ['cp1', 'cp2', 'cp3'],
    'web': ['web1'],
    'nothing': [],
}
EVERY_HOST = GROUPS['all'] + ['localhost']


def target(group='control_plane', limit=None, node=None, limited_hosts=None, groups=None):
    return control_plane_target(GROUPS if groups is None else groups, group, limit=limit, node=node,
                                limited_hosts=EVERY_HOST if limited_hosts is None else limited_hosts)


@pytest.mark.parametrize('limit,limited,node,selected', [
    (None, None, None, ['cp1', 'cp2', 'cp3']),
    (None, None, '', ['cp1', 'cp2', 'cp3']),  # an empty survey field is no node
    ('cp2', ['cp2'], None, ['cp2']),
    ('cp1,cp3', ['cp1', 'cp3'], None, ['cp1', 'cp3']),
    ('control_plane', ['cp1', 'cp2', 'cp3'], None, ['cp1', 'cp2', 'cp3']),
    ('cp[1:2]', ['cp2', 'cp3'], None, ['cp2', 'cp3']),  # a pattern: what it matched decides
    ('all:!web', ['cp1', 'cp2', 'cp3'], None, ['cp1', 'cp2', 'cp3']),
    (None, None, 'cp2', ['cp2']),
    ('cp2', ['cp2'], 'cp2', ['cp2']),
    (['cp1', 'cp2'], ['cp1', 'cp2'], None, ['cp1', 'cp2']),
])
def test_hosts_of_the_group_pass(limit, limited, node, selected):
    result = target(limit=limit, limited_hosts=limited, node=node)
    assert result == {'ok': True, 'group': 'control_plane', 'hosts': ['cp1', 'cp2', 'cp3'], 'selected': selected,
                      'message': ''}


def test_a_missing_group_is_refused_listing_the_inventory_groups():
    result = target(group='kube_control_plane')
    assert not result['ok'] and result['hosts'] == [] and result['selected'] == []
    assert result['message'] == (
        "The inventory has no group kube_control_plane: this run would act on no host (the inventory's groups: "
        'control_plane (cp1, cp2, cp3); nothing (no host); web (web1)). Put the control-plane hosts in '
        'kube_control_plane, or name their group with -e control_plane_group=NAME. Nothing was changed.')


def test_an_empty_group_is_refused_listing_the_inventory_groups():
    result = target(group='nothing')
    assert not result['ok']
    assert result['message'].startswith('The inventory group nothing has no host: this run would act on no host '
                                        "(the inventory's groups: control_plane (cp1, cp2, cp3); nothing (no host); "
                                        'web (web1)).')
    assert '-e control_plane_group=NAME' in result['message']


def test_an_inventory_without_groups_says_so():
    result = control_plane_target({'all': ['a', 'b'], 'ungrouped': ['a', 'b']}, 'control_plane')
    assert 'has no group control_plane: this run would act on no host (the inventory has no group besides all ' \
        '(2 hosts))' in result['message']


def test_a_large_inventory_is_summarised():
    groups = dict(('group%02d' % number, ['h%d' % host for host in range(number)]) for number in range(1, 16))
    groups['all'] = groups['group15']
    message = control_plane_target(groups, 'control_plane')['message']
    assert "(the inventory's groups: group01 (h0); group02 (h0, h1); group03 (h0, h1, h2); group04 (4 hosts: h0, h1, " \
        'h2, ...); ' in message
    assert 'group08 (8 hosts: h0, h1, h2, ...); and 7 more).' in message and 'group09' not in message
    assert len(message) < 500


@pytest.mark.parametrize('node', ['cp-1', 'web1', 'localhost', 'CP1'])
def test_a_node_outside_the_group_is_refused_naming_the_group_hosts(node):
    result = target(node=node)
    assert not result['ok'] and result['hosts'] == ['cp1', 'cp2', 'cp3']
    assert result['message'] == (
        'node=%s is no host of the group control_plane (cp1, cp2, cp3). Name one of them with -e node=NAME (its '
        'inventory name), or name another group with -e control_plane_group=NAME. Nothing was changed.' % node)


def test_a_numeric_node_is_compared_as_a_name():
    assert not target(node=1)['ok'] and 'node=1 is no host' in target(node=1)['message']


@pytest.mark.parametrize('limit,limited,outside', [
    ('web1', ['web1'], 'web1'),
    ('cp1,web1', ['cp1', 'web1'], 'web1'),
    ('web', ['web1'], 'web1'),
    ('all', EVERY_HOST[:-1], 'web1'),
    ('cp1,localhost', ['cp1', 'localhost'], 'localhost'),
    ('*1', ['cp1', 'web1'], 'web1'),
])
def test_a_limit_outside_the_group_is_refused_naming_the_group_hosts(limit, limited, outside):
    result = target(limit=limit, limited_hosts=limited)
    assert not result['ok']
    assert result['message'] == (
        '--limit %s selects %s outside the group control_plane (cp1, cp2, cp3). Limit the run to hosts of '
        'control_plane, or name another group with -e control_plane_group=NAME. Nothing was changed.'
        % (limit, outside))


@pytest.mark.parametrize('limit,unknown', [
    ('cp1,cp-2', 'cp-2, which is'),       # ansible-playbook only warns and runs on cp1
    ('cp1:cp-2:cp-3', 'cp-2, cp-3, which are'),
    (['cp1', 'typo'], 'typo, which is'),
])
def test_a_limit_naming_no_host_of_the_inventory_is_refused(limit, unknown):
    result = target(limit=limit, limited_hosts=['cp1'])
    assert not result['ok']
    assert (' names %s no host or group of the inventory. Limit the run to hosts of the group control_plane '
            '(cp1, cp2, cp3), or name another group' % unknown) in result['message']


def test_patterns_in_a_limit_are_judged_by_what_they_matched_not_by_their_text():
    for limit in ('~cp[12]', 'cp*', '@retry.txt', 'control_plane:!cp3', 'control_plane:&cp1'):
        assert target(limit=limit, limited_hosts=['cp1'])['ok'], limit


def test_a_node_the_limit_leaves_out_is_refused():
    result = target(limit='cp1', limited_hosts=['cp1'], node='cp2')
    assert not result['ok']
    assert result['message'] == ('node=cp2 is not among the hosts --limit cp1 selects (cp1). Give the node with '
                                 '-e node=NAME or with --limit NODE, not both. Nothing was changed.')


def test_an_explicit_localhost_in_the_group_counts_as_its_host():
    groups = {'all': ['localhost'], 'ungrouped': [], 'control_plane': ['localhost']}
    assert control_plane_target(groups, 'control_plane', limit='localhost', limited_hosts=['localhost'])['ok']
