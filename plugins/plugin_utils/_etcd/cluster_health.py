# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

Whether the etcd cluster a report shows is healthy: it could be read, it has quorum, every member
is healthy and no alarm is raised. cluster_info fails on anything else (after printing it all), so
that a scheduled job turns red when the cluster needs an operator. The role reaches this through the
kubemaint.control_plane.etcd_cluster_health filter.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    alarm_kind,
    credentials_not_readable,
    split_brain_advice,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.runtime import etcd_runtime_state

REPORT_ONLY = 'cluster_info_fail=false'
NOSPACE = 'NOSPACE'


def _member_state(member):
    label = member.get('name') or member.get('id') or '(unknown member)'
    if member.get('is_learner'):
        label += ', learner'
    return '%s (%s)' % (label, 'unhealthy' if member.get('reachable') else 'unreachable')


def crash_loops(view, pods):
    """[(host, state)] of the hosts whose etcd crash-loops (etcd_runtime_state), by host name; `pods` maps hosts
    to their static_pod_info results."""
    states = [(host, etcd_runtime_state(report, view)) for host, report in sorted((pods or {}).items())]
    return [(host, state) for host, state in states if state.get('crash_loop')]


def cluster_health(view, pods=None):
    """The verdict on a cluster view (kubemaint.control_plane.etcd_cluster_view, with `reader` and
    `endpoints` as the cluster_state role adds them); `pods` (optional) maps hosts to their static_pod_info
    results, to name the members whose etcd crash-loops and why.

    Returns {'healthy', 'problems' (one short phrase each), 'message' (what is wrong and what to do;
    empty when healthy)}.
    """
    view = view or {}
    if credentials_not_readable(view):
        # The error names the file and the user and says to run with become; the endpoints and the members are
        # not at fault, and recover would fail the same way.
        problem = 'etcd could not be read: %s' % view.get('read_error')
        message = 'Could not read etcd through %s: %s' % (view.get('reader') or 'any host', view.get('read_error'))
        return {'healthy': False, 'problems': [problem], 'message': message}
    if not view.get('readable'):
        problem = 'etcd could not be read: %s' % (view.get('read_error') or 'no answer')
        message = ('Could not read etcd through %s: %s. Check that the endpoints %s are right '
                   '(cluster_state_etcd_endpoints) and that the etcd client certificates exist under kubernetes_dir '
                   'on that host; when every member is stopped, run kubemaint.control_plane.recover.'
                   % (view.get('reader') or 'any host', view.get('read_error') or 'no answer',
                      ', '.join(view.get('endpoints') or []) or '(none)'))
        return {'healthy': False, 'problems': [problem], 'message': message}
    problems = []
    advice = []
    if view.get('split_brain'):
        problems.append('SPLIT BRAIN: the etcd of %s answers for another cluster than the majority\'s'
                        % ', '.join(view.get('split_brain_members') or ['a member']))
        advice.append(split_brain_advice(view))
    if not view.get('has_quorum'):
        problems.append('NO quorum (%d of %d voters healthy, %d needed): etcd accepts no write'
                        % (view.get('healthy_voters') or 0, view.get('voters') or 0, view.get('quorum_size') or 0))
    # a member of a split brain's other side is said above, with its own advice
    elsewhere = set(view.get('split_brain_members') or [])
    unhealthy = [member for member in view.get('members') or []
                 if not member.get('healthy') and (member.get('name') or member.get('id')) not in elsewhere]
    if unhealthy:
        problems.append('%s not healthy: %s' % ('a member is' if len(unhealthy) == 1 else '%d members are' % len(unhealthy),
                                                ', '.join(_member_state(member) for member in unhealthy)))
    looping = crash_loops(view, pods)
    for host, state in looping:
        problems.append('the etcd of %s is in a CRASH LOOP (restarted %s times%s)' % (
            host, state['restarts'], ': %s' % state['reason'] if state.get('reason') else ''))
    if looping:
        advice.append('The kubelet restarts a crash-looping etcd by itself, so starting its pods changes nothing: fix '
                      'what its log says (a flag in its manifest, its certificates, its data directory) on %s.'
                      % ', '.join(host for host, _state in looping))
    if problems and len(looping) < len(unhealthy):
        advice.append('Stopped control-plane pods come back with kubemaint.control_plane.recover (or start_node '
                      '--limit NODE); the errors under the table say why a running member does not answer.')
    alarms = list(view.get('alarms') or [])
    if alarms:
        problems.append('alarm%s raised: %s' % ('' if len(alarms) == 1 else 's', ', '.join(alarms)))
        advice.append('An alarm stays raised until its cause is fixed and it is disarmed.')
        if any(alarm_kind(alarm) == NOSPACE for alarm in alarms):
            advice.append('NOSPACE: etcd accepts no write until space is freed; %s compacts, defragments every member '
                          'one at a time and disarms it (or says why that cannot free enough).'
                          % playbook_command('recover_nospace'))
    if not problems:
        return {'healthy': True, 'problems': [], 'message': ''}
    message = 'etcd is not healthy: %s. %s (-e %s reports without failing.)' % (
        '; '.join(problems), ' '.join(advice), REPORT_ONLY)
    return {'healthy': False, 'problems': problems, 'message': message}


def apiserver_ready_hosts(readyz_by_host):
    """The hosts whose apiserver answered /readyz with 200, in the order given; `readyz_by_host` maps hosts to
    their registered uri results (a failed or skipped one counts as not ready)."""
    return [host for host, result in (readyz_by_host or {}).items()
            if isinstance(result, dict) and str(result.get('status')) == '200']


def join_precheck(view, readyz_by_host):
    """Whether a node can join (kubeadm join, or kubeadm init phase upload-certs): both write to etcd through the
    apiserver, so etcd needs quorum and an apiserver must be ready. Returns {'ok', 'ready' (the hosts whose
    apiserver is ready), 'message' (why the join is refused and what to do, or that it can go ahead)}."""
    view = view or {}
    ready = apiserver_ready_hosts(readyz_by_host)
    if view.get('has_quorum') and ready:
        return {'ok': True, 'ready': ready, 'message': (
            'Join precheck passed: etcd has quorum (%s of %s voters healthy, leader %s); apiserver ready on %s.'
            % (view.get('healthy_voters'), view.get('voters'), view.get('leader'), ', '.join(ready)))}
    if not view.get('readable'):
        etcd = 'etcd could not be read (%s)' % view.get('read_error')
    elif not view.get('has_quorum'):
        etcd = ('etcd has NO quorum (%s of %s voters healthy, %s needed, leader %s): nothing can be written to etcd, '
                'so kubeadm cannot create the bootstrap token or upload the certificates and a join would hang until it '
                'times out ("error creating token: timed out waiting for the condition")'
                % (view.get('healthy_voters'), view.get('voters'), view.get('quorum_size'), view.get('leader') or 'none'))
    else:
        etcd = 'etcd has quorum'
    apiserver = 'apiserver ready on %s' % ', '.join(ready) if ready else 'no apiserver is ready'
    return {'ok': False, 'ready': ready, 'message': (
        'Join precheck failed: %s; %s. What to do: bring the control plane back first (playbook '
        'kubemaint.control_plane.recover), check kubemaint.control_plane.cluster_info shows quorum, then join.'
        % (etcd, apiserver))}
