# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

Which case member_recovery's replace (the replace_member playbook) is in and whether it refuses, and what it
prints, free of I/O. The case: whether the node answers (it is rejoined) or not (its member is removed only), the
host that talks to etcd, and the refusals before anything changes. What it prints: the cluster's member table
followed by what will be done to the node (it answers: rejoined; it does not: its member removed only), and after
the change the table again followed by what was done (member_recovery_result) and, for a node that did not answer,
the command that rejoins it once it is back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.connection import (
    answered_hosts,
    etcd_connection,
    host_vars,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import status_table
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.recovery import rejoin_manifests

REJOIN_PLAN = ('the node answers: unless its member is a healthy voter already, the stale member is removed, its old '
               'data moved aside, and it joins again as a learner, catches up and is promoted')
REMOVE_PLAN = ('the node does not answer: its member is removed only (when it is down); it joins later: run this '
               'again once the node is back (rebuilt with the same name and address)')


def replace_plan_line(node, member, reachable, check_mode):
    """What replace_member will do to `node` (etcd member `member`), before anything changes."""
    plan = REJOIN_PLAN if reachable else REMOVE_PLAN
    return 'replace_member %s (etcd member %s): %s%s' % (node, member, plan,
                                                         ' (check mode: nothing is changed)' if check_mode else '')


def replace_done_line(node, reachable, done, check_mode):
    """What replace_member did to `node`: `done` is the member_recovery_result of the rejoin (the node answered) or
    of the removal ({} when neither ran)."""
    done = done or {}
    actions = done.get('actions') or []
    what = 'nothing changed'
    if actions:
        what = '%s%s' % ('would do (check mode): ' if check_mode else 'done: ', ', '.join(actions))
    line = 'replace_member %s: %s' % (node, what)
    if done.get('data_dir_moved_to'):
        line += '; old etcd data kept in %s' % done['data_dir_moved_to']
    if not reachable:
        line += ('. The node joins later: once it is back (same name and address), run again: %s; a new machine '
                 'joins with kubeadm join after kubemaint.control_plane.join_precheck passes'
                 % playbook_command('replace_member', '-e node=%s' % node))
    return line


def replace_lines(view, node, member, reachable, check_mode, done=None):
    """The member table of the cluster `view` (cluster_state_view) and the line about `node`: what will be done
    (`done` None) or what was done (`done` the member_recovery_result, {} when nothing ran)."""
    line = (replace_plan_line(node, member, reachable, check_mode) if done is None
            else replace_done_line(node, reachable, done, check_mode))
    return status_table(view or {}) + [line]


def replace_case(hostvars, node, group, group_hosts, play_hosts, reader='', answered='', pods=None, data_lost=False):
    """Which case replace_member is in, before anything changes: {'reachable' (the node answered: its result under
    `answered`, '<registered variable>.<key>', holds the key), 'member' (its etcd member name), 'reader' (the host
    that talks to etcd: `reader`, else the first host of `group_hosts` other than the node that answered; '' when
    none did), 'refusal' (the message the run refuses with; '' when it goes on)}.

    `pods`, the node's static_pod_info result once it was read: a node whose etcd is only stopped, its data kept
    (unless `data_lost`), is refused first; then a run where no other host answers."""
    reachable = node in answered_hosts(hostvars, [node], answered)
    member = host_vars(hostvars, node).get('node_name') or node
    reader = etcd_connection(hostvars, node, group_hosts, reader=reader or '', avoid=node, play_hosts=play_hosts,
                             answered=answered)['reader']
    refusal = ''
    only_stopped = rejoin_manifests(pods, node, data_lost)['only_stopped'] if reachable and pods else None
    if only_stopped:
        refusal = 'Not replacing %s (etcd member %s); nothing was changed. %s' % (node, member, only_stopped)
    elif not reader:
        refusal = ('No control-plane host of %s other than %s answers: etcd can only be changed through a healthy '
                   'member. Nothing was changed.' % (group, node))
    return {'reachable': reachable, 'member': member, 'reader': reader, 'refusal': refusal}
