"""member_recovery's force_new_cluster: the lines restore_quorum's rebuild prints, and its failure message."""
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.force_new_cluster import (
    force_new_cluster_lines,
)

PLAN = {'survivor': {'member': 'a', 'host': 'cp1'}, 'rejoin': ['cp2', 'cp3'], 'blind': False}
CONTINUE = 'ansible-playbook -b -i <inventory> kubemaint.control_plane.restore_quorum -e restore_quorum_confirm=a'


def test_the_snapshot_the_copy_and_the_cluster_of_one():
    lines = force_new_cluster_lines(PLAN, 'cp1', {
        'snapshot': {'path': '/var/lib/etcd-snapshots/s.db', 'revision': 12, 'raft_index': 40},
        'backend_copy': {'changed': False, 'skipped': True},
        'back': {'members': [{'name': 'a', 'raft_term': 5, 'raft_applied_index': 44}]}})
    assert lines['snapshot'] == 'etcd snapshot of a written to /var/lib/etcd-snapshots/s.db on cp1 (revision 12, ' \
        'raft index 40).'
    assert lines['backend_copy'] == '' and lines['failure'] == ''
    assert lines['alone'] == 'a leads a cluster of one, restarted without --force-new-cluster, its data kept (raft ' \
        'term 5, applied index 44). Next: cp2, cp3.'
    copy = force_new_cluster_lines(dict(PLAN, rejoin=[]), 'cp1', {
        'backend_copy': {'path': '/s/etcd-backend.db', 'source': '/var/lib/etcd/member/snap/db', 'size': 20480,
                         'sha256': 'ab12'}, 'back': {'members': [{'raft_term': 2, 'raft_applied_index': 3}]}})
    assert copy['backend_copy'] == 'etcd backend file of a (/var/lib/etcd/member/snap/db, 20480 bytes) copied to ' \
        '/s/etcd-backend.db on cp1 (mode 0600, sha256 ab12); it holds no appended hash: restore it with etcdutl ' \
        'snapshot restore --skip-hash-check.'
    assert copy['snapshot'] == '' and copy['alone'].endswith('Next: nothing.')


def test_a_failure_says_what_was_done_and_the_command_that_continues():
    failure = force_new_cluster_lines(PLAN, 'cp1', {'snapshot': {'path': '/s/s.db'}, 'forced_flag': {'changed': True},
                                                    'unflagged': {'changed': False}},
                                      failed_task='Wait until it leads a cluster of one, a',
                                      kubernetes_dir='/lab/etc/kubernetes')['failure']
    assert failure == ('restore_quorum failed on cp1 (member a) at "Wait until it leads a cluster of one, a" (its error '
                       'is above). Done so far: snapshot /s/s.db, --force-new-cluster set. Once the cause is fixed, '
                       'continue with: %s (it reads etcd again and goes on from where it stopped; the etcd manifest\'s '
                       'previous versions are under /lab/etc/kubernetes/manifests-backup).' % CONTINUE)
    blind = force_new_cluster_lines(dict(PLAN, blind=True), 'cp1', {}, failed_task='x')['failure']
    assert 'Done so far: nothing.' in blind and CONTINUE + ' -e restore_quorum_member=a (it reads' in blind
    assert '/etc/kubernetes/manifests-backup' in blind
