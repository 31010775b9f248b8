"""Two operators at once (issue 14): the maintenance lock serialises the playbooks that stop nodes,
so that two runs launched together never take two members down; a run whose controller dies
frees the lock by itself when its lease expires, and recover converges afterwards.

Every test runs a continuous writer (python-etcd3) and a watcher of the members' client ports."""
import json
import os
import signal
import subprocess
import time

from tests.integration.helpers import BIN, REPO_ROOT, ansible_env, wait_for
from tests.integration.playbook_helpers import ContinuousWriter, MemberWatcher, describe, lock_value, play, recap


def start_play(name, lab, limit=None, extra_vars=None, env=None):
    """ansible-playbook kubemaint.control_plane.<name> in its own session (so that it and every
    module it runs can be SIGKILLed together); returns the Popen."""
    command = [os.path.join(BIN, 'ansible-playbook'), 'kubemaint.control_plane.' + name, '-i', lab.inventory_path]
    if limit:
        command += ['--limit', limit]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env or ansible_env(), cwd=REPO_ROOT, start_new_session=True)


def finish(proc, timeout=900):
    output = proc.communicate(timeout=timeout)[0]
    proc.output = output
    proc.recap = recap(output)
    return proc


class Traffic:
    """A writer and a watcher around a block; checks that no acknowledged write was lost."""

    def __init__(self, lab):
        self.watcher = MemberWatcher(lab)
        self.writer = ContinuousWriter(lab)

    def __enter__(self):
        self.watcher.start()
        self.writer.start()
        return self

    def __exit__(self, *_exc):
        self.watcher.stop()
        self.writer.stop()

    def assert_no_write_lost(self):
        assert len(self.writer.acknowledged) > 50
        assert self.writer.missing() == []


def test_two_stop_node_runs_launched_together_stop_one_node(lab_factory):
    lab = lab_factory(nodes=3)
    first, second = lab.nodes[0], lab.nodes[1]
    with Traffic(lab) as traffic:
        runs = [start_play('stop_node', lab, limit=node.name) for node in (first, second)]
        runs = [finish(run) for run in runs]
        outputs = '\n'.join(run.output for run in runs)
        # Exactly one node went down; the other run was refused by the guard (it read etcd only
        # after the first run released the lock, and saw that member down) or gave up waiting
        # for the lock, naming its holder.
        assert sorted(run.returncode == 0 for run in runs) == [False, True], outputs
        refused = next(run for run in runs if run.returncode != 0)
        assert ('Quorum guard: refusing to stop' in refused.output
                or 'held by' in refused.output), describe(refused)
        assert traffic.watcher.max_down == 1, traffic.watcher.max_down_members
        assert lock_value(lab) is None, 'the lock outlived both runs'
        recovered = play('recover', lab)
        assert recovered.returncode == 0, describe(recovered)
    lab.wait_healthy(timeout=120)
    traffic.assert_no_write_lost()


def test_two_rolling_restarts_launched_together_keep_one_member_down_at_most(lab_factory):
    lab = lab_factory(nodes=3)
    with Traffic(lab) as traffic:
        # Each run waits for the other's node: give the wait room for a whole node's restart
        # on a loaded machine.
        extra = {'maintenance_lock_wait_timeout': 600}
        # As from a scheduler or a container: no USER or LOGNAME; the holder is still named.
        bare = dict((name, value) for name, value in ansible_env().items() if name not in ('USER', 'LOGNAME'))
        runs = [finish(run, timeout=1500) for run in
                [start_play('rolling_restart', lab, extra_vars=extra, env=bare) for _run in range(2)]]
        for run in runs:
            assert run.returncode == 0, describe(run)
        assert traffic.watcher.max_down == 1, traffic.watcher.max_down_members
        assert traffic.watcher.seen_down == {node.name for node in lab.nodes}
        # The runs took turns: at least one of them waited for the other's lock and said so.
        assert any('s for the maintenance lock; until then it was held by root on ' in run.output for run in runs), \
            '\n'.join(describe(run) for run in runs)
        assert not any('unknown user' in run.output for run in runs), '\n'.join(describe(run) for run in runs)
        # Each run takes the lock once for all its nodes: one run waited, once, and no node's renewal
        # repeats that wait.
        assert sum(run.output.count('for the maintenance lock; until then it was held by') for run in runs) == 1, \
            '\n'.join(describe(run) for run in runs)
    assert lock_value(lab) is None
    lab.wait_healthy(timeout=120)
    traffic.assert_no_write_lost()


def test_controller_killed_while_holding_the_lock_frees_it_and_recover_converges(lab_factory):
    lab = lab_factory(nodes=3)
    ttl = 10
    with Traffic(lab) as traffic:
        run = start_play('rolling_restart', lab, extra_vars={'maintenance_lock_ttl': ttl})
        try:
            # Kill the controller once it holds the lock and the first node's etcd is down.
            wait_for(lambda: lock_value(lab) is not None and traffic.watcher.max_down == 1, 300,
                     'the rolling restart to hold the lock with a node down')
            held = lock_value(lab)
            os.killpg(run.pid, signal.SIGKILL)
            killed_at = time.monotonic()
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
            run.communicate(timeout=60)
        assert held['playbook'] and held['node']
        wait_for(lambda: lock_value(lab) is None, ttl + 15, 'the dead run\'s lock to expire')
        assert time.monotonic() - killed_at <= ttl + 15
        recovered = play('recover', lab)
        assert recovered.returncode == 0, describe(recovered)
        lab.wait_healthy(timeout=120)
        again = play('recover', lab)
        assert again.returncode == 0, describe(again)
        assert all(host['changed'] == 0 for host in again.recap.values()), again.recap
        assert traffic.watcher.max_down == 1, traffic.watcher.max_down_members
    traffic.assert_no_write_lost()
