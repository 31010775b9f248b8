"""Benchmark-only callback (not shipped): one JSON line per task and host with its start and end.

Enabled by tests/bench/bench_rolling_restart.py through ANSIBLE_CALLBACK_PLUGINS and
ANSIBLE_CALLBACKS_ENABLED=kubemaint_task_timing; writes to $KUBEMAINT_TASK_TIMING_LOG. Times are
time.monotonic() (one clock for every process on the machine), so the benchmark can lay them over
its own measurements. ansible-core has no profile_tasks of its own (that one lives in ansible.posix).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: kubemaint_task_timing
type: aggregate
short_description: per task and host start/end times as JSON lines (benchmark only)
description: Writes one JSON line per finished task and host to the file named by KUBEMAINT_TASK_TIMING_LOG.
requirements: [enable in ANSIBLE_CALLBACKS_ENABLED]
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kubemaint_task_timing'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._path = os.environ.get('KUBEMAINT_TASK_TIMING_LOG')
        self._started = {}
        self._task_started = None

    def _write(self, record):
        if not self._path:
            return
        with open(self._path, 'a') as handle:
            handle.write(json.dumps(record) + '\n')

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_started = time.monotonic()

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _finish(self, result, status):
        task = result._task
        host = result._host.get_name()
        started = self._started.pop((host, task._uuid), self._task_started)
        role = task._role.get_name(include_role_fqcn=False) if task._role else ''
        record = {'host': host, 'task': task.get_name(), 'action': task.action, 'role': role,
                  'path': task.get_path() or '', 'status': status, 'start': started, 'end': time.monotonic()}
        steps = result._result.get('steps') if isinstance(result._result, dict) else None
        if isinstance(steps, list):
            # node_restart's module runs on the node (epoch times): on this record's monotonic clock
            offset = time.monotonic() - time.time()
            record['steps'] = [dict(step, start=step['began_at'] + offset,
                                    parts=[dict(part, start=part['began_at'] + offset) for part in step.get('parts') or []])
                               for step in steps if isinstance(step, dict) and 'began_at' in step and 'seconds' in step]
        self._write(record)

    def v2_runner_on_ok(self, result):
        self._finish(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._finish(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._finish(result, 'unreachable')
