"""Issue 25: a command our messages suggest reads as the README's do, with -b (become)."""
from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command


def test_a_suggested_command_carries_become_and_the_inventory():
    assert playbook_command('start_node', '--limit', 'cp1') == \
        'ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit cp1'


def test_a_full_name_and_empty_options():
    assert playbook_command('kubemaint.control_plane.recover') == \
        'ansible-playbook -b -i <inventory> kubemaint.control_plane.recover'
    assert playbook_command('restore_quorum', '-e restore_quorum_confirm=m1', '', None) == \
        'ansible-playbook -b -i <inventory> kubemaint.control_plane.restore_quorum -e restore_quorum_confirm=m1'
