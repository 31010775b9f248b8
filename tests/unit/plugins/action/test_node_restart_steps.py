"""node_restart's step timings: how long the restart waited for its pods to stop and to be back."""
from ansible_collections.kubemaint.control_plane.plugins.action.node_restart import waits


def test_the_waits_are_the_longest_of_each_half_and_unwaited_entries_count_for_nothing():
    components = [
        {'name': 'kube-apiserver', 'state_after': 'stopped', 'waited': 0.4},
        {'name': 'etcd', 'state_after': 'stopped', 'waited': 1.1},
        {'name': 'kube-scheduler', 'state_after': 'stopped', 'waited': None},
        {'name': 'etcd', 'state_after': 'started', 'waited': 1.6},
        {'name': 'kube-apiserver', 'state_after': 'started', 'waited': 2.3},
    ]
    assert waits(components) == {'stop_wait': 1.1, 'start_wait': 2.3}


def test_no_components_or_no_wait_gives_no_figures():
    assert waits(None) == {}
    assert waits([{'name': 'etcd', 'state_after': 'stopped', 'waited': None}]) == {}
