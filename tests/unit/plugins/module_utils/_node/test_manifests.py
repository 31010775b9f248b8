import glob
import os

import pytest
import yaml

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    KubeadmNode,
    ManifestError,
    StaticPod,
    parse_flags,
    default_snapshot_dir,
    reroot,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.yaml_subset import (
    YamlSubsetError,
    load_yaml,
)

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', '..', '..', '..', 'data', 'kubeadm-node', 'manifests')
REFERENCE_MANIFESTS = sorted(glob.glob(os.path.join(REFERENCE, '*.yaml')))


def test_reference_manifests_are_present():
    assert len(REFERENCE_MANIFESTS) == 4


@pytest.mark.parametrize('path', REFERENCE_MANIFESTS, ids=os.path.basename)
def test_subset_parser_agrees_with_pyyaml_on_kubeadm_output(path):
    with open(path) as handle:
        text = handle.read()
    assert load_yaml(text, prefer_pyyaml=False) == yaml.safe_load(text)


@pytest.mark.parametrize('text', [
    'a: 1\nb:\n- x\n- y: 2\n  z: 3\nc: {}\n',
    'k: "a#b" # comment\nq: \'it\'\'s\'\n',
    'x:\n  - 1\n  -\n    q: 2\n',
    'on: true\noff: false\ny: Yes\nn: null\nf: 1.5\ns: 10.96.0.0/12\n',
    '---\nkey: value\n...\n',
])
def test_subset_parser_agrees_with_pyyaml(text):
    assert load_yaml(text, prefer_pyyaml=False) == yaml.safe_load(text)


@pytest.mark.parametrize('text', [
    'a: [1, 2]\n',
    'a: &anchor 1\n',
    'a: 1\n  b: 2\n',
    'a: 1\na: 2\n',
    'a: "unterminated\n',
])
def test_subset_parser_refuses_what_it_does_not_understand(text):
    with pytest.raises(YamlSubsetError, match='line'):
        load_yaml(text, prefer_pyyaml=False)


def test_static_pod_reads_kubeadm_etcd_manifest():
    pod = StaticPod.from_file(os.path.join(REFERENCE, 'etcd.yaml'))
    assert pod.component == 'etcd'
    assert pod.command[0] == 'etcd'
    assert pod.flag('name') == 'k-kube-lab-01'
    assert pod.flag('advertise-client-urls') == 'https://10.101.11.240:2379'


@pytest.mark.parametrize('text,message', [
    ('- a\n- b\n', 'not a Kubernetes object'),
    ('kind: Deployment\n', 'not a Pod'),
    ('kind: Pod\nspec: {}\n', 'no spec.containers'),
    ('kind: Pod\nspec:\n  containers:\n  - name: x\n', 'no command'),
    ('kind: Pod\n  bad: indentation\n', 'not valid YAML'),
])
def test_static_pod_rejects_what_is_not_a_pod(text, message):
    with pytest.raises(ManifestError, match=message):
        StaticPod.from_text(text, '/x/etcd.yaml')


def test_parse_flags_last_wins_and_switches():
    assert parse_flags(['--a=1', '--b', 'positional', '--a=2', '--c=x=y']) == {'a': '2', 'b': 'true', 'c': 'x=y'}


@pytest.mark.parametrize('path,root,expected', [
    ('/etc/kubernetes/pki/ca.crt', '/lab/n1/etc/kubernetes', '/lab/n1/etc/kubernetes/pki/ca.crt'),
    ('/etc/kubernetes', '/lab/n1/etc/kubernetes/', '/lab/n1/etc/kubernetes'),
    ('/etc/kubernetes/pki/ca.crt', '/etc/kubernetes', '/etc/kubernetes/pki/ca.crt'),
    ('/etc/kubernetesX/ca.crt', '/lab', '/etc/kubernetesX/ca.crt'),
    ('/var/lib/etcd', '/lab', '/var/lib/etcd'),
    # a root that mirrors the filesystem (the lab's <node>/etc/kubernetes) takes the other paths along
    ('/var/lib/kubelet/pki/c.pem', '/lab/n1/etc/kubernetes', '/lab/n1/var/lib/kubelet/pki/c.pem'),
    ('/var/lib/kubelet/pki/c.pem', '/etc/kubernetes', '/var/lib/kubelet/pki/c.pem'),
    ('/var/lib/kubelet/pki/c.pem', '/srv/kube', '/var/lib/kubelet/pki/c.pem'),
    ('pki/c.pem', '/srv/kube', 'pki/c.pem'),
])
def test_reroot(path, root, expected):
    assert reroot(path, root) == expected


def test_reroot_relative_to_a_kubeconfig_directory():
    assert reroot('pki/c.pem', '/srv/kube', relative_to='/srv/kube') == '/srv/kube/pki/c.pem'
    assert reroot('../c.pem', '/etc/kubernetes', relative_to='/etc/kubernetes/x') == '/etc/kubernetes/c.pem'


def test_node_identity_from_manifests(tmp_path):
    manifests = tmp_path / 'manifests'
    manifests.mkdir()
    for name in ('etcd.yaml', 'kube-apiserver.yaml'):
        (manifests / name).write_text(open(os.path.join(REFERENCE, name)).read())
    node = KubeadmNode(str(tmp_path))
    assert node.etcd_client_urls() == ['https://10.101.11.240:2379']
    with pytest.raises(ManifestError, match='kube-scheduler.yaml not found'):
        node.read_manifest('kube-scheduler')
    identity = node.identity()
    assert (identity['node_name'], identity['addresses']) == ('k-kube-lab-01', ['10.101.11.240'])
    assert identity['manifests'] == [str(manifests / 'etcd.yaml'), str(manifests / 'kube-apiserver.yaml')]
    assert identity['service_cidr'] and identity['dns_domain'] == 'cluster.local'
    # the pods stopped: the manifests are read from the stash
    stash = tmp_path / 'manifests-stash'
    os.rename(str(manifests), str(stash))
    manifests.mkdir()
    assert node.identity()['node_name'] is None
    assert node.identity(also_in=[str(stash)])['manifests'][0] == str(stash / 'etcd.yaml')


@pytest.mark.parametrize('kubernetes_dir, expected', [
    ('/etc/kubernetes', '/var/lib/etcd-snapshots'),
    ('/etc/kubernetes/', '/var/lib/etcd-snapshots'),
    ('/etc/kubernetes//', '/var/lib/etcd-snapshots'),
    (None, '/var/lib/etcd-snapshots'),
    ('/tmp/x/lab-cp-01/etc/kubernetes', '/tmp/x/lab-cp-01/var/lib/etcd-snapshots'),
    ('/tmp/x/lab-cp-01/etc/kubernetes/', '/tmp/x/lab-cp-01/var/lib/etcd-snapshots'),
    ('/srv/kube', '/var/lib/etcd-snapshots'),
])
def test_default_snapshot_dir_follows_the_node_root(kubernetes_dir, expected):
    assert default_snapshot_dir(kubernetes_dir) == expected


@pytest.mark.parametrize('relative,words', [
    ('manifests', 'the manifests directory'),
    ('manifests/snapshots', 'the manifests directory'),
    ('backups/../manifests/x', 'the manifests directory'),
    ('pki', "kubeadm's pki directory"),
    ('pki/etcd/snapshots', "kubeadm's pki directory"),
    ('link-to-pki/snapshots', "kubeadm's pki directory (the node's certificates and keys)"),
])
def test_kubeadm_dir_problem_refuses_manifests_and_pki(tmp_path, relative, words):
    from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import kubeadm_dir_problem
    kubernetes_dir = tmp_path / 'etc' / 'kubernetes'
    (kubernetes_dir / 'pki').mkdir(parents=True)
    os.symlink(str(kubernetes_dir / 'pki'), str(kubernetes_dir / 'link-to-pki'))
    path = os.path.join(str(kubernetes_dir), relative)
    problem = kubeadm_dir_problem('dest', path, str(kubernetes_dir))
    assert problem.startswith('dest %s is inside %s' % (path, words)), problem
    if relative.startswith('link'):
        assert 'resolves to %s' % os.path.join(str(kubernetes_dir), 'pki', 'snapshots') in problem


@pytest.mark.parametrize('relative', ['manifests-stash', 'pki-backup', '../../var/lib/etcd-snapshots'])
def test_kubeadm_dir_problem_allows_elsewhere(tmp_path, relative):
    from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import kubeadm_dir_problem
    kubernetes_dir = str(tmp_path / 'etc' / 'kubernetes')
    assert kubeadm_dir_problem('dest', os.path.join(kubernetes_dir, relative), kubernetes_dir) is None
