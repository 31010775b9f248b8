"""Fixtures that give integration tests a running lab, and make sure nothing of it outlives them.

`make integration` runs the test modules on two pytest-xdist workers (`--dist loadfile`): every test of
a module runs on the same worker, so a module's shared lab is started once. What a worker records for
the run's summary (labs, playbook runs, output lines) reaches the controller through xdist's
`workeroutput` when the worker finishes.
"""
import json
import os

import pytest

from tests.lab import Lab, free_base_address


# (lab directory, nodes, how the collection reached them) of every lab this run started, for the summary.
STARTED = []


def _start(directory, nodes, etcd_flags=(), bootstrap='kubeadm'):
    lab = Lab(str(directory), nodes=nodes, base_address=free_base_address(nodes), etcd_flags=etcd_flags,
              bootstrap=bootstrap)
    lab.up(timeout=180)
    STARTED.append((lab.directory, nodes, lab.describe_connection()))
    return lab


# Seconds each slow test module took (session 12, two workers on a loaded machine; incidents and rolling_change
# estimated on the same scale after session 14 added tests to them): with two workers the
# longest modules go first, so that no long module starts last while the other worker idles. Only the
# order depends on these figures; a module not listed counts as short.
MODULE_SECONDS = {
    'test_playbook_defrag.py': 500, 'test_playbook_lock.py': 490, 'test_playbook_output.py': 460,
    'test_playbook_certs.py': 430, 'test_etcd_lock.py': 420, 'test_playbook_fail_loudly.py': 420,
    'test_playbook_renew_certs.py': 400, 'test_playbook_faults.py': 380, 'test_playbook_rolling_restart.py': 380,
    'test_playbook_restore_quorum.py': 470, 'test_playbook_scenarios.py': 360, 'test_node_certificates.py': 360,
    'test_playbook_advice.py': 300, 'test_static_pod_toggle.py': 290, 'test_playbook_recover.py': 260,
    'test_etcd_member_info.py': 240, 'test_etcd_snapshot.py': 200, 'test_playbook_replace_member.py': 220,
    'test_etcd_leader.py': 150, 'test_demo.py': 150, 'test_playbook_runner.py': 150, 'test_lab.py': 140,
    'test_cert_san_check.py': 140, 'test_etcd_member.py': 140, 'test_playbook_inventory.py': 120,
    'test_etcd_maintenance.py': 110, 'test_ansible_core_versions.py': 190, 'test_playbook_incidents.py': 430, 'test_playbook_rolling_change.py': 760,
}


def pytest_collection_modifyitems(items):
    """The slowest test modules first, each module's tests in their own order (a stable sort)."""
    items.sort(key=lambda item: -MODULE_SECONDS.get(os.path.basename(str(item.path)), 0))


def _records():
    from tests.ansible_core_versions import RUNS
    from tests.integration.playbook_helpers import MEASURED_OUTPUT_LINES
    return RUNS, MEASURED_OUTPUT_LINES


def pytest_sessionfinish(session):
    """On an xdist worker: hand what it recorded to the controller."""
    workeroutput = getattr(session.config, 'workeroutput', None)
    if workeroutput is not None:
        runs, measured = _records()
        workeroutput['kubemaint'] = json.dumps({'started': STARTED, 'runs': runs, 'measured': measured})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the xdist controller: take in what a finished worker recorded."""
    recorded = getattr(node, 'workeroutput', {}).get('kubemaint')
    if not recorded:
        return
    recorded = json.loads(recorded)
    runs, measured = _records()
    STARTED.extend(tuple(started) for started in recorded['started'])
    runs.extend(tuple(run) for run in recorded['runs'])
    measured.update(recorded['measured'])


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
    LAB_ETCD_FLAGS (a list of flags) go into every etcd manifest of its lab; its LAB_BOOTSTRAP
    ('all-at-once') replaces kubeadm's bootstrap, for a module that needs --initial-cluster-state=new in
    every manifest."""
    started = _start(tmp_path_factory.mktemp('lab'), 3, getattr(request.module, 'LAB_ETCD_FLAGS', ()),
                     getattr(request.module, 'LAB_BOOTSTRAP', 'kubeadm'))
    try:
        yield started
    finally:
        _stop(started)


@pytest.fixture
def lab_factory(tmp_path_factory):
    """lab_factory(nodes=N) starts a fresh lab; every lab it started is torn down after the test."""
    labs = []

    def make(nodes=3, bootstrap='kubeadm'):
        started = _start(tmp_path_factory.mktemp('lab%d-' % nodes), nodes, bootstrap=bootstrap)
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
