"""static_pod_flags against the lab: the kubelet emulator restarts etcd with the edited command
line (read back from /proc), the member is healthy again, the previous manifest is kept outside
the manifests directory, and a stashed manifest is edited in the stash."""
import json
import os
import stat

from tests.integration.etcd_helpers import etcdctl_json
from tests.integration.helpers import run_module, wait_for

MANIFESTS = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']


def flags(node, check_mode=False, **args):
    args.setdefault('name', 'etcd')
    args['kubernetes_dir'] = node.kubernetes_dir
    return run_module('static_pod_flags', args, check_mode=check_mode, diff=True)


def ok(result):
    assert not result['failed'], result.get('msg') or result['_stdout'][-3000:]
    return result


def etcd_process(node):
    """(pid, argv) of the node's running etcd as /proc shows it, or None while there is none."""
    try:
        with open(os.path.join(node.root, 'run', 'kubelet', 'pods', 'etcd.yaml.json')) as handle:
            pid = json.load(handle)['pid']
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().decode().split('\0')
    except (OSError, ValueError, KeyError):
        return None
    return pid, argv


def restarted_with(node, old_pid, argument):
    """Wait until etcd runs as a new process whose command line has `argument`; its pid."""
    def check():
        process = etcd_process(node)
        return process[0] if process and process[0] != old_pid and argument in process[1] else None
    return wait_for(check, 120, '%s etcd restarted with %s' % (node.name, argument))


def read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def healthy_member(lab, node):
    lab.wait_healthy(timeout=120, nodes=[node])
    health = etcdctl_json(lab, node, 'endpoint', 'health')
    assert health[0]['health'] is True, health


def test_initial_cluster_state_existing_and_back(lab):
    node = lab.nodes[0]  # kubeadm init's node: its manifest says new
    manifest = os.path.join(node.manifests_dir, 'etcd.yaml')
    backups = os.path.join(node.kubernetes_dir, 'manifests-backup')
    original = read(manifest)
    old_pid, old_argv = etcd_process(node)
    assert '--initial-cluster-state=new' in old_argv
    wanted = {'initial-cluster-state': 'existing'}

    check = ok(flags(node, check_mode=True, flags=wanted))
    assert check['changed'] and check['backup_file'] is None
    assert check['changes'] == [{'flag': 'initial-cluster-state', 'action': 'changed',
                                 'before': '--initial-cluster-state=new', 'after': '--initial-cluster-state=existing'}]
    assert check['diff']['before'] == original.decode()
    assert check['diff']['after'] == original.decode().replace('--initial-cluster-state=new',
                                                               '--initial-cluster-state=existing')
    assert read(manifest) == original and not os.path.exists(backups)
    assert etcd_process(node)[0] == old_pid

    applied = ok(flags(node, flags=wanted))
    assert applied['changed'] and applied['location'] == 'manifests'
    assert applied['flags_before']['initial-cluster-state'] == 'new'
    assert applied['flags_after']['initial-cluster-state'] == 'existing'
    assert read(manifest) == original.replace(b'--initial-cluster-state=new', b'--initial-cluster-state=existing')
    assert sorted(os.listdir(node.manifests_dir)) == MANIFESTS  # no temp file, no backup where the kubelet looks
    assert os.path.dirname(applied['backup_file']) == backups
    assert read(applied['backup_file']) == original
    assert stat.S_IMODE(os.stat(backups).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(applied['backup_file']).st_mode) == stat.S_IMODE(os.stat(manifest).st_mode)
    new_pid = restarted_with(node, old_pid, '--initial-cluster-state=existing')
    healthy_member(lab, node)

    for check_mode in (False, True):
        again = ok(flags(node, check_mode=check_mode, flags=wanted))
        assert not again['changed'] and again['changes'] == [] and again['backup_file'] is None
    assert etcd_process(node)[0] == new_pid
    assert len(os.listdir(backups)) == 1

    # back to "new" while etcd is stopped: the stashed manifest is edited, the flag applies at start
    stop = ok(run_module('static_pod_toggle', {'name': ['etcd'], 'state': 'stopped',
                                               'kubernetes_dir': node.kubernetes_dir, 'wait_timeout': 120}))
    assert stop['changed']
    # The module returns once every etcd port refuses connections; the process exits a moment
    # later and the kubelet emulator reaps it on its next poll.
    wait_for(lambda: etcd_process(node) is None, 15, '%s etcd process gone after the stop' % node.name)
    back = ok(flags(node, flags={'initial-cluster-state': 'new'}))
    assert back['changed'] and back['location'] == 'stash'
    assert back['path'] == os.path.join(node.kubernetes_dir, 'manifests-stash', 'etcd.yaml')
    assert read(back['path']) == original and etcd_process(node) is None
    start = ok(run_module('static_pod_toggle', {'name': ['etcd'], 'state': 'started',
                                                'kubernetes_dir': node.kubernetes_dir, 'wait_timeout': 120}))
    assert start['changed'] and read(manifest) == original
    restarted_with(node, new_pid, '--initial-cluster-state=new')
    healthy_member(lab, node)
    assert sorted(os.listdir(node.manifests_dir)) == MANIFESTS
    assert len(os.listdir(backups)) == 2


def test_bad_input_fails_clearly_and_changes_nothing(lab):
    node = lab.nodes[2]
    manifest = os.path.join(node.manifests_dir, 'etcd.yaml')
    original = read(manifest)
    pid = etcd_process(node)[0]
    # every refusal is unit-tested (test_manifest_edit.py); this proves the module reports one cleanly
    result = flags(node, flags={'force-new-cluster': None})
    assert result['failed'] and 'list it in absent_flags' in result['msg'], result.get('msg')
    assert 'Traceback' not in result['_stdout'] + result['_stderr']
    assert read(manifest) == original and etcd_process(node)[0] == pid
    assert sorted(os.listdir(node.manifests_dir)) == MANIFESTS
