"""Issue 25: every command a message suggests is written by playbook_command (with -b), none by hand.

A command written by hand in a role or playbook is how start_node came to be suggested without -b after a
failed maintenance task; this finds the next one before a user does."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A playbook of this collection named after ansible-playbook in Python, within the same string or the next.
HAND_WRITTEN = re.compile(r"ansible-playbook['\"\s~+]*(-i |kubemaint\.)")


def _files(top, suffix):
    for directory, _dirs, files in os.walk(os.path.join(ROOT, top)):
        for name in files:
            if name.endswith(suffix):
                yield os.path.join(directory, name)


def test_no_role_or_playbook_writes_a_command_by_hand():
    found = []
    for top in ('roles', 'playbooks'):
        for path in _files(top, '.yml'):
            if path.endswith(os.path.join('meta', 'argument_specs.yml')):
                continue  # describes the default's rendered form to the reader; tests/unit/roles pins the default
            with open(path) as handle:
                for number, line in enumerate(handle, 1):
                    if 'ansible-playbook' in line and not line.lstrip().startswith('#'):
                        found.append('%s:%d: %s' % (os.path.relpath(path, ROOT), number, line.strip()))
    assert found == [], 'use the kubemaint.control_plane.playbook_command filter:\n' + '\n'.join(found)


def test_no_plugin_writes_a_command_by_hand():
    helper = os.path.join(ROOT, 'plugins', 'module_utils', '_commands.py')
    found = []
    for path in _files('plugins', '.py'):
        if path != helper:
            with open(path) as handle:
                text = handle.read()
            found.extend('%s: %s' % (os.path.relpath(path, ROOT), match.group(0)) for match in HAND_WRITTEN.finditer(text))
    assert found == [], 'use module_utils._commands.playbook_command:\n' + '\n'.join(found)
