"""`make demo` works end to end: lab up, the tour, lab down, nothing left running."""
import os
import re
import subprocess
import sys

from tests.integration.helpers import REPO_ROOT, ansible_env


def test_make_demo_tour_runs_and_cleans_up():
    proc = subprocess.run([sys.executable, os.path.join(REPO_ROOT, 'tests', 'demo.py')], capture_output=True,
                          text=True, cwd=REPO_ROOT, env=ansible_env(), timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert 'tour completed: every step did what it should' in output
    # The member table from the lab's own inventory: three members, exactly one leader.
    first_table = output.split('=== 1.', 1)[1].split('=== 2.', 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip('|').split('|')]
            for line in first_table.splitlines() if re.match(r'^\s*\| lab-cp-0\d ', line)]
    names = [row[0] for row in rows]
    roles = [row[2] for row in rows]  # MEMBER, ENDPOINT, ROLE, BEHIND, HEALTHY
    assert sorted(names) == ['lab-cp-01', 'lab-cp-02', 'lab-cp-03'], first_table
    assert sorted(roles) == ['follower', 'follower', 'leader'], first_table
    assert all(row[4] == 'true' for row in rows), first_table
    assert 'Quorum guard: refusing' in output
    assert 'lab down; processes left: 0' in output
    # As root (CI) the demo reaches its nodes over SSH, with kubeadm's paths on each node.
    if os.environ.get('KUBEMAINT_LAB_CONNECTION') == 'ssh':
        assert 'connection ssh: every node a host of its own' in output, output[:3000]
        assert 'ssh kubemaint@' in output and 'at /etc/kubernetes' in output
