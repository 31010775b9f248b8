"""replace_member on a 3-node lab with real etcd, a writer putting keys and a watcher on every
member's client port: a member whose data directory is destroyed while its node is down comes
back as a healthy voter (issue 10, must-show 1); a node that cannot be reached has its member
removed, the rest keep quorum and join_precheck passes, and once it is back it rejoins, its stale
data moved aside (must-show 4). Check mode and a run without -e node change nothing, and so does a run on a
node that is only stopped, its data kept (issue 21: start_node brings it back). The tests share one lab and run
in file order."""
import json
import os
import shutil

import yaml

from tests.integration.etcd_helpers import etcdctl_json
from tests.integration.helpers import run_module
from tests.integration.playbook_helpers import ContinuousWriter, MemberWatcher, describe, play

COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']


def members(lab, node):
    return dict((m['name'], m) for m in etcdctl_json(lab, node, 'member', 'list')['members'])


def snapshot_of(lab, node, lost):
    """What a run must leave alone: the member list, the lost node's manifests, stash and data dir."""
    stash = os.path.join(lost.kubernetes_dir, 'manifests-stash')
    return (sorted((m['name'], m['ID'], bool(m.get('isLearner'))) for m in members(lab, node).values()),
            sorted(os.listdir(lost.manifests_dir)), sorted(os.listdir(stash)) if os.path.isdir(stash) else None,
            os.path.exists(lost.data_dir), sorted(os.listdir(os.path.dirname(lost.data_dir))))


def healthy_voters(lab, node):
    listed = members(lab, node)
    health = etcdctl_json(lab, node, 'endpoint', 'health', '--cluster')
    return (sorted(name for name, m in listed.items() if not m.get('isLearner')),
            all(entry['health'] for entry in health) and len(health) == len(listed))


def test_refuses_without_node_and_changes_nothing(lab, tmp_path):
    before = snapshot_of(lab, lab.nodes[0], lab.nodes[2])
    proc = play('replace_member', lab)
    assert proc.returncode != 0, describe(proc)
    assert 'replace_member needs the node whose etcd member is lost: -e node=NAME' in proc.output, describe(proc)
    assert all(counts['changed'] == 0 for counts in proc.recap.values()), proc.recap
    unknown = play('replace_member', lab, extra_vars={'node': 'no-such-node'})
    assert unknown.returncode != 0, describe(unknown)
    assert 'node=no-such-node is no host of the group control_plane (%s)' % ', '.join(n.name for n in lab.nodes) \
        in unknown.output, describe(unknown)
    # a machine without its kubeadm files (here: a kubernetes_dir with nothing in it) is not rejoined
    with open(lab.inventory_path) as handle:
        data = yaml.safe_load(handle)
    (tmp_path / 'empty').mkdir()
    data['all']['children']['control_plane']['hosts'][lab.nodes[2].name]['kubernetes_dir'] = str(tmp_path / 'empty')
    (tmp_path / 'bare.json').write_text(json.dumps(data))
    bare = play('replace_member', lab, extra_vars={'node': lab.nodes[2].name}, inventory=str(tmp_path / 'bare.json'))
    assert bare.returncode != 0 and 'Cannot rejoin %s: no copy of its etcd manifest was found' % lab.nodes[2].name \
        in bare.output, describe(bare)
    assert snapshot_of(lab, lab.nodes[0], lab.nodes[2]) == before


def test_member_with_destroyed_data_comes_back_as_a_healthy_voter(lab):
    """Must-show 1 (also on etcd 3.4): check mode first, then the replacement under writes, then a no-op rerun."""
    node, lost = lab.nodes[0], lab.nodes[2]
    lab.wait_healthy(timeout=120)
    old_id = members(lab, node)[lost.name]['ID']
    writer, watcher = ContinuousWriter(lab), MemberWatcher(lab)
    writer.start()
    watcher.start()
    try:
        stopped = run_module('static_pod_toggle', {'name': 'all', 'state': 'stopped', 'wait': True, 'wait_timeout': 120,
                                                   'kubernetes_dir': lost.kubernetes_dir})
        assert not stopped['failed'], stopped.get('msg')

        # issue 21: only stopped (manifests in the stash, data kept): start_node brings it back, nothing changes
        before = snapshot_of(lab, node, lost)
        kept = play('replace_member', lab, extra_vars={'node': lost.name})
        assert kept.returncode != 0 and all(c['changed'] == 0 for c in kept.recap.values()), describe(kept)
        assert 'Not replacing %s (etcd member %s); nothing was changed. %s is only stopped' % (
            lost.name, lost.name, lost.name) in kept.output, describe(kept)
        assert 'brings it back with its data: ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node ' \
            '--limit %s' % lost.name in kept.output and '-e replace_member_data_lost=true' in kept.output
        assert snapshot_of(lab, node, lost) == before and os.path.isdir(os.path.join(lost.data_dir, 'member'))
        # told that its data is lost, it would be replaced (check mode: nothing changes)
        check = play('replace_member', lab, extra_vars={'node': lost.name, 'replace_member_data_lost': True},
                     check=True)
        assert check.returncode == 0, describe(check)
        assert snapshot_of(lab, node, lost) == before, describe(check)
        assert 'would: old data moved to' in check.output and 'removed; in check mode' in check.output, describe(check)
        assert 'not healthy' in check.output

        shutil.rmtree(lost.data_dir)  # the node's disk is gone: replaced without being told

        replaced = play('replace_member', lab, extra_vars={'node': lost.name})
        assert replaced.returncode == 0, describe(replaced)
    finally:
        writer.stop()
        watcher.stop()
    listed = members(lab, node)
    assert listed[lost.name]['ID'] != old_id and not listed[lost.name].get('isLearner')
    assert healthy_voters(lab, node) == (sorted(n.name for n in lab.nodes), True)
    assert sorted(os.listdir(lost.manifests_dir)) == COMPONENT_FILES
    with open(os.path.join(lost.manifests_dir, 'etcd.yaml')) as handle:
        manifest = handle.read()
    assert '--initial-cluster-state=existing' in manifest and '--initial-cluster-state=new' not in manifest
    assert lost.apiserver_ready()
    # what it saw, what it did, in the output
    assert 'the node answers' in replaced.output and 'done: stale member' in replaced.output, describe(replaced)
    assert 'added as a learner' in replaced.output and 'promoted' in replaced.output
    # no acknowledged write lost; only the lost node's member was ever down
    assert writer.acknowledged and writer.missing() == [], writer.missing()[:10]
    assert watcher.seen_down <= {lost.name} and watcher.max_down <= 1, watcher.max_down_members
    assert replaced.recap[lost.name]['changed'] > 0

    again = play('replace_member', lab, extra_vars={'node': lost.name})
    assert again.returncode == 0, describe(again)
    assert all(counts['changed'] == 0 for counts in again.recap.values()), describe(again)
    assert 'is a healthy voter: nothing to do' in again.output
    assert members(lab, node)[lost.name]['ID'] == listed[lost.name]['ID']


def test_rerun_after_a_failure_past_the_promotion_starts_the_other_pods(lab):
    """A run that stopped after the promotion left a voter whose other pods are stopped: a rerun starts them."""
    node, lost = lab.nodes[0], lab.nodes[2]
    member_id = members(lab, node)[lost.name]['ID']
    stopped = run_module('static_pod_toggle', {'name': ['kube-apiserver', 'kube-scheduler'], 'state': 'stopped',
                                               'wait': True, 'kubernetes_dir': lost.kubernetes_dir})
    assert not stopped['failed'] and stopped['changed'], stopped.get('msg')
    rerun = play('replace_member', lab, extra_vars={'node': lost.name})
    assert rerun.returncode == 0, describe(rerun)
    assert 'done: pods started' in rerun.output, describe(rerun)
    assert 'Maintenance lock, state acquired' not in rerun.output  # no membership change, no lock
    assert sorted(os.listdir(lost.manifests_dir)) == COMPONENT_FILES and lost.apiserver_ready()
    assert members(lab, node)[lost.name]['ID'] == member_id


def unreachable_inventory(lab, path, node, drop=False):
    """The lab's inventory with `node` behind an ssh port nobody listens on (or without it)."""
    with open(lab.inventory_path) as handle:
        data = yaml.safe_load(handle)
    hosts = data['all']['children']['control_plane']['hosts']
    if drop:
        del hosts[node.name]
    else:
        hosts[node.name].update({'ansible_connection': 'ssh', 'ansible_host': '127.0.0.1', 'ansible_port': 1,
                                 'ansible_ssh_common_args': '-o ConnectTimeout=2'})
    path.write_text(json.dumps(data))
    return str(path)


def test_unreachable_node_member_removed_then_join_precheck_passes_and_it_rejoins_later(lab, tmp_path):
    """Must-show 4: the node is powered off and cannot be reached."""
    node, lost = lab.nodes[0], lab.nodes[1]
    lab.wait_healthy(timeout=120)
    old_id = members(lab, node)[lost.name]['ID']
    inventory = unreachable_inventory(lab, tmp_path / 'unreachable.json', lost)
    # ssh to it fails but its etcd still runs: not lost, its member stays
    running = play('replace_member', lab, extra_vars={'node': lost.name}, inventory=inventory)
    assert running.returncode != 0, describe(running)
    assert 'Refusing to remove etcd member %s' % lost.name in running.output, describe(running)
    assert 'its etcd still runs although the node cannot be reached' in running.output
    assert members(lab, node)[lost.name]['ID'] == old_id

    lab.power_off(lost)
    writer, watcher = ContinuousWriter(lab), MemberWatcher(lab)
    writer.start()
    watcher.start()
    try:
        check = play('replace_member', lab, extra_vars={'node': lost.name}, check=True, inventory=inventory)
        assert check.returncode == 0, describe(check)
        assert lost.name in members(lab, node)
        removed = play('replace_member', lab, extra_vars={'node': lost.name}, inventory=inventory)
        assert removed.returncode == 0, describe(removed)
    finally:
        writer.stop()
        watcher.stop()
    assert 'the node does not answer' in removed.output and 'The node joins later' in removed.output, describe(removed)
    listed = members(lab, node)
    assert sorted(listed) == sorted(n.name for n in lab.nodes if n is not lost)
    assert healthy_voters(lab, node)[1]
    assert writer.missing() == [] and watcher.seen_down <= {lost.name}

    again = play('replace_member', lab, extra_vars={'node': lost.name}, inventory=inventory)
    assert again.returncode == 0, describe(again)
    assert all(counts['changed'] == 0 for host, counts in again.recap.items() if host != lost.name), describe(again)

    # scenario 2.4 after the recovery: the cluster can take a node again
    precheck = play('join_precheck', lab, inventory=unreachable_inventory(lab, tmp_path / 'gone.json', lost, drop=True))
    assert precheck.returncode == 0, describe(precheck)
    assert 'Join precheck passed: etcd has quorum (2 of 2 voters healthy' in precheck.output, describe(precheck)

    # back with its old data (a removed member's): it rejoins, the stale data moved aside, not deleted
    lab.power_on(lost)
    rejoined = play('replace_member', lab, extra_vars={'node': lost.name})
    assert rejoined.returncode == 0, describe(rejoined)
    listed = members(lab, node)
    assert lost.name in listed and listed[lost.name]['ID'] != old_id
    assert healthy_voters(lab, node) == (sorted(n.name for n in lab.nodes), True)
    aside = [name for name in os.listdir(os.path.dirname(lost.data_dir)) if name.startswith('etcd.replaced-')]
    assert len(aside) == 1 and os.path.isdir(os.path.join(os.path.dirname(lost.data_dir), aside[0], 'member'))
    assert 'old etcd data kept in %s' % lab.node_path(lost, os.path.join(os.path.dirname(lost.data_dir), aside[0])) \
        in rejoined.output
