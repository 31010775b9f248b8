"""member_recovery's replace: the lines replace_member prints before and after it changes the cluster."""
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import status_table
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.replace import (
    replace_done_line,
    replace_lines,
    replace_plan_line,
)

VIEW = {'members': [{'name': 'a', 'id': 'aaaa', 'is_leader': True, 'healthy': True, 'reachable': True,
                     'raft_applied_index': 9, 'endpoint': 'https://a:2379'}],
        'endpoints': ['https://a:2379'], 'cluster': {'alarms': []}}
COMMAND = 'ansible-playbook -b -i <inventory> kubemaint.control_plane.replace_member -e node=cp2'


def test_the_plan_line_says_rejoin_or_removal_and_check_mode():
    assert replace_plan_line('cp2', 'b', True, False) == (
        'replace_member cp2 (etcd member b): the node answers: unless its member is a healthy voter already, the stale '
        'member is removed, its old data moved aside, and it joins again as a learner, catches up and is promoted')
    assert replace_plan_line('cp2', 'b', False, True) == (
        'replace_member cp2 (etcd member b): the node does not answer: its member is removed only (when it is down); '
        'it joins later: run this again once the node is back (rebuilt with the same name and address)'
        ' (check mode: nothing is changed)')


def test_the_done_line_says_what_was_done_and_how_the_node_joins_later():
    rejoined = {'actions': ['pods stopped', 'promoted'], 'data_dir_moved_to': '/var/lib/etcd.replaced-x'}
    assert replace_done_line('cp2', True, rejoined, False) == (
        'replace_member cp2: done: pods stopped, promoted; old etcd data kept in /var/lib/etcd.replaced-x')
    assert replace_done_line('cp2', True, {'actions': [], 'data_dir_moved_to': None}, True) == \
        'replace_member cp2: nothing changed'
    removed = replace_done_line('cp2', False, {'actions': ['member ff removed']}, True)
    assert removed == ('replace_member cp2: would do (check mode): member ff removed. The node joins later: once it is '
                       'back (same name and address), run again: %s; a new machine joins with kubeadm join after '
                       'kubemaint.control_plane.join_precheck passes' % COMMAND)
    assert replace_done_line('cp2', False, {}, False).startswith('replace_member cp2: nothing changed. The node joins')


def test_the_lines_follow_the_member_table():
    lines = replace_lines(VIEW, 'cp2', 'b', True, False)
    assert lines[-1] == replace_plan_line('cp2', 'b', True, False)
    assert lines[:-1] == status_table(VIEW) and lines[0].startswith('| MEMBER ')
    assert replace_lines(VIEW, 'cp2', 'b', True, False, done={})[-1] == 'replace_member cp2: nothing changed'
