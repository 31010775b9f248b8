"""Prints the size of the quorum guard's decision matrix at the end of the run (make units)."""
import pytest

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
