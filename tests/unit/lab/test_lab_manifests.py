"""The lab writes kubeadm's manifests, differing from the reference only where the lab says it must."""
import os

import pytest
import yaml

from tests.lab import manifests

REFERENCE = os.path.join(os.path.dirname(__file__), '..', '..', 'data', 'kubeadm-node', 'manifests')
NODE = {'name': 'k-kube-lab-01', 'address': '10.101.11.240'}

# flag -> (reference value, lab value); None = the flag is absent on that side.
EXPECTED_FLAG_CHANGES = {
    'etcd': {
        'initial-cluster-state': (None, 'new'),
        'listen-client-urls': ('https://127.0.0.1:2379,https://10.101.11.240:2379', 'https://10.101.11.240:2379'),
        'listen-metrics-urls': ('http://127.0.0.1:2381', 'http://10.101.11.240:2381'),
    },
    'kube-apiserver': {
        'bind-address': (None, '10.101.11.240'),
        'etcd-servers': ('https://127.0.0.1:2379', 'https://10.101.11.240:2379'),
    },
    'kube-controller-manager': {'bind-address': ('127.0.0.1', '10.101.11.240')},
    'kube-scheduler': {'bind-address': ('127.0.0.1', '10.101.11.240')},
}


def _flags(pod):
    flags = {}
    for argument in pod['spec']['containers'][0]['command'][1:]:
        name, _sep, value = argument[2:].partition('=')
        flags[name] = value
    return flags


def _without_command_and_probe_hosts(pod):
    container = dict(pod['spec']['containers'][0])
    container.pop('command')
    for kind in ('livenessProbe', 'readinessProbe', 'startupProbe'):
        if kind in container:
            probe = dict(container[kind])
            probe['httpGet'] = dict(probe['httpGet'], host='HOST')
            container[kind] = probe
    return dict(pod, spec=dict(pod['spec'], containers=[container]))


@pytest.mark.parametrize('component', sorted(EXPECTED_FLAG_CHANGES))
def test_lab_manifest_matches_reference_except_documented_deviations(component):
    with open(os.path.join(REFERENCE, component + '.yaml')) as handle:
        reference = yaml.safe_load(handle)
    lab = yaml.safe_load(manifests.node_manifests(NODE, [NODE])[component + '.yaml'])
    ref_flags, lab_flags = _flags(reference), _flags(lab)
    changed = {name: (ref_flags.get(name), lab_flags.get(name))
               for name in set(ref_flags) | set(lab_flags) if ref_flags.get(name) != lab_flags.get(name)}
    assert changed == EXPECTED_FLAG_CHANGES[component]
    assert _without_command_and_probe_hosts(lab) == _without_command_and_probe_hosts(reference)


def test_rendered_text_is_kubeadm_layout():
    text = manifests.node_manifests(NODE, [NODE])['kube-scheduler.yaml']
    with open(os.path.join(REFERENCE, 'kube-scheduler.yaml')) as handle:
        reference = handle.read()
    assert text.replace('10.101.11.240', '127.0.0.1') == reference


def test_every_node_lists_every_member():
    members = [{'name': 'lab-cp-0%d' % i, 'address': '127.0.1.%d' % i} for i in (1, 2, 3)]
    flags = _flags(manifests.etcd_manifest(members[1], members))
    assert flags['initial-cluster'] == ('lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380,'
                                        'lab-cp-03=https://127.0.1.3:2380')
    assert flags['name'] == 'lab-cp-02'


def test_kubeadm_bootstrap_inits_the_first_node_alone_and_joins_the_others_one_at_a_time():
    members = [{'name': 'lab-cp-0%d' % i, 'address': '127.0.1.%d' % i} for i in (1, 2, 3)]
    seen = []
    for index, member in enumerate(members):
        known, state = manifests.initial_cluster(members, index, 'kubeadm')
        flags = _flags(manifests.etcd_manifest(member, known, state))
        seen.append((flags['initial-cluster'], flags['initial-cluster-state']))
    assert seen == [
        ('lab-cp-01=https://127.0.1.1:2380', 'new'),
        ('lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380', 'existing'),
        ('lab-cp-01=https://127.0.1.1:2380,lab-cp-02=https://127.0.1.2:2380,lab-cp-03=https://127.0.1.3:2380',
         'existing'),
    ]
    assert manifests.initial_cluster(members, 2, 'all-at-once') == (members, 'new')
