# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The node_recover action: one node's turn of the recover role as one task (see the module's docs).

It runs on the controller and runs modules on the node, over the task's own connection. What the turn
restores comes from plugin_utils/_etcd/recover_plan.py (turn), when the wait for etcd is over from the guard
(restore_settled).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    restore_settled,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recover_plan import turn, turn_line
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._node_action import (
    COLLECTION,
    ETCD_ARGUMENT_SPEC,
    NodeAction,
    etcd_args,
)

ARGUMENT_SPEC = dict(
    pods=dict(type='dict', required=True),
    node_name=dict(type='str'),
    node_address=dict(type='str'),
    client_port=dict(type='int', default=2379),
    wait_timeout=dict(type='int', default=300),
    retries=dict(type='int', default=90),
    delay=dict(type='int', default=2),
    quiet_tries=dict(type='int', default=5),
    max_applied_lag=dict(type='int', default=DEFAULT_MAX_APPLIED_LAG),
    check_certificates=dict(type='bool', default=True),
    repair_certificates=dict(type='bool', default=False),
    **ETCD_ARGUMENT_SPEC
)


class ActionModule(NodeAction):

    NAME = 'node_recover'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    MINIMUM = dict(wait_timeout=1, retries=0, delay=0, quiet_tries=1, max_applied_lag=0)

    def runner(self, args, task_vars):
        return _Turn(self, args, task_vars)


class _Turn(object):
    """One node's turn; each step a module run on the node."""

    def __init__(self, action, args, task_vars):
        self.action = action
        self.args = args
        self.task_vars = task_vars
        host = task_vars.get('inventory_hostname')
        self.member = args['node_name'] or host
        self.address = args['node_address'] or task_vars.get('ansible_host') or host
        self.changed = False
        self.restored = []

    def module(self, name, module_args):
        outcome = self.action._execute_module(module_name=name, module_args=module_args, task_vars=self.task_vars)
        self.changed = self.changed or bool(outcome.get('changed'))
        return outcome

    def fail(self, what, outcome, **fields):
        return self.finish(failed=True, msg='%s: %s' % (what, outcome.get('msg') or 'failed'), **fields)

    def finish(self, **fields):
        fields.setdefault('refused', [])
        fields.setdefault('has_quorum', None)
        fields.setdefault('started_early', False)
        fields.update(changed=self.changed, restored=self.restored)
        return fields

    def certificate_problems(self):
        """The problems that keep the node's certificates from working, after the repair when asked; a check
        that cannot run finds none (it must not block a recovery)."""
        kubernetes_dir = self.args['kubernetes_dir']
        if self.args['repair_certificates']:
            reissued = self.module(COLLECTION + 'node_certificates', dict(state='reissued', kubernetes_dir=kubernetes_dir))
            if reissued.get('failed'):
                return None, self.fail('reissuing the certificates', reissued)
        if not self.args['check_certificates']:
            return [], None
        check = dict(kubernetes_dir=kubernetes_dir, min_days_valid=0, fail_on_problems=False)
        if self.args['node_name']:
            check['node_name'] = self.args['node_name']
        if self.args['node_address']:
            check['advertise_addresses'] = [self.args['node_address']]
        return list(self.module(COLLECTION + 'cert_san_check', check).get('problems') or []), None

    def start(self, step, wait):
        started = self.module(COLLECTION + 'static_pod_toggle', dict(
            name=[step['name']], state='started', kubernetes_dir=self.args['kubernetes_dir'],
            stash_dir=step['stash_dir'], wait=wait, wait_timeout=self.args['wait_timeout']))
        if not started.get('failed'):
            self.restored.append(step['name'])
        return started

    def wait_settled(self):
        """etcd_member_info read until restore_settled says the wait is over, as an until loop would."""
        reads = self.args['retries'] + 1
        info = {}
        for attempt in range(1, reads + 1):
            info = self.action._execute_module(module_name=COLLECTION + 'etcd_member_info', module_args=etcd_args(self.args),
                                               task_vars=self.task_vars)
            info['attempts'] = attempt
            if restore_settled(info, self.member, self.args['max_applied_lag'], self.args['quiet_tries']):
                return info, True
            if attempt < reads:
                time.sleep(self.args['delay'])
        return info, False

    def run(self):
        problems, failure = self.certificate_problems()
        if failure:
            return failure
        if problems:
            return self.finish(refused=problems, msg='left stopped: %s' % '; '.join(problems))
        plan = turn(self.args['pods'])
        for move in plan['relocate']:
            moved = self.module('ansible.legacy.command', dict(
                argv=['mv', '--no-target-directory', move['from'], move['to']], creates=move['to'], removes=move['from']))
            if moved.get('failed'):
                return self.fail('moving %s to %s' % (move['from'], move['to']), moved)
        if plan['manifests_dir']:
            made = self.module('ansible.legacy.file', dict(
                path='%s/manifests' % self.args['kubernetes_dir'].rstrip('/'), state='directory',
                mode=plan['manifests_dir']['mode'], owner=plan['manifests_dir']['uid'],
                group=plan['manifests_dir']['gid']))
            if made.get('failed'):
                return self.fail('recreating the manifests directory', made)
        if plan['etcd']:
            started = self.start(plan['etcd'], False)
            if started.get('failed'):
                return self.fail('starting etcd', started)
            if not self.action._task.check_mode:  # wait_for has no check mode
                listening = self.module('ansible.legacy.wait_for', dict(
                    host=self.address, port=self.args['client_port'], timeout=self.args['wait_timeout']))
                if listening.get('failed'):
                    return self.fail('waiting until etcd listens on %s:%s' % (self.address, self.args['client_port']),
                                     listening)
        info, settled = self.wait_settled()
        has_quorum = bool((info.get('cluster') or {}).get('has_quorum'))
        fields = dict(has_quorum=has_quorum, started_early=not has_quorum, etcd=info, attempts=info.get('attempts'))
        if not settled:
            return self.finish(failed=True, msg='etcd member %s was not healthy and caught up after %d reads %d seconds '
                               'apart: %s' % (self.member, info['attempts'], self.args['delay'],
                                              info.get('msg') or 'still behind'), **fields)
        for step in plan['others']:
            started = self.start(step, has_quorum)
            if started.get('failed'):
                return self.fail('starting %s' % step['name'], started, **fields)
        return self.finish(msg=turn_line(self.restored, has_quorum), **fields)
