"""Run the collection's modules and playbooks through real ansible, as a user would."""
import json
import os
import subprocess
import sys
import tempfile
import time

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_env(extra=None):
    """Environment for ansible commands: this collection on the path, json output, no cows or colour."""
    from tests.conftest import COLLECTIONS_ROOT
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_ROOT,
        'ANSIBLE_NOCOWS': '1',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_HOST_KEY_CHECKING': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    env.update(extra or {})
    return env


def run_module(module_name, args=None, check_mode=False, diff=False, inventory=None, host='localhost',
               timeout=300, env=None, python=None):
    """Run kubemaint.control_plane.<module_name> once through ansible-playbook; return its result dict.

    The play registers the module's result and writes it to a file with `to_json` (ansible-core
    has no json stdout callback of its own). The result has `failed` (bool) and `msg` on failure;
    `_stdout`/`_stderr` carry ansible's own output for debugging assertions. `python` is the
    node's interpreter for localhost runs (default: this one).
    """
    return run_modules([(module_name, args, check_mode, diff)], inventory=inventory, host=host, timeout=timeout,
                       env=env, python=python)[0]


def run_modules(tasks, inventory=None, host='localhost', timeout=300, env=None, python=None):
    """run_module for several tasks, (module_name, args, check_mode, diff) each, in one play, one after the
    other (each runs whatever the previous ones did); returns their results in order. One ansible-playbook
    start instead of one per task keeps a test that runs many modules fast."""
    with tempfile.TemporaryDirectory(prefix='kubemaint-run-') as tmp:
        out = os.path.join(tmp, 'result.json')
        steps = []
        for number, (module_name, args, check_mode, diff) in enumerate(tasks):
            steps.append({'name': 'module under test %d' % number, 'kubemaint.control_plane.' + module_name: args or {},
                          'check_mode': bool(check_mode), 'diff': bool(diff), 'ignore_errors': True,
                          'register': 'result_%d' % number})
        results = '[%s]' % ', '.join('result_%d' % number for number in range(len(tasks)))
        save = {'name': 'save results', 'ansible.builtin.copy': {'content': '{{ %s | to_json }}' % results, 'dest': out},
                'check_mode': False, 'diff': False}
        playbook = os.path.join(tmp, 'play.yml')
        with open(playbook, 'w') as handle:
            yaml.safe_dump([{'hosts': host, 'gather_facts': False, 'tasks': steps + [save]}], handle)
        command = [os.path.join(BIN, 'ansible-playbook'), playbook]
        if inventory:
            command += ['-i', inventory]
        else:
            command += ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % (python or sys.executable)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ansible_env(env), cwd=tmp,
                              check=False)
        if not os.path.exists(out):
            raise AssertionError('ansible-playbook gave no result (rc=%d)\nstdout:\n%s\nstderr:\n%s'
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        with open(out) as handle:
            results = json.load(handle)
    for result in results:
        result.setdefault('failed', False)
        result.setdefault('changed', False)
        result['_stdout'] = proc.stdout
        result['_stderr'] = proc.stderr
    return results


def run_playbook(playbook, inventory, extra_vars=None, limit=None, check=False, timeout=900, env=None):
    """ansible-playbook with the default output; returns CompletedProcess (stdout+stderr text)."""
    command = [os.path.join(BIN, 'ansible-playbook'), playbook, '-i', inventory]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    if limit:
        command += ['--limit', limit]
    if check:
        command.append('--check')
    run_env = ansible_env(env)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=run_env, cwd=REPO_ROOT, check=False)


def wait_for(predicate, timeout, message, interval=0.2):
    """Poll `predicate` until it returns something true (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('timed out after %s s waiting for: %s' % (timeout, message))
