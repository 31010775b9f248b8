"""Crash safety of static_pod_toggle (issue 4, "Must show" 3).

A forked child runs the real toggle code with a `sys.settrace` hook that counts the line events
executed inside `_static_pods/stash.py` and SIGKILLs the child at event N. N covers every step of a stop
and of a start of all four components. After each kill every manifest must exist exactly once
(in place or stashed) with its original checksum, nothing new may sit in the manifests
directory, and a rerun must converge (and a second rerun change nothing).

No test hook exists in the production code: the kill points come from the interpreter.
"""
import hashlib
import os
import shutil
import signal
import sys

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods import stash as _stash
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods import toggle as _toggle
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.toggle import toggle_static_pods

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', 'data', 'kubeadm-node', 'manifests')
COMPONENTS = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')
STASH_FILE = _stash.__file__.replace('.pyc', '.py')
MAX_RUNS_PER_DIRECTION = 400


@pytest.fixture(autouse=True)
def _no_etcd_to_ask(monkeypatch):
    """These nodes are files only, no etcd: the read of the peers before etcd's manifest moves (a read, no file
    changes; tested in test_stash.py and test_static_pod_toggle.py) finds them healthy. Forked children inherit it."""
    monkeypatch.setattr(_toggle, 'recheck_before_etcd_stop', lambda *args, **kwargs: [])


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def make_node(root):
    kubernetes_dir = os.path.join(root, 'etc', 'kubernetes')
    os.makedirs(os.path.join(kubernetes_dir, 'manifests'))
    for component in COMPONENTS:
        shutil.copy(os.path.join(REFERENCE, component + '.yaml'), os.path.join(kubernetes_dir, 'manifests'))
    return kubernetes_dir


def toggle(kubernetes_dir, state):
    return toggle_static_pods(['all'], state, kubernetes_dir=kubernetes_dir, wait=False, reason='crash test')


class LineCounter:
    """A tracer counting line events in stash.py; calls `at_event(n)` on each."""

    def __init__(self, at_event=None):
        self.count = 0
        self.at_event = at_event

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename != STASH_FILE:
            return None
        return self.local

    def local(self, frame, event, arg):
        if event == 'line':
            self.count += 1
            if self.at_event:
                self.at_event(self.count)
        return self.local


def count_events(kubernetes_dir, state):
    counter = LineCounter()
    sys.settrace(counter)
    try:
        toggle(kubernetes_dir, state)
    finally:
        sys.settrace(None)
    return counter.count


def run_killed_at(kubernetes_dir, state, kill_at):
    """Fork; the child runs the toggle and SIGKILLs itself at line event `kill_at`. True if it was killed."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 3
        try:
            def kill(count):
                if count == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            sys.settrace(LineCounter(kill))
            toggle(kubernetes_dir, state)
            code = 0
        except BaseException:  # noqa: B902 - any exception in the child is a failure
            code = 2
        finally:
            os._exit(code)
    status = os.waitpid(pid, 0)[1]
    assert not os.WIFEXITED(status) or os.WEXITSTATUS(status) == 0, 'child failed with %r' % status
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def assert_each_manifest_once(kubernetes_dir, originals):
    manifests = os.path.join(kubernetes_dir, 'manifests')
    stash = os.path.join(kubernetes_dir, 'manifests-stash')
    for component in COMPONENTS:
        places = [path for path in (os.path.join(manifests, component + '.yaml'), os.path.join(stash, component + '.yaml'))
                  if os.path.lexists(path)]
        assert len(places) == 1, '%s in %s' % (component, places)
        assert sha(places[0]) == originals[component]
    # Nothing else the kubelet would run.
    visible = sorted(name for name in os.listdir(manifests) if not name.startswith('.'))
    assert set(visible) <= set(component + '.yaml' for component in COMPONENTS)


def assert_converged(kubernetes_dir, state, originals):
    directory = 'manifests' if state == 'started' else 'manifests-stash'
    for component in COMPONENTS:
        assert sha(os.path.join(kubernetes_dir, directory, component + '.yaml')) == originals[component]
    if os.path.isdir(os.path.join(kubernetes_dir, 'manifests-stash')):
        assert oct(os.stat(os.path.join(kubernetes_dir, 'manifests-stash')).st_mode & 0o777) == oct(0o700)


def kill_points(total):
    step = max(1, total // MAX_RUNS_PER_DIRECTION)
    return list(range(1, total + 1, step))


@pytest.mark.parametrize('state', ['stopped', 'started'])
def test_sigkill_at_every_step_never_loses_a_manifest(tmp_path, state):
    originals = dict((c, sha(os.path.join(REFERENCE, c + '.yaml'))) for c in COMPONENTS)
    opposite = 'started' if state == 'stopped' else 'stopped'

    def fresh(index):
        kubernetes_dir = make_node(str(tmp_path / str(index)))
        if state == 'started':
            toggle(kubernetes_dir, 'stopped')
        return kubernetes_dir

    total = count_events(fresh('count'), state)
    assert total > 50, 'suspiciously few line events in stash.py: %d' % total
    points = kill_points(total)
    assert len(points) >= 50
    killed = 0
    for kill_at in points:
        kubernetes_dir = fresh(kill_at)
        killed += run_killed_at(kubernetes_dir, state, kill_at)
        assert_each_manifest_once(kubernetes_dir, originals)
        toggle(kubernetes_dir, state)
        assert_converged(kubernetes_dir, state, originals)
        assert toggle(kubernetes_dir, state)['changed'] is False
        if kill_at % 10 == 1:  # the way back still works from there (sampled: fsyncs are slow)
            toggle(kubernetes_dir, opposite)
            assert_converged(kubernetes_dir, opposite, originals)
        shutil.rmtree(os.path.dirname(os.path.dirname(kubernetes_dir)))
    assert killed == len(points), 'every kill point lies inside the run, so every child must have been killed'
