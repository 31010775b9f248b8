# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The node_restart action: a node's whole in-place restart as one task (see the module's docs).

It runs on the controller and runs the collection's modules on the node, over the task's own
connection: static_pod_info (unless the caller read the pods), etcd_member_info (the quorum guard's
live read), etcd_leader (only when leadership must move) and static_pod_toggle (snapshot, every pod
stopped and started again, waits in slices). What to decide and what to say comes from
plugin_utils/_etcd/node_restart.py and the guard in plugin_utils/_etcd/guard.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    cluster_view,
    guard_verdict,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.node_restart import (
    before_stop,
    bring_back_line,
    in_place,
    proceed_line,
    progress_line,
    refusal,
    restarted_line,
    wait_slices,
)

display = Display()

COLLECTION = 'kubemaint.control_plane.'

ETCD_ARGS = ('endpoints', 'kubernetes_dir', 'ca_cert', 'client_cert', 'client_key', 'timeout')

ARGUMENT_SPEC = dict(
    member=dict(type='str', required=True),
    pods=dict(type='dict'),
    pods_by_host=dict(type='dict', default={}),
    peer_pods=dict(type='list', elements='raw', default=[]),
    endpoints=dict(type='list', elements='str'),
    kubernetes_dir=dict(type='path', default='/etc/kubernetes'),
    ca_cert=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path', no_log=False),
    timeout=dict(type='float', default=5.0),
    max_applied_lag=dict(type='int', default=DEFAULT_MAX_APPLIED_LAG),
    allow_quorum_loss=dict(type='bool', default=False),
    override_name=dict(type='str', default='allow_quorum_loss'),
    leader_prefer=dict(type='list', elements='str', default=[]),
    snapshot=dict(type='bool', default=True),
    snapshot_dest=dict(type='path'),
    snapshot_keep=dict(type='int', default=3),
    reason=dict(type='str', default='kubemaint.control_plane maintenance'),
    wait_timeout=dict(type='int', default=300),
    wait_slice=dict(type='int', default=20),
    lock_key=dict(type='str', default='/kubemaint.control_plane/lock', no_log=False),
    lock_token=dict(type='str', default='', no_log=False),
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        for name in ('wait_timeout', 'wait_slice', 'snapshot_keep', 'max_applied_lag'):
            if args[name] < (0 if name == 'max_applied_lag' else 1):
                return dict(result, failed=True, changed=False,
                            msg='node_restart: %s=%s must be at least %d. Nothing was changed.'
                                % (name, args[name], 0 if name == 'max_applied_lag' else 1))
        try:
            result.update(_Restart(self, args, task_vars or {}).run())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result


class _Restart(object):
    """One node's restart; each step a module run on the node, each decision a function of plugin_utils."""

    def __init__(self, action, args, task_vars):
        self.action = action
        self.args = args
        self.task_vars = task_vars
        self.host = task_vars.get('inventory_hostname') or args['member']
        self.check_mode = bool(action._task.check_mode)
        self.warnings = []
        self.steps = []
        self.began_at = time.time()

    def module(self, step, name, module_args):
        """Run one of the collection's modules on the node as the named step (timed, for `steps`); its
        warnings are kept for the task's result."""
        began = time.time()
        outcome = self.action._execute_module(module_name=COLLECTION + name, module_args=module_args,
                                              task_vars=self.task_vars)
        self.steps.append(dict(step=step, module=name, began_at=began, seconds=round(time.time() - began, 3)))
        self.warnings.extend(outcome.get('warnings') or [])
        return outcome

    def etcd_args(self, **extra):
        args = dict((name, self.args[name]) for name in ETCD_ARGS if self.args[name] is not None)
        args.update(extra)
        return args

    def fail(self, msg, stop_began, **fields):
        """A failure: the lock this run holds is released (the run ends here), and a node that may be
        partly stopped is named with the command that brings it back."""
        if stop_began:
            advice = bring_back_line(self.host, fields.get('timed_out'), self.args['wait_timeout'],
                                     self.args['wait_slice'])
            msg = '%s %s' % (msg.rstrip(), advice)
        if self.args['lock_token']:
            released = self.module('lock release', 'etcd_lock', self.etcd_args(
                state='released', key=self.args['lock_key'], token=self.args['lock_token']))
            if released.get('failed'):
                self.warnings.append('The maintenance lock could not be released after the failure on %s (%s); it '
                                     'expires with its lease.' % (self.host, released.get('msg')))
        return self.finish(failed=True, msg=msg, stop_began=stop_began, **fields)

    def finish(self, **fields):
        fields.setdefault('changed', False)
        fields['began_at'] = self.began_at
        fields['steps'] = self.steps
        if self.warnings:
            fields['warnings'] = self.warnings
        return fields

    def run(self):
        pods = self.args['pods']
        if not pods or 'running' not in pods:
            pods = self.module('pods read', 'static_pod_info', {'kubernetes_dir': self.args['kubernetes_dir']})
        fits, why = in_place(pods)
        if not fits:
            # Not a failure: the caller stops and starts the node the long way.
            return self.finish(long_way=True, pods=pods, msg='%s does not restart in place (%s)' % (self.host, why))

        info = self.module('guard read', 'etcd_member_info', self.etcd_args())
        view = cluster_view(info, self.args['max_applied_lag'])
        view['endpoints'] = list(self.args['endpoints'] or info.get('endpoints') or [])
        verdict = guard_verdict(view, self.args['member'], target_host=self.host, target_pods=pods,
                                peer_pods=self.args['peer_pods'], pods_by_host=self.args['pods_by_host'],
                                max_applied_lag=self.args['max_applied_lag'],
                                allow_quorum_loss=self.args['allow_quorum_loss'],
                                override_name=self.args['override_name'])
        if not verdict['proceed']:
            first, details = refusal(verdict)
            for line in details:
                display.display(line)
            return self.fail(first, False)
        display.display(proceed_line(verdict, self.args['override_name']))

        plan = before_stop(verdict, view, pods, self.args['snapshot'])
        leader = None
        if plan['move_leader']:
            known = [member['name'] for member in view['members']]
            leader = self.module('leader move', 'etcd_leader', self.etcd_args(
                avoid=[self.args['member']],
                prefer=[name for name in self.args['leader_prefer'] if name in known]))
            if leader.get('failed'):
                return self.fail('%s Nothing was stopped.' % leader.get('msg'), False)

        length, slices = wait_slices(self.args['wait_timeout'], self.args['wait_slice'])
        toggle = dict(name='all', kubernetes_dir=self.args['kubernetes_dir'], wait=True, wait_timeout=length,
                      reason=self.args['reason'])
        restarted = self.module('restart', 'static_pod_toggle', dict(
            toggle, state='restarted', snapshot=plan['snapshot'], snapshot_dest=self.args['snapshot_dest'],
            snapshot_endpoints=view['endpoints'], snapshot_keep=self.args['snapshot_keep'],
            allow_quorum_loss=self.args['allow_quorum_loss']))
        snapshot = restarted.get('snapshot')
        self.steps[-1]['parts'] = restarted.get('timings') or []
        changed = bool(restarted.get('changed')) or bool(leader and leader.get('changed'))
        if restarted.get('failed'):
            stage = restarted.get('stage') or ''
            if not restarted.get('timed_out') or stage == 'snapshot':
                return self.fail(restarted.get('msg') or 'the restart failed', stage != 'snapshot',
                                 changed=changed, stage=stage, snapshot=snapshot)
            # Slow: the rest of the wait goes on in slices, a line each; a stop not yet done is finished first.
            waited = 1
            for state, doing in (('stopped', 'the pods are still stopping'), ('started', 'the pods are not back yet')):
                if state == 'stopped' and stage != 'stopped':
                    continue
                outcome = restarted
                while waited < slices:
                    display.display(progress_line(self.host, doing, waited, slices, length))
                    outcome = self.module('wait', 'static_pod_toggle', dict(toggle, state=state))
                    waited += 1
                    if not outcome.get('failed') or not outcome.get('timed_out'):
                        break
                if outcome.get('failed'):
                    return self.fail(outcome.get('msg') or 'the restart failed', True, changed=True, stage=state,
                                     snapshot=snapshot, timed_out=bool(outcome.get('timed_out')),
                                     waited=waited * length)
        line = restarted_line(self.host, self.args['member'], pods['running'], leader, snapshot, self.check_mode)
        display.display(line)
        return self.finish(changed=changed, long_way=False, msg=line, guard=verdict, leader=leader,
                           snapshot=snapshot, started_at=time.time(), components=restarted.get('components'))
