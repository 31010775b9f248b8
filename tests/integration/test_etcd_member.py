"""etcd_member against the lab, etcdctl as the oracle: refusals that protect quorum; bad input;
a member lost for good (stopped, data gone) removed, added back as a learner, its stashed
manifest given the --initial-cluster the module returned, started, caught up and promoted: the
building blocks of replace_member, on a kubeadm-shaped node with the kubelet emulator."""
import os

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
    # the warning goes through module.warn(): exit_json(warnings=...) is deprecated (removed in ansible-core 2.23)
    assert '[WARNING]: ' in allowed_check['_stdout'] + allowed_check['_stderr']
    for result in (refused, allowed_check, add_refused):
        assert 'DEPRECATION' not in result['_stdout'] + result['_stderr'], result['_stdout'] + result['_stderr']
    assert add_refused['failed'] and 'refuses to add any member while a voter is down' in add_refused['msg']
    assert down.name in add_refused['msg']
    assert len(still) == 3 and all(not m.get('isLearner') for m in still)


# Every refusal is unit-tested (test_members.py); these prove the module reports them cleanly.
@pytest.mark.parametrize('case,args,text', [
    ('bad_peer_url', dict(name='x', peer_urls=['ftp://127.0.0.1:2380']), 'must start with https://'),
    # issue 21: the lab's peers talk TLS, as kubeadm's do; a plain http peer URL is refused before etcd is asked
    ('http_peer_url', dict(name='x', peer_urls=['http://127.0.0.1:12380']), 'http://127.0.0.1:12380 is plain http'),
    ('http_learner_peer_url', dict(name='x', peer_urls=['https://127.0.0.1:12380', 'http://127.0.0.1:12381']),
     'http://127.0.0.1:12381 is plain http'),
    ('no_scheme_peer_url', dict(name='x', peer_urls=['127.0.0.1:12380']), 'must start with https://'),
    ('no_port_peer_url', dict(name='x', peer_urls=['https://127.0.0.1']), 'needs a host and a port'),
    ('bad_host_peer_url', dict(name='x', peer_urls=['https://lab node:12380']), 'neither an IP address nor a DNS name'),
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
    assert member_list_view(after) == member_list_view(before)


def member_list_view(members):
    """What a refused change must leave as it was: every member's id, name, peer URLs and learner flag."""
    return sorted((m['ID'], m.get('name', ''), tuple(sorted(m.get('peerURLs', []))), bool(m.get('isLearner')))
                  for m in members)


def toggle(node, state, wait=True):
    result = run_module('static_pod_toggle', {'name': ['etcd'], 'state': state, 'wait': wait, 'wait_timeout': 120,
                                              'kubernetes_dir': node.kubernetes_dir})
    assert not result['failed'] and result['changed'], result.get('msg')


def test_lost_member_removed_added_back_as_learner_and_promoted(lab):
    """Last in this file: it leaves the lab with lab-cp-01 rebuilt (new member id, new data). The first node: its
    manifest is kubeadm init's (only itself in --initial-cluster, state new), so both flags change for the rejoin."""
    node, lost = lab.nodes[1], lab.nodes[0]
    lab.wait_healthy(timeout=120)
    before = members_by_id(lab, node)
    lost_id = next(member_id for member_id, m in before.items() if m['name'] == lost.name)
    manifest_before = open(os.path.join(lost.manifests_dir, 'etcd.yaml')).read()
    toggle(lost, 'stopped')
    os.rename(lost.data_dir, lost.data_dir + '.lost')  # its data is gone for good

    # ---- absent: the lost member is removed (a member that is down costs no quorum to remove)
    check, removed, again, check_again = four_ways(conn(node, name=lost.name, state='absent'))
    assert check['changed'] and check['action'] == 'remove' and check['id'] is None
    assert check['quorum_after'] == removed['quorum_after']
    assert (removed['quorum_before']['healthy_voters'], removed['quorum_after']['voting_members'],
            removed['quorum_after']['has_quorum']) == (2, 2, True)
    assert removed['changed'] and removed['member'] is None
    assert set(members_by_id(lab, node)) == set(before) - {lost_id}
    assert sorted(m['id'] for m in removed['members']) == sorted(set(before) - {lost_id})
    for result in (again, check_again):
        assert not result['changed'] and result['action'] == 'none'

    # ---- present: added back as a learner, same name and peer URL
    check, added, again, check_again = four_ways(conn(node, name=lost.name, peer_urls=[lost.peer_url]))
    assert check['changed'] and check['action'] == 'add' and check['id'] is None
    assert (check['quorum_after']['voting_members'], check['quorum_after']['learners']) == (2, 1)
    assert added['changed'] and len(added['id']) == 16 and added['id'] != lost_id
    assert added['member']['is_learner'] is True and added['member']['name'] == ''  # named when it starts
    listed = members_by_id(lab, node)
    assert listed[added['id']].get('isLearner') is True and listed[added['id']]['peerURLs'] == [lost.peer_url]
    # every member with its peer URL, sorted: what the lab bootstrapped the cluster with
    initial = ','.join('%s=%s' % (n.name, n.peer_url) for n in lab.nodes)
    assert added['etcd_initial_cluster'] == check['etcd_initial_cluster'] == initial
    assert '(not started) (new) learner %s' % lost.peer_url in check['diff']['after']
    for result in (again, check_again):
        assert not result['changed'] and result['action'] == 'none' and result['id'] == added['id']

    # ---- the stopped node's manifest (in the stash) joins the existing cluster; start it
    flags = run_module('static_pod_flags', {'name': 'etcd', 'kubernetes_dir': lost.kubernetes_dir, 'flags': {
        'initial-cluster': added['etcd_initial_cluster'], 'initial-cluster-state': 'existing'}})
    assert not flags['failed'], flags.get('msg')
    assert flags['location'] == 'stash' and [c['flag'] for c in flags['changes']] == [
        'initial-cluster', 'initial-cluster-state'], flags['changes']
    # a learner is not a voting member yet: static_pod_toggle's wait would wait for a voter
    toggle(lost, 'started', wait=False)
    assert open(os.path.join(lost.manifests_dir, 'etcd.yaml')).read() == manifest_before.replace(
        '--initial-cluster-state=new', '--initial-cluster-state=existing').replace(
        '--initial-cluster=%s=%s\n' % (lost.name, lost.peer_url), '--initial-cluster=%s\n' % initial)
    wait_for(lambda: members_by_id(lab, node)[added['id']].get('name') == lost.name, 90,
             'the new member started and published its name')

    # ---- promoted once caught up
    check, promoted, again, check_again = four_ways(conn(node, name=lost.name, state='promoted', wait_timeout=60))
    assert check['changed'] and check['action'] == 'promote' and check['member']['is_learner'] is False
    assert promoted['changed']
    assert (promoted['member']['id'], promoted['member']['name'], promoted['member']['is_learner']) == (
        added['id'], lost.name, False)
    assert promoted['quorum_after']['voting_members'] == 3
    for result in (again, check_again):
        assert not result['changed'] and result['action'] == 'none'
    listed = members_by_id(lab, node)
    assert sorted(m['name'] for m in listed.values()) == sorted(n.name for n in lab.nodes)
    assert not any(m.get('isLearner') for m in listed.values())
    lab.wait_healthy(timeout=120)
    health = etcdctl_json(lab, node, 'endpoint', 'health', '--cluster')
    assert len(health) == 3 and all(entry['health'] for entry in health), health
