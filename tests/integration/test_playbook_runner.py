"""The playbooks through ansible-runner, as AWX runs them: extra vars, no terminal, no prompt."""
import json
import os
import re
import shutil
import sys

import ansible_runner

from tests.conftest import COLLECTIONS_ROOT

COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']


def runner(lab, playbook, tmp_path, extravars=None, limit=None, cmdline=None, envvars=None):
    private = tmp_path / ('runner-%s-%d' % (playbook, len(list(tmp_path.iterdir()))))
    private.mkdir()
    return ansible_runner.run(
        private_data_dir=str(private), playbook='kubemaint.control_plane.' + playbook,
        inventory=lab.inventory_path, extravars=extravars or {}, limit=limit, quiet=True, cmdline=cmdline,
        envvars=dict({'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_ROOT, 'ANSIBLE_NOCOLOR': '1',
                      'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')},
                     **(envvars or {})),
        timeout=900)


def artifacts(result):
    """What set_stats handed to AWX: the artifact_data of the run's closing stats event."""
    return [event['event_data'].get('artifact_data') for event in result.events
            if event.get('event') == 'playbook_on_stats'][-1]


def test_cluster_info_and_guard_through_ansible_runner(lab, tmp_path):
    report = tmp_path / 'state.json'
    # Over SSH as the README says, with become (-b): the report is still written on the controller as the
    # user who runs ansible, not through sudo there (this controller has no sudo at all).
    result = runner(lab, 'cluster_info', tmp_path, extravars={'cluster_state_json_report': str(report)},
                    cmdline='--become' if lab.connection == 'ssh' else None)
    assert result.status == 'successful' and result.rc == 0, result.stdout.read()[-4000:]
    state = json.loads(report.read_text())
    assert state['cluster']['has_quorum'] is True
    assert sorted(member['name'] for member in state['members']) == [node.name for node in lab.nodes]
    assert sum(1 for member in state['members'] if member['is_leader']) == 1
    # The same state as AWX artifacts (set_stats), unless turned off.
    assert artifacts(result) == {'cluster_state': state}
    quiet = runner(lab, 'cluster_info', tmp_path, extravars={'cluster_state_set_stats': False})
    assert quiet.status == 'successful' and not artifacts(quiet), quiet.stdout.read()[-4000:]

    node = lab.nodes[1]
    stopped = runner(lab, 'stop_node', tmp_path, limit=node.name,
                     extravars={'control_plane_node_snapshot_keep': 1})
    assert stopped.status == 'successful', stopped.stdout.read()[-4000:]
    assert os.listdir(node.manifests_dir) == []
    refused = runner(lab, 'stop_node', tmp_path, limit=lab.nodes[0].name)
    assert refused.status == 'failed'
    messages = [event['event_data']['res'].get('msg', '') for event in refused.events
                if event.get('event') == 'runner_on_failed']
    assert any('Quorum guard: refusing' in message for message in messages), messages
    started = runner(lab, 'start_node', tmp_path, limit=node.name)
    assert started.status == 'successful', started.stdout.read()[-4000:]
    assert len(os.listdir(node.snapshot_dir)) == 1
    lab.wait_healthy(timeout=120)


def test_stray_manifest_is_reported_and_refuses_every_stop(lab, tmp_path):
    """A backup copy in a manifests directory runs as a second pod: cluster_info names it, and the
    guard refuses to stop that node or any other one, naming the file; nothing is stopped."""
    lab.wait_healthy(timeout=120)
    node1, node2 = lab.nodes[0], lab.nodes[1]
    stray = os.path.join(node2.manifests_dir, 'etcd.yaml.bak')
    shutil.copy2(os.path.join(node2.manifests_dir, 'etcd.yaml'), stray)
    try:
        info = runner(lab, 'cluster_info', tmp_path)
        assert info.status == 'successful', info.stdout.read()[-4000:]
        assert 'STRAY manifest %s defines etcd a second time' % lab.node_path(node2, stray) in info.stdout.read()
        for node in (node1, node2):
            refused = runner(lab, 'stop_node', tmp_path, limit=node.name)
            assert refused.status == 'failed'
            messages = [event['event_data']['res'].get('msg', '') for event in refused.events
                        if event.get('event') == 'runner_on_failed']
            expected = 'stray manifest %s on %s' % (lab.node_path(node2, stray), node2.name)
            assert any('Quorum guard: refusing' in message and expected in message for message in messages), messages
            assert [name for name in sorted(os.listdir(node.manifests_dir)) if name.endswith('.yaml')] == COMPONENT_FILES
    finally:
        os.unlink(stray)


def test_stop_node_in_check_mode_changes_nothing_and_says_so(lab, tmp_path):
    lab.wait_healthy(timeout=120)
    node = lab.nodes[2]
    checked = runner(lab, 'stop_node', tmp_path, limit=node.name, cmdline='--check')
    output = checked.stdout.read()
    assert checked.status == 'successful', output[-4000:]
    assert '%s would be stopped (check mode: nothing was changed)' % node.name in output
    assert '%s stopped.' % node.name not in output
    assert sorted(os.listdir(node.manifests_dir)) == COMPONENT_FILES and node.etcd_healthy()


def test_cluster_info_table_stays_whole_under_the_yaml_result_format(lab, tmp_path):
    """ANSIBLE_CALLBACK_RESULT_FORMAT=yaml folds long strings at spaces: the table must not break."""
    lab.wait_healthy(timeout=120)
    result = runner(lab, 'cluster_info', tmp_path, envvars={'ANSIBLE_CALLBACK_RESULT_FORMAT': 'yaml'})
    output = result.stdout.read()
    assert result.status == 'successful', output[-4000:]
    lines = [line.strip() for line in output.splitlines()]
    header = [line for line in lines if line.startswith('| MEMBER ')]
    assert len(header) == 1 and header[0].endswith('| HEALTHY |'), output[-4000:]
    for node in lab.nodes:
        rows = [line for line in lines if line.startswith('| %s ' % node.name)]
        assert len(rows) == 1 and rows[0].endswith('| true    |') and len(rows[0]) == len(header[0]), rows
    assert '%s: running: etcd, kube-apiserver, kube-controller-manager, kube-scheduler' % lab.nodes[0].name in lines
    assert max(len(line) for line in header + [line for line in lines if line.startswith('| lab-cp-')]) <= 80

    # Details on demand: the columns etcdctl endpoint status prints, ids included.
    detailed = runner(lab, 'cluster_info', tmp_path, cmdline='-e cluster_state_table_details=true')
    output = detailed.stdout.read()
    assert detailed.status == 'successful', output[-4000:]
    header = [line.strip().strip('",') for line in output.splitlines() if '| MEMBER ' in line]
    assert len(header) == 1 and '| ID ' in header[0] and '| TERM ' in header[0], output[-4000:]
    ids = re.findall(r'\| lab-cp-0\d +\| https://[0-9.:]+ +\| ([0-9a-f]{16}) \|', output)
    assert len(ids) == len(lab.nodes), output[-4000:]
