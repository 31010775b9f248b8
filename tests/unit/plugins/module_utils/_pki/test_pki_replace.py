"""_pki/replace.py on kubeadm-shaped nodes written by tests/certfactory: what each mode selects,
what it writes (and only that), backups, modes, kubeconfigs byte for byte, refusals."""
import base64
import datetime
import json
import os
import shutil
import stat

import pytest
import yaml

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import sha256_file
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import (
    check_node_certificates,
    node_identity,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.replace import (
    ReplaceError,
    apply_plan,
    check_backup_root,
    plan_certificates,
    result_of,
)
from tests import certfactory as cf

INITIAL = 'lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380'


@pytest.fixture(scope='module')
def cas():
    return cf.ClusterCAs()


@pytest.fixture
def nodes(tmp_path, cas):
    one = cf.make_node(str(tmp_path / 'n1'), 'lab-cp-01', '127.0.1.1', cas, initial_cluster=INITIAL)
    two = cf.make_node(str(tmp_path / 'n2'), 'lab-cp-02', '127.0.1.2', cas, initial_cluster=INITIAL)
    return one, two


def tree_digests(root):
    digests = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            digests[os.path.relpath(path, root)] = sha256_file(path)
    return digests


def run(kube, state='reissued', check=False, backup_root=None, **options):
    identity = node_identity(kube)
    plan = plan_certificates(kube, identity, state, **options)
    backup = None
    if not check:
        backup = apply_plan(plan, backup_root or os.path.join(kube, 'pki-backups'))
    return result_of(plan, backup, check), plan


def copy_pki(source, target):
    shutil.rmtree(os.path.join(target, 'pki'))
    shutil.copytree(os.path.join(source, 'pki'), os.path.join(target, 'pki'))


def test_fresh_node_needs_nothing(nodes):
    result, _plan = run(nodes[0])
    assert result['changed'] is False and result['replaced'] == [] and result['backup_dir'] is None
    assert {item['result'] for item in result['certificates']} == {'unchanged'}


def test_copied_pki_is_reissued_for_this_node(nodes):
    one, two = nodes
    copy_pki(two, one)
    before = tree_digests(one)
    result, _plan = run(one, check=True)
    assert result['replaced'] == ['apiserver', 'etcd-server', 'etcd-peer'] and result['changed']
    assert tree_digests(one) == before, 'check mode wrote something'
    result, _plan = run(one)
    assert result['replaced'] == ['apiserver', 'etcd-server', 'etcd-peer']
    report = check_node_certificates(one, node_identity(one))
    assert report['ok'], report['problems']
    after = {item['name']: item for item in result['certificates']}
    assert after['etcd-peer']['after']['subject'] == 'CN=lab-cp-01'
    assert after['etcd-peer']['before']['sans']['dns'] == ['lab-cp-02', 'localhost']
    assert after['etcd-peer']['after']['sans'] == {'dns': ['lab-cp-01', 'localhost'],
                                                   'ip': ['127.0.1.1', '127.0.0.1', '::1']}
    # new keys, backups of exactly the replaced files (the copied ones), 0700/0600
    backup = result['backup_dir']
    assert os.path.dirname(backup) == os.path.join(one, 'pki-backups')
    backed_up = tree_digests(backup)
    assert sorted(backed_up) == sorted(['pki/apiserver.crt', 'pki/apiserver.key', 'pki/etcd/server.crt',
                                        'pki/etcd/server.key', 'pki/etcd/peer.crt', 'pki/etcd/peer.key'])
    assert all(backed_up[name] == sha256_file(os.path.join(two, name)) for name in backed_up)
    for directory, _dirs, files in os.walk(os.path.join(one, 'pki-backups')):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        assert all(stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode) == 0o600 for name in files)
    for name in ('apiserver.key', 'etcd/server.key', 'etcd/peer.key'):
        assert sha256_file(os.path.join(one, 'pki', name)) != sha256_file(os.path.join(two, 'pki', name))
        assert stat.S_IMODE(os.stat(os.path.join(one, 'pki', name)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(one, 'pki', 'apiserver.crt')).st_mode) == 0o644
    assert not [name for name in os.listdir(os.path.join(one, 'pki')) if name.endswith('.tmp')]
    # a second run changes nothing
    again, _plan = run(one)
    assert again['changed'] is False and len(os.listdir(os.path.join(one, 'pki-backups'))) == 1


def test_no_key_material_in_the_result(nodes):
    one, two = nodes
    copy_pki(two, one)
    result, _plan = run(one, force=True)
    text = json.dumps(result)
    assert 'PRIVATE KEY' not in text
    for kube in (one, two):
        for directory, _dirs, files in os.walk(os.path.join(kube, 'pki')):
            for name in files:
                if name.endswith('.key'):
                    body = b''.join(open(os.path.join(directory, name), 'rb').read().splitlines()[1:-1]).decode()
                    assert body[:40] not in text and body[-40:] not in text


def test_kubeconfig_keeps_everything_but_its_credentials(nodes):
    one = nodes[0]
    path = os.path.join(one, 'admin.conf')
    with open(path, 'rb') as handle:
        old_text = handle.read()
    os.chmod(path, 0o640)
    result, _plan = run(one, force=True, names=['admin.conf'])
    assert result['replaced'] == ['admin.conf']
    with open(path, 'rb') as handle:
        new_text = handle.read()
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    changed = [index for index, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert len(old_lines) == len(new_lines) and len(changed) == 2
    assert all(b'client-certificate-data' in old_lines[i] or b'client-key-data' in old_lines[i] for i in changed)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    user = yaml.safe_load(new_text)['users'][0]['user']
    assert b'BEGIN CERTIFICATE' in base64.b64decode(user['client-certificate-data'])
    assert check_node_certificates(one, node_identity(one))['ok']


def test_renewed_takes_only_what_expires_and_keeps_keys(tmp_path, cas):
    one = cf.make_node(str(tmp_path / 'n1'), 'lab-cp-01', '127.0.1.1', cas)
    pair = cf.issue(cas.etcd_ca, 'kube-apiserver-etcd-client', days=5, key=cf.new_key(fresh=True))
    cf.write_pair(os.path.join(one, 'pki'), 'apiserver-etcd-client', pair)
    before = tree_digests(one)
    result, _plan = run(one, 'renewed', days=30)
    assert result['replaced'] == ['apiserver-etcd-client']
    after = tree_digests(one)
    changed = sorted(name for name in after if before.get(name) != after[name] and not name.startswith('pki-backups'))
    assert changed == ['pki/apiserver-etcd-client.crt']
    item = [entry for entry in result['certificates'] if entry['name'] == 'apiserver-etcd-client'][0]
    assert item['new_key'] is False and item['after']['subject'] == item['before']['subject']
    assert item['after']['serial'] != item['before']['serial']
    assert run(one, 'renewed', days=30)[0]['changed'] is False
    everything = run(one, 'renewed', force=True)[0]
    assert len(everything['replaced']) == 11


def test_renewed_refuses_a_certificate_whose_key_does_not_match(nodes):
    one = nodes[0]
    other = cf.Pair(None, cf.new_key(fresh=True))
    cf.write(os.path.join(one, 'pki', 'front-proxy-client.key'), other.key_pem, 0o600)
    before = tree_digests(one)
    with pytest.raises(ReplaceError, match='front-proxy-client.crt cannot be renewed with its key'):
        run(one, 'renewed', force=True)
    assert tree_digests(one) == before


def test_external_ca_is_refused_naming_the_missing_key(nodes):
    one, two = nodes
    copy_pki(two, one)
    os.unlink(os.path.join(one, 'pki', 'etcd', 'ca.key'))
    before = tree_digests(one)
    identity = node_identity(one)
    plan = plan_certificates(one, identity, 'reissued')
    assert len(plan['problems']) == 1
    assert 'etcd-server, etcd-peer cannot be signed here' in plan['problems'][0]
    assert os.path.join(one, 'pki', 'etcd', 'ca.key') in plan['problems'][0]
    with pytest.raises(ReplaceError, match='external CA'):
        apply_plan(plan, os.path.join(one, 'pki-backups'))
    assert tree_digests(one) == before


def test_missing_certificate_is_issued(nodes):
    one = nodes[0]
    os.unlink(os.path.join(one, 'pki', 'front-proxy-client.crt'))
    os.unlink(os.path.join(one, 'pki', 'front-proxy-client.key'))
    result, _plan = run(one)
    assert result['replaced'] == ['front-proxy-client']
    assert check_node_certificates(one, node_identity(one))['ok']


@pytest.mark.parametrize('where', ['pki', 'pki/sub', 'manifests', 'relative'])
def test_backup_root_inside_pki_or_manifests_is_refused(nodes, where):
    one = nodes[0]
    plan = plan_certificates(one, node_identity(one), 'reissued')
    root = 'pki-backups' if where == 'relative' else os.path.join(one, where)
    with pytest.raises(ReplaceError):
        check_backup_root(root, plan['node'])


def test_backup_root_writable_by_others_is_refused(nodes, tmp_path):
    root = tmp_path / 'open'
    root.mkdir()
    os.chmod(str(root), 0o777)
    plan = plan_certificates(nodes[0], node_identity(nodes[0]), 'reissued')
    with pytest.raises(ReplaceError, match='cannot be trusted'):
        check_backup_root(str(root), plan['node'])


def test_check_mode_reports_the_planned_certificate(nodes):
    one, two = nodes
    copy_pki(two, one)
    result, _plan = run(one, check=True)
    item = [entry for entry in result['certificates'] if entry['name'] == 'apiserver'][0]
    assert item['after']['serial'] is None and item['after']['subject'] == 'CN=kube-apiserver'
    assert 'lab-cp-01' in item['after']['sans']['dns'] and 'lab-cp-02' not in item['after']['sans']['dns']
    end = datetime.datetime.strptime(item['after']['not_after'], '%Y-%m-%dT%H:%M:%SZ')
    assert abs((end - datetime.datetime.utcnow()).days - 365) <= 1
    assert 'serial: (assigned when signed)' in result['diff'][0]['after']


def test_renewal_capped_by_the_ca_is_not_repeated(tmp_path):
    short_cas = cf.ClusterCAs()
    short_cas.front_proxy_ca = cf.make_ca('front-proxy-ca', not_before=cf.now() - cf.DAY, days=21)
    one = cf.make_node(str(tmp_path / 'n1'), 'lab-cp-01', '127.0.1.1', short_cas)
    pair = cf.issue(short_cas.front_proxy_ca, 'front-proxy-client', days=5, key=cf.new_key(fresh=True))
    cf.write_pair(os.path.join(one, 'pki'), 'front-proxy-client', pair)
    first, _plan = run(one, 'renewed', days=30)
    assert 'front-proxy-client' in first['replaced']
    item = [entry for entry in first['certificates'] if entry['name'] == 'front-proxy-client'][0]
    assert item['after']['not_after'] == _plan['cas']['front-proxy-ca']['cert'].not_valid_after_utc.strftime(
        '%Y-%m-%dT%H:%M:%SZ')
    second, _plan = run(one, 'renewed', days=30)
    assert 'front-proxy-client' not in second['replaced']
    item = [entry for entry in second['certificates'] if entry['name'] == 'front-proxy-client'][0]
    assert item['result'] == 'skipped' and 'renew the CA first' in item['skipped']


def test_kubeconfigs_rewritten_on_a_node_without_pyyaml(nodes, monkeypatch):
    """Debian's python3-cryptography without python3-yaml: the subset parser reads and checks the kubeconfigs."""
    from ansible_collections.kubemaint.control_plane.plugins.module_utils._node import yaml_subset
    monkeypatch.setattr(yaml_subset, 'HAS_PYYAML', False)
    one = nodes[0]
    renewed, _plan = run(one, 'renewed', force=True, names=['controller-manager.conf', 'scheduler.conf'])
    assert renewed['replaced'] == ['controller-manager.conf', 'scheduler.conf']
    reissued, _plan = run(one, force=True, names=['admin.conf'])
    assert reissued['replaced'] == ['admin.conf']
    monkeypatch.setattr(yaml_subset, 'HAS_PYYAML', True)
    assert check_node_certificates(one, node_identity(one))['ok']


def test_first_node_without_other_members_drops_the_copied_nodes_names(tmp_path, cas):
    """kubeadm's first node lists only itself in --initial-cluster: the copied etcd certificates tell
    which node they came from, and none of its names stays in the reissued certificates."""
    one = cf.make_node(str(tmp_path / 'n1'), 'lab-cp-01', '127.0.1.1', cas)
    two = cf.make_node(str(tmp_path / 'n2'), 'lab-cp-02', '127.0.1.2', cas)
    copy_pki(two, one)
    result, plan = run(one)
    assert result['replaced'] == ['apiserver', 'etcd-server', 'etcd-peer']
    assert {'name': 'lab-cp-02', 'addresses': ['127.0.1.2']} in plan['identity']['other_nodes']
    for item in result['certificates']:
        if item['after']:
            assert 'lab-cp-02' not in item['after']['sans']['dns'] and '127.0.1.2' not in item['after']['sans']['ip']
    others = [{'name': 'lab-cp-02', 'addresses': ['127.0.1.2']}]
    report = check_node_certificates(one, node_identity(one, other_nodes=others))
    assert report['ok'], report['problems']
