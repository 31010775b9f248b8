"""_etcd/module.py: where etcd_member_info takes the backend quota from."""
import os

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import backend_quota

MANIFEST = '''apiVersion: v1
kind: Pod
metadata:
  name: etcd
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://127.0.1.1:2379
%s    name: etcd
'''


def node_with_flag(tmp_path, flag):
    manifests = tmp_path / 'manifests'
    manifests.mkdir()
    (manifests / 'etcd.yaml').write_text(MANIFEST % (('    - %s\n' % flag) if flag else ''))
    return {'kubernetes_dir': str(tmp_path), 'quota_backend_bytes': None}


@pytest.mark.parametrize('flag,quota,source', [
    ('--quota-backend-bytes=16777216', 16777216, '--quota-backend-bytes in'),
    ('--quota-backend-bytes=0', 2147483648, '--quota-backend-bytes in'),
    (None, 2147483648, 'etcd default'),
])
def test_quota_from_the_manifest(tmp_path, flag, quota, source):
    found, where, warning = backend_quota(node_with_flag(tmp_path, flag))
    assert (found, warning) == (quota, None) and where.startswith(source)
    if flag:
        assert where.endswith(os.path.join(str(tmp_path), 'manifests', 'etcd.yaml'))


def test_the_option_comes_first(tmp_path):
    params = node_with_flag(tmp_path, '--quota-backend-bytes=16777216')
    params['quota_backend_bytes'] = 8589934592
    assert backend_quota(params) == (8589934592, 'quota_backend_bytes option', None)


def test_no_manifest_means_the_default(tmp_path):
    assert backend_quota({'kubernetes_dir': str(tmp_path)}) == (2147483648, 'etcd default', None)


@pytest.mark.parametrize('flag,words', [('--quota-backend-bytes=8GiB', 'is not a whole number')])
def test_a_flag_etcd_would_refuse_warns_and_uses_the_default(tmp_path, flag, words):
    quota, source, warning = backend_quota(node_with_flag(tmp_path, flag))
    assert (quota, source) == (2147483648, 'etcd default') and words in warning
