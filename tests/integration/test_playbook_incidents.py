"""Issue 21 on one 3-node lab with real etcd, over SSH: a manifest in place is not a running etcd.

First a crash loop from a bad flag in one node's etcd manifest: cluster_info names the node, the kubelet's
restarts and the log line that says why, and fails. Then, the manifest put back, the incident at the top of
the issue: two nodes' etcd data directories wiped while running, their manifests untouched, so the kubelet
restarts etcd on an empty data directory and it crash-loops ("member ... has already been bootstrapped":
the lab's all-at-once bootstrap keeps --initial-cluster-state=new in every manifest); the survivor keeps
every key without quorum. recover names restore_quorum and never tells to start pods that run;
restore_quorum's plan shows each wiped member's data directory and last log line, and rebuilds with it.
Last, on the rebuilt lab, split brain: the first node's etcd manifest as kubeadm writes it (only itself in
--initial-cluster, state new) and its data directory lost, so its etcd bootstraps a cluster of its own while the
other two keep the majority's."""
import glob
import json
import os
import re
import shutil
import signal

from tests.integration.etcd_helpers import conn, etcd_frozen, etcd_pid, etcdctl_json
from tests.integration.helpers import run_module, wait_for
from tests.integration.playbook_helpers import ContinuousWriter, describe, endpoint_status, play, replace_manifest

BAD_FLAG = '--bogus-flag=1'
# Every manifest says --initial-cluster-state=new, as on a cluster restored from a snapshot on every node: a member
# whose data directory is wiped then crash-loops instead of rejoining (the two-wiped incident), and the first node's
# lone re-bootstrap gets a cluster ID of its own (the split brain).
LAB_BOOTSTRAP = 'all-at-once'


def write_manifest(node, text):
    """Replace the node's etcd manifest at once, as an editor's rename would (a dot file is no pod)."""
    replace_manifest(os.path.join(node.manifests_dir, 'etcd.yaml'), text, 0o600)


def etcd_logs_saying(node, text, at_least=1):
    """The kubelet's logs of the node's etcd containers that say `text`, once there are `at_least` of them."""
    logs = glob.glob(os.path.join(node.log_dir, 'pods', 'kube-system_etcd-%s_*' % node.name, 'etcd', '*.log'))
    saying = []
    for path in logs:
        with open(path, errors='replace') as handle:
            if text in handle.read():
                saying.append(path)
    return saying if len(saying) >= at_least else None


def etcd_lines(proc):
    """The per-node etcd lines cluster_info printed."""
    return [line.strip().strip('",') for line in proc.stdout.splitlines() if ': etcd: ' in line]


def test_a_bad_flag_crash_loop_is_named_with_its_restarts_and_why(lab):
    node = lab.nodes[1]
    path = os.path.join(node.manifests_dir, 'etcd.yaml')
    with open(path) as handle:
        original = handle.read()
    assert '    - --name=%s\n' % node.name in original
    write_manifest(node, original.replace('    - --name=%s\n' % node.name,
                                          '    - --name=%s\n    - %s\n' % (node.name, BAD_FLAG)))
    try:
        # two containers that died of it: the kubelet restarted it at least once
        wait_for(lambda: etcd_logs_saying(node, 'flag provided but not defined', 2), 60, 'etcd of %s crash-loops' % node.name)
        shown = play('cluster_info', lab)
        assert shown.returncode != 0, describe(shown)
        line = [text for text in etcd_lines(shown) if text.startswith('%s: etcd: ' % node.name)]
        assert len(line) == 1, describe(shown)
        assert line[0].startswith('%s: etcd: CRASH LOOP; manifest in place; process not running; restarts ' % node.name)
        assert line[0].endswith('last log: flag provided but not defined: -bogus-flag'), line[0]
        for other in (lab.nodes[0], lab.nodes[2]):
            assert any(text.startswith('%s: etcd: manifest in place; process pid ' % other.name) and 'answering (cluster '
                       in text for text in etcd_lines(shown)), describe(shown)
        failure = [text for text in shown.output.splitlines() if text.startswith('fatal:')]
        assert len(failure) == 1 and ('the etcd of %s is in a CRASH LOOP (restarted ' % node.name) in failure[0], failure
        assert 'flag provided but not defined: -bogus-flag' in failure[0] and 'recover' not in failure[0], failure[0]
    finally:
        write_manifest(node, original)
    lab.wait_healthy(timeout=120)


def test_two_wiped_members_crash_loop_recover_names_restore_quorum_which_shows_them(lab):
    survivor, wiped = lab.nodes[0], lab.nodes[1:]
    assert lab.etcdctl(survivor, 'put', '/issue21', 'kept').returncode == 0
    for node in wiped:
        with open(os.path.join(node.manifests_dir, 'etcd.yaml')) as handle:
            assert '--initial-cluster-state=new' in handle.read(), 'the all-at-once bootstrap this test relies on'
    # the power cut: data directory gone, etcd killed; the kubelet starts it again on the empty directory
    for node in wiped:
        pid = etcd_pid(node)
        shutil.rmtree(os.path.join(node.data_dir, 'member'))
        os.kill(pid, signal.SIGKILL)
    for node in wiped:
        wait_for(lambda node=node: etcd_logs_saying(node, 'has already been bootstrapped', 2), 90,
                 'etcd of %s crash-loops on its empty data directory' % node.name)

    recovered = play('recover', lab)
    assert recovered.returncode != 0, describe(recovered)
    for node in wiped:
        assert '%s: nothing to restore (running' % node.name not in recovered.output, describe(recovered)
        assert ('%s: nothing to restore, but etcd does NOT run although its manifest is in place, so starting its pods '
                'changes nothing (restarted ' % node.name) in recovered.output, describe(recovered)
    failure = [line for line in recovered.output.splitlines() if line.startswith('fatal:')]
    assert len(failure) == 1, describe(recovered)
    assert ('recover cannot help: the etcd data of %s and %s is lost, so at most 1 of 3 voters can run and quorum needs '
            '2. Rebuild etcd from the member with the most data: ansible-playbook -b -i <inventory> '
            'kubemaint.control_plane.restore_quorum (' % (wiped[0].name, wiped[1].name)) in failure[0], failure[0]
    assert 'NO WAL' in failure[0] and 'has already been bootstrapped' in failure[0]
    for contradiction in ('Start at least', 'start_node', 'recover again', 'recover for all'):
        assert contradiction not in failure[0], failure[0]

    planned = play('restore_quorum', lab)
    assert planned.returncode == 0, describe(planned)
    assert 'Rebuild from %s on %s' % (survivor.name, survivor.name) in planned.output, describe(planned)
    for node in wiped:
        shown = [line for line in planned.stdout.splitlines()
                 if '"  %s: its etcd pod runs (manifest in place) but no etcd process is up; restarted ' % node.name in line]
        assert len(shown) == 1, describe(planned)
        assert 'data directory /var/lib/etcd holds backend ' in shown[0] and 'NO WAL' in shown[0], shown[0]
        assert 'last log: fatal: discovery failed (member ' in shown[0] and 'has already been bootstrapped' in shown[0]
    for wrong in ('kubemaint.control_plane.recover', 'start_node', 'discard_stopped_data'):
        assert wrong not in planned.output, describe(planned)

    rebuilt = play('restore_quorum', lab, extra_vars={'restore_quorum_confirm': survivor.name})
    assert rebuilt.returncode == 0, describe(rebuilt)
    lab.wait_healthy(timeout=120)
    for node in lab.nodes:
        got = lab.etcdctl(node, 'get', '/issue21', '--print-value-only')
        assert got.returncode == 0 and got.stdout.strip() == 'kept', (node.name, got.stdout, got.stderr)


def cluster_id(lab, node):
    """The cluster ID the node's etcd answers with, or None."""
    result = lab.etcdctl(node, 'endpoint', 'status', '-w', 'json')
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)[0]['Status']['header']['cluster_id']


def test_split_brain_named_every_stop_refused_and_replace_member_rejoins_the_node(lab):
    """Must show 2: the first node's data directory lost while the other two keep quorum; its etcd, whose manifest
    says what kubeadm writes on the first node, bootstraps a one-member cluster of its own (a new cluster ID: the
    lab's cluster was bootstrapped all at once, as after a restore from a snapshot). cluster_info says SPLIT BRAIN
    naming it and fails; stop_node is refused; the maintenance lock, asked through that node's endpoint first, is
    taken on the majority's side; with the majority's quorum lost too, restore_quorum plans to rebuild from the
    majority's member, never from the other side; replace_member brings it back as a voter of the majority's cluster
    with every key, its data directory moved aside; a writer through the majority loses nothing."""
    first, second, third = lab.nodes
    lab.wait_healthy(timeout=120)
    majority_id = cluster_id(lab, second)
    assert lab.etcdctl(second, 'put', '/before-split', 'kept').returncode == 0
    writer = ContinuousWriter(lab, prefix='/split/')
    writer.clients = writer.clients[1:]  # through the majority only: the other side's writes are the split's loss
    writer.start()
    try:
        path = os.path.join(first.manifests_dir, 'etcd.yaml')
        with open(path) as handle:
            manifest = handle.read()
        alone = re.sub(r'    - --initial-cluster=.*\n', '    - --initial-cluster=%s=https://%s:2380\n'
                       % (first.name, first.address), manifest).replace('--initial-cluster-state=existing',
                                                                        '--initial-cluster-state=new')
        assert '--initial-cluster-state=new' in alone and alone != manifest
        # its data directory lost, then its manifest as kubeadm wrote it: the kubelet restarts etcd on the empty one
        shutil.rmtree(os.path.join(first.data_dir, 'member'))
        write_manifest(first, alone)
        wait_for(lambda: cluster_id(lab, first) not in (None, majority_id), 90,
                 'etcd of %s answering for a cluster of its own' % first.name)

        shown = play('cluster_info', lab)
        assert shown.returncode != 0, describe(shown)
        line = [text for text in etcd_lines(shown) if text.startswith('%s: etcd: ' % first.name)]
        assert len(line) == 1 and line[0].startswith('%s: etcd: SPLIT BRAIN; manifest in place; process pid '
                                                     % first.name), describe(shown)
        assert 'answering for ANOTHER cluster (cluster ' in line[0] and 'CRASH LOOP' not in line[0], line[0]
        failure = [text for text in shown.output.splitlines() if text.startswith('fatal:')]
        assert len(failure) == 1, describe(shown)
        assert ("SPLIT BRAIN: the etcd of %s answers for another cluster than the majority's" % first.name) \
            in failure[0], failure[0]
        assert 'kubemaint.control_plane.replace_member -e node=%s' % first.name in failure[0]
        assert 'recover' not in failure[0] and 'start_node' not in failure[0], failure[0]

        before = {node.name: sorted(os.listdir(node.manifests_dir)) for node in lab.nodes}
        for node in (first, second):
            refused = play('stop_node', lab, limit=node.name)
            assert refused.returncode != 0, describe(refused)
            assert 'Quorum guard: refusing to stop the control plane of %s: SPLIT BRAIN: ' % node.name \
                in refused.output, describe(refused)
        assert {node.name: sorted(os.listdir(node.manifests_dir)) for node in lab.nodes} == before

        # The maintenance lock goes to the majority's side, even asked through the split node's endpoint first: a
        # lock on the other side would bind no run that reaches the majority.
        key, token = '/kubemaint.control_plane/test-split-lock', 'tok-split-0001'
        through = conn(first, endpoints=[node.client_url for node in lab.nodes], key=key, token=token)
        other_side = etcdctl_json(lab, first, 'get', key)['header']['revision']
        taken = run_module('etcd_lock', dict(through, state='acquired', ttl=60, holder={'user': 'incident-test'}))
        assert not taken['failed'] and taken['action'] == 'taken', taken.get('msg')
        assert json.loads(lab.etcdctl(second, 'get', key, '--print-value-only').stdout)['user'] == \
            'incident-test'
        held = etcdctl_json(lab, first, 'get', key)
        assert not held.get('kvs') and held['header']['revision'] == other_side, held
        released = run_module('etcd_lock', dict(through, state='released'))
        assert not released['failed'] and released['changed'], released.get('msg')
        assert not etcdctl_json(lab, second, 'get', key).get('kvs')

        # The majority's quorum lost too (the third member hung): the split node's cluster of one answers, healthy,
        # yet restore_quorum's plan rebuilds from the majority's member, never from the other side.
        with etcd_frozen(third):
            wait_for(lambda: not (endpoint_status(lab, second) or {}).get('leader'), 30,
                     '%s without a leader' % second.name)
            planned = play('restore_quorum', lab, extra_vars={'restore_quorum_discard_stopped_data': True})
            assert planned.returncode == 0 and not re.search(r'changed=[1-9]', planned.stdout), describe(planned)
            assert 'Rebuild from %s on %s' % (second.name, second.name) in planned.output, describe(planned)
            assert 'Rebuild from %s' % first.name not in planned.output
        wait_for(lambda: (endpoint_status(lab, second) or {}).get('leader'), 60,
                 '%s with a leader again' % second.name)

        rejoined = play('replace_member', lab, extra_vars={'node': first.name})
        assert rejoined.returncode == 0, describe(rejoined)
        lab.wait_healthy(timeout=120)
        assert cluster_id(lab, first) == majority_id
        members = etcdctl_json(lab, second, 'member', 'list')['members']
        assert sorted(m['name'] for m in members) == sorted(n.name for n in lab.nodes)
        assert not any(m.get('isLearner') for m in members), members
        got = lab.etcdctl(first, 'get', '/before-split', '--print-value-only')
        assert got.returncode == 0 and got.stdout.strip() == 'kept', (got.stdout, got.stderr)
        moved = glob.glob(first.data_dir + '.replaced-*')
        assert len(moved) == 1 and os.listdir(os.path.join(moved[0], 'member')), moved
        assert lab.node_path(first, moved[0]) in rejoined.output
        with open(path) as handle:
            assert '--initial-cluster-state=existing' in handle.read()
    finally:
        writer.stop()
    assert writer.missing() == [] and len(writer.acknowledged) > 50
