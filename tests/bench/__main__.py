"""Run every benchmark in tests/bench, one after another, each printing its markdown table.

    python -m tests.bench [--only NAME ...]
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
    args = parser.parse_args(argv)
    failed = []
    for name in args.only:
        print('\n## %s' % name, flush=True)
        module = importlib.import_module('tests.bench.' + name)
        if module.main([]) not in (0, None):
            failed.append(name)
    if failed:
        print('benchmarks failed: %s' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
