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

import posixpath
import time

from ansible.utils.display import Display

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    DEFAULT_MAX_APPLIED_LAG,
    cluster_view,
    guard_verdict,
    member_caught_up,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.node_restart import (
    bring_back_line,
    CHANGE_ORDER,
    change_request,
    change_text,
    changed_line,
    in_place,
    leader_line,
    rollback_message,
    proceed_line,
    progress_line,
    refusal,
    restarted_line,
    snapshot_line,
    wait_slices,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._node_action import (
    COLLECTION,
    ETCD_ARGUMENT_SPEC,
    NodeAction,
    etcd_args,
)

display = Display()

ARGUMENT_SPEC = dict(
    member=dict(type='str', required=True),
    pods=dict(type='dict'),
    pods_by_host=dict(type='dict', default={}),
    peer_pods=dict(type='list', elements='raw', default=[]),
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
    change=dict(type='dict'),
    change_name=dict(type='str', default='change'),
    changed_before=dict(type='list', elements='str', default=[]),
    settle=dict(type='float', default=0),
    change_prepare=dict(type='bool', default=False),
    change_backups=dict(type='dict'),
    change_failed=dict(type='str', default=''),
    **ETCD_ARGUMENT_SPEC
)

MINIMUM = dict(wait_timeout=1, wait_slice=1, snapshot_keep=1, max_applied_lag=0, settle=0)


class ActionModule(NodeAction):

    NAME = 'node_restart'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    MINIMUM = MINIMUM

    def runner(self, args, task_vars):
        return _Restart(self, args, task_vars)


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

    def module(self, step, name, module_args, check_mode=None):
        """Run one of the collection's modules on the node as the named step (timed, for `steps`); its
        warnings are kept for the task's result. `check_mode` true runs it in check mode whatever the task's."""
        began = time.time()
        task = self.action._task
        task_check_mode = task.check_mode
        if check_mode:
            task.check_mode = True
        try:
            outcome = self.action._execute_module(module_name=COLLECTION + name, module_args=module_args,
                                                  task_vars=self.task_vars)
        finally:
            task.check_mode = task_check_mode
        self.steps.append(dict(step=step, module=name, began_at=began, seconds=round(time.time() - began, 3)))
        self.warnings.extend(outcome.get('warnings') or [])
        return outcome

    def etcd_args(self, **extra):
        return etcd_args(self.args, **extra)

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
        if self.args['change_prepare']:
            return self.run_prepare()
        if self.args['change_backups'] is not None:
            return self.run_after_hook()
        if self.args['change'] is not None:
            return self.run_change()
        pods = self.read_pods()
        fits, why = in_place(pods)
        if not fits:
            # Not a failure: the caller stops and starts the node the long way.
            return self.finish(long_way=True, pods=pods, msg='%s does not restart in place (%s)' % (self.host, why))
        verdict, view = self.guard(pods)
        if verdict is None:
            return view
        leader = self.move_leader(verdict, view)
        if leader and leader.get('failed'):
            return self.fail('%s Nothing was stopped.' % leader.get('msg'), False)
        return self.restart(pods, view, verdict, leader)

    def read_pods(self):
        """The pods the caller read on every host at once right before, else read now."""
        pods = self.args['pods']
        if not pods or 'running' not in pods:
            pods = self.module('pods read', 'static_pod_info', {'kubernetes_dir': self.args['kubernetes_dir']})
        return pods

    def guard(self, pods):
        """The quorum guard on a live read: (verdict, view) when the node may go ahead, else (None, the
        failed result to return)."""
        info = self.module('guard read', 'etcd_member_info', self.etcd_args())
        view = cluster_view(info, self.args['max_applied_lag'])
        view['endpoints'] = list(self.args['endpoints'] or info.get('endpoints') or [])
        verdict = guard_verdict(view, self.args['member'], target_host=self.host, target_pods=pods,
                                peer_pods=self.args['peer_pods'], pods_by_host=self.args['pods_by_host'],
                                max_applied_lag=self.args['max_applied_lag'],
                                allow_quorum_loss=self.args['allow_quorum_loss'],
                                override_name=self.args['override_name'], snapshot=self.args['snapshot'])
        if not verdict['proceed']:
            first, details = refusal(verdict)
            for line in details:
                display.display(line)
            return None, self.fail(first, False)
        display.display(proceed_line(verdict, self.args['override_name']))
        return verdict, view

    def move_leader(self, plan, view):
        """etcd_leader's result when the plan (the guard's verdict) moves leadership away from this node's member,
        else None."""
        if not plan['move_leader']:
            return None
        known = [member['name'] for member in view['members']]
        return self.module('leader move', 'etcd_leader', self.etcd_args(
            avoid=[self.args['member']], prefer=[name for name in self.args['leader_prefer'] if name in known]))

    def restart(self, pods, view, verdict, leader):
        """Every pod stopped and started again in one module run, waited for in slices."""
        length, slices = wait_slices(self.args['wait_timeout'], self.args['wait_slice'])
        toggle = dict(name='all', kubernetes_dir=self.args['kubernetes_dir'], wait=True, wait_timeout=length,
                      reason=self.args['reason'])
        restarted = self.module('restart', 'static_pod_toggle', dict(
            toggle, state='restarted', snapshot=verdict['snapshot'], snapshot_dest=self.args['snapshot_dest'],
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

    def flags_args(self, component, **extra):
        args = dict(name=component, kubernetes_dir=self.args['kubernetes_dir'])
        args.update(extra)
        return args

    def run_change(self):
        """The flag change of this node (see the module's docs): nothing when every manifest carries it
        already; else guard, leadership move and snapshot when etcd's manifest changes, then each component
        changed and waited for (a new pod healthy, etcd caught up), rolled back from its backup when it is
        not healthy in time."""
        try:
            request = change_request(self.args['change'], self.args['change_name'])
        except ValueError as exc:
            return self.fail('%s. Nothing was changed.' % exc, False)
        previews = []
        for component, set_flags, absent in request:
            preview = self.module('plan ' + component, 'static_pod_flags', self.flags_args(
                component, flags=set_flags, absent_flags=absent), check_mode=True)
            if preview.get('failed'):
                return self.fail('%s: cannot apply the change to %s: %s. Nothing was changed.'
                                 % (self.host, component, preview.get('msg')), False)
            previews.append((component, set_flags, absent, preview))
        changing = [entry for entry in previews if entry[3].get('changed')]
        diffs = [entry[3]['diff'] for entry in changing if entry[3].get('diff')]
        if not changing:
            line = changed_line(self.host, self.args['member'], [], None, None, self.check_mode)
            display.display(line)
            return self.finish(changed=False, msg=line, components=[])
        names = [entry[0] for entry in changing]
        ready = self.before_change('etcd' in names)
        if ready.get('failed'):
            return ready
        verdict, leader, snapshot = ready['guard'], ready['leader'], ready['snapshot']
        if self.check_mode:
            line = changed_line(self.host, self.args['member'], names, leader, snapshot, True)
            display.display(line)
            return self.finish(changed=True, msg=line, components=names, diff=diffs, leader=leader, snapshot=snapshot)
        backups = {}
        words = change_text([entry[:3] for entry in changing])
        for component, set_flags, absent, _preview in changing:
            outcome = self.change_component(component, dict(flags=set_flags, absent_flags=absent, backup=True))
            if outcome.get('backup_file'):
                backups[component] = outcome['backup_file']
            if outcome.get('failed'):
                return self.roll_back(component, words, outcome, backups, leader, snapshot, diffs)
        return self.changed(names, leader, snapshot, backups, verdict, diffs)

    def changed(self, names, leader, snapshot, backups, verdict, diffs):
        """The end of a node's change that came up healthy: the settle delay, then its line."""
        if self.args['settle']:
            display.display('%s: settling %s s before the next node' % (self.host, self.args['settle']))
            time.sleep(self.args['settle'])
        line = changed_line(self.host, self.args['member'], names, leader, snapshot, False)
        display.display(line)
        return self.finish(changed=True, msg=line, components=names, diff=diffs, leader=leader, snapshot=snapshot,
                           backups=backups, guard=verdict, started_at=time.time())

    def before_change(self, etcd_changes):
        """Every pod runs, the quorum guard lets the node go ahead, leadership moved away and a snapshot taken
        when etcd's manifest may change: {guard, leader, snapshot}, or the failed result (nothing changed)."""
        pods = self.read_pods()
        fits, why = in_place(pods)
        if not fits:
            return self.fail('%s: the change is not applied: %s. Nothing was changed; bring every pod back first: %s.'
                             % (self.host, why, playbook_command('start_node', '--limit', self.host)), False)
        verdict, view = self.guard(pods)
        if verdict is None:
            return view
        plan = dict(move_leader=verdict['move_leader'] and etcd_changes, snapshot=verdict['snapshot'] and etcd_changes)
        leader = self.move_leader(plan, view)
        if leader and leader.get('failed'):
            return self.fail('%s Nothing was changed.' % leader.get('msg'), False)
        snapshot = None
        if plan['snapshot']:
            taken = self.module('snapshot', 'etcd_snapshot', self.etcd_args(
                dest=self.args['snapshot_dest'], keep=self.args['snapshot_keep']))
            if taken.get('failed'):
                return self.fail('%s: cannot save the etcd snapshot before changing etcd: %s. Nothing was changed.'
                                 % (self.host, taken.get('msg')), False, leader=leader)
            snapshot = dict((key, taken.get(key)) for key in ('path', 'endpoint', 'revision'))
        return dict(guard=verdict, leader=leader, snapshot=snapshot)

    def run_prepare(self):
        """Before a tasks file changes this node's manifests (kubeadm upgrade node, an edit of the operator's):
        the same checks as a flag change of etcd (it may change), and a backup of every manifest. Returns
        `backups` for change_backups."""
        ready = self.before_change(True)
        if ready.get('failed'):
            return ready
        backups = {}
        for component in CHANGE_ORDER:
            kept = self.module('backup ' + component, 'static_pod_flags', self.flags_args(component, backup_always=True))
            if kept.get('failed'):
                return self.fail('%s: cannot keep a backup of the %s manifest before the change: %s. Nothing was '
                                 'changed.' % (self.host, component, kept.get('msg')), False)
            backups[component] = kept.get('backup_file')
        line = ('%s: every manifest kept in a backup before %s. %s%s' % (
            self.host, self.args['change_name'], leader_line(ready['leader'], self.check_mode, 'the change'),
            snapshot_line(self.host, ready['snapshot'], self.check_mode, "the change") if ready['snapshot'] else '')).strip()
        display.display(line)
        return self.finish(changed=False, msg=line, backups=backups, guard=ready['guard'], leader=ready['leader'],
                           snapshot=ready['snapshot'])

    def run_after_hook(self):
        """After a tasks file ran: each manifest that now differs from its backup is waited for (a new pod
        healthy, etcd caught up) and everything changed is rolled back when one is not healthy in time, or
        at once with change_failed (the tasks failed)."""
        backups = dict((name, path) for name, path in self.args['change_backups'].items() if path)
        names = []
        for component in CHANGE_ORDER:
            if component not in backups:
                continue
            compare = self.module('compare ' + component, 'static_pod_flags', self.flags_args(
                component, restore_from=backups[component]), check_mode=True)
            if compare.get('failed'):
                return self.fail('%s: cannot compare the %s manifest with its backup %s: %s.'
                                 % (self.host, component, backups[component], compare.get('msg')), False)
            if compare.get('changed'):
                names.append(component)
        backups = dict((name, backups[name]) for name in names)
        if self.args['change_failed']:
            return self.roll_back(None, self.args['change_name'], {'msg': self.args['change_failed']}, backups,
                                  None, None, [])
        if not names:
            line = '%s: %s changed no manifest.' % (self.host, self.args['change_name'])
            display.display(line)
            return self.finish(changed=False, msg=line, components=[])
        for component in names:
            outcome = self.change_component(component, {})
            if outcome.get('failed'):
                return self.roll_back(component, self.args['change_name'], outcome, backups, None, None, [])
        return self.changed(names, None, None, backups, None, [])

    def change_component(self, component, edit):
        """static_pod_flags with `edit` and wait, the wait going on in slices (a line each) while it times out;
        for etcd then until its member caught up with the leader. The last module result, failed or not."""
        length, slices = wait_slices(self.args['wait_timeout'], self.args['wait_slice'])
        outcome = self.module('change ' + component, 'static_pod_flags', self.flags_args(
            component, wait=True, wait_timeout=length, **edit))
        backup = outcome.get('backup_file')
        waited = 1
        while outcome.get('failed') and outcome.get('timed_out') and waited < slices:
            display.display(progress_line(self.host, '%s is not running its new manifest healthy yet' % component,
                                          waited, slices, length))
            # The edit is done: the same module waits again (restore_from or flags again changes nothing).
            outcome = self.module('wait ' + component, 'static_pod_flags', self.flags_args(
                component, wait=True, wait_timeout=length, **edit))
            waited += 1
        outcome = dict(outcome, backup_file=backup or outcome.get('backup_file'))
        if outcome.get('failed') or component != 'etcd':
            return outcome
        deadline = time.time() + self.args['wait_timeout']
        while True:
            info = self.module('catch-up read', 'etcd_member_info', self.etcd_args())
            if member_caught_up(info, self.args['member'], self.args['max_applied_lag']):
                return outcome
            if time.time() >= deadline:
                return dict(outcome, failed=True, pod_state='etcd member %s is healthy but not caught up with the '
                            'leader within %d s' % (self.args['member'], self.args['wait_timeout']))
            time.sleep(1)

    def roll_back(self, component, change_words, outcome, backups, leader, snapshot, diffs):
        """Put every manifest this node's turn changed (`backups`) back, etcd first (the apiserver reads it), wait
        until the old pods run healthy again, and fail naming the node, the change, the backups and the pod's last
        state."""
        failure = outcome.get('pod_state') or outcome.get('msg') or 'it failed'
        restored = {}
        for name in CHANGE_ORDER:
            if name not in backups:
                continue
            back = self.change_component(name, dict(restore_from=backups[name]))
            restored[name] = (not back.get('failed'),
                              back.get('pod_state') or back.get('msg') or 'its pod runs the old manifest and is healthy')
        message = rollback_message(self.host, component, change_words, failure, backups, restored,
                                   self.args['changed_before'], self.args['wait_timeout'],
                                   posixpath.join(self.args['kubernetes_dir'], 'manifests'))
        rolled_back = sorted(name for name, (ok, _detail) in restored.items() if ok)
        return self.fail(message, False, changed=bool(backups), stage='change', component=component,
                         pod_state=failure, backups=backups, rolled_back=rolled_back,
                         change_text=change_words, leader=leader, snapshot=snapshot, diff=diffs)
