"""`make demo`: a tour of the collection on a fresh 3-node lab, torn down at the end.

Brings up the lab (tests/lab) in .lab-demo, then runs the tour in tests/demo_tour.py
(cluster_info, rolling_restart, the runbook's scenario 2.1 with the quorum guard and recover),
printing what happens at each step. The lab is stopped whatever happens.
"""
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from tests.conftest import COLLECTIONS_ROOT  # noqa: E402  (sets ANSIBLE_COLLECTIONS_PATH)
from tests.lab import Lab, LabError, free_base_address  # noqa: E402
from tests.lab.core import DEFAULT_BASE_ADDRESS, lab_ports, port_in_use  # noqa: E402


def banner(text):
    print('\n' + '=' * 78 + '\n' + text + '\n' + '=' * 78, flush=True)


def main():
    directory = os.path.join(REPO_ROOT, '.lab-demo')
    base = DEFAULT_BASE_ADDRESS
    if any(port_in_use(base + str(index), port) for index in (1, 2, 3) for port in lab_ports()):
        base = free_base_address(3)
        print('127.0.1.1-3 are busy; the demo lab uses %s1-3' % base)
    lab = Lab(directory, nodes=3, base_address=base)
    banner('Bringing up a 3-node kubeadm-shaped lab with real etcd in %s' % directory)
    try:
        lab.up(timeout=180)
    except LabError as exc:
        print('demo: %s' % exc, file=sys.stderr)
        return 2
    try:
        print('  ' + lab.describe_connection())
        for node in lab.nodes:
            print('  %s  %-12s  %s' % (node.name, node.address, lab.describe_node(node)))
        print('  inventory: %s' % lab.inventory_path)
        print('  collections: %s' % COLLECTIONS_ROOT)
        from tests.demo_tour import tour
        code = 0 if tour(lab) else 1
    finally:
        banner('Tearing the lab down')
        lab.down()
    left = lab.processes()
    print('lab down; processes left: %d' % len(left))
    return 1 if left else code


if __name__ == '__main__':
    sys.exit(main())
