"""Prints the size of the quorum guard's decision matrix at the end of the run (make units); a split brain's view."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import cluster_view

_MATRIX = {}


@pytest.fixture
def guard_matrix_report():
    """A dict the decision-matrix test fills with its counts; printed in the terminal summary."""
    return _MATRIX


def pytest_terminal_summary(terminalreporter):
    if _MATRIX:
        terminalreporter.write_line(
            'quorum guard decision matrix: %(cases)d verdicts checked against the Raft oracle, %(unsafe)d unsafe stops, '
            '%(unsafe_allowed)d of them allowed' % _MATRIX)


def _member(name, healthy=True, reachable=True, leader=False):
    return {'name': name, 'id': name, 'healthy': healthy, 'reachable': reachable, 'is_leader': leader,
            'is_learner': False, 'raft_applied_index': 10, 'alarms': []}


SPLIT = {'sides': [
    {'cluster_id': '495b24ea208970fa', 'endpoints': ['https://b:2379', 'https://c:2379'], 'members': ['cp1', 'cp2', 'cp3'],
     'majority': True},
    {'cluster_id': '9787b9f317d7edf7', 'endpoints': ['https://a:2379'], 'members': ['cp1'], 'majority': False}],
    'text': 'SPLIT BRAIN: https://b:2379, https://c:2379 answer for cluster 495b24ea208970fa (members: cp1, cp2, cp3), '
            'but https://a:2379 answers for cluster 9787b9f317d7edf7 (members: cp1).'}


@pytest.fixture
def split_view():
    """A cluster view of the lab's split brain (issue 21): cp1's etcd serves a cluster of its own, cp2 and cp3 keep
    the majority's."""
    members = [dict(_member('cp1', healthy=False, reachable=False), endpoint='https://a:2379',
                    error='https://a:2379 answers for another etcd cluster: split brain'),
               dict(_member('cp2', leader=True), endpoint='https://b:2379'),
               dict(_member('cp3'), endpoint='https://c:2379')]
    return cluster_view({'members': members, 'split_brain': SPLIT})
