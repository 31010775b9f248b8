# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The static_pod_toggle module's logic: plan every move, then move the components in stop or start
order, one group at a time (etcd alone, the other three together; see move_steps), waiting for each
component of a group to really stop or start before the next group moves.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    DEFAULT_TIMEOUT,
    EtcdClient,
    validate_endpoint,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import (
    EtcdInputError,
    collect_cluster_state,
    save_snapshot,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import EtcdError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import stop_member_problems
from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    WAIT_TIMEOUT,
    number_problem,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import os_error_text
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.health import (
    HealthProbe,
    WaitTimeout,
    wait_started,
    wait_stopped,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.stash import (
    ACTION_REMOVE_STRAY_MANIFEST,
    ACTION_STASH,
    STARTED,
    STOPPED,
    ManifestStash,
    StashError,
    describe_locations,
)


class ToggleError(Exception):
    """The toggle failed; `results` holds what was done up to the failure, `strays` the strays seen.

    `timed_out` is true when the only problem was a wait that ran out of time (the moves were
    done): running the same toggle again goes on waiting, which is how a role waits in slices and
    prints a line per slice."""

    def __init__(self, message, results=None, strays=None, changed=False, timed_out=False, snapshot=None):
        super(ToggleError, self).__init__(message)
        self.results = results or []
        self.strays = strays or []
        self.changed = changed
        self.timed_out = timed_out
        # The snapshot taken before the stop (toggle_static_pods snapshot=...), when one was.
        self.snapshot = snapshot
        # A restart's half that failed: 'stopped' or 'started' (None outside a restart), or
        # 'snapshot' when the snapshot before the stop failed (nothing was moved).
        self.stage = None


def _names(items):
    items = list(items)
    return items[0] if len(items) == 1 else '%s and %s' % (', '.join(items[:-1]), items[-1])


def already_done(entries, state):
    """What this run already changed, for a failure message: the operator must know what is down."""
    done = [entry['name'] for entry in entries if entry.get('applied')]
    if not done:
        return 'Nothing was changed by this run.'
    verb = 'stopped' if state == STOPPED else 'started'
    return ('%s %s already %s by this run (%s); rerun once the cause is fixed, or bring %s back with '
            'state=%s.' % (_names(done), 'was' if len(done) == 1 else 'were', verb,
                           'manifests in the stash directory' if state == STOPPED else 'manifests back in place',
                           'it' if len(done) == 1 else 'them', 'started' if state == STOPPED else 'stopped'))


def move_steps(plans):
    """The plans (in stop or start order) in groups that move together, then are waited for.

    etcd is a group of its own: stopped last, once nothing on the node uses it any more, and
    started first, healthy before anything that needs it moves. kube-apiserver,
    kube-controller-manager and kube-scheduler move together (the kubelet starts them side by side
    at boot too): neither needs another to be down first, and the controller-manager and the
    scheduler retry until the apiserver answers. Pure.
    """
    steps = []
    for plan in plans:
        if plan.component == 'etcd' or not steps or steps[-1][0].component == 'etcd':
            steps.append([plan])
        else:
            steps[-1].append(plan)
    return steps


def snapshot_sources(own_url, others):
    """Where the snapshot is streamed from, in order: this node's member, then the other client URLs
    given (each once), for a member that is running but does not answer. Raises EtcdConfigError."""
    urls = [own_url]
    for endpoint in others or []:
        url = validate_endpoint(endpoint)
        if url not in urls:
            urls.append(url)
    return urls


def snapshot_before_stop(plans, node, snapshot, check_mode=False):
    """The snapshot a stop takes before it moves anything: None unless `snapshot` ({'dest', 'keep',
    'endpoints'}) is given and this run stops a running etcd. Streams it from this node's member, with the
    member's own URL and certificates (--advertise-client-urls, --cert-file, --key-file,
    --trusted-ca-file, as the wait for its start reads them), or, when it does not answer, from the
    first of `endpoints` that does (same certificates), into `dest` as etcd_snapshot does (checked,
    0600, pruned to `keep`). Raises ToggleError (stage 'snapshot', nothing moved) when it cannot be taken."""
    if not snapshot:
        return None
    etcd = [plan for plan in plans if plan.component == 'etcd' and plan.wanted == STOPPED
            and plan.state_before in (STARTED, 'both')]
    if not etcd:
        return None
    probe = HealthProbe('etcd', etcd[0].pod, node)
    sources = [probe.url]
    try:
        client = member_client(probe)
        sources = snapshot_sources(probe.url, snapshot.get('endpoints'))
        taken = save_snapshot(client, sources, snapshot['dest'], keep=snapshot.get('keep'), check_mode=check_mode)
        taken.pop('changed', None)
        return taken
    except (EtcdError, EtcdInputError) as exc:
        detail = str(exc)
    except (IOError, OSError) as exc:
        detail = os_error_text(exc)
    error = ToggleError('cannot save the etcd snapshot before stopping etcd (from %s into %s): %s. Nothing was '
                        'stopped.' % (', '.join(sources), snapshot['dest'], detail))
    error.stage = 'snapshot'
    raise error


def stops_etcd(plan):
    """Whether carrying out `plan` takes etcd's manifest out of the manifests directory (the member stops)."""
    return plan.component == 'etcd' and plan.action in (ACTION_STASH, ACTION_REMOVE_STRAY_MANIFEST)


def member_client(probe):
    """An EtcdClient with the certificates of the node's etcd member that `probe` (HealthProbe) reads from
    its manifest (--cert-file, --key-file, --trusted-ca-file), TLS verified."""
    client = EtcdClient(probe.ca_path, probe.client_cert, probe.client_key, timeout=DEFAULT_TIMEOUT)
    client.check_credentials()
    return client


def recheck_before_etcd_stop(plan, node, endpoints=None, allow_quorum_loss=False):
    """Read peer health again right before etcd's manifest moves: a guard's earlier read can be stale (a
    member that froze since). Asks `endpoints` (other members' client URLs) and then this member for the
    member list and every member's health, and refuses (ToggleError, nothing moved by this step) naming
    the members when stopping this one would cost quorum or another voter is unhealthy or does not
    answer (quorum.stop_member_problems). With `allow_quorum_loss` the problems become warnings.
    Returns the warnings."""
    member = plan.pod.flag('name') or 'default'  # etcd's own default for --name
    probe = HealthProbe('etcd', plan.pod, node)
    sources = []
    try:
        client = member_client(probe)
        # The other members first: the member about to stop may be the one that is wrong (a crash loop, a
        # cluster of its own); it is asked last, when nothing else answers.
        sources = snapshot_sources(probe.url, endpoints)
        sources = sources[1:] + sources[:1]
        problems = stop_member_problems(collect_cluster_state(client, sources), member)
    except (EtcdError, EtcdInputError) as exc:
        problems = ['peer health cannot be read: %s' % exc]
    if not problems:
        return []
    text = '; '.join(problems)
    if allow_quorum_loss:
        return ['etcd member %s stopped although, read right before the stop: %s (allowed by allow_quorum_loss)'
                % (member, text)]
    raise ToggleError('refusing to stop etcd member %s: read right before moving %s (from %s): %s. The manifest '
                      'stays in place; bring the other members back (or wait until they are healthy) and run again, '
                      'or set allow_quorum_loss=true if etcd may stop accepting writes.'
                      % (member, plan.manifest_path, ', '.join(sources) or 'nowhere', text))


def toggle_static_pods(names, state, kubernetes_dir=None, manifests_dir=None, stash_dir=None,
                       wait=True, wait_timeout=300, reason=None, check_mode=False, diff=False, snapshot=None,
                       allow_quorum_loss=False, etcd_endpoints=None):
    """Bring the named components to `state`. Returns the module result (without `failed`).

    `strays` in the result lists every stray copy of a control-plane manifest in the manifests
    directory ({path, component, action, stash_path}); stopping a component stashes its strays too.
    With `snapshot` ({'dest', 'keep', 'endpoints'}), a stop of a running etcd first saves a snapshot
    of its member (see snapshot_before_stop); the result's `snapshot` says where, or is None.
    Right before etcd's manifest moves out, peer health is read again from `etcd_endpoints` and then
    this member (recheck_before_etcd_stop); the result's `warnings` say what `allow_quorum_loss` let through.
    """
    problem = number_problem('wait_timeout', wait_timeout, WAIT_TIMEOUT)
    if problem:
        raise ToggleError(problem + '. Nothing was changed.')
    stash = ManifestStash(kubernetes_dir, manifests_dir, stash_dir)
    try:
        plans = stash.plan(names, state)
        strays = stash.plan_strays([plan.component for plan in plans], state)
    except StashError as exc:
        # the strays are still worth knowing (the quorum guard reads them from a check-mode call)
        raise ToggleError(str(exc), strays=[stray.as_dict() for stray in stash.find_strays()])
    result = {
        'changed': any(plan.changed for plan in plans) or any(stray.changed for stray in strays),
        'state': state,
        'manifests_dir': stash.manifests_dir,
        'stash_dir': stash.stash_dir,
        'record_path': stash.record_path,
        'components': [],
        'strays': [stray.as_dict() for stray in strays],
        'warnings': [],
    }
    began = time.time()
    try:
        result['snapshot'] = snapshot_before_stop(plans, stash.node, snapshot, check_mode=check_mode)
    except ToggleError as exc:
        exc.strays = result['strays']
        raise
    result['timings'] = [_timing('snapshot', began)] if result['snapshot'] else []
    began = time.time()
    if diff:
        result['diff'] = {
            'before_header': 'manifest locations',
            'after_header': 'manifest locations',
            'before': describe_locations(plans, after=False, strays=strays),
            'after': describe_locations(plans, after=True, strays=strays),
        }

    def failure(message, **extra):
        """The ToggleError of a run that fails once it began moving: what moved so far, strays, snapshot."""
        return ToggleError(message, _public(result['components']), result['strays'], _changed_so_far(result, strays),
                           snapshot=result['snapshot'], **extra)

    for step in move_steps(plans):
        moved = []
        for plan in step:
            entry = plan.as_dict()
            entry['waited'] = None
            result['components'].append(entry)
            moved.append((plan, entry))
            if check_mode:
                continue
            if stops_etcd(plan):
                try:
                    result['warnings'].extend(recheck_before_etcd_stop(
                        plan, stash.node, etcd_endpoints, allow_quorum_loss))
                except ToggleError as exc:
                    raise failure('%s %s' % (exc, already_done(result['components'], state)))
            try:
                for stray in strays:
                    if stray.component == plan.component:
                        stash.apply_stray(stray)
                stash.apply_component(plan, reason=reason)
            except (StashError, OSError) as exc:
                detail = str(exc) if isinstance(exc, StashError) else os_error_text(exc)
                verb = 'stop' if state == STOPPED else 'start'
                message = 'cannot %s %s: %s. %s' % (verb, plan.component, detail, already_done(result['components'], state))
                raise failure(message)
            entry['applied'] = plan.changed
        if wait and not check_mode:
            moved_at = time.monotonic()
            for plan, entry in moved:
                try:
                    if state == STOPPED:
                        wait_stopped(plan.component, plan.pod, wait_timeout)
                    else:
                        wait_started(plan.component, plan.pod, stash.node, wait_timeout)
                except WaitTimeout as exc:
                    raise failure('%s (manifest is at %s). Check the kubelet and the component\'s logs, '
                                  'or raise wait_timeout.' % (exc, plan.kept_path), timed_out=True)
                entry['waited'] = round(time.monotonic() - moved_at, 3)
    result['components'] = _public(result['components'])
    result['timings'].append(_timing(state, began))
    return result


def _timing(what, began):
    """One part of the module's run for its `timings`: what, when it began (seconds since the epoch), how long."""
    return {'what': what, 'began_at': began, 'seconds': round(time.time() - began, 3)}


RESTARTED = 'restarted'


def restart_static_pods(names, kubernetes_dir=None, manifests_dir=None, stash_dir=None,
                        wait=True, wait_timeout=300, reason=None, check_mode=False, diff=False, snapshot=None,
                        allow_quorum_loss=False, etcd_endpoints=None):
    """Stop the named components, then start them again at once: one module run, nothing in between.

    A rolling restart without maintenance work restarts a node's whole control plane so, and etcd's
    member is down no longer than its stop and its start themselves take. On failure the
    ToggleError's `stage` says which half failed: 'stopped' (a rerun of the stop finishes it) or
    'started'. `components` lists each component twice, as
    stopped and then as started; `changed` is true whenever anything was (or would be) restarted.
    """
    arguments = dict(kubernetes_dir=kubernetes_dir, manifests_dir=manifests_dir, stash_dir=stash_dir,
                     wait=wait, wait_timeout=wait_timeout, check_mode=check_mode, diff=diff)
    try:
        stopped = toggle_static_pods(names, STOPPED, reason=reason, snapshot=snapshot,
                                     allow_quorum_loss=allow_quorum_loss, etcd_endpoints=etcd_endpoints, **arguments)
    except ToggleError as exc:
        exc.stage = exc.stage or STOPPED
        raise
    try:
        started = toggle_static_pods(names, STARTED, **arguments)
    except ToggleError as exc:
        exc.snapshot = stopped.get('snapshot')
        exc.results = stopped['components'] + exc.results
        exc.changed = exc.changed or stopped['changed']
        exc.stage = STARTED
        raise
    if check_mode:
        # Nothing moved, so the start above saw the manifests where they are: say what a real run does.
        stopping = dict((entry['name'], entry) for entry in stopped['components'])
        started['components'] = [dict(entry, state_before=STOPPED, action='restore', changed=True,
                                      state_after=STARTED, path=entry['manifest_path'])
                                 if stopping[entry['name']]['changed'] else entry
                                 for entry in started['components']]
    result = dict(stopped, state=RESTARTED, changed=True, components=stopped['components'] + started['components'],
                  warnings=stopped['warnings'] + started['warnings'],
                  timings=stopped['timings'] + started['timings'])
    if diff:
        result['diff'] = {'before_header': 'manifest locations', 'after_header': 'manifest locations',
                          'before': stopped['diff']['before'], 'after': started['diff']['after']}
    return result


def _changed_so_far(result, strays):
    return (any(entry.get('applied') for entry in result['components'])
            or any(stray.changed and not os.path.lexists(stray.path) for stray in strays))


def _public(entries):
    return [dict((key, value) for key, value in entry.items() if key != 'applied') for entry in entries]
