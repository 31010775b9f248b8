"""The `make demo` tour: the collection's playbooks on a fresh 3-node lab, step by step.

`tour(lab)` takes a started lab and runs cluster_info, rolling_restart, then the runbook's
scenario 2.1 (stop_node on the leader's node, the quorum guard refusing a second stop,
recover), printing what happens at each step. It returns True when every step did what it
should. `make demo` (tests/demo.py) starts the lab and tears it down.
"""
import json
import re
import sys

from tests.integration.helpers import run_playbook
from tests.integration.playbook_helpers import leader_node, recap

INTERESTING = re.compile(r'^\s*("msg"|"\||"quorum|"lab-|"  - |"Quorum|"Join|"WARNING|\[ERROR\]|fatal:|changed:|lab-cp-\d+\s+:)')


def _say(text):
    print(text)
    sys.stdout.flush()


def _step(number, title):
    _say('\n=== %s. %s' % (number, title))


def _show(proc):
    """The lines of ansible's output an operator reads: messages, tables, changes, failures, recap."""
    task = ''
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith('TASK ['):
            task = line[len('TASK ['):].split(']')[0].split(' : ')[-1]
            continue
        if not INTERESTING.match(line) or line.strip() == '"msg": [':
            continue
        if line.startswith('changed:'):
            line = '%s  (%s)' % (line.strip(), task)
        text = line.strip().rstrip(',')
        if text.startswith('"msg": '):
            text = text[len('"msg": '):]
        if text.startswith('"') and text.endswith('"'):
            try:
                text = json.loads(text)
            except ValueError:
                pass
        _say('    ' + text)


def _play(lab, name, limit=None, extra_vars=None):
    command = 'ansible-playbook kubemaint.control_plane.%s -i %s%s%s' % (
        name, lab.inventory_path, (' --limit ' + limit) if limit else '',
        (" -e '%s'" % json.dumps(extra_vars)) if extra_vars else '')
    _say('$ ' + command)
    proc = run_playbook('kubemaint.control_plane.' + name, lab.inventory_path, extra_vars=extra_vars, limit=limit)
    _show(proc)
    changed = sum(host['changed'] for host in recap(proc.stdout).values())
    _say('  -> rc=%d, %d change(s)' % (proc.returncode, changed))
    return proc


def tour(lab):
    ok = True
    _step(1, 'cluster_info: the runbook\'s `etcdctl endpoint status` table and the quorum summary')
    ok &= _play(lab, 'cluster_info').returncode == 0

    _step(2, 'rolling_restart: every node\'s certificates checked and the maintenance lock taken, then every '
             'node in turn: guard -> snapshot -> leader moved away -> restart (etcd healthy and caught up first)')
    ok &= _play(lab, 'rolling_restart').returncode == 0

    leader = leader_node(lab)
    _step(3, 'scenario 2.1: stop_node on the etcd leader\'s node (%s): leadership moves first'
          % (leader.name if leader else 'none found'))
    if leader is None:
        return False
    ok &= _play(lab, 'stop_node', limit=leader.name).returncode == 0
    new_leader = leader_node(lab)
    _say('  leader now: %s' % (new_leader.name if new_leader else 'NONE'))
    ok &= new_leader is not None and new_leader is not leader

    second = next(node for node in lab.nodes if node is not leader)
    _step(4, 'stop_node on a second node (%s): the quorum guard refuses and changes nothing' % second.name)
    refused = _play(lab, 'stop_node', limit=second.name)
    ok &= refused.returncode != 0 and 'Quorum guard: refusing' in refused.stdout + refused.stderr
    _say('  (expected: refused; the override would be -e control_plane_node_allow_quorum_loss=true)')

    _step(5, 'recover: brings back whatever is stopped, one node at a time')
    ok &= _play(lab, 'recover').returncode == 0
    _step(6, 'recover again: nothing left to do')
    again = _play(lab, 'recover')
    ok &= again.returncode == 0 and all(host['changed'] == 0 for host in recap(again.stdout).values())

    _step(7, 'cluster_info: back to full strength')
    ok &= _play(lab, 'cluster_info').returncode == 0
    _say('\ntour %s' % ('completed: every step did what it should' if ok else 'FAILED: see the steps above'))
    return bool(ok)
