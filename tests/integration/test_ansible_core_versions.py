"""The collection's playbooks on the older ansible-core versions it claims (meta/runtime.yml), on one
shared 3-node lab: every playbook's syntax, then a cheap run of most roles. Each run must exit as
expected and print no [DEPRECATION WARNING] (issue 25); it logs to the run's ANSIBLE_LOG_PATH too, so
the root conftest's check sees them as well. pytest's summary names the version of every run."""
import glob
import os
import subprocess
import time

import pytest

from tests.ansible_core_versions import RUNS, VERSIONS, ensure, installed_version
from tests.ansible_log import MARK
from tests.integration.helpers import REPO_ROOT, ansible_env
from tests.integration.playbook_helpers import describe, recap

PLAYBOOKS = sorted(glob.glob(os.path.join(REPO_ROOT, 'playbooks', '*.yml')))


def _run(version, bin_dir, lab, what, args):
    env = ansible_env({'PATH': bin_dir + os.pathsep + os.environ.get('PATH', ''),
                       'ANSIBLE_DEPRECATION_WARNINGS': 'true'})
    command = [os.path.join(bin_dir, 'ansible-playbook'), '-i', lab.inventory_path] + args
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=REPO_ROOT, check=False)
    proc.output = proc.stdout + proc.stderr
    proc.recap = recap(proc.stdout)
    RUNS.append((version, what, proc.returncode, time.monotonic() - started))
    assert MARK not in proc.output, 'ansible-core %s, %s:\n%s' % (version, what, describe(proc))
    return proc


def _ok(version, bin_dir, lab, what, args):
    proc = _run(version, bin_dir, lab, what, args)
    assert proc.returncode == 0, 'ansible-core %s, %s: %s' % (version, what, describe(proc))
    return proc


@pytest.mark.parametrize('version', VERSIONS)
def test_playbooks_on_older_ansible_core(lab, version):
    bin_dir = ensure(version)
    assert installed_version(version).startswith('ansible [core %s]' % version)
    node1, node2 = lab.nodes[0], lab.nodes[1]

    _ok(version, bin_dir, lab, 'syntax check of every playbook', ['--syntax-check'] + PLAYBOOKS)
    _ok(version, bin_dir, lab, 'cluster_info', ['kubemaint.control_plane.cluster_info'])
    _ok(version, bin_dir, lab, 'cert_check', ['kubemaint.control_plane.cert_check'])

    _ok(version, bin_dir, lab, 'stop_node', ['kubemaint.control_plane.stop_node', '--limit', node1.name])
    try:
        refused = _run(version, bin_dir, lab, 'stop_node refused (another node down)',
                       ['kubemaint.control_plane.stop_node', '--limit', node2.name])
        assert refused.returncode != 0, describe(refused)
        assert 'Quorum guard: refusing to stop the control plane of %s' % node2.name in refused.output, \
            describe(refused)
    finally:
        _ok(version, bin_dir, lab, 'start_node', ['kubemaint.control_plane.start_node', '--limit', node1.name])

    _ok(version, bin_dir, lab, 'rolling_restart', ['kubemaint.control_plane.rolling_restart'])
    _ok(version, bin_dir, lab, 'renew_certs --check', ['kubemaint.control_plane.renew_certs', '--check'])
