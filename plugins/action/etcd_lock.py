# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The etcd_lock module, with a progress line while it waits for another run's lock.

With state=acquired and a wait_timeout longer than one slice, the module runs once per slice
(waiting one slice at most each time) and a line between two slices says who holds the lock and
how long this run has waited; the task returns one result, as one long module run would. Anything
else is one module run, as without this plugin. The arithmetic is in plugin_utils/_etcd/lock_wait.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.lock_wait import (
    combine,
    next_slice,
    progress_line,
    slice_waited,
    still_held,
    wants_slices,
)

MODULE = 'kubemaint.control_plane.etcd_lock'
display = Display()


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        task_vars = task_vars or {}
        # module_defaults are already in the task's arguments (the executor applies them before any action plugin)
        module_args = dict(self._task.args)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        if wrap_async or not wants_slices(module_args):
            # one module run, as the default action runs it (an async task polls its own job: not sliced)
            result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars,
                                               wrap_async=wrap_async))
        else:
            result.update(self._wait_in_slices(module_args, task_vars))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _wait_in_slices(self, module_args, task_vars):
        wait_timeout = float(module_args['wait_timeout'])
        host = task_vars.get('inventory_hostname', '')
        results = []
        waited = 0.0
        while True:
            asked = next_slice(wait_timeout, waited)
            outcome = self._execute_module(module_name=MODULE, module_args=dict(module_args, wait_timeout=asked),
                                           task_vars=task_vars)
            results.append(outcome)
            waited += slice_waited(outcome, asked)
            if not still_held(outcome) or next_slice(wait_timeout, waited) <= 0:
                return combine(results, waited, wait_timeout, key=module_args.get('key'))
            # the task's no_log hides the holder too
            display.display(progress_line(host, outcome, waited, wait_timeout, show_holder=not self._task.no_log))
