"""Fixtures that give integration tests a running lab, and make sure nothing of it outlives them."""
import os

import pytest

from tests.lab import Lab, free_base_address


# (lab directory, nodes, how the collection reached them) of every lab this run started, for the summary.
STARTED = []


def _start(directory, nodes, etcd_flags=()):
    lab = Lab(str(directory), nodes=nodes, base_address=free_base_address(nodes), etcd_flags=etcd_flags)
    lab.up(timeout=180)
    STARTED.append((lab.directory, nodes, lab.describe_connection()))
    return lab


def pytest_terminal_summary(terminalreporter):
    """Say which connection each lab of this run used: a local fallback must never pass unnoticed.
    Then the playbook runs on older ansible-core versions, and the output lines of the runs whose
    length is measured (issue 25)."""
    from tests.ansible_core_versions import RUNS
    from tests.integration.playbook_helpers import MEASURED_OUTPUT_LINES, OUTPUT_LINES
    if RUNS:
        terminalreporter.write_sep('-', 'playbook runs on older ansible-core versions')
        for version, what, code, seconds in RUNS:
            terminalreporter.write_line('ansible-core %-8s %-45s rc=%-3d %6.1f s' % (version, what, code, seconds))
    if MEASURED_OUTPUT_LINES:
        terminalreporter.write_sep('-', 'output lines on 3 nodes, default callback')
        for what, lines in sorted(MEASURED_OUTPUT_LINES.items()):
            ceiling, target = OUTPUT_LINES[what]
            terminalreporter.write_line('%-45s %4d (at most %d%s)' % (
                what, lines, ceiling, (', issue 25 asks for %d' % target) if target else ''))
    if not STARTED:
        return
    terminalreporter.write_sep('-', 'labs: %d started, %d over ssh' % (
        len(STARTED), sum(1 for _d, _n, connection in STARTED if connection.startswith('connection ssh'))))
    for directory, nodes, connection in STARTED:
        terminalreporter.write_line('%s (%d nodes): %s' % (directory, nodes, connection))


def _stop(lab):
    lab.down()
    left = lab.processes()
    assert not left, 'lab processes left running: %s' % left


@pytest.fixture(scope='module')
def lab(tmp_path_factory, request):
    """A started 3-node lab shared by the tests of one module, torn down after them. A test module's
    LAB_ETCD_FLAGS (a list of flags) go into every etcd manifest of its lab."""
    started = _start(tmp_path_factory.mktemp('lab'), 3, getattr(request.module, 'LAB_ETCD_FLAGS', ()))
    try:
        yield started
    finally:
        _stop(started)


@pytest.fixture
def lab_factory(tmp_path_factory):
    """lab_factory(nodes=N) starts a fresh lab; every lab it started is torn down after the test."""
    labs = []

    def make(nodes=3):
        started = _start(tmp_path_factory.mktemp('lab%d-' % nodes), nodes)
        labs.append(started)
        return started

    try:
        yield make
    finally:
        errors = []
        for started in labs:
            try:
                _stop(started)
            except AssertionError as exc:
                errors.append(str(exc))
        assert not errors, errors


@pytest.fixture(scope='session', autouse=True)
def _protobuf_pure_python():
    # python-etcd3 (the independent gRPC client) only imports with protobuf >= 4 this way.
    os.environ['PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION'] = 'python'
    yield
