"""Time to collect the full etcd cluster state: the collection's gateway client versus the
runbook's etcdctl commands, with 0, 1 and 2 members stopped and with a hung member.

    python -m tests.bench.bench_cluster_state [--nodes 3] [--rounds 3] [--timeout 5]

Starts its own lab (on a free loopback block), prints a markdown table, tears the lab down.
Both sides get the same per-request timeout. "state" means members, status of every member
and health of every member: etcdctl `member list`, `endpoint status --cluster` and
`endpoint health --cluster`, run one after another as an operator would; the collection's
client does the same in parallel (collect_cluster_state).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Importing tests.conftest makes ansible_collections importable.
import tests.conftest  # noqa: F401 pylint: disable=unused-import
from tests.integration.etcd_helpers import etcd_frozen, etcd_stopped
from tests.lab import Lab, free_base_address

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import (
    collect_cluster_state,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import client_from_params


def time_collection(node, timeout):
    client, connection = client_from_params({'kubernetes_dir': node.kubernetes_dir, 'timeout': timeout})
    started = time.monotonic()
    state = collect_cluster_state(client, connection['endpoints'])
    elapsed = time.monotonic() - started
    summary = '%d/%d healthy, quorum %s' % (state['cluster']['healthy_voters'], state['cluster']['voting_members'],
                                            'yes' if state['cluster']['has_quorum'] else 'no')
    return elapsed, summary


def time_etcdctl(lab, node, timeout):
    pki = node.etcd_pki_dir
    base = [lab.etcdctl_bin, '--endpoints=%s' % node.client_url,
            '--cacert=%s' % os.path.join(pki, 'ca.crt'), '--cert=%s' % os.path.join(pki, 'server.crt'),
            '--key=%s' % os.path.join(pki, 'server.key'),
            '--dial-timeout=%ds' % timeout, '--command-timeout=%ds' % timeout]
    env = dict(os.environ, ETCDCTL_API='3')
    codes = []
    started = time.monotonic()
    for args in (['member', 'list'], ['endpoint', 'status', '--cluster'], ['endpoint', 'health', '--cluster']):
        proc = subprocess.run(base + args + ['-w', 'json'], capture_output=True, text=True, env=env,
                              timeout=10 * timeout + 60, check=False)
        codes.append(proc.returncode)
    elapsed = time.monotonic() - started
    return elapsed, 'exit codes %s' % ','.join(str(code) for code in codes)


def measure(lab, scenario, rounds, timeout):
    node = lab.nodes[0]
    ours, theirs = [], []
    our_note = their_note = ''
    for _round in range(rounds):
        seconds, our_note = time_collection(node, timeout)
        ours.append(seconds)
        seconds, their_note = time_etcdctl(lab, node, timeout)
        theirs.append(seconds)
    return (scenario, statistics.median(ours), our_note, statistics.median(theirs), their_note)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--timeout', type=int, default=5)
    options = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix='kubemaint-bench-') as directory:
        lab = Lab(directory, nodes=options.nodes, base_address=free_base_address(options.nodes))
        try:
            lab.up(timeout=180)
            lab.wait_healthy(timeout=180)
            rows.append(measure(lab, 'all %d up' % options.nodes, options.rounds, options.timeout))
            with etcd_stopped(lab, lab.nodes[1]):
                rows.append(measure(lab, '1 stopped', options.rounds, options.timeout))
            with etcd_stopped(lab, lab.nodes[1], lab.nodes[2]):
                rows.append(measure(lab, '2 stopped (no quorum)', options.rounds, options.timeout))
            lab.wait_healthy(timeout=180)
            with etcd_frozen(lab.nodes[1]):
                rows.append(measure(lab, '1 hung (SIGSTOP)', 1, options.timeout))
            lab.wait_healthy(timeout=180)
        finally:
            lab.down()
    print()
    print('Cluster state (members, status, health of every member), per-request timeout %d s, median of %d rounds'
          % (options.timeout, options.rounds))
    print()
    print('| scenario | collection client (s) | result | etcdctl x3 (s) | etcdctl | speed-up |')
    print('|---|---:|---|---:|---|---:|')
    for scenario, ours, our_note, theirs, their_note in rows:
        print('| %s | %.3f | %s | %.3f | %s | %.1fx |' % (scenario, ours, our_note, theirs, their_note,
                                                          theirs / ours if ours else float('inf')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
