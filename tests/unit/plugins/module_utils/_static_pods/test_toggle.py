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


def test_a_snapshot_that_failed_stays_the_stage_and_a_start_that_failed_keeps_the_snapshot(monkeypatch):
    taken = {'path': '/var/lib/etcd-snapshots/etcd-snapshot-1.db'}

    def snapshot_fails(names, state, snapshot=None, **_arguments):
        error = toggle.ToggleError('cannot save the etcd snapshot before stopping etcd: full. Nothing was stopped.')
        error.stage = 'snapshot'
        raise error

    monkeypatch.setattr(toggle, 'toggle_static_pods', snapshot_fails)
    with pytest.raises(toggle.ToggleError) as caught:
        toggle.restart_static_pods(['all'], snapshot={'dest': '/var/lib/etcd-snapshots', 'keep': 0})
    assert caught.value.stage == 'snapshot' and not caught.value.changed and caught.value.results == []

    calls = []

    def start_fails(names, state, snapshot=None, **_arguments):
        calls.append((state, snapshot))
        if state == 'started':
            raise toggle.ToggleError('etcd not healthy', timed_out=True)
        return {'changed': True, 'state': state, 'components': [], 'snapshot': taken}

    monkeypatch.setattr(toggle, 'toggle_static_pods', start_fails)
    with pytest.raises(toggle.ToggleError) as caught:
        toggle.restart_static_pods(['all'], snapshot={'dest': '/var/lib/etcd-snapshots', 'keep': 0})
    assert caught.value.stage == 'started' and caught.value.snapshot == taken
    # only the stop half takes the snapshot
    assert calls == [('stopped', {'dest': '/var/lib/etcd-snapshots', 'keep': 0}), ('started', None)]


def test_no_snapshot_unless_this_run_stops_a_running_etcd():
    class FakePlan:
        def __init__(self, component, wanted, state_before):
            self.component, self.wanted, self.state_before = component, wanted, state_before

    wanted = {'dest': '/nonexistent-never-used', 'keep': 0}
    for plans in ([FakePlan('kube-scheduler', 'stopped', 'started')],
                  [FakePlan('etcd', 'stopped', 'stopped')],
                  [FakePlan('etcd', 'started', 'started')]):
        assert toggle.snapshot_before_stop(plans, None, wanted) is None
    assert toggle.snapshot_before_stop([FakePlan('etcd', 'stopped', 'started')], None, None) is None


def test_snapshot_sources_are_this_member_first_then_the_others_once():
    own = 'https://10.0.0.3:2379'
    assert toggle.snapshot_sources(own, None) == [own]
    assert toggle.snapshot_sources(own, ['https://10.0.0.1:2379/', own, 'https://10.0.0.2']) == [
        own, 'https://10.0.0.1:2379', 'https://10.0.0.2:2379']
    with pytest.raises(toggle.EtcdError):
        toggle.snapshot_sources(own, ['http://10.0.0.1:2379'])
