# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

What the member_recovery role must do for one node's etcd member: nothing (a healthy voter),
wait and promote (a healthy learner, a rejoin left half done), rejoin (remove the stale member,
move the old data aside, add it back as a learner), or, for a node that cannot be reached,
remove its member only. Pure: the input is etcd_member_info's result, the member name, and the
flags of the node's etcd manifest (static_pod_flags' flags_before).

Refused before anything changes: etcd unreadable or without quorum; a removal after which the
healthy voters left would not be a majority; a rejoin while another voter is down (etcd adds no
member then) or another learner exists (etcd keeps one at a time); the node's peer URL held by
another member; removing, for an unreachable node, a member whose etcd still answers.

The plan also names the steps of the role's task files that run (plan_steps), check mode taken into account, and
the lines the role prints about it: the YAML runs the steps the plan names and nothing else.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import quorum_size
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    DEFAULT_KUBERNETES_DIR,
    START_ORDER,
    STASH_DIR_NAME,
    STOP_ORDER,
    reroot,
    split_urls,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.recover import chosen_copies

ACTION_NONE = 'none'
ACTION_PROMOTE = 'promote'
ACTION_REJOIN = 'rejoin'
ACTION_REMOVE = 'remove'

DEFAULT_DATA_DIR = '/var/lib/etcd'


def _urls(values):
    return set(url.rstrip('/').lower() for url in values or [])


def _label(member):
    return '%s (id %s, %s, %s)' % (member.get('name') or '(not started)', member.get('id'),
                                   'learner' if member.get('is_learner') else 'voter',
                                   'healthy' if member.get('healthy') else 'not healthy')


def node_etcd_settings(etcd_flags, kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    """Peer URLs and data directory (re-rooted under the node root) from an etcd manifest's flags."""
    flags = etcd_flags or {}
    peer = flags.get('initial-advertise-peer-urls')
    data_dir = flags.get('data-dir')
    return {
        'peer_urls': split_urls(peer) if isinstance(peer, str) else [],
        'data_dir': reroot(data_dir if isinstance(data_dir, str) and data_dir else DEFAULT_DATA_DIR,
                           kubernetes_dir or DEFAULT_KUBERNETES_DIR),
    }


def find_own_member(members, name, peer_urls=()):
    """The member of this node: the one named `name`, else a member not started yet (no name)
    that has one of `peer_urls`."""
    named = [m for m in members if m.get('name') == name]
    if named:
        return named[0]
    wanted = _urls(peer_urls)
    return next((m for m in members if not m.get('name') and wanted & _urls(m.get('peer_urls'))), None)


def _seen(members, own, name):
    voters = [m for m in members if not m.get('is_learner')]
    healthy = [m for m in voters if m.get('healthy')]
    leader = next((m.get('name') or m.get('id') for m in members if m.get('is_leader')), 'none')
    return 'etcd: %d of %d voters healthy (quorum %d), leader %s; member %s: %s.' % (
        len(healthy), len(voters), quorum_size(len(voters)) if voters else 0, leader, name,
        _label(own) if own else 'not in the member list')


def recovery_plan(info, member, etcd_flags=None, kubernetes_dir=DEFAULT_KUBERNETES_DIR, rejoin=True, check_mode=False,
                  host=None, stop=None, now=None):
    """What to do for `member` (a node's etcd member name). `info`: etcd_member_info's result.

    rejoin=True (the node is reachable, `etcd_flags` its etcd manifest's flags, `stop` the pods running on it that
    the rejoin stops): action none, promote or rejoin. rejoin=False (the node cannot be reached): action remove or
    none. Returns {'member', 'action', 'remove_id', 'found', 'peer_urls', 'data_dir', 'refused' (list of reasons;
    empty when the plan may proceed), 'seen', 'reason', 'steps' (plan_steps), 'line' (what was seen and what will
    be done, said for `host`), 'refusal' (the message a refused plan fails with; '' when not refused), 'moved_to'
    (where a rejoin moves the old data directory: `<data_dir>.replaced-<now>`, `now` the time of the decision;
    None without `now` or when the plan is no rejoin)}.
    """
    plan = _decide(info, member, etcd_flags, kubernetes_dir, rejoin)
    plan['steps'] = plan_steps(plan, check_mode, stop)
    plan['moved_to'] = ('%s.replaced-%s' % (plan['data_dir'], now)
                        if now and plan.get('data_dir') and 'move_data' in plan['steps'] else None)
    plan.update(plan_lines(plan, host, rejoin))
    return plan


def plan_steps(plan, check_mode=False, stop=None):
    """The steps of the rejoin or the removal (['remove']) that `plan` runs; [] when it is refused or there is
    nothing to do. A rejoin's, in the order member_recovery's rejoin.yml runs them: stop (the pods still running),
    move_data (aside, when there is any), remove (the stale member), add (back as a learner), flags
    (--initial-cluster-state=existing), start_etcd, wait (until it caught up), promote, start_rest (the other pods).
    `stop`: the pods running on the node ('stop' only when there are some). In check mode a rejoin starts nothing
    (no member was added to start as); after the removal of its stale member (still listed in check mode) the add
    cannot be predicted either, nor the flags it gives; a promotion does not wait for the learner to catch up."""
    action = plan.get('action')
    if plan.get('refused') or action not in (ACTION_REJOIN, ACTION_PROMOTE, ACTION_REMOVE):
        return []
    if action == ACTION_REMOVE:
        return ['remove']
    steps = []
    if action == ACTION_REJOIN:
        steps = (['stop'] if stop else []) + ['move_data'] + (['remove'] if plan.get('remove_id') else [])
        if not (check_mode and plan.get('remove_id')):
            steps += ['add', 'flags']
        if check_mode:
            return steps
    return steps + ['start_etcd'] + ([] if check_mode else ['wait']) + ['promote', 'start_rest']


def plan_lines(plan, host=None, rejoin=True):
    """{'line': what was seen and what will be done, 'refusal': the message a refused plan fails with ('' when it
    is not refused)}; said for `host` (the node) on a rejoin, for the member on a removal."""
    member = plan.get('member')
    refused = '; '.join(plan.get('refused') or [])
    line = '%s: %s %s' % (host if rejoin else 'member %s' % member, plan.get('seen'),
                          'Refused: %s. Nothing was changed.' % refused if refused else 'Plan: %s.' % plan.get('reason'))
    refusal = ''
    if refused:
        refusal = 'Refusing to %s: %s. %s Nothing was changed.' % (
            'rejoin %s (etcd member %s)' % (host, member) if rejoin else 'remove etcd member %s' % member,
            refused, plan.get('seen'))
    return {'line': line, 'refusal': refusal}


def _decide(info, member, etcd_flags, kubernetes_dir, rejoin):
    info = info or {}
    members = list(info.get('members') or [])
    settings = node_etcd_settings(etcd_flags, kubernetes_dir) if rejoin else {'peer_urls': [], 'data_dir': None}
    peer_urls = settings['peer_urls']
    own = find_own_member(members, member, peer_urls)
    plan = {'member': member, 'action': ACTION_NONE, 'remove_id': None, 'found': own, 'peer_urls': peer_urls,
            'data_dir': settings['data_dir'], 'refused': [], 'seen': _seen(members, own, member), 'reason': ''}
    if not members:
        errors = '; '.join('%s' % e for e in (info.get('endpoint_errors') or {}).values())
        plan['refused'].append('etcd could not be read (%s)' % (errors or info.get('msg') or 'no answer'))
        plan['seen'] = 'etcd: no member answered.'
        return plan
    voters = [m for m in members if not m.get('is_learner')]
    healthy = [m for m in voters if m.get('healthy')]
    if len(healthy) < quorum_size(len(voters)):
        plan['refused'].append(
            'etcd has no quorum (%d of %d voters healthy, %d needed): no member can be removed or added; bring '
            'members back (kubemaint.control_plane.recover) or rebuild the cluster from the member with the most '
            'data (kubemaint.control_plane.restore_quorum)' % (len(healthy), len(voters), quorum_size(len(voters))))
        return plan
    if rejoin:
        _plan_rejoin(plan, members, own, member, peer_urls)
    else:
        _plan_remove(plan, own, member)
    if plan['remove_id']:
        _check_removal_keeps_quorum(plan, members, own)
    return plan


def _plan_remove(plan, own, member):
    if own is None:
        plan['reason'] = 'member %s is not in the member list: nothing to remove' % member
        return
    if own.get('healthy'):
        plan['refused'].append(
            'member %s is healthy: its etcd still runs although the node cannot be reached. A running member is not '
            'lost; removing it would stop it. Reach the node (then this playbook rejoins it), or stop its etcd first'
            % _label(own))
        return
    plan.update(action=ACTION_REMOVE, remove_id=own.get('id'),
                reason='remove member %s; the node joins again later, when it can be reached' % _label(own))


def _plan_rejoin(plan, members, own, member, peer_urls):
    if not peer_urls:
        plan['refused'].append('the etcd manifest of %s has no --initial-advertise-peer-urls: cannot tell the peer URL '
                               'to add the member with' % member)
        return
    wanted = _urls(peer_urls)
    for other in members:
        if other is not own and wanted & _urls(other.get('peer_urls')):
            plan['refused'].append('peer URL %s belongs to another member, %s: remove that one first'
                                   % (', '.join(sorted(wanted & _urls(other.get('peer_urls')))), _label(other)))
    same_urls = own is not None and _urls(own.get('peer_urls')) == wanted
    if own is not None and same_urls and own.get('healthy') and own.get('name') == member:
        if own.get('is_learner'):
            plan.update(action=ACTION_PROMOTE,
                        reason='member %s is a running learner: wait until it caught up, promote it' % _label(own))
        else:
            plan['reason'] = 'member %s is a healthy voter: nothing to do' % _label(own)
        return
    others_down = [m for m in members if m is not own and not m.get('is_learner') and not m.get('healthy')]
    if others_down:
        plan['refused'].append(
            'voting member%s %s %s not healthy: etcd adds no member while a voter is down. Bring %s back or replace '
            '%s first' % ('s' if len(others_down) > 1 else '', ', '.join(_label(m) for m in others_down),
                          'are' if len(others_down) > 1 else 'is', 'them' if len(others_down) > 1 else 'it',
                          'them' if len(others_down) > 1 else 'it'))
    other_learners = [m for m in members if m is not own and m.get('is_learner')]
    if other_learners:
        plan['refused'].append('the cluster already has a learner, %s: etcd keeps one learner at a time; promote or '
                               'remove it first' % _label(other_learners[0]))
    plan['action'] = ACTION_REJOIN
    if own is not None:
        plan['remove_id'] = own.get('id')
        why = ('its peer URLs %s differ from the manifest\'s' % ', '.join(own.get('peer_urls') or [])
               if not same_urls else 'it is not a healthy running member')
        plan['reason'] = ('rejoin: remove member %s (%s), move the old data aside, add %s back as a learner with peer '
                          'URL %s, start it, wait until it caught up, promote it'
                          % (_label(own), why, member, ', '.join(peer_urls)))
    else:
        plan['reason'] = ('rejoin: %s is not a member; move the old data aside, add it as a learner with peer URL %s, '
                          'start it, wait until it caught up, promote it' % (member, ', '.join(peer_urls)))


def _check_removal_keeps_quorum(plan, members, own):
    if own is None or own.get('is_learner'):
        return
    voters_after = [m for m in members if not m.get('is_learner') and m is not own]
    healthy_after = [m for m in voters_after if m.get('healthy')]
    if not voters_after:
        plan['refused'].append('%s is the last voting member: it cannot be removed' % _label(own))
    elif len(healthy_after) < quorum_size(len(voters_after)):
        plan['refused'].append(
            'removing %s would leave %d of %d voters healthy, %d needed: etcd would lose quorum'
            % (_label(own), len(healthy_after), len(voters_after), quorum_size(len(voters_after))))


REBUILT_OR_NEW = ('A rebuilt node rejoins with its kubeadm files in place (pki and manifests under %s, or stopped '
                  'manifests where recover finds them); a new machine joins with kubeadm join instead: remove the old '
                  'member first (kubemaint.control_plane.replace_member while the node is out of the inventory or '
                  'unreachable), check with kubemaint.control_plane.join_precheck, then join.')


def rejoin_manifests(found, host, data_lost=False, manifest=None, kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    """_where_to_rejoin_from's answer and 'refusal': the message the rejoin of `host` is refused with ('' when it
    is not): its manifests cannot be brought back, or once `manifest` (the registered read of its etcd manifest's
    flags) is given, that read holds no flags_before (skipped or failed: the manifest could not be read)."""
    plan = _where_to_rejoin_from(found, host, data_lost)
    why = '; '.join(plan['refused'])
    if not why and manifest is not None and 'flags_before' not in manifest:
        why = 'its etcd manifest could not be read (%s)' % (manifest.get('msg') or 'no answer')
    plan['refusal'] = ('Cannot rejoin %s: %s. Nothing was changed. %s' % (host, why, REBUILT_OR_NEW % (
        kubernetes_dir or DEFAULT_KUBERNETES_DIR))) if why else ''
    return plan


def _where_to_rejoin_from(found, host, data_lost=False):
    """Where the manifests of `host` are, for a rejoin, and whether it may be rejoined; pure.

    `found` is the host's static_pod_info result. A stopped component is brought back from where
    recover would restore it (chosen_copies: the collection's stash, runbook-style manifests-<date>
    directories beside or inside the manifests directory). Returns {'refused': [reason] (the host
    cannot be rejoined; nothing may change), 'only_stopped': why the host needs no rejoin (its etcd
    is only stopped and its data directory holds data: start_node or recover brings it back with its
    data) or None (also when `data_lost`), 'stop': components running now (the rejoin stops them into
    the collection's stash), 'etcd_dir': the directory etcd's stopped manifest is brought back from
    (None: the collection's stash), 'etcd_read_dir': where it lies until `relocate` is done, 'start': [{'stash_dir', 'names'}] in start order, etcd left out,
    'relocate': [{from, to}] directories to move out of the manifests directory first,
    'manifests_dir': {path, mode, uid, gid} when the manifests directory was moved away as a whole
    and is to be created again, else None}.
    """
    found = found or {}
    plan = {'refused': [], 'only_stopped': None, 'stop': [], 'etcd_dir': None, 'etcd_read_dir': None, 'start': [],
            'relocate': [], 'manifests_dir': None}
    if found.get('unreachable') or found.get('failed') or 'running' not in found:
        plan['refused'].append('%s could not be read (%s)' % (host, found.get('msg') or 'no answer'))
        return plan
    steps, relocate, refused = chosen_copies(found)
    plan['refused'].extend(refused)
    chosen = dict((step['name'], step['stash_dir']) for step in steps)
    for component in found.get('stopped') or []:
        if component not in chosen:
            plan['refused'].append(
                'no copy of its %s manifest was found (looked in %s)'
                % (component, ', '.join(found.get('stash_directories') or []) or 'no stash directory'))
    if plan['refused']:
        return plan
    plan['stop'] = [component for component in STOP_ORDER if component in (found.get('running') or [])]
    plan['relocate'] = relocate
    plan['etcd_dir'] = chosen.get('etcd')
    plan['etcd_read_dir'] = next((move['from'] for move in relocate if move['to'] == plan['etcd_dir']), plan['etcd_dir'])
    for component in START_ORDER:
        if component == 'etcd':
            continue
        where = chosen.get(component)
        group = next((g for g in plan['start'] if g['stash_dir'] == where), None)
        if group is None:
            plan['start'].append({'stash_dir': where, 'names': [component]})
        else:
            group['names'].append(component)
    if not found.get('manifests_dir_exists'):
        source = found.get('manifests_dir_source') or {}
        plan['manifests_dir'] = dict(source, path=found.get('manifests_dir'))
    data = found.get('etcd_data') or {}
    if 'etcd' not in (found.get('running') or []) and data.get('has_data') is not False and not data_lost:
        plan['only_stopped'] = only_stopped_text(host, data, plan['etcd_dir'], found)
    return plan


def only_stopped_text(host, data, etcd_dir, found):
    """Why a node whose etcd is only stopped, its data kept, needs no replacement, and what brings it back."""
    stash = etcd_dir is None or os.path.realpath(etcd_dir) == os.path.realpath(
        os.path.join(found.get('kubernetes_dir') or DEFAULT_KUBERNETES_DIR, STASH_DIR_NAME))
    held = 'holds data' if data.get('has_data') else 'could not be read (it may hold data)'
    if data.get('db_size') is not None:
        held = 'holds data (backend file %s bytes)' % data['db_size']
    back = ('%s (or %s)' % (playbook_command('start_node', '--limit', host), playbook_command('recover'))
            if stash else playbook_command('recover'))
    return ('%s is only stopped: its etcd manifest is in %s, not in the manifests directory, and its etcd data '
            'directory %s %s. Replacing it would move that data aside; starting it brings it back with its data: %s. '
            'Only if its data is lost for good (damaged), replace it with: %s'
            % (host, etcd_dir or os.path.join(found.get('kubernetes_dir') or DEFAULT_KUBERNETES_DIR, STASH_DIR_NAME),
               data.get('data_dir') or '(unknown)', held, back,
               playbook_command('replace_member', '-e node=%s' % host, '-e replace_member_data_lost=true')))
