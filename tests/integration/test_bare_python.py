"""The modules on a control-plane node whose Python has nothing beyond the standard library.

DESIGN: the etcd modules and static_pod_toggle need only Python 3.8+ (no PyYAML, no etcdctl, no
gRPC); cert_san_check needs cryptography and says so clearly. The node's Python here is a bare
virtualenv made from the oldest Python 3.8+ found on this machine (pyenv's 3.8 where present).
"""
import glob
import os
import subprocess
import sys

import pytest

from tests.integration.helpers import run_module


def oldest_python():
    candidates = sorted(glob.glob('/root/.pyenv/versions/3.*/bin/python3') + glob.glob('/usr/bin/python3.*'))
    found = []
    for path in candidates:
        try:
            out = subprocess.run([path, '-c', 'import sys, venv; print("%d %d" % sys.version_info[:2])'],
                                 capture_output=True, text=True, timeout=30, check=False).stdout.split()
        except OSError:
            continue
        if len(out) == 2 and (int(out[0]), int(out[1])) >= (3, 8):
            found.append(((int(out[0]), int(out[1])), path))
    return min(found)[1] if found else sys.executable


@pytest.fixture(scope='module')
def bare_python(tmp_path_factory):
    venv = str(tmp_path_factory.mktemp('bare-python'))
    subprocess.run([oldest_python(), '-m', 'venv', '--without-pip', venv], check=True, timeout=120)
    python = os.path.join(venv, 'bin', 'python')
    probe = subprocess.run([python, '-c', 'import yaml'], capture_output=True, check=False, timeout=30)
    assert probe.returncode != 0, 'the bare interpreter must not have PyYAML'
    probe = subprocess.run([python, '-c', 'import cryptography'], capture_output=True, check=False, timeout=30)
    assert probe.returncode != 0, 'the bare interpreter must not have cryptography'
    return python


def on_node(python, module, args):
    return run_module(module, args, python=python)


def test_etcd_modules_and_toggle_need_only_the_standard_library(lab, bare_python):
    node = lab.nodes[0]
    info = on_node(bare_python, 'etcd_member_info', {'kubernetes_dir': node.kubernetes_dir})
    assert not info['failed'], info.get('msg')
    assert info['cluster']['has_quorum'] is True and len(info['members']) == 3

    stopped = on_node(bare_python, 'static_pod_toggle',
                      {'kubernetes_dir': node.kubernetes_dir, 'name': 'kube-scheduler', 'state': 'stopped'})
    assert not stopped['failed'] and stopped['changed'], stopped.get('msg')
    assert not os.path.exists(os.path.join(node.manifests_dir, 'kube-scheduler.yaml'))
    started = on_node(bare_python, 'static_pod_toggle',
                      {'kubernetes_dir': node.kubernetes_dir, 'name': 'kube-scheduler', 'state': 'started'})
    assert not started['failed'] and started['changed'], started.get('msg')
    assert os.path.exists(os.path.join(node.manifests_dir, 'kube-scheduler.yaml'))


def test_cert_san_check_names_the_missing_library(lab, bare_python):
    result = on_node(bare_python, 'cert_san_check', {'kubernetes_dir': lab.nodes[0].kubernetes_dir})
    assert result['failed']
    assert 'Failed to import the required Python library (cryptography)' in result['msg']
    assert bare_python in result['msg']  # it ran on the bare interpreter, and says which
    assert 'Traceback' not in result['_stdout'] + result['_stderr']
