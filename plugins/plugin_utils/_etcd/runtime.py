# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

Whether a node's etcd runs, as one line for the operator: what the node shows (static_pod_info's
etcd_runtime: manifest, process, restarts, last log line, data directory) beside what etcd says (the
cluster view: does its member answer, with which cluster and member id). A manifest in place is not a
running etcd; the line says which of the two is true.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import (
    data_dir_text,
    when_text,
)


def member_of(view, name):
    """The view's member named `name`, or None."""
    for member in (view or {}).get('members') or []:
        if name and member.get('name') == name:
            return member
    return None


def crash_looping(runtime, member):
    """Whether a node's etcd is in a crash loop: its manifest is in place, the kubelet restarted it, and it is not
    running or its member does not answer."""
    runtime = runtime or {}
    return bool(runtime.get('manifest_in_place') and runtime.get('restarts')
                and (not runtime.get('process') or not (member or {}).get('reachable')))


def split_brain_side(split, endpoint):
    """The cluster ID `endpoint` answers with when it is on another side of a split brain than the majority's
    (etcd_member_info's split_brain), else None."""
    for side in (split or {}).get('sides') or []:
        if not side.get('majority') and endpoint and endpoint in (side.get('endpoints') or []):
            return side.get('cluster_id') or 'unknown'
    return None


def etcd_runtime_state(report, view, member_name=None):
    """How a host's etcd runs, from its static_pod_info result and the cluster view: {'checked' (its node could be
    read), 'member' (etcd's member name), 'in_place', 'running', 'answering' (true, false, or None when etcd could
    not be read or has no such member), 'crash_loop', 'other_cluster' (the cluster ID its endpoint answers with when
    that is another side of a split brain, else None), 'restarts', 'reason' (the log line that says why), 'data'}."""
    report = report or {}
    if report.get('unreachable') or report.get('failed') or 'running' not in report:
        return {'checked': False}
    runtime = report.get('etcd_runtime') or {}
    name = runtime.get('name') or member_name
    member = member_of(view, name)
    if member is not None:
        answering = bool(member.get('reachable'))
    elif (view or {}).get('readable') and not runtime.get('process'):
        answering = False
    else:
        answering = None
    elsewhere = split_brain_side((view or {}).get('split_brain'), (member or {}).get('endpoint'))
    return {'checked': True, 'member': name, 'in_place': bool(runtime.get('manifest_in_place')), 'running': bool(runtime.get('process')),
            'answering': answering, 'crash_loop': crash_looping(runtime, member) and elsewhere is None,
            'other_cluster': elsewhere,
            'restarts': runtime.get('restarts'), 'reason': runtime.get('log_reason'), 'data': runtime.get('data'),
            'view_member': member}


def etcd_runtime_line(report, view, member_name=None):
    """One line on a host's etcd (see the module docstring): manifest, process, restarts, answering with cluster and
    member id, and, when it does not answer, its data directory and the log line that says why."""
    report = report or {}
    if report.get('unreachable'):
        return 'UNREACHABLE, etcd not checked'
    if report.get('failed') or 'running' not in report:
        return 'etcd not checked: %s' % (report.get('msg') or 'no answer')
    runtime = report.get('etcd_runtime')
    if not runtime:
        return 'etcd: no manifest on this node (neither in place nor stopped)'
    if runtime.get('error'):
        return 'etcd: manifest %s cannot be read: %s' % (runtime.get('manifest'), runtime['error'])
    state = etcd_runtime_state(report, view, member_name)
    parts = []
    if state['crash_loop']:
        parts.append('CRASH LOOP')
    if state['other_cluster']:
        parts.append('SPLIT BRAIN')
    parts.append('manifest in place' if runtime.get('manifest_in_place') else 'manifest stopped (%s)' % runtime.get('manifest'))
    process = runtime.get('process')
    if process:
        several = runtime.get('processes', 1) > 1
        parts.append('process pid %s since %s%s' % (
            process.get('pid'), when_text(process.get('started')),
            ' (%d matching etcd processes)' % runtime['processes'] if several else ''))
    else:
        parts.append('process not running')
    restarts = runtime.get('restarts')
    parts.append('restarts %s' % restarts if restarts is not None else 'restarts unknown (no pod log)')
    member = state['view_member']
    if state['other_cluster']:
        majority = [side for side in view['split_brain']['sides'] if side.get('majority')]
        parts.append('answering for ANOTHER cluster (cluster %s; the majority\'s is %s)'
                     % (state['other_cluster'], majority[0]['cluster_id'] if majority else 'unknown'))
    elif state['answering']:
        parts.append('answering (cluster %s, member %s)' % (member.get('cluster_id') or 'unknown', member.get('id') or '?'))
    elif state['answering'] is False:
        parts.append('NOT answering' if member is not None else 'NOT answering (no member %s in the member list)'
                     % state['member'])
    else:
        parts.append('answer unknown (etcd could not be read)' if not (view or {}).get('readable')
                     else 'not in the member list')
    if not state['answering']:
        parts.append(data_dir_text(runtime.get('data')))
        if runtime.get('log_reason'):
            parts.append('last log: %s' % runtime['log_reason'])
    return 'etcd: ' + '; '.join(parts)


def bootstrap_hazards(view, pods):
    """The latent split brain (issue 21): hosts of a cluster that runs (etcd answers) whose etcd manifest says
    --initial-cluster-state=new. If such a node's data directory is lost, the kubelet starts an etcd that bootstraps
    a cluster by itself (kubeadm's first node lists only itself in --initial-cluster) and its apiserver serves it.

    `pods` maps hosts to their static_pod_info results. Returns {'hosts' (sorted), 'lines' (a line per host and one
    with the fix: empty when none), 'fix' (the etcd flags that remove the hazard, for rolling_change: state existing,
    --initial-cluster listing every voter of the cluster with its peer URL; None when none or the cluster's members
    are not all known)}."""
    view = view or {}
    hosts = []
    for host in sorted(pods or {}):
        runtime = ((pods or {}).get(host) or {}).get('etcd_runtime') or {}
        if not runtime.get('error') and runtime.get('initial_cluster_state') == 'new':
            hosts.append(host)
    if not view.get('readable') or not hosts:
        return {'hosts': [], 'lines': [], 'fix': None}
    members = [m for m in view.get('members') or [] if not m.get('is_learner')]
    known = all(m.get('name') and m.get('peer_urls') for m in members)
    lines = ['%s: HAZARD: its etcd manifest says --initial-cluster-state=new: should its data directory be lost, its '
             'etcd would bootstrap a cluster of its own (a split brain) instead of failing to join' % host
             for host in hosts]
    if not known:
        lines.append('Fix, once every member has started (a member added but never started has no name yet): set '
                     '--initial-cluster-state=existing and --initial-cluster to every member in the etcd manifests, '
                     'node by node with kubemaint.control_plane.rolling_change.')
        return {'hosts': hosts, 'lines': lines, 'fix': None}
    fix = {'etcd': {'set': {
        'initial-cluster-state': 'existing',
        'initial-cluster': ','.join('%s=%s' % (m['name'], url) for m in sorted(members, key=lambda m: m['name'])
                                    for url in m['peer_urls'])}}}
    lines.append('Fix, node by node behind the quorum guard (etcd restarts with its data; the flags only matter when '
                 'it has none): %s' % playbook_command('rolling_change', "-e '%s'" % json.dumps(
                     {'rolling_change_flags': fix}, sort_keys=True, separators=(',', ':'))))
    return {'hosts': hosts, 'lines': lines, 'fix': fix}


def bootstrap_hazard_lines(view, pods, report=False):
    """bootstrap_hazards' lines, for the filter. With `report`, never empty: when no host is named, one line says that
    none was found (and on which hosts the manifest could not be read) or why nothing could be checked."""
    lines = bootstrap_hazards(view, pods)['lines']
    if lines or not report:
        return lines
    view = view or {}
    if not view.get('readable'):
        return ['etcd bootstrap hazard: not checked: etcd could not be read (%s)'
                % (view.get('read_error') or 'no endpoint answered')]
    unread = sorted(host for host, found in (pods or {}).items()
                    if not ((found or {}).get('etcd_runtime') or {}).get('initial_cluster_state'))
    return ['etcd bootstrap hazard: none: no etcd manifest says --initial-cluster-state=new%s'
            % ('; not read on %s (unreachable, or no etcd manifest in place)' % ', '.join(unread) if unread else '')]
