"""Issue 25: a run that cannot do what it was asked fails, loudly and before any change. Every playbook
refuses a control-plane group that is missing or empty, a node that is no host of it and a --limit
outside it, naming the group's hosts (or the inventory's groups) and -e control_plane_group=NAME;
cluster_info fails, after printing everything, on a cluster without quorum. One lab for them all."""
import hashlib
import json
import os

import pytest
import yaml

from tests.integration.etcd_helpers import etcd_stopped
from tests.integration.playbook_helpers import describe, lock_value, play
from tests.integration.test_playbook_inventory import PLAYBOOKS

# The playbooks that act on one node given as -e node=NAME: given one, the wrong target is their only fault.
TAKES_A_NODE = ('stop_node', 'replace_member')


def fingerprint(lab):
    """Everything a playbook could change: each node's kubeadm files and snapshots, etcd's members, the lock."""
    files = {}
    for node in lab.nodes:
        for top in (node.kubernetes_dir, node.snapshot_dir):
            for folder, _dirs, names in os.walk(top):
                for name in names:
                    path = os.path.join(folder, name)
                    with open(path, 'rb') as handle:
                        files[path] = hashlib.sha256(handle.read()).hexdigest()
    members = sorted(json.loads(lab.etcdctl(lab.nodes[0], 'member', 'list', '-w', 'json').stdout)['members'],
                     key=lambda member: member['ID'])
    return files, [(member['ID'], member['name'], member.get('isLearner', False)) for member in members], lock_value(lab)


def inventory_variant(lab, tmp_path, name, change):
    """The lab's inventory, changed by change(children), written beside the test."""
    with open(lab.inventory_path) as handle:
        data = yaml.safe_load(handle)
    change(data['all']['children'])
    path = tmp_path / (name + '.yml')
    path.write_text(yaml.safe_dump(data))
    return str(path)


def run_every_playbook(lab, inventory=None, extra_vars=None, limit=None):
    """Each playbook once (node given to those that take one, unless extra_vars names it); (playbook, proc) pairs."""
    runs = []
    for playbook in PLAYBOOKS:
        variables = dict(extra_vars or {})
        if playbook in TAKES_A_NODE and limit is None:
            variables.setdefault('node', lab.nodes[0].name)
        runs.append((playbook, play(playbook, lab, extra_vars=variables, limit=limit, inventory=inventory, timeout=120)))
    return runs


def assert_refused(runs, text):
    for playbook, proc in runs:
        assert proc.returncode != 0, '%s: %s' % (playbook, describe(proc))
        assert text in proc.output, '%s: %s' % (playbook, describe(proc))
        assert '-e control_plane_group=NAME' in proc.output and 'Nothing was changed.' in proc.output, playbook
        assert proc.recap and all(counts['changed'] == 0 for counts in proc.recap.values()), (playbook, proc.recap)
        # the check is the first play: no other play started
        assert proc.output.count('PLAY [') == 1, '%s: %s' % (playbook, describe(proc))


@pytest.fixture(scope='module')
def untouched(lab):
    """The lab as it was before the first wrong run; each test checks it is still so."""
    lab.wait_healthy(timeout=120)
    return fingerprint(lab)


def test_a_missing_group_fails_every_playbook(lab, tmp_path, untouched):
    hosts = ', '.join(node.name for node in lab.nodes)
    kubespray = inventory_variant(lab, tmp_path, 'kubespray',
                                  lambda children: children.update(kube_control_plane=children.pop('control_plane')))
    assert_refused(run_every_playbook(lab, inventory=kubespray),
                   'The inventory has no group control_plane: this run would act on no host '
                   "(the inventory's groups: kube_control_plane (%s))." % hosts)
    assert fingerprint(lab) == untouched
    # the option the message names is the way out
    named = play('cluster_info', lab, inventory=kubespray, extra_vars={'control_plane_group': 'kube_control_plane'})
    assert named.returncode == 0, describe(named)


def test_an_empty_group_fails_every_playbook(lab, tmp_path, untouched):
    def empty(children):
        children['masters'] = children['control_plane']
        children['control_plane'] = {'hosts': {}}
    assert_refused(run_every_playbook(lab, inventory=inventory_variant(lab, tmp_path, 'empty', empty)),
                   "The inventory group control_plane has no host: this run would act on no host (the inventory's "
                   'groups: control_plane (no host); masters (%s)).' % ', '.join(node.name for node in lab.nodes))
    assert fingerprint(lab) == untouched


def test_a_node_typo_fails_every_playbook(lab, untouched):
    typo = lab.nodes[0].name.replace('-0', '-')  # lab-cp-01 -> lab-cp-1
    assert_refused(run_every_playbook(lab, extra_vars={'node': typo}),
                   'node=%s is no host of the group control_plane (%s).'
                   % (typo, ', '.join(node.name for node in lab.nodes)))
    assert fingerprint(lab) == untouched


def test_a_limit_outside_the_group_fails_every_playbook(lab, tmp_path, untouched):
    hosts = ', '.join(node.name for node in lab.nodes)
    with_bastion = inventory_variant(lab, tmp_path, 'bastion', lambda children: children.update(
        bastions={'hosts': {'bastion': {'ansible_host': '127.0.0.1', 'ansible_port': 1}}}))  # never reached
    assert_refused(run_every_playbook(lab, inventory=with_bastion, limit='bastion'),
                   '--limit bastion selects bastion outside the group control_plane (%s).' % hosts)
    # a typo beside a right name: ansible-playbook only warns and would run on the right one
    mixed = play('stop_node', lab, limit='%s,lab-cp-9' % lab.nodes[2].name)
    assert_refused([('stop_node', mixed)], '--limit %s,lab-cp-9 names lab-cp-9, which is no host or group of the '
                                           'inventory.' % lab.nodes[2].name)
    # a limit that matches nothing at all: ansible-core (2.16 to 2.19) refuses the run itself
    nothing = play('stop_node', lab, limit='lab-cp-9')
    assert nothing.returncode != 0 and 'leaves us with no hosts to target' in nothing.output, describe(nothing)
    assert fingerprint(lab) == untouched


def test_a_wrong_node_name_is_refused_even_with_the_quorum_loss_override(lab, tmp_path, untouched):
    """A node_name that is no etcd member leaves the guard nothing to judge: it says to fix node_name, offers
    no override, and the override does not pass it either."""
    node = lab.nodes[1]
    wrong = inventory_variant(lab, tmp_path, 'wrong-name', lambda children: children['control_plane']['hosts'][
        node.name].update(node_name='lab-cp-2'))
    for extra in ({}, {'control_plane_node_allow_quorum_loss': True}):
        refused = play('stop_node', lab, limit=node.name, inventory=wrong, extra_vars=extra)
        assert refused.returncode != 0, describe(refused)
        assert 'lab-cp-2 is not an etcd member' in refused.output, describe(refused)
        assert 'set node_name of %s in the inventory to its etcd member name' % node.name in refused.output
        assert 'allow_quorum_loss=true' not in refused.output, describe(refused)
        assert 'overrides the quorum guard' not in refused.output, describe(refused)
    assert fingerprint(lab) == untouched


def test_cluster_info_fails_without_quorum_unless_told_to_only_report(lab, tmp_path):
    lab.wait_healthy(timeout=120)
    healthy = play('cluster_info', lab)
    assert healthy.returncode == 0 and 'etcd is not healthy' not in healthy.output, describe(healthy)
    report = tmp_path / 'state.json'
    with etcd_stopped(lab, lab.nodes[1], lab.nodes[2]):
        failed = play('cluster_info', lab, extra_vars={'cluster_state_json_report': str(report)})
        reported = play('cluster_info', lab, extra_vars={'cluster_info_fail': 'false'})
    # everything printed and written first, then the failure naming what is wrong
    assert failed.returncode != 0, describe(failed)
    # (the member left running has no leader: its linearizable read fails too)
    assert 'quorum: NO (0 of 3 voters healthy' in failed.output and 'maintenance lock' in failed.output, describe(failed)
    assert json.loads(report.read_text())['cluster']['has_quorum'] is False
    assert ('etcd is not healthy: NO quorum (0 of 3 voters healthy, 2 needed): etcd accepts no write; 3 members are '
            'not healthy: %s (unhealthy), %s (unreachable), %s (unreachable). ' % tuple(node.name for node in lab.nodes)
            ) in failed.output, describe(failed)
    assert 'kubemaint.control_plane.recover' in failed.output and '-e cluster_info_fail=false' in failed.output
    assert failed.output.index('quorum: NO') < failed.output.index('etcd is not healthy')
    assert reported.returncode == 0, describe(reported)
    assert 'quorum: NO (0 of 3 voters healthy' in reported.output and 'etcd is not healthy' not in reported.output
