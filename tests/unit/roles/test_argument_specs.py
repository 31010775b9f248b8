"""Every role's meta/argument_specs.yml documents exactly its defaults, with the same values."""
import os

import pytest
import yaml

ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'roles')
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))
TYPES = {'bool': bool, 'float': float, 'int': int, 'str': str, 'list': list, 'dict': dict}


def load(role, *path):
    with open(os.path.join(ROLES_DIR, role, *path)) as handle:
        return yaml.safe_load(handle)


def test_the_roles_are_there():
    assert ROLES == ['cert_check', 'cluster_state', 'control_plane_node', 'maintenance_lock', 'member_recovery', 'recover']


@pytest.mark.parametrize('role', ROLES)
def test_argument_spec_defaults_match_role_defaults(role):
    defaults = load(role, 'defaults', 'main.yml')
    specs = load(role, 'meta', 'argument_specs.yml')['argument_specs']
    documented = set()
    for entry_point, spec in specs.items():
        assert spec.get('short_description'), (role, entry_point)
        assert os.path.exists(os.path.join(ROLES_DIR, role, 'tasks', entry_point + '.yml')), (role, entry_point)
        for name, option in spec['options'].items():
            assert name.startswith(role + '_'), name
            assert name in defaults, '%s documents %s, which defaults/main.yml lacks' % (role, name)
            assert option['default'] == defaults[name], (role, entry_point, name)
            assert isinstance(defaults[name], TYPES[option['type']]), (role, name)
            assert option.get('description'), (role, name)
            text = ' '.join(option['description']) if isinstance(option['description'], list) else option['description']
            assert name not in text.split() and len(text.split()) >= 5, 'placeholder description: %s %s' % (role, name)
            documented.add(name)
    assert documented == set(defaults), 'undocumented defaults: %s' % sorted(set(defaults) - documented)


@pytest.mark.parametrize('role', ROLES)
def test_no_prompts_anywhere(role):
    for directory, _dirs, files in os.walk(os.path.join(ROLES_DIR, role)):
        for name in files:
            with open(os.path.join(directory, name)) as handle:
                text = handle.read()
            assert 'ansible.builtin.pause' not in text and 'vars_prompt' not in text, name


def test_overrides_say_what_they_risk():
    for role in ('cluster_state', 'control_plane_node'):
        assert load(role, 'defaults', 'main.yml')[role + '_allow_quorum_loss'] is False


def _role_texts(role):
    for directory, _dirs, files in os.walk(os.path.join(ROLES_DIR, role)):
        for name in files:
            with open(os.path.join(directory, name)) as handle:
                yield os.path.join(directory, name), handle.read()


@pytest.mark.parametrize('role', ROLES)
def test_no_role_reads_another_roles_private_variables(role):
    for path, text in _role_texts(role):
        for other in ROLES:
            if other != role:
                assert '_%s_' % other not in text.replace(role + '_', ''), (path, other)


def test_no_template_decides():
    """The guard, the cluster view, recover's plan and the endpoint list are Python (filters, modules)."""
    for role in ROLES:
        templates = os.path.join(ROLES_DIR, role, 'templates')
        names = os.listdir(templates) if os.path.isdir(templates) else []
        assert not [name for name in names if name.split('.')[0] in ('guard', 'view', 'plan', 'found', 'endpoints', 'table')], \
            (role, names)
