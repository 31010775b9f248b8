"""static_pod_toggle's grouping of moves: etcd alone (last to stop, first to start), the other three together."""
import collections

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import START_ORDER, STOP_ORDER
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods import toggle
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.toggle import move_steps

Plan = collections.namedtuple('Plan', 'component')


def names(steps):
    return [[plan.component for plan in step] for step in steps]


@pytest.mark.parametrize('order, expected', [
    (STOP_ORDER, [['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], ['etcd']]),
    (START_ORDER, [['etcd'], ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']]),
    (('etcd',), [['etcd']]),
    (('kube-scheduler',), [['kube-scheduler']]),
    (('kube-apiserver', 'kube-scheduler'), [['kube-apiserver', 'kube-scheduler']]),
    ((), []),
])
def test_etcd_moves_alone_and_the_rest_together(order, expected):
    assert names(move_steps([Plan(component) for component in order])) == expected


def test_every_plan_is_moved_once_in_the_order_given():
    plans = [Plan(component) for component in STOP_ORDER]
    assert [plan for step in move_steps(plans) for plan in step] == plans


@pytest.mark.parametrize('failing, stage', [('stopped', 'stopped'), ('started', 'started')])
def test_a_failed_restart_says_which_half_failed(monkeypatch, failing, stage):
    def fake_toggle(names, state, **_arguments):
        if state == failing:
            raise toggle.ToggleError('%s timed out' % state, results=[{'name': 'etcd', 'state_after': state}],
                                     timed_out=True)
        return {'changed': True, 'state': state, 'components': [{'name': 'etcd', 'state_after': state}]}

    monkeypatch.setattr(toggle, 'toggle_static_pods', fake_toggle)
    with pytest.raises(toggle.ToggleError) as caught:
        toggle.restart_static_pods(['etcd'])
    assert caught.value.stage == stage and caught.value.timed_out
    # a failure while starting still lists the stop that was done before it
    assert [entry['state_after'] for entry in caught.value.results] == (
        ['stopped'] if failing == 'stopped' else ['stopped', 'started'])
