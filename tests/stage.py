"""Run one stage of `make test`, time it, and print a summary of all stages at the end.

Every stage runs even when an earlier one failed, so one CI run reports every problem;
`--summary` exits non-zero when any stage failed.
"""
import json
import os
import subprocess
import sys
import time

RECORD = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'output', 'stages.json')


def _load():
    try:
        with open(RECORD) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return []


def _save(stages):
    os.makedirs(os.path.dirname(RECORD), exist_ok=True)
    with open(RECORD, 'w') as handle:
        json.dump(stages, handle)


def run_stage(name, command):
    stages = [] if name == 'sanity' else _load()
    print('\n===== stage %s: %s' % (name, ' '.join(command)), flush=True)
    started = time.monotonic()
    code = subprocess.call(command)
    seconds = time.monotonic() - started
    stages.append({'name': name, 'rc': code, 'seconds': round(seconds, 1)})
    _save(stages)
    print('===== stage %s %s in %.1f s' % (name, 'passed' if code == 0 else 'FAILED (rc=%d)' % code, seconds),
          flush=True)
    return 0


def summary():
    stages = _load()
    print('\n===== make test summary')
    for stage in stages:
        print('  %-12s %-7s %8.1f s' % (stage['name'], 'ok' if stage['rc'] == 0 else 'FAILED', stage['seconds']))
    total = sum(stage['seconds'] for stage in stages)
    print('  %-12s %-7s %8.1f s' % ('total', '', total))
    failed = [stage['name'] for stage in stages if stage['rc'] != 0]
    if failed or not stages:
        print('make test FAILED: %s' % (', '.join(failed) or 'no stage ran'))
        return 1
    return 0


def main(argv):
    if argv[:1] == ['--summary']:
        return summary()
    if len(argv) < 3 or argv[1] != '--':
        print('usage: stage.py NAME -- COMMAND... | stage.py --summary', file=sys.stderr)
        return 2
    return run_stage(argv[0], argv[2:])


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
