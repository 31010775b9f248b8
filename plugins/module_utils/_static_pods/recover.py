# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

What a node's control-plane static pods look like on disk, read-only, and what `recover` must
restore there: which components run (their manifest is in the manifests directory), which
files in the manifests directory define a control-plane pod a second time (strays: the kubelet
runs every file there), and where stopped manifests lie: the collection's stash (followed when
it is a symlink, as static_pod_toggle follows it), runbook-style directories beside the
manifests directory (manifests-<date>) and directories moved one level down into it
(manifests/manifests-<date>/). A copy whose file or directory is not owned by the user we run
as, or is writable by group or others, is never restored: anyone who can write there could
plant a pod the kubelet runs as root.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import os

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_data import etcd_data_state
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import not_running_text
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import trust_problems
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    COMPONENTS,
    START_ORDER,
    STASH_DIR_NAME,
    KubeadmNode,
    ManifestError,
    StaticPod,
)

DEFAULT_STASH_PATTERNS = ('manifests-*',)


def _component_of(path):
    """The control-plane component a file defines, or None (not a pod manifest, not ours)."""
    try:
        pod = StaticPod.from_file(path)
    except ManifestError:
        return None
    for name in (pod.component, pod.name):
        if name in COMPONENTS:
            return name
    return None


def find_strays(manifests_dir):
    """Files the kubelet would run from `manifests_dir` (regular, not starting with a dot) that
    define a control-plane pod but are not that component's own <component>.yaml: a backup
    copy such as etcd.yaml.bak. Sorted by path."""
    strays = []
    try:
        names = sorted(os.listdir(manifests_dir))
    except OSError:
        return strays
    canonical = set(component + '.yaml' for component in COMPONENTS)
    for name in names:
        path = os.path.join(manifests_dir, name)
        if name.startswith('.') or name in canonical or not os.path.isfile(path):
            continue
        component = _component_of(path)
        if component is not None:
            strays.append({'path': path, 'component': component})
    return strays


def _stash_directories(node, stash_patterns, stash_dir):
    """Every directory that may hold stopped manifests, the collection's own stash first."""
    found = []

    def add(path, kind):
        if os.path.isdir(path) and os.path.realpath(path) not in [os.path.realpath(d['path']) for d in found]:
            found.append({'path': path, 'kind': kind})

    add(stash_dir or node.default_stash_dir, 'stash')
    try:
        beside = sorted(os.listdir(node.kubernetes_dir))
    except OSError:
        beside = []
    manifests_name = os.path.basename(node.manifests_dir.rstrip('/'))
    for name in beside:
        if name != manifests_name and any(fnmatch.fnmatch(name, pattern) for pattern in stash_patterns):
            add(os.path.join(node.kubernetes_dir, name), 'stash' if name == STASH_DIR_NAME else 'beside')
    try:
        inside = sorted(os.listdir(node.manifests_dir))
    except OSError:
        inside = []
    for name in inside:
        if not name.startswith('.'):
            add(os.path.join(node.manifests_dir, name), 'inside')
    return found


def data_lost_reason(found):
    """Why recover cannot bring this node's etcd back (its data is gone), or None."""
    data = found.get('etcd_data') or {}
    if data.get('has_data') is not False:
        return None
    return ('etcd\'s data directory %s is %s: this member\'s data is lost and starting its pods again cannot bring it '
            'back (it would start as an empty member). recover cannot help here: when etcd has lost quorum, '
            'kubemaint.control_plane.restore_quorum rebuilds it from the member with the most data and rejoins this '
            'node; while etcd keeps quorum, kubemaint.control_plane.replace_member re-adds this member'
            % (data.get('data_dir'), 'empty' if data.get('exists') else 'missing'))


def discover(kubernetes_dir=None, stash_patterns=DEFAULT_STASH_PATTERNS, stash_dir=None):
    """Read one node's control-plane manifests: what runs, strays, stopped copies and their trust."""
    node = KubeadmNode(kubernetes_dir or None)
    manifests_exists = os.path.isdir(node.manifests_dir)
    running = [c for c in COMPONENTS if manifests_exists and os.path.isfile(node.manifest_path(c))]
    copies = []
    directories = _stash_directories(node, list(stash_patterns or DEFAULT_STASH_PATTERNS), stash_dir)
    for directory in directories:
        for component in COMPONENTS:
            path = os.path.join(directory['path'], component + '.yaml')
            if not os.path.isfile(path):
                continue
            info = os.stat(path)
            copies.append({
                'component': component,
                'path': path,
                'directory': directory['path'],
                'kind': directory['kind'],
                'mtime': info.st_mtime,
                'trust_problems': trust_problems(directory['path']) + trust_problems(path),
            })
    source_dir = None
    if not manifests_exists and directories:
        # recreated with the mode and owner of the directory the manifests were moved to
        st = os.stat(directories[0]['path'])
        source_dir = {'path': directories[0]['path'], 'mode': '%04o' % (st.st_mode & 0o7777),
                      'uid': st.st_uid, 'gid': st.st_gid}
    found = {
        'kubernetes_dir': node.kubernetes_dir,
        'manifests_dir': node.manifests_dir,
        'manifests_dir_exists': manifests_exists,
        'manifests_dir_source': source_dir,
        'running': running,
        'stopped': [c for c in COMPONENTS if c not in running],
        'strays': find_strays(node.manifests_dir) if manifests_exists else [],
        'stash_directories': [d['path'] for d in directories],
        'copies': copies,
    }
    etcd_manifest = etcd_manifest_of(found)
    found['etcd_data'] = etcd_data_state(node, etcd_manifest) if etcd_manifest else None
    return found


def etcd_manifest_of(found):
    """The etcd manifest of a discovered node: the one in place, else the first stopped copy; None without one."""
    if 'etcd' in found['running']:
        return os.path.join(found['manifests_dir'], 'etcd.yaml')
    return next((c['path'] for c in found['copies'] if c['component'] == 'etcd'), None)


def chosen_copies(found):
    """For each component not running, in start order, the copy to bring back and from where; pure.

    The collection's stash first, then the newest copy. A copy lying in a subdirectory of the manifests
    directory is brought back from there once that directory is moved beside the manifests directory
    (`relocate`), because a stash inside the manifests directory is refused by static_pod_toggle.
    Returns (steps [{name, stash_dir, path, other_copies}], relocate [{from, to}], refused [reason]):
    `refused` names the chosen copies that cannot be trusted and the strays of the manifests directory.
    """
    steps, relocate, refused = [], [], []
    kind_rank = {'stash': 0, 'beside': 1, 'inside': 1}
    for component in START_ORDER:
        if component in found.get('running', []):
            continue
        copies = [c for c in found.get('copies', []) if c['component'] == component]
        if not copies:
            continue
        copies.sort(key=lambda c: (kind_rank.get(c['kind'], 2), -c['mtime'], c['path']))
        chosen = copies[0]
        for problem in chosen['trust_problems']:
            reason = ('%s, so nothing is restored from there (whoever can write there could plant a pod the kubelet '
                      'runs as root)' % problem)
            if reason not in refused:
                refused.append(reason)
        stash_dir = chosen['directory']
        if chosen['kind'] == 'inside':
            target = os.path.join(found['kubernetes_dir'], os.path.basename(stash_dir.rstrip('/')))
            if os.path.realpath(target) == os.path.realpath(found['manifests_dir']) or target in [
                    c['directory'] for c in found.get('copies', []) if c['kind'] != 'inside']:
                target = target + '-from-manifests'
            if {'from': stash_dir, 'to': target} not in relocate:
                relocate.append({'from': stash_dir, 'to': target})
            stash_dir = target
        steps.append({'name': component, 'stash_dir': stash_dir, 'path': os.path.join(stash_dir, component + '.yaml'),
                      'other_copies': [c['path'] for c in copies[1:]]})
    for stray in found.get('strays', []):
        refused.append('stray manifest %s defines the %s pod a second time (the kubelet runs every file in %s): '
                       'move it out of that directory first' % (stray['path'], stray['component'],
                                                                found.get('manifests_dir')))
    return steps, relocate, refused


def restore_plan(found):
    """What recover restores on this node, in start order, and from where (chosen_copies); pure.

    Returns {'steps': [{name, stash_dir, path, other_copies}], 'relocate': [{from, to}],
    'refused': [reason, ...], 'data_lost': [reason]}: when any chosen copy cannot be trusted, nothing
    is restored on the node (`steps` is empty) and `refused` says why; when etcd is to be restored
    but its data directory is empty or missing, nothing is restored either and `data_lost` says
    why (a restart cannot bring that member back).
    """
    steps, relocate, refused = chosen_copies(found)
    if refused:
        return {'steps': [], 'relocate': [], 'refused': refused, 'data_lost': []}
    lost = data_lost_reason(found) if [step for step in steps if step['name'] == 'etcd'] else None
    if lost:
        return {'steps': [], 'relocate': [], 'refused': [], 'data_lost': [lost]}
    return {'steps': steps, 'relocate': relocate, 'refused': [], 'data_lost': []}


def describe_found(host, report):
    """One line for the operator about what recover found on `host` (a static_pod_info result)."""
    if report is None or report.get('unreachable'):
        return '%s: UNREACHABLE, skipped' % host
    if report.get('failed') or 'plan' not in report:
        return '%s: could not be read (%s), skipped' % (host, report.get('msg') or 'no answer')
    plan = report['plan']
    running = report.get('running', [])
    tail = (', running: %s' % ', '.join(running)) if running else ''
    if plan['refused']:
        return '%s: NOT restored, left stopped: %s%s' % (host, '; '.join(plan['refused']), tail)
    if plan.get('data_lost'):
        return '%s: NOT restored, its etcd data is lost: %s%s' % (host, '; '.join(plan['data_lost']), tail)
    if plan['steps']:
        sources = []
        for step in plan['steps']:
            if step['stash_dir'] not in sources:
                sources.append(step['stash_dir'])
        moved = ''.join('; %s is moved to %s first' % (r['from'], r['to']) for r in plan['relocate'])
        names = ', '.join(step['name'] for step in plan['steps'])
        return '%s: to restore: %s (from %s)%s%s' % (host, names, ', '.join(sources), tail, moved)
    if report.get('stopped'):
        return ('%s: %s stopped and no copy found to restore (looked in %s)%s'
                % (host, ', '.join(report['stopped']), ', '.join(report.get('stash_directories') or []) or
                   'no stash directory', tail))
    not_running = not_running_text(report.get('etcd_runtime'))
    if not_running:
        return '%s: nothing to restore, but %s' % (host, not_running)
    return '%s: nothing to restore (running: %s)' % (host, ', '.join(running))


def describe_pods(report):
    """One line about a host's control-plane pods (a static_pod_info result, possibly unreachable)."""
    if report is None or report.get('unreachable'):
        return 'UNREACHABLE, pods not checked'
    if report.get('failed') or 'running' not in report:
        return 'pods not checked: %s' % (report.get('msg') or 'no answer')
    parts = []
    if report['stopped']:
        parts.append('STOPPED: %s' % ', '.join(report['stopped']))
    parts.append(('running: %s' % ', '.join(report['running'])) if report['running'] else 'nothing running')
    if not_running_text(report.get('etcd_runtime')):
        parts.append('but NO etcd process is up (etcd\'s manifest is in place)')
    for stray in report.get('strays') or []:
        parts.append('STRAY manifest %s defines %s a second time (the kubelet runs it; move it out of %s)'
                     % (stray['path'], stray['component'], report.get('manifests_dir')))
    return '; '.join(parts)
