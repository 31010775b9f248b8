"""recover on a lab whose inventory lists only some of etcd's members: quorum sized from etcd's
member list, manifests found wherever the runbook or the collection moved them (one level down
into manifests/, beside it, a stash that is a symlink), an untrusted stash refused and the node
left stopped with a failing run that names it."""
import os

import yaml

from tests.integration.etcd_helpers import running_learner
from tests.integration.helpers import run_playbook, wait_for
from tests.integration.playbook_helpers import describe, port_open, recap

COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']


def move_all(source, destination):
    os.makedirs(destination, exist_ok=True)
    os.chmod(destination, 0o700)
    for name in COMPONENT_FILES:
        os.rename(os.path.join(source, name), os.path.join(destination, name))


def recover(inventory):
    proc = run_playbook('kubemaint.control_plane.recover', inventory, timeout=900)
    proc.output = proc.stdout + proc.stderr
    proc.recap = recap(proc.stdout)
    return proc


def test_recover_with_part_of_the_members_in_the_inventory(lab_factory, tmp_path):
    lab = lab_factory(nodes=5)
    node1, node2, node3, node4, node5 = lab.nodes
    inventory = tmp_path / 'inventory.yml'
    with open(lab.inventory_path) as handle:
        data = yaml.safe_load(handle)
    for node in (node4, node5):  # etcd members the inventory does not list
        del data['all']['children']['control_plane']['hosts'][node.name]
    inventory.write_text(yaml.safe_dump(data))

    # node1: the runbook's move done one level down; node2: the stash is a symlink to another
    # directory; node3: the runbook's move beside the manifests directory, into a world-writable
    # directory; node4 and node5: stopped and out of the inventory's reach.
    move_all(node1.manifests_dir, os.path.join(node1.manifests_dir, 'manifests-20240101'))
    elsewhere = os.path.join(node2.root, 'var', 'lib', 'node2-stash')
    move_all(node2.manifests_dir, elsewhere)
    os.symlink(lab.node_path(node2, elsewhere), os.path.join(node2.kubernetes_dir, 'manifests-stash'))
    open_dir = os.path.join(node3.kubernetes_dir, 'manifests-20240101')
    move_all(node3.manifests_dir, open_dir)
    os.chmod(open_dir, 0o777)
    for node in (node4, node5):
        move_all(node.manifests_dir, os.path.join(node.kubernetes_dir, 'manifests-stash'))
    wait_for(lambda: not any(port_open(node.address, 2379) for node in lab.nodes), 90, 'every etcd down')

    # 5 voters by etcd's member list: quorum needs 3, the inventory's 3 hosts all have to come back.
    # Counting the inventory (3 hosts, quorum 2) would wait for quorum after the second host.
    refused = recover(str(inventory))
    assert refused.returncode != 0, describe(refused)
    assert '%s: NOT restored, left stopped' % node3.name in refused.output, describe(refused)
    assert 'writable by group and others' in refused.output and lab.node_path(node3, open_dir) in refused.output
    # two of five members restarted without quorum serve no client: nobody answers
    assert 'etcd has NO quorum' in refused.output, describe(refused)
    assert 'kubemaint.control_plane.recover again' in refused.output
    for node in (node1, node2):
        assert sorted(name for name in os.listdir(node.manifests_dir) if name.endswith('.yaml')) == COMPONENT_FILES
    # the directory moved one level down was moved out of the manifests directory to restore from it
    assert not os.path.exists(os.path.join(node1.manifests_dir, 'manifests-20240101'))
    assert os.listdir(elsewhere) == [] or sorted(os.listdir(elsewhere)) == ['stash-record.json']
    assert sorted(os.listdir(open_dir)) == COMPONENT_FILES and not port_open(node3.address, 2379)

    os.chmod(open_dir, 0o700)
    recovered = recover(str(inventory))
    assert recovered.returncode == 0, describe(recovered)
    assert sorted(os.listdir(node3.manifests_dir)) == COMPONENT_FILES
    assert lab.etcdctl(node1, 'put', '/recover/probe', 'ok').returncode == 0
    assert 'quorum: yes (3 of 5 voters healthy, quorum needs 3' in recovered.output, describe(recovered)

    again = recover(str(inventory))
    assert again.returncode == 0 and all(host['changed'] == 0 for host in again.recap.values()), describe(again)
    for node in (node4, node5):  # never touched: not in the inventory
        move_all(os.path.join(node.kubernetes_dir, 'manifests-stash'), node.manifests_dir)
    lab.wait_healthy(timeout=180)


def test_recover_with_a_learner_counts_only_the_voters(lab_factory, tmp_path):
    lab = lab_factory(nodes=3)
    node1, node2, node3 = lab.nodes
    lab.wait_healthy(timeout=120)
    with running_learner(lab, node3, str(tmp_path / 'learner-data'), str(tmp_path / 'learner.log')):
        for node in (node1, node2):
            os.rename(node.manifests_dir, os.path.join(node.kubernetes_dir, 'manifests-20240101'))
        wait_for(lambda: not port_open(node1.address, 2379) and not port_open(node2.address, 2379), 90,
                 'two voters down')
        recovered = recover(lab.inventory_path)
        assert recovered.returncode == 0, describe(recovered)
        # 4 members, 3 of them voters: quorum needs 2 (a learner counted as a voter would make it 3)
        assert 'quorum: yes (3 of 3 voters healthy, quorum needs 2, can lose 1 more)' in recovered.output, \
            describe(recovered)
        assert 'lab-learner' in recovered.output
        for node in (node1, node2):
            assert sorted(os.listdir(node.manifests_dir)) == COMPONENT_FILES
