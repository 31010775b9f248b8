"""Run every benchmark in tests/bench, one after another, each printing its markdown table.

    python -m tests.bench [--only NAME ...] [options of the chosen benchmarks]

Options this runner does not know go to every chosen benchmark, e.g.
`--only bench_rolling_restart --runs 3 --nodes 3 5` (that is
`make bench BENCH_ARGS="--only bench_rolling_restart --runs 3 --nodes 3 5"`).
"""
import argparse
import importlib
import pkgutil
import sys

import tests.bench


def main(argv=None):
    names = sorted(info.name for info in pkgutil.iter_modules(tests.bench.__path__) if info.name.startswith('bench_'))
    parser = argparse.ArgumentParser(description='run the benchmarks: %s' % ', '.join(names))
    parser.add_argument('--only', nargs='+', choices=names, default=names)
    args, passed_on = parser.parse_known_args(argv)
    failed = []
    for name in args.only:
        print('\n## %s' % name, flush=True)
        module = importlib.import_module('tests.bench.' + name)
        if module.main(list(passed_on)) not in (0, None):
            failed.append(name)
    if failed:
        print('benchmarks failed: %s' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
