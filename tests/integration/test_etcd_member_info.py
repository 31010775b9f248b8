"""etcd_member_info against the lab, with etcdctl as the oracle."""
import os
import time

import pytest

from tests.integration.etcd_helpers import conn, etcd_frozen, etcd_stopped, etcdctl_json, running_learner
from tests.integration.helpers import run_module, wait_for


def by_name(result):
    return dict((member['name'], member) for member in result['members'])


def test_agrees_with_etcdctl_field_by_field(lab):
    node = lab.nodes[0]
    before = etcdctl_json(lab, node, 'endpoint', 'status', '--cluster')
    result = run_module('etcd_member_info', conn(node), check_mode=True)
    after = etcdctl_json(lab, node, 'endpoint', 'status', '--cluster')
    members = etcdctl_json(lab, node, 'member', 'list')
    assert not result['failed'], result.get('msg')
    assert result['changed'] is False
    assert result['endpoints'] == [node.client_url]
    assert int(result['cluster']['cluster_id'], 16) == members['header']['cluster_id']
    assert len(result['members']) == len(members['members']) == 3
    mine = dict((int(member['id'], 16), member) for member in result['members'])
    for member in members['members']:
        got = mine[member['ID']]
        assert got['name'] == member['name']
        assert got['peer_urls'] == member['peerURLs']
        assert got['client_urls'] == member['clientURLs']
        assert got['is_learner'] == member.get('isLearner', False)
        assert got['id'] == '%016x' % member['ID']
    status_before = dict((entry['Status']['header']['member_id'], entry['Status']) for entry in before)
    status_after = dict((entry['Status']['header']['member_id'], entry['Status']) for entry in after)
    leaders = set(entry['Status']['leader'] for entry in before + after)
    assert len(leaders) == 1, 'leader changed during the test'
    leader = leaders.pop()
    for member_id, got in mine.items():
        old, new = status_before[member_id], status_after[member_id]
        assert got['version'] == old['version'] == new['version']
        assert got['is_leader'] == (member_id == leader)
        assert got['reachable'] and got['healthy'] and got['error'] is None
        assert got['db_size'] in (old['dbSize'], new['dbSize'])
        assert got['db_size_in_use'] in (old['dbSizeInUse'], new['dbSizeInUse'])
        assert old['raftTerm'] <= got['raft_term'] <= new['raftTerm']
        assert old['raftIndex'] <= got['raft_index'] <= new['raftIndex']
        assert old['raftAppliedIndex'] <= got['raft_applied_index'] <= new['raftAppliedIndex']
        assert got['errors'] == [] and got['alarms'] == []
    assert int(result['cluster']['leader']['id'], 16) == leader
    cluster = result['cluster']
    assert (cluster['voting_members'], cluster['healthy_voters'], cluster['quorum_size'],
            cluster['fault_tolerance'], cluster['has_quorum']) == (3, 3, 2, 1, True)


def test_one_member_stopped(lab):
    node, stopped = lab.nodes[0], lab.nodes[1]
    with etcd_stopped(lab, stopped):
        started = time.monotonic()
        result = run_module('etcd_member_info', conn(node, assume_stopped=[lab.nodes[2].name]))
        wall = time.monotonic() - started
    assert not result['failed'], result.get('msg')
    members = by_name(result)
    down = members[stopped.name]
    assert down['reachable'] is False and down['healthy'] is False
    assert down['error_reason'] == 'connection_refused'
    assert 'connection refused' in down['error'] and stopped.client_url in down['error']
    assert all(members[n.name]['healthy'] for n in (lab.nodes[0], lab.nodes[2]))
    cluster = result['cluster']
    assert (cluster['has_quorum'], cluster['fault_tolerance'], cluster['healthy_voters']) == (True, 0, 2)
    assert cluster['leader']['name'] != stopped.name
    assert result['projection']['has_quorum'] is False
    assert result['projection']['assume_stopped'] == [lab.nodes[2].name]
    # a refused connection costs nothing; the whole task (ansible included) stays near one timeout
    assert result['elapsed'] < 5
    assert wall < 5 + 15, wall


def test_hung_member_costs_one_timeout_not_one_per_member(lab):
    """Two members that accept connections but never answer (SIGSTOP), timeout 3 s each."""
    node = lab.nodes[0]
    with etcd_frozen(lab.nodes[1]), etcd_frozen(lab.nodes[2]):
        result = run_module('etcd_member_info', conn(node, timeout=3))
    assert not result['failed'], result.get('msg')
    members = by_name(result)
    for frozen in lab.nodes[1:]:
        assert members[frozen.name]['reachable'] is False
        assert members[frozen.name]['error_reason'] == 'timeout'
    # member list, then status + health of every member in parallel: about one timeout each round
    assert 2.5 < result['elapsed'] < 2 * 3 + 1.5, result['elapsed']
    assert result['cluster']['has_quorum'] is False
    lab.wait_healthy(timeout=120)


def lost_leader(lab, node):
    """etcdctl's view of the member alone: no leader, and the member reports it as an error."""
    status = etcdctl_json(lab, node, 'endpoint', 'status')[0]['Status']
    return not status.get('leader') and any('no leader' in error for error in status.get('errors') or [])


def test_two_of_three_stopped_no_quorum_reported_not_failed(lab):
    node = lab.nodes[0]
    with etcd_stopped(lab, lab.nodes[1], lab.nodes[2]):
        # The survivor notices the lost leader only after an election timeout (a leader steps down
        # when CheckQuorum fails): ask once it says so itself, or the test races etcd.
        wait_for(lambda: lost_leader(lab, node), 30, '%s to notice it has no leader' % node.name)
        result = run_module('etcd_member_info', conn(node))
        strict = run_module('etcd_member_info', conn(node, fail_on_no_quorum=True))
    assert not result['failed'], result.get('msg')
    cluster = result['cluster']
    assert cluster['leader'] is None
    assert cluster['has_quorum'] is False and cluster['fault_tolerance'] == 0
    assert cluster['healthy_voters'] == 0 and cluster['reachable_members'] == 1
    assert cluster['safe_to_stop'] == []
    own = by_name(result)[node.name]
    assert own['reachable'] and not own['healthy'] and own['leader_seen'] is None
    assert any('no leader' in error for error in own['errors'])
    assert strict['failed'] and 'no quorum' in strict['msg']
    assert strict['cluster']['has_quorum'] is False


def test_no_endpoint_reachable_is_reported(lab):
    node = lab.nodes[0]
    dead = 'https://%s:2999' % node.address
    result = run_module('etcd_member_info', conn(node, endpoints=[dead]))
    assert not result['failed'], result.get('msg')
    assert result['members'] == []
    assert result['cluster']['has_quorum'] is False
    assert 'connection refused' in result['endpoint_errors'][dead]


@pytest.mark.parametrize('case', ['foreign_ca', 'foreign_client_cert', 'missing_cert', 'cert_is_directory',
                                  'key_mismatch', 'not_etcd', 'not_tls', 'malformed_url', 'plain_http', 'unknown_assumed',
                                  # issue 14: an OverflowError traceback, and "0 members" of a healthy cluster
                                  'timeout_huge', 'timeout_inf', 'timeout_nan', 'relative_ca'])
def test_bad_input_fails_clearly(lab, case):
    node = lab.nodes[0]
    pki = node.pki_dir
    args = {
        'foreign_ca': dict(ca_cert=os.path.join(pki, 'ca.crt')),
        'foreign_client_cert': dict(client_cert=os.path.join(pki, 'apiserver.crt'),
                                    client_key=os.path.join(pki, 'apiserver.key')),
        'missing_cert': dict(client_cert=os.path.join(pki, 'etcd', 'nope.crt')),
        'cert_is_directory': dict(client_cert=pki),
        'key_mismatch': dict(client_key=os.path.join(pki, 'etcd', 'peer.key')),
        'not_etcd': dict(endpoints=[node.apiserver_url], ca_cert=os.path.join(pki, 'ca.crt'),
                         client_cert=os.path.join(pki, 'apiserver-kubelet-client.crt'),
                         client_key=os.path.join(pki, 'apiserver-kubelet-client.key')),
        'not_tls': dict(endpoints=['https://%s:2381' % node.address]),
        'malformed_url': dict(endpoints=['https://[%s' % node.address]),
        'plain_http': dict(endpoints=['http://%s:2379' % node.address]),
        'unknown_assumed': dict(assume_stopped=['no-such-node']),
        'timeout_huge': dict(timeout=1e13),
        'timeout_inf': dict(timeout='inf'),
        'timeout_nan': dict(timeout='nan'),
        'relative_ca': dict(ca_cert='pki/etcd/ca.crt'),
    }[case]
    expected = {
        'foreign_ca': 'did not sign the server certificate',
        'foreign_client_cert': 'rejected the client certificate',
        'missing_cert': 'nope.crt (option client_cert) is not readable',
        'cert_is_directory': 'option client_cert',
        'key_mismatch': 'cannot be used together',
        'not_etcd': 'not an etcd client port',
        'not_tls': 'does not speak TLS',
        'malformed_url': 'malformed etcd endpoint',
        'plain_http': 'scheme must be https',
        'unknown_assumed': 'no-such-node, which is not a member',
        'timeout_huge': 'timeout must be greater than 0 and at most 3600, not 10000000000000',
        'timeout_inf': 'timeout must be a finite number',
        'timeout_nan': 'timeout must be a finite number',
        'relative_ca': "ca_cert must be an absolute path, not 'pki/etcd/ca.crt'",
    }[case]
    result = run_module('etcd_member_info', conn(node, **args))
    assert result['failed'], result
    assert expected in result['msg'], result['msg']
    assert 'Traceback' not in result['_stdout'] + result['_stderr']
    assert 'PRIVATE KEY' not in result['_stdout'] + result['_stderr']


def test_learner_listed_and_never_counted(lab, tmp_path):
    node = lab.nodes[0]
    lab.wait_healthy(timeout=120)
    with running_learner(lab, node, str(tmp_path / 'data'), str(tmp_path / 'learner.log')) as learner:
        result = run_module('etcd_member_info', conn(node, assume_stopped=[lab.nodes[1].name]))
        leader = run_module('etcd_leader', conn(node, member=learner['name']))
    _check_learner(lab, result, leader, learner['name'], learner['client'], learner['id'])


def _check_learner(lab, result, leader, name, client, learner_id):
    assert not result['failed'], result.get('msg')
    members = by_name(result)
    learner = members[name]
    assert learner['is_learner'] is True and learner['id'] == '%016x' % learner_id
    assert learner['reachable'] and learner['endpoint'] == client
    assert sum(1 for m in result['members'] if not m['is_learner']) == 3
    cluster = result['cluster']
    assert (cluster['member_count'], cluster['voting_members'], cluster['learners']) == (4, 3, 1)
    assert (cluster['quorum_size'], cluster['healthy_voters'], cluster['fault_tolerance']) == (2, 3, 1)
    assert result['projection']['healthy_voters'] == 2 and result['projection']['has_quorum'] is True
    assert result['projection']['safe_to_stop'] == [name]
    assert leader['failed'] and 'is a learner' in leader['msg']
