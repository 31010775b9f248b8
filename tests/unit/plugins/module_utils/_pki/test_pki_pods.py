"""Which pods a renewal restarts for which certificates."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.issue import SPEC_NAMES
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.pods import CERTIFICATE_PODS, pods_to_restart


def test_every_certificate_the_module_handles_has_a_mapping():
    assert set(CERTIFICATE_PODS) == set(SPEC_NAMES)


@pytest.mark.parametrize('certificates, pods', [
    ([], []),
    (['admin.conf', 'super-admin.conf', 'etcd-healthcheck-client'], []),
    (['apiserver'], ['kube-apiserver']),
    (['front-proxy-client', 'apiserver-kubelet-client'], ['kube-apiserver']),
    (['apiserver-etcd-client'], ['kube-apiserver']),
    (['scheduler.conf'], ['kube-scheduler']),
    (['controller-manager.conf', 'admin.conf'], ['kube-controller-manager']),
    (['scheduler.conf', 'etcd-peer', 'apiserver'], ['etcd', 'kube-apiserver', 'kube-scheduler']),
    (list(SPEC_NAMES), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']),
])
def test_pods_to_restart_in_start_order(certificates, pods):
    assert pods_to_restart(certificates) == pods


def test_an_unknown_certificate_is_an_error_not_a_silent_no_restart():
    with pytest.raises(ValueError, match='kubelet.conf'):
        pods_to_restart(['apiserver', 'kubelet.conf'])
