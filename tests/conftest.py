"""Make `ansible_collections.kubemaint.control_plane` importable for plain pytest runs.

The checkout is the collection root; a symlink tree in a temporary directory gives Python the
package path that ansible-test and ansible-core use.
"""
import hashlib
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_root():
    # One tree per checkout: a CI rehearsal in a second clone must not repoint this one's tests.
    checkout = hashlib.sha256(ROOT.encode()).hexdigest()[:12]
    base = os.path.join(tempfile.gettempdir(), 'kubemaint-collections-%d-%s' % (os.getuid(), checkout))
    link = os.path.join(base, 'ansible_collections', 'kubemaint', 'control_plane')
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.realpath(link) != ROOT:
        tmp = '%s.%d' % (link, os.getpid())
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return base


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS_ROOT
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytest_configure(config):
    """One ansible log for the whole run, deprecation warnings on (whatever the user's ansible.cfg says)."""
    directory = tempfile.mkdtemp(prefix='kubemaint-ansible-log-')
    config.kubemaint_ansible_log = os.path.join(directory, 'ansible.log')
    os.environ['ANSIBLE_LOG_PATH'] = config.kubemaint_ansible_log
    os.environ['ANSIBLE_DEPRECATION_WARNINGS'] = 'true'


def pytest_sessionfinish(session):
    """A deprecation warning printed by any ansible command of the run fails the run."""
    from tests.ansible_log import deprecations_in
    path = session.config.kubemaint_ansible_log
    session.config.kubemaint_deprecations = deprecations_in(path)
    if session.config.kubemaint_deprecations:
        session.exitstatus = 1
    else:
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def pytest_terminal_summary(terminalreporter, config):
    found = getattr(config, 'kubemaint_deprecations', [])
    if found:
        terminalreporter.section('ansible deprecation warnings: %d (they fail the run)' % len(found), red=True)
        for message in found:
            terminalreporter.write_line(message)
        terminalreporter.write_line('every line is in %s' % config.kubemaint_ansible_log)
