"""member_recovery's replace: the lines replace_member prints before and after it changes the cluster."""
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import status_table
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import rejoin_manifests
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.replace import (
    replace_case,
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


# --------------------------------------------------------------------------- replace_case

GROUP = ('cp1', 'cp2', 'cp3')
PONG = {'_ping': {'ping': 'pong', 'changed': False}}
UNREACHABLE = {'_ping': {'unreachable': True, 'msg': 'ssh: no route', 'changed': False}}
ONLY_STOPPED = {'kubernetes_dir': '/etc/kubernetes', 'manifests_dir': '/etc/kubernetes/manifests',
                'manifests_dir_exists': True, 'manifests_dir_source': None, 'running': [],
                'stopped': ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], 'strays': [],
                'stash_directories': ['/etc/kubernetes/manifests-stash'],
                'copies': [{'component': c, 'directory': '/etc/kubernetes/manifests-stash', 'kind': 'stash',
                            'path': '/etc/kubernetes/manifests-stash/%s.yaml' % c, 'mtime': 1.0, 'trust_problems': []}
                           for c in ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')],
                'etcd_data': {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': True, 'db_size': 4096}}


def case(hostvars, node='cp2', play_hosts=GROUP, **options):
    return replace_case(hostvars, node, 'control_plane', GROUP, play_hosts, answered='_ping.ping', **options)


def test_a_node_that_answers_is_rejoined_through_the_first_other_host_that_answers():
    hostvars = {'cp1': dict(UNREACHABLE), 'cp2': dict(PONG, node_name='node-2'), 'cp3': dict(PONG)}
    assert case(hostvars) == {'reachable': True, 'member': 'node-2', 'reader': 'cp3', 'refusal': ''}
    # the caller's reader wins; the member name falls back to the inventory name
    hostvars['cp2'] = dict(PONG)
    assert case(hostvars, reader='cp1') == {'reachable': True, 'member': 'cp2', 'reader': 'cp1', 'refusal': ''}


def test_a_node_that_does_not_answer_has_its_member_removed_through_another_host():
    hostvars = {'cp1': dict(PONG), 'cp2': dict(UNREACHABLE), 'cp3': dict(PONG)}
    assert case(hostvars) == {'reachable': False, 'member': 'cp2', 'reader': 'cp1', 'refusal': ''}


def test_no_other_host_answering_is_refused():
    hostvars = {'cp1': dict(UNREACHABLE), 'cp2': dict(PONG), 'cp3': {}}
    refused = case(hostvars)
    assert refused['reader'] == '' and refused['reachable'] is True
    assert refused['refusal'] == ('No control-plane host of control_plane other than cp2 answers: etcd can only be '
                                  'changed through a healthy member. Nothing was changed.')


def test_a_node_only_stopped_with_its_data_is_refused_first_unless_its_data_is_lost():
    hostvars = {'cp1': dict(UNREACHABLE), 'cp2': dict(PONG, node_name='node-2'), 'cp3': dict(UNREACHABLE)}
    refusal = case(hostvars, pods=ONLY_STOPPED)['refusal']
    assert refusal == 'Not replacing cp2 (etcd member node-2); nothing was changed. %s' % (
        rejoin_manifests(ONLY_STOPPED, 'cp2')['only_stopped'])
    # its data lost for good: the only other refusal left is that no other host answers
    assert case(hostvars, pods=ONLY_STOPPED, data_lost=True)['refusal'].startswith('No control-plane host of')
    # before its pods were read (or when they could not be), only that refusal is weighed
    assert case(hostvars)['refusal'].startswith('No control-plane host of')
    hostvars['cp1'] = dict(PONG)
    assert case(hostvars, pods={})['refusal'] == ''
    assert case(hostvars, pods={'unreachable': True, 'msg': 'gone'})['refusal'] == ''
