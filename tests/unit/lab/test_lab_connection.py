"""How the lab decides between the ssh and the local connection, and what it says."""
import os

import pytest

from tests.lab import core
from tests.lab.core import Lab, LabError


@pytest.fixture
def sshd_tree(tmp_path, monkeypatch):
    for part in ('usr/sbin/sshd', 'usr/bin/sudo', 'usr/lib/openssh/sftp-server'):
        path = tmp_path / part
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('')
    monkeypatch.setenv('KUBEMAINT_LAB_OS', str(tmp_path))
    return tmp_path


def test_not_root_is_the_reason(monkeypatch, sshd_tree):
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)
    assert core.ssh_unavailable().startswith('not root')


def test_missing_sshd_names_the_make_target(monkeypatch, sshd_tree):
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    monkeypatch.setattr(core.shutil, 'which', lambda tool: '/usr/bin/' + tool)
    (sshd_tree / 'usr/sbin/sshd').unlink()
    reason = core.ssh_unavailable()
    assert 'usr/sbin/sshd' in reason and 'make lab-os' in reason


def test_missing_tool_is_named(monkeypatch, sshd_tree):
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    monkeypatch.setattr(core.shutil, 'which', lambda tool: None if tool == 'unshare' else '/usr/bin/' + tool)
    assert core.ssh_unavailable() == 'no unshare command on this machine'


def test_auto_falls_back_and_says_why_ssh_refuses(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(core, 'ssh_unavailable', lambda: 'not root (for the test)')
    monkeypatch.delenv('KUBEMAINT_LAB_CONNECTION', raising=False)
    auto = Lab(str(tmp_path / 'a'), nodes=1)
    auto._choose_connection()
    assert auto.connection == 'local'
    assert 'not root (for the test)' in capsys.readouterr().err
    assert 'not root (for the test)' in auto.describe_connection()
    forced = Lab(str(tmp_path / 'b'), nodes=1, connection='ssh')
    with pytest.raises(LabError, match='the ssh lab cannot start: not root'):
        forced._choose_connection()
    local = Lab(str(tmp_path / 'c'), nodes=1, connection='local')
    local._choose_connection()
    assert local.connection == 'local' and local.connection_note is None


def test_connection_from_the_environment_and_bad_values(monkeypatch, tmp_path):
    monkeypatch.setenv('KUBEMAINT_LAB_CONNECTION', 'local')
    assert Lab(str(tmp_path), nodes=1).connection == 'local'
    monkeypatch.setenv('KUBEMAINT_LAB_CONNECTION', 'telnet')
    with pytest.raises(LabError, match="connection must be one of auto, ssh, local, got 'telnet'"):
        Lab(str(tmp_path), nodes=1)


def test_keep_paths_are_outermost_only(tmp_path):
    lab = Lab(str(tmp_path), nodes=1, connection='local')
    lab.etcd_bin = os.path.join(core.REPO_ROOT, '.venv', 'etcd', 'etcd')
    keep = lab._keep_paths()
    assert core.REPO_ROOT in keep
    assert not any(path != other and path.startswith(other + '/') for path in keep for other in keep)


def test_port_22_counts_only_where_the_lab_may_run_over_ssh(monkeypatch):
    # Not root: port 22 cannot be bound at all, so checking it would find every address taken.
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)
    assert core.SSH_PORT not in core.lab_ports()
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    assert core.SSH_PORT in core.lab_ports()
    assert core.SSH_PORT not in core.lab_ports(ssh=False)
