"""The rolling-restart benchmark's arithmetic: elections, leader changes, percentiles, phases, targets."""
import pytest

from tests.bench import bench_rolling_restart as bench


def test_leader_changes_ignore_samples_without_a_leader():
    samples = [(0.0, 0, 11, 2), (0.2, 1, 11, 2), (0.4, 0, 0, 2), (0.6, 2, 22, 3), (0.8, 0, 22, 3), (1.0, 1, 11, 5)]
    assert bench.leader_changes(samples) == 2


def test_elections_count_term_increases_from_polls_and_headers():
    assert bench.elections([(0.0, 0, 11, 4), (1.0, 1, 22, 6)], [(0.5, 5), (2.0, 7)]) == 3
    assert bench.elections([], []) == 0


@pytest.mark.parametrize('values, fraction, expected', [
    ([], 0.99, 0.0),
    ([0.5], 0.99, 0.5),
    (list(range(1, 101)), 0.99, 99),
    (list(range(1, 101)), 0.5, 50),
    ([1, 2, 3, 4, 1000], 0.99, 1000),
])
def test_percentile_is_nearest_rank(values, fraction, expected):
    assert bench.percentile(values, fraction) == expected


def _task(name, start, end, path='roles/x/tasks/main.yml', action='ansible.builtin.set_fact', status='ok'):
    return {'host': 'lab-cp-01', 'task': name, 'action': action, 'role': '', 'path': path, 'start': start, 'end': end,
            'status': status}


def test_tasks_without_a_phase_word_stay_in_the_phase_that_included_them():
    tasks = [
        _task('Run the quorum guard', 0.0, 1.0),
        _task('Read etcd right before stopping lab-cp-01', 1.0, 2.0),
        _task('Stop the pods (apiserver first, etcd last)', 2.0, 4.0),
        _task('Run the maintenance tasks while the node is down', 4.0, 4.1),
        _task('Power-cycle lab-cp-01 (SIGKILL every process of the node, then boot it)', 4.1, 5.0),
        _task('Start the node\'s control plane', 5.0, 5.05),
        _task("Validating arguments against arg spec 'start' - runs the guard", 5.05, 5.1,
              action='ansible.builtin.validate_argument_spec'),
        _task('See which control-plane pods are stopped on lab-cp-01', 5.1, 5.5),
        _task('Poll etcd until caught up, member lab-cp-01', 6.0, 7.0),
    ]
    phases = bench.time_per_phase(tasks, {'lab-cp-01': [(3.0, 6.5)]})['lab-cp-01']
    assert phases['guard'] == [2.0, 0.0]
    assert phases['stop'] == [2.0, 1.0]
    assert phases['maintenance'] == pytest.approx([1.0, 1.0])
    assert phases['start'] == pytest.approx([0.5, 0.5])
    assert phases['catch-up'] == [1.0, 0.5]
    assert phases['_span'] == [7.0, 3.5]
    assert phases['_overhead'][0] == pytest.approx(0.5)


def _result(procedure, run, wall, down, stall, failures, lost=()):
    return {'procedure': procedure, 'nodes': 3, 'run': run, 'wall': wall, 'down_mean': down, 'longest_stall': stall,
            'first_failures': failures, 'lost': list(lost)}


def test_targets_say_met_and_not_met_from_medians():
    results = []
    for run in (1, 2, 3):
        results += [_result('playbook', run, 20.0, 1.4, 0.1, 3), _result('playbook-power-cycle', run, 30.0, 3.0, 0.1, 4),
                    _result('naive-power-cycle', run, 3.0, 0.3, 2.0 + run, 2), _result('manual', run, 4.0, 1.0, 0.1, 3)]
    results[0]['lost'] = [7]
    bench.add_derived(results)
    text = bench.targets(results, [3])
    assert '1.4x (target <= 1.5x): met' in text
    assert '5.0x (target <= 5x): met' in text
    assert '0.10 s vs 4.00 s (target (a) <= (b)/10 = 0.40 s): met' in text
    assert '4 vs 3 (target (a) <= (c)): **not met**' in text
    assert ('lost writes, all runs and sizes: playbook (graceful) (local) 1, (a) playbook + power-cycle (local) 0, '
            '(b) naive power-cycle 0, (c) manual (runbook) 0 (target 0 everywhere): **not met**') in text
    results[0]['lost_on'] = {'lab-cp-02': [7]}
    assert bench.lost_lines(results) == '- playbook (graceful) (local), 3 nodes, run 1: values [7] missing on lab-cp-02 (1)'


def test_spread_is_median_with_min_and_max():
    assert bench.spread([3.0, 1.0, 2.0], '%.1f') == '2.0 [1.0-3.0]'
    assert bench.spread([2.0, 2.0], '%.1f') == '2.0'
    assert bench.spread([float('nan')], '%.1f') == 'n/a'


def test_a_nodes_turn_is_between_the_playbooks_marks_and_the_run_wide_plays_are_apart():
    tasks = [
        _task('Check the certificates of every node before any node goes down', 0.0, 1.0),
        _task('Note for the closing summary when the restart began on lab-cp-01', 5.0, 5.1),
        _task('Run the quorum guard', 5.1, 6.0),
        _task('Restart the pods, stopped (apiserver, controller-manager, scheduler, then etcd) and started again',
              6.0, 8.0),
        _task('Note for the closing summary when the control plane was back on lab-cp-01', 8.0, 8.1),
        _task('Release the maintenance lock this run took', 20.0, 20.5),
    ]
    phases = bench.time_per_phase(tasks, {'lab-cp-01': [(6.5, 7.5)]})['lab-cp-01']
    assert phases['_span'] == pytest.approx([3.1, 1.0])
    assert phases['restart'] == pytest.approx([2.1, 1.0])  # the closing mark names no phase: it stays
    assert phases['_run'] == pytest.approx([1.5, 0.0])
    assert 'cert check' not in phases and 'lock' not in phases


def test_a_hosts_tasks_in_another_nodes_turn_are_neither_its_turn_nor_run_wide():
    def on(host, name, start, end):
        return dict(_task(name, start, end), host=host)
    read = 'Read the control-plane pods of every node at once for the quorum guard of '
    tasks = [
        on('lab-cp-01', 'Take the maintenance lock for the whole rolling restart', 0.0, 1.0),
        on('lab-cp-02', 'Take the maintenance lock for the whole rolling restart', 0.0, 1.0),
        on('lab-cp-01', 'Note for the closing summary when the restart began on lab-cp-01', 2.0, 2.1),
        # the mark is met on every host and skipped on the others: not the start of their turn
        dict(on('lab-cp-02', 'Note for the closing summary when the restart began on lab-cp-01', 2.0, 2.1),
             status='skipped'),
        on('lab-cp-01', read + 'lab-cp-01', 2.1, 2.6),
        on('lab-cp-02', read + 'lab-cp-01', 2.1, 2.7),
        on('lab-cp-01', 'Note for the closing summary when the control plane was back on lab-cp-01', 4.0, 4.1),
        on('lab-cp-02', 'Note for the closing summary when the restart began on lab-cp-02', 4.2, 4.3),
        dict(on('lab-cp-01', 'Note for the closing summary when the restart began on lab-cp-02', 4.2, 4.3),
             status='skipped'),
        on('lab-cp-01', read + 'lab-cp-02', 4.3, 4.9),
        on('lab-cp-02', read + 'lab-cp-02', 4.3, 4.8),
        on('lab-cp-02', 'Note for the closing summary when the control plane was back on lab-cp-02', 6.0, 6.1),
        on('lab-cp-01', 'Release the maintenance lock this run took', 7.0, 7.5),
        on('lab-cp-02', 'Release the maintenance lock this run took', 7.0, 7.4),
    ]
    phases = bench.time_per_phase(tasks, {})
    assert phases['lab-cp-01']['_span'] == pytest.approx([2.1, 0.0])
    assert phases['lab-cp-02']['_span'] == pytest.approx([1.9, 0.0])
    # its own read and the closing mark (which stays in the phase), not the read for lab-cp-02's turn
    assert phases['lab-cp-01']['guard'] == pytest.approx([0.6, 0.0])
    assert phases['lab-cp-01']['_run'] == pytest.approx([1.5, 0.0])  # the lock taken and released, not the read
    assert phases['lab-cp-02']['_run'] == pytest.approx([1.4, 0.0])


def test_node_restarts_steps_split_its_one_task_into_phases_and_leave_the_rest_as_overhead():
    steps = [{'step': 'guard read', 'module': 'etcd_member_info', 'start': 10.2, 'seconds': 0.5},
             {'step': 'leader move', 'module': 'etcd_leader', 'start': 10.8, 'seconds': 0.7},
             {'step': 'restart', 'module': 'static_pod_toggle', 'start': 11.6, 'seconds': 3.0,
              'parts': [{'what': 'snapshot', 'start': 11.9, 'seconds': 0.2},
                        {'what': 'stopped', 'start': 12.1, 'seconds': 1.0},
                        {'what': 'started', 'start': 13.1, 'seconds': 1.1}]}]
    task = dict(_task('kubemaint.control_plane.control_plane_node : Restart the control plane in place behind the '
                      'quorum guard, lab-cp-01', 10.0, 15.0, action='kubemaint.control_plane.node_restart'),
                steps=steps)
    # the lock taken before the turn: run-wide, not the node's
    lock = _task('kubemaint.control_plane.maintenance_lock : Take the maintenance lock', 8.0, 9.0)
    phases = bench.time_per_phase([lock, task], {'lab-cp-01': [(13.0, 14.0)]})['lab-cp-01']
    assert phases['guard'] == pytest.approx([0.5, 0.0])
    assert phases['leader move'] == pytest.approx([0.7, 0.0])
    assert phases['restart'] == pytest.approx([0.7, 0.0])  # the module run around its parts: 11.6-11.9, 14.2-14.6
    assert phases['snapshot'] == pytest.approx([0.2, 0.0])
    assert phases['stop'] == pytest.approx([1.0, 0.1])  # 12.1 to 13.1
    assert phases['start'] == pytest.approx([1.1, 0.9])  # 13.1 to 14.2
    assert phases['_span'] == pytest.approx([5.0, 1.0])
    assert phases['_overhead'][0] == pytest.approx(0.8)  # between the steps and around them
    assert phases['_run'] == pytest.approx([1.0, 0.0]) and 'lock' not in phases
