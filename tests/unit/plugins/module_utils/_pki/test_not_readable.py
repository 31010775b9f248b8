"""Issue 25: cert_check run without become. kubeadm keeps keys, kubeconfigs and manifests readable by root only; a
check run as another user names those files, the user and become, instead of "give node_name" or "not fit for this
node". Files are opened, never read (no key material in any message). The tests run as root, so a permission denied
is simulated for the files root alone could read."""
import builtins
import os

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import BECOME_ADVICE
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki import checks
from tests import certfactory as cf


def root_only(monkeypatch, kube):
    """Files of mode 0600 (and directories of mode 0700) under `kube` refuse to open, as for a user who is not root."""
    real_open, real_listdir = builtins.open, os.listdir

    def refuse(path):
        return str(path).startswith(kube) and not os.stat(path).st_mode & 0o044

    def fake_open(path, *args, **kwargs):
        if refuse(path):
            raise PermissionError(13, 'Permission denied', path)
        return real_open(path, *args, **kwargs)

    def fake_listdir(path):
        if refuse(path):
            raise PermissionError(13, 'Permission denied', path)
        return real_listdir(path)
    monkeypatch.setattr(checks, 'open', fake_open, raising=False)
    monkeypatch.setattr(checks.os, 'listdir', fake_listdir)


def readable_node(tmp_path):
    """A node whose files every user may read (certfactory writes keys 0600), to make some root's only."""
    kube = cf.make_node(str(tmp_path), 'lab-cp-01', '127.0.1.1')
    for top, dirs, files in os.walk(kube):
        for name in files:
            os.chmod(os.path.join(top, name), 0o644)
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o755)
    return kube


def test_files_only_root_may_read_are_named(tmp_path, monkeypatch):
    kube = readable_node(tmp_path)
    assert checks.unreadable_files(kube) == []
    keys = [os.path.join(kube, 'pki', name) for name in ('ca.key', 'etcd/server.key')]
    manifest = os.path.join(kube, 'manifests', 'etcd.yaml')
    for path in keys + [manifest]:
        os.chmod(path, 0o600)
    root_only(monkeypatch, kube)
    unreadable = checks.unreadable_files(kube)
    assert sorted(unreadable) == sorted(keys + [manifest])
    message = checks.not_readable_message(kube, unreadable, 'kubemaint (uid 1000)', BECOME_ADVICE)
    assert message.startswith('cannot check the certificates under %s: the remote user kubemaint (uid 1000) may not '
                              'read 3 of the files the check reads (%s, ' % (kube, manifest))
    assert message.endswith('). Run with become (-b, or become: true in the job template): kubeadm keeps these files '
                            'readable by root only.')
    assert 'PRIVATE KEY' not in message


def test_an_unreadable_manifests_directory_counts_once_and_long_lists_are_cut(tmp_path, monkeypatch):
    kube = readable_node(tmp_path)
    os.chmod(os.path.join(kube, 'manifests'), 0o700)
    for name in ('ca.key', 'front-proxy-ca.key', 'apiserver.key', 'sa.key'):
        os.chmod(os.path.join(kube, 'pki', name), 0o600)
    root_only(monkeypatch, kube)
    unreadable = checks.unreadable_files(kube)
    assert unreadable[0] == os.path.join(kube, 'manifests') and len(unreadable) == 5
    message = checks.not_readable_message(kube, unreadable, 'uid 1000', BECOME_ADVICE)
    assert 'may not read 5 of the files' in message and ' and 2 more). Run with become (-b' in message
