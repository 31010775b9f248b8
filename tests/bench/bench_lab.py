"""Benchmark: how long the lab takes to come up (3 and 5 nodes) and to go down.

    python -m tests.bench.bench_lab [--runs 3]

Measured side by side in one run and printed as a markdown table. Aim: a 3-node lab ready
(every etcd member healthy, every apiserver stand-in ready) well under 20 s on 2 cores.
"""
import argparse
import statistics
import tempfile
import time

from tests.lab import Lab, free_base_address


def measure(nodes, runs):
    ups, downs = [], []
    for _run in range(runs):
        with tempfile.TemporaryDirectory(prefix='bench-lab-') as directory:
            lab = Lab(directory, nodes=nodes, base_address=free_base_address(nodes))
            started = time.monotonic()
            try:
                lab.up(timeout=180)
                ups.append(time.monotonic() - started)
            finally:
                started = time.monotonic()
                lab.down()
                downs.append(time.monotonic() - started)
            if lab.processes():
                raise SystemExit('bench: lab processes left running after down')
    return ups, downs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--nodes', type=int, nargs='+', default=[3, 5])
    args = parser.parse_args(argv)
    rows = []
    for nodes in args.nodes:
        ups, downs = measure(nodes, args.runs)
        rows.append((nodes, ups, downs))
    print('\n### Lab up/down (%d runs each)\n' % args.runs)
    print('| nodes | up median (s) | up max (s) | down median (s) | down max (s) |')
    print('|---:|---:|---:|---:|---:|')
    for nodes, ups, downs in rows:
        figures = (nodes, statistics.median(ups), max(ups), statistics.median(downs), max(downs))
        print('| %d | %.2f | %.2f | %.2f | %.2f |' % figures)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
