"""etcd_member against the lab: a real new member added as a learner, started with the
--initial-cluster the module returned, promoted once caught up, removed; refusals that protect
quorum; bad input. etcdctl is the oracle."""
import os
import subprocess

import pytest

from tests.integration.etcd_helpers import conn, etcd_stopped, etcdctl_json
from tests.integration.helpers import run_module, wait_for


def members_by_id(lab, node):
    return dict(('%016x' % m['ID'], m) for m in etcdctl_json(lab, node, 'member', 'list')['members'])


def four_ways(args):
    """check mode, apply, apply again, check mode again."""
    results = []
    for check_mode in (True, False, False, True):
        result = run_module('etcd_member', args, check_mode=check_mode, diff=True)
        assert not result['failed'], result.get('msg')
        results.append(result)
    return results


def start_member(lab, node, name, peer, client, initial_cluster, data_dir, log):
    pki = node.etcd_pki_dir
    return subprocess.Popen([
        lab.etcd_bin, '--name', name, '--data-dir', data_dir,
        '--initial-cluster', initial_cluster, '--initial-cluster-state', 'existing',
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--cert-file', os.path.join(pki, 'server.crt'), '--key-file', os.path.join(pki, 'server.key'),
        '--client-cert-auth', '--trusted-ca-file', os.path.join(pki, 'ca.crt'),
        '--peer-cert-file', os.path.join(pki, 'peer.crt'), '--peer-key-file', os.path.join(pki, 'peer.key'),
        '--peer-client-cert-auth', '--peer-trusted-ca-file', os.path.join(pki, 'ca.crt')],
        stdout=log, stderr=subprocess.STDOUT)


def stop_process(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_learner_added_started_promoted_removed(lab, tmp_path):
    node = lab.nodes[0]
    name = 'lab-joiner'
    peer = 'https://%s:12380' % node.address
    client = 'https://%s:12379' % node.address
    lab.wait_healthy(timeout=120)
    before = members_by_id(lab, node)
    process = None
    log = open(str(tmp_path / 'joiner.log'), 'wb')
    try:
        # ---- present: added as a learner
        check, added, again, check_again = four_ways(conn(node, name=name, peer_urls=[peer]))
        assert check['changed'] and check['action'] == 'add' and check['id'] is None
        assert check['quorum_after']['learners'] == 1 and check['quorum_after']['voting_members'] == 3
        assert added['changed'] and added['action'] == 'add'
        assert len(added['id']) == 16 and added['member']['is_learner'] is True
        assert added['member']['name'] == ''  # etcd learns the name when the member starts
        listed = members_by_id(lab, node)
        assert set(listed) == set(before) | {added['id']}
        assert listed[added['id']].get('isLearner') is True and listed[added['id']]['peerURLs'] == [peer]
        expected_initial = ','.join(sorted(['%s=%s' % (m['name'], m['peerURLs'][0]) for m in before.values()]
                                           + ['%s=%s' % (name, peer)]))
        assert ','.join(sorted(added['etcd_initial_cluster'].split(','))) == expected_initial
        assert check['etcd_initial_cluster'] == added['etcd_initial_cluster']
        assert '(not started) (new) learner %s' % peer in check['diff']['after']
        for result in (again, check_again):
            assert not result['changed'] and result['action'] == 'none' and result['id'] == added['id']

        # ---- the new member starts with exactly what the module returned
        process = start_member(lab, node, name, peer, client, added['etcd_initial_cluster'],
                               str(tmp_path / 'data'), log)
        wait_for(lambda: members_by_id(lab, node)[added['id']].get('name') == name, 60,
                 'the learner started and published its name')

        # ---- promoted once caught up
        check, promoted, again, check_again = four_ways(conn(node, name=name, state='promoted', wait_timeout=60))
        assert check['changed'] and check['action'] == 'promote' and check['member']['is_learner'] is False
        assert promoted['changed']
        assert (promoted['member']['id'], promoted['member']['name'], promoted['member']['is_learner']) == (
            added['id'], name, False)
        assert members_by_id(lab, node)[added['id']].get('isLearner', False) is False
        for result in (again, check_again):
            assert not result['changed'] and result['action'] == 'none'
        health = etcdctl_json(lab, node, 'endpoint', 'health', endpoints=client)
        assert health[0]['health'] is True
        status = etcdctl_json(lab, node, 'endpoint', 'status', '--cluster')
        assert len(status) == 4 and all(entry['Status'].get('isLearner', False) is False for entry in status)

        # ---- absent: removed, and the removed member stops by itself
        check, removed, again, check_again = four_ways(conn(node, id=added['id'], state='absent'))
        assert check['changed'] and check['action'] == 'remove'
        assert removed['changed'] and removed['member'] is None and removed['id'] is None
        assert check['quorum_after'] == removed['quorum_after']
        assert removed['quorum_after']['voting_members'] == 3
        assert set(members_by_id(lab, node)) == set(before)
        assert sorted(m['id'] for m in removed['members']) == sorted(before)
        for result in (again, check_again):
            assert not result['changed'] and result['action'] == 'none'
        wait_for(lambda: process.poll() is not None, 60, 'the removed member to stop by itself')
    finally:
        if process is not None:
            stop_process(process)
        log.close()
        leftover = [member_id for member_id in members_by_id(lab, node) if member_id not in before]
        for member_id in leftover:
            lab.etcdctl(node, 'member', 'remove', member_id)
    lab.wait_healthy(timeout=120)


def test_removal_refused_when_it_would_cost_quorum(lab):
    node, other, down = lab.nodes
    with etcd_stopped(lab, down):
        refused = run_module('etcd_member', conn(node, name=other.name, state='absent'))
        allowed_check = run_module('etcd_member', conn(node, name=other.name, state='absent', allow_quorum_loss=True),
                                   check_mode=True)
        add_refused = run_module('etcd_member', conn(node, name='lab-new', peer_urls=['https://%s:12380' % node.address]))
        still = etcdctl_json(lab, node, 'member', 'list')['members']
    assert refused['failed'] and refused['reason'] == 'would_lose_quorum'
    assert 'would leave etcd without quorum' in refused['msg'] and 'allow_quorum_loss=true' in refused['msg']
    assert not allowed_check['failed'], allowed_check.get('msg')
    assert allowed_check['changed'] and allowed_check['quorum_after']['has_quorum'] is False
    assert any('allowed by allow_quorum_loss' in warning for warning in allowed_check.get('warnings', []))
    assert add_refused['failed'] and 'refuses to add any member while a voter is down' in add_refused['msg']
    assert down.name in add_refused['msg']
    assert len(still) == 3 and all(not m.get('isLearner') for m in still)


# Every refusal is unit-tested (test_members.py); these prove the module reports them cleanly.
@pytest.mark.parametrize('case,args,text', [
    ('bad_peer_url', dict(name='x', peer_urls=['ftp://127.0.0.1:2380']), 'must start with https://'),
    ('unknown_promote', dict(name='no-such-member', state='promoted'), 'no-such-member is not a member'),
    ('changed_peer_urls', dict(name='NODE2', peer_urls=['https://127.0.0.1:2380']), 'never changes the peer URLs'),
])
def test_bad_input_fails_clearly_and_changes_nothing(lab, case, args, text):
    node = lab.nodes[0]
    args = dict(args)
    if args.get('name') == 'NODE2':
        args['name'] = lab.nodes[1].name
    before = etcdctl_json(lab, node, 'member', 'list')['members']
    result = run_module('etcd_member', conn(node, **args))
    assert result['failed'], result
    assert text in result['msg'], result['msg']
    assert 'Traceback' not in result['_stdout'] + result['_stderr']
    after = etcdctl_json(lab, node, 'member', 'list')['members']
    assert sorted(m['ID'] for m in after) == sorted(m['ID'] for m in before)
