"""A stand-in for ansible.posix.json (not installed with ansible-core alone): the same JSON shape,
`plays[].tasks[].hosts[host]` = the task result, printed once at the end of the run.

helpers.run_module sets ANSIBLE_STDOUT_CALLBACK=json; point ANSIBLE_CALLBACK_PLUGINS at this directory
so that name resolves without the ansible.posix collection.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: json
type: stdout
short_description: JSON output of the whole run (test stand-in for ansible.posix.json)
description: Prints plays, tasks and per-host results as one JSON document.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'json'

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self.results = []

    def v2_playbook_on_play_start(self, play):
        self.results.append({'play': {'name': play.get_name()}, 'tasks': []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.results[-1]['tasks'].append({'task': {'name': task.get_name()}, 'hosts': {}})

    def _record(self, result, **extra):
        data = dict(result._result)
        data.update(extra)
        self.results[-1]['tasks'][-1]['hosts'][result._host.get_name()] = data

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        self._display.display(json.dumps({'plays': self.results}, indent=1, default=str))
