"""One line per node on whether its etcd really runs, from the node's own view and etcd's."""
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import data_dir_text
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.runtime import (
    bootstrap_hazard_lines,
    bootstrap_hazards,
    etcd_runtime_line,
    etcd_runtime_state,
)

EMPTY = {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': False, 'db_size': None, 'db_mtime': None,
         'wal_files': 0, 'wal_mtime': None}
FULL = {'data_dir': '/var/lib/etcd', 'exists': True, 'has_data': True, 'db_size': 20480, 'db_mtime': 0.5,
        'wal_files': 2, 'wal_mtime': 60}


def report(process=None, restarts=0, in_place=True, data=None, reason=None, name='cp-02'):
    return {'running': ['etcd'] if in_place else [], 'etcd_runtime': {
        'manifest': '/etc/kubernetes/manifests/etcd.yaml', 'manifest_in_place': in_place, 'name': name,
        'process': process, 'processes': 1 if process else 0, 'restarts': restarts, 'log_reason': reason,
        'data': data or FULL, 'error': None}}


def view(reachable=True, readable=True):
    members = [{'name': 'cp-01', 'id': 'a1', 'cluster_id': 'c1', 'reachable': True},
               {'name': 'cp-02', 'id': 'b2', 'cluster_id': 'c1' if reachable else '', 'reachable': reachable}]
    return {'readable': readable, 'members': members if readable else []}


def test_a_running_member_that_answers_names_its_cluster_and_member_and_nothing_more():
    line = etcd_runtime_line(report(process={'pid': 42, 'started': 0}), view())
    assert line == ('etcd: manifest in place; process pid 42 since 1970-01-01 00:00:00 UTC; restarts 0; '
                    'answering (cluster c1, member b2)')


def test_a_crash_loop_names_the_restarts_the_data_and_the_log_line_that_says_why():
    line = etcd_runtime_line(report(restarts=7, data=EMPTY, reason='flag provided but not defined: -bogus'),
                             view(reachable=False))
    assert line == ('etcd: CRASH LOOP; manifest in place; process not running; restarts 7; NOT answering; '
                    'data directory /var/lib/etcd EMPTY (no backend, no WAL); '
                    'last log: flag provided but not defined: -bogus')
    assert etcd_runtime_state(report(restarts=7), view(reachable=False))['crash_loop'] is True
    # a running process that does not answer after restarts is a crash loop too; a first start is not
    assert etcd_runtime_state(report(process={'pid': 1}, restarts=3), view(reachable=False))['crash_loop'] is True
    assert etcd_runtime_state(report(restarts=0), view(reachable=False))['crash_loop'] is False


def test_a_stopped_member_and_what_its_data_directory_holds():
    line = etcd_runtime_line(report(in_place=False, restarts=None), view(reachable=False))
    assert line.startswith('etcd: manifest stopped (/etc/kubernetes/manifests/etcd.yaml); process not running; '
                           'restarts unknown (no pod log); NOT answering; data directory /var/lib/etcd holds backend ')
    assert 'WAL (2 files) last written 1970-01-01 00:01:00 UTC' in line
    assert 'CRASH LOOP' not in line


def test_unreadable_etcd_unreachable_nodes_and_nodes_without_etcd():
    line = etcd_runtime_line(report(process={'pid': 42, 'started': 0}), view(readable=False))
    assert 'answer unknown (etcd could not be read)' in line
    assert etcd_runtime_line({'unreachable': True}, view()) == 'UNREACHABLE, etcd not checked'
    assert etcd_runtime_line({'failed': True, 'msg': 'boom'}, view()) == 'etcd not checked: boom'
    assert etcd_runtime_line({'running': [], 'etcd_runtime': None}, view()).startswith('etcd: no manifest')
    assert etcd_runtime_line(report(name='cp-09'), view()).endswith('NOT answering (no member cp-09 in the member list); '
                                                                    'data directory /var/lib/etcd holds backend 20480 bytes '
                                                                    'from 1970-01-01 00:00:00 UTC, WAL (2 files) last '
                                                                    'written 1970-01-01 00:01:00 UTC')


def test_data_directory_texts():
    assert data_dir_text(None) == 'data directory unknown'
    assert data_dir_text(dict(EMPTY, exists=False)) == 'data directory /var/lib/etcd missing'
    assert data_dir_text(dict(EMPTY, has_data=None)) == 'data directory /var/lib/etcd not readable'
    # what a crash loop on a wiped data directory leaves: a fresh backend and no WAL
    assert data_dir_text(dict(EMPTY, has_data=True, db_size=20480, db_mtime=0)) == (
        "data directory /var/lib/etcd holds backend 20480 bytes from 1970-01-01 00:00:00 UTC, NO WAL (not a "
        "member's data: etcd starts it as a new member)")


def test_a_member_of_a_split_brains_other_side_is_named_so_not_as_a_crash_loop():
    split = view(reachable=False)
    split['members'][1]['endpoint'] = 'https://10.0.0.2:2379'
    split['split_brain'] = {'sides': [
        {'cluster_id': 'c1', 'endpoints': ['https://10.0.0.1:2379'], 'majority': True},
        {'cluster_id': 'c9', 'endpoints': ['https://10.0.0.2:2379'], 'majority': False}]}
    state = etcd_runtime_state(report(process={'pid': 42, 'started': 0}, restarts=1), split)
    assert state['other_cluster'] == 'c9' and state['crash_loop'] is False
    line = etcd_runtime_line(report(process={'pid': 42, 'started': 0}, restarts=1), split)
    assert line.startswith("etcd: SPLIT BRAIN; manifest in place; process pid 42 since 1970-01-01 00:00:00 UTC; "
                           "restarts 1; answering for ANOTHER cluster (cluster c9; the majority's is c1); "
                           "data directory /var/lib/etcd holds"), line
    assert etcd_runtime_state(report(process={'pid': 42, 'started': 0}), view())['other_cluster'] is None


def hazard_report(state, initial_cluster='cp-01=https://10.0.0.1:2380'):
    return {'running': ['etcd'], 'etcd_runtime': {'manifest': '/etc/kubernetes/manifests/etcd.yaml', 'error': None,
                                                  'initial_cluster_state': state, 'initial_cluster': initial_cluster}}


def test_bootstrap_hazards_name_every_node_whose_manifest_says_new_and_the_fix():
    members = [{'name': 'cp-02', 'peer_urls': ['https://10.0.0.2:2380'], 'is_learner': False},
               {'name': 'cp-01', 'peer_urls': ['https://10.0.0.1:2380'], 'is_learner': False},
               {'name': 'cp-04', 'peer_urls': ['https://10.0.0.4:2380'], 'is_learner': True}]
    the_view = {'readable': True, 'members': members}
    pods = {'cp-02': hazard_report('existing'), 'cp-01': hazard_report('new'),
            'cp-03': {'unreachable': True}, 'cp-05': hazard_report('new', '')}
    found = bootstrap_hazards(the_view, pods)
    assert found['hosts'] == ['cp-01', 'cp-05']
    assert found['lines'][0].startswith('cp-01: HAZARD: its etcd manifest says --initial-cluster-state=new: should its '
                                        'data directory be lost, its etcd would bootstrap a cluster of its own')
    # the learner is left out of --initial-cluster: it is no voter yet
    assert found['fix'] == {'etcd': {'set': {'initial-cluster-state': 'existing',
                                             'initial-cluster': 'cp-01=https://10.0.0.1:2380,cp-02=https://10.0.0.2:2380'}}}
    assert found['lines'][-1].endswith(
        """kubemaint.control_plane.rolling_change -e '{"rolling_change_flags":{"etcd":{"set":{"initial-cluster":"""
        """"cp-01=https://10.0.0.1:2380,cp-02=https://10.0.0.2:2380","initial-cluster-state":"existing"}}}}'""")
    # nothing when every manifest says existing, or when etcd could not be read (no cluster to join)
    assert bootstrap_hazards(the_view, {'cp-01': hazard_report('existing')})['lines'] == []
    assert bootstrap_hazards({'readable': False, 'members': []}, pods)['hosts'] == []
    # a member that never started has no name: the fix cannot be written yet, and says why
    unnamed = bootstrap_hazards({'readable': True, 'members': members + [{'name': '', 'peer_urls': ['https://x:2380']}]},
                                pods)
    assert unnamed['fix'] is None and unnamed['lines'][-1].startswith('Fix, once every member has started')


def test_bootstrap_hazard_report_says_none_or_why_nothing_was_checked():
    members = [{'name': 'cp-01', 'peer_urls': ['https://10.0.0.1:2380'], 'is_learner': False}]
    the_view = {'readable': True, 'members': members}
    named = bootstrap_hazard_lines(the_view, {'cp-01': hazard_report('new')}, report=True)
    assert named == bootstrap_hazard_lines(the_view, {'cp-01': hazard_report('new')}) and len(named) == 2
    assert bootstrap_hazard_lines(the_view, {'cp-01': hazard_report('existing')}) == []
    assert bootstrap_hazard_lines(the_view, {'cp-01': hazard_report('existing')}, report=True) == [
        'etcd bootstrap hazard: none: no etcd manifest says --initial-cluster-state=new']
    assert bootstrap_hazard_lines(the_view, {'cp-01': hazard_report('existing'), 'cp-02': {'unreachable': True}},
                                  report=True) == [
        'etcd bootstrap hazard: none: no etcd manifest says --initial-cluster-state=new; not read on cp-02 '
        '(unreachable, or no etcd manifest in place)']
    assert bootstrap_hazard_lines({'readable': False, 'read_error': 'no quorum'}, {'cp-01': hazard_report('new')},
                                  report=True) == ['etcd bootstrap hazard: not checked: etcd could not be read (no quorum)']
