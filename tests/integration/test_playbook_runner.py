"""The playbooks through ansible-runner, as AWX runs them: extra vars, no terminal, no prompt."""
import json
import os
import sys

import ansible_runner

from tests.conftest import COLLECTIONS_ROOT


def runner(lab, playbook, tmp_path, extravars=None, limit=None):
    private = tmp_path / ('runner-%s-%d' % (playbook, len(list(tmp_path.iterdir()))))
    private.mkdir()
    return ansible_runner.run(
        private_data_dir=str(private), playbook='kubemaint.control_plane.' + playbook,
        inventory=lab.inventory_path, extravars=extravars or {}, limit=limit, quiet=True,
        envvars={'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_ROOT, 'ANSIBLE_NOCOLOR': '1',
                 'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')},
        timeout=900)


def test_cluster_info_and_guard_through_ansible_runner(lab, tmp_path):
    report = tmp_path / 'state.json'
    result = runner(lab, 'cluster_info', tmp_path, extravars={'cluster_state_json_report': str(report)})
    assert result.status == 'successful' and result.rc == 0, result.stdout.read()[-4000:]
    state = json.loads(report.read_text())
    assert state['cluster']['has_quorum'] is True
    assert sorted(member['name'] for member in state['members']) == [node.name for node in lab.nodes]
    assert sum(1 for member in state['members'] if member['is_leader']) == 1

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
