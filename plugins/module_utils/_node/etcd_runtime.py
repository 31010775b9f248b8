# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Whether this node's etcd runs, read-only, from what the node shows: its manifest in place or not,
the etcd process whose command line names the manifest's member (--name) and client URLs (a lab
runs every node in one PID namespace with the same data directory path, so those two tell its
members apart), how often the kubelet restarted it and the last lines it logged (the kubelet's
pod log, /var/log/pods/<namespace>_<pod>-<node>_<uid>/<container>/<restartCount>.log) and what its
data directory holds. A manifest in place is not a running etcd: a crash loop keeps the manifest
and loses the process.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_data import etcd_data_state
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.procs import (
    PROC_ROOT,
    process_arguments,
    start_ticks,
    ticks_to_seconds,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    ManifestError,
    StaticPod,
    is_within,
    parse_flags,
    reroot,
    split_urls,
)

DEFAULT_POD_LOG_DIR = '/var/log/pods'
TAIL_LINES = 5
# etcd prints its usage (about 20 lines) after a bad flag: the line that says why is further up
REASON_LINES = 40
TAIL_BYTES = 16384
LINE_CHARS = 400
_LOG_NAME_RE = re.compile(r'^(\d+)\.log$')
# The CRI log format the kubelet writes: <RFC 3339 time> <stream> <P|F> <text>
_CRI_PREFIX_RE = re.compile(r'^\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [PF] ')
_BAD_LEVELS = ('fatal', 'panic', 'error', 'dpanic')


def when_text(epoch):
    return time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(epoch)) if epoch is not None else 'unknown time'


def data_dir_text(data):
    """What an etcd data directory holds (an etcd_data_state result), in a few words."""
    if not data:
        return 'data directory unknown'
    where = data.get('data_dir') or 'the data directory'
    if not data.get('exists'):
        return 'data directory %s missing' % where
    if data.get('has_data') is None:
        return 'data directory %s not readable' % where
    if not data.get('has_data'):
        return 'data directory %s EMPTY (no backend, no WAL)' % where
    parts = []
    if data.get('db_size') is not None:
        parts.append('backend %d bytes from %s' % (data['db_size'], when_text(data.get('db_mtime'))))
    if data.get('wal_files'):
        parts.append('WAL (%d file%s) last written %s' % (data['wal_files'], '' if data['wal_files'] == 1 else 's',
                                                          when_text(data.get('wal_mtime'))))
    elif data.get('wal_files') == 0:
        parts.append('NO WAL (not a member\'s data: etcd starts it as a new member)')
    return 'data directory %s holds %s' % (where, ', '.join(parts) or 'data')


def has_member_data(data):
    """Whether an etcd data directory (an etcd_data_state result) holds what etcd restarts a member from: its WAL.
    A backend without a WAL is what an etcd that failed to start on an empty data directory leaves behind; etcd
    starts such a member as a new one. None when unknown."""
    if not data or data.get('has_data') is None:
        return None
    if 'wal_files' not in data:
        return bool(data.get('has_data'))
    return bool(data.get('wal_files'))


def runtime_text(runtime):
    """How a node's etcd fails to run, in a few words: its restarts, data directory and last log line."""
    runtime = runtime or {}
    restarts = runtime.get('restarts')
    parts = ['restarted %s time%s by the kubelet' % (restarts, '' if restarts == 1 else 's')
             if restarts is not None else 'no pod log']
    parts.append(data_dir_text(runtime.get('data')))
    if runtime.get('log_reason'):
        parts.append('last log: %s' % runtime['log_reason'])
    return '; '.join(parts)


def not_running_text(runtime):
    """Why a node whose etcd manifest is in place has no running etcd, or None when etcd runs or is stopped."""
    if not runtime or not runtime.get('manifest_in_place') or runtime.get('process') or runtime.get('error'):
        return None
    return ('etcd does NOT run although its manifest is in place, so starting its pods changes nothing (%s)'
            % runtime_text(runtime))


def default_pod_log_dir(kubernetes_dir=None):
    """The kubelet's pod log directory of the node whose kubeadm directory is `kubernetes_dir`."""
    return reroot(DEFAULT_POD_LOG_DIR, kubernetes_dir) if kubernetes_dir else DEFAULT_POD_LOG_DIR


def _flags_of(argv):
    """parse_flags for a command line that may also say `--flag value`."""
    normalized = []
    for index, argument in enumerate(argv):
        if argument.startswith('--') and '=' not in argument and index + 1 < len(argv) \
                and not argv[index + 1].startswith('-'):
            argument = '%s=%s' % (argument, argv[index + 1])
        normalized.append(argument)
    return parse_flags(normalized)


def boot_time(proc_root=PROC_ROOT):
    try:
        with open(os.path.join(proc_root, 'stat')) as handle:
            for line in handle:
                if line.startswith('btime '):
                    return int(line.split()[1])
    except (IOError, OSError, ValueError):
        pass
    return None


def process_started(pid, proc_root=PROC_ROOT, btime=None):
    """When `pid` started, in seconds since the epoch (whole-second boot time); None when that cannot be read."""
    ticks = start_ticks(pid, proc_root)
    if ticks is None:
        return None
    btime = boot_time(proc_root) if btime is None else btime
    if btime is None:
        return None
    return btime + ticks_to_seconds(ticks)


def find_etcd_processes(name, client_urls, proc_root=PROC_ROOT):
    """The etcd processes whose command line names member `name` and listens on exactly `client_urls`
    (--listen-client-urls), as [{'pid', 'started'}] sorted by pid."""
    wanted = sorted(split_urls(client_urls) if not isinstance(client_urls, list) else client_urls)
    found = []
    btime = None
    for pid, argv in sorted(process_arguments(proc_root).items()):
        if os.path.basename(argv[0]) != 'etcd':
            continue
        flags = _flags_of(argv[1:])
        if flags.get('name') == name and sorted(split_urls(flags.get('listen-client-urls'))) == wanted:
            btime = boot_time(proc_root) if btime is None else btime
            found.append({'pid': pid, 'started': process_started(pid, proc_root, btime)})
    return found


def strip_cri_prefix(line):
    return _CRI_PREFIX_RE.sub('', line, count=1)


def _shorten(line):
    return line if len(line) <= LINE_CHARS else line[:LINE_CHARS - 3] + '...'


def log_line_summary(line):
    """A log line as an operator reads it: etcd's JSON lines as `level: msg (error)`, others as they are."""
    line = line.strip()
    if line.startswith('{'):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and entry.get('msg'):
            text = '%s: %s' % (entry.get('level', 'log'), entry['msg'])
            if entry.get('error'):
                text += ' (%s)' % entry['error']
            return _shorten(text)
    return _shorten(line)


def read_log_tail(path, lines=TAIL_LINES, max_bytes=TAIL_BYTES):
    """The last `lines` non-empty lines of a log file, reading at most its last `max_bytes`, each line
    without the kubelet's CRI prefix and shortened; [] when it cannot be read."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read(max_bytes)
    except (IOError, OSError):
        return []
    text = data.decode('utf-8', 'replace').splitlines()
    if size > max_bytes and text:
        text = text[1:]  # the first line read is cut
    kept = [strip_cri_prefix(line).rstrip() for line in text]
    return [line for line in kept if line.strip()][-lines:]


def _says_why(line):
    if line.startswith('{'):
        try:
            return json.loads(line).get('level') in _BAD_LEVELS
        except (ValueError, AttributeError):
            pass
    lowered = line.lower()
    return any(word in lowered for word in ('fatal', 'panic', 'error', 'not defined', 'unknown flag', 'invalid'))


def log_reason(*tails):
    """The line that says why etcd stopped: the last at level fatal, panic or error of the first of
    `tails` (newest log first) that has one, else the last line of the first that is not empty."""
    for tail in tails:
        for line in reversed(tail):
            if _says_why(line):
                return log_line_summary(line)
    for tail in tails:
        if tail:
            return log_line_summary(tail[-1])
    return None


def container_log(log_root, namespace, pod_name, node_name, container, protected=()):
    """The kubelet's logs of one static pod's container: {'directory', 'restarts', 'path', 'mtime'} of the
    newest <restartCount>.log (and the one before it, `previous`, None without one) among the pod
    directories <namespace>_<pod_name>-<node_name>_<uid> (any node name when none matches), or None when
    there is none. A path within one of `protected` is never read."""
    try:
        names = os.listdir(log_root)
    except OSError:
        return None
    exact = '%s_%s-%s_' % (namespace, pod_name, node_name)
    loose = '%s_%s-' % (namespace, pod_name)
    candidates = [name for name in names if name.startswith(exact)] or [name for name in names if name.startswith(loose)]
    best = None
    for name in candidates:
        directory = os.path.join(log_root, name, container)
        try:
            logs = [(int(match.group(1)), entry) for entry, match in
                    ((entry, _LOG_NAME_RE.match(entry)) for entry in os.listdir(directory)) if match]
        except OSError:
            continue
        if not logs:
            continue
        logs.sort()
        restarts, newest = logs[-1]
        path = os.path.join(directory, newest)
        previous = os.path.join(directory, logs[-2][1]) if len(logs) > 1 else None
        if any(is_within(path, kept) for kept in protected):
            continue
        if previous and any(is_within(previous, kept) for kept in protected):
            previous = None
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        if best is None or mtime > best['mtime']:
            best = {'directory': os.path.join(log_root, name), 'restarts': restarts, 'path': path, 'mtime': mtime,
                    'previous': previous}
    return best


def etcd_runtime(node, manifest_path, in_place, pod_log_dir=None, proc_root=PROC_ROOT):
    """Does this node's etcd run, as the node shows it (see the module docstring); None without a manifest.

    `manifest_path` is the etcd manifest in place or a stopped copy (`in_place` says which). Returns
    name, client_urls (--listen-client-urls), initial_cluster_state (--initial-cluster-state, etcd's default
    new when absent) and initial_cluster (--initial-cluster), manifest, manifest_in_place, process ({'pid', 'started'}
    of the oldest matching etcd, None when none runs), processes (how many match), restarts (the kubelet's
    restart count from its newest log, None without a log), log_path, log_mtime, log_tail (a few last
    lines of the newest log) and log_reason (the line that says why, from the newest log or the one before),
    data (etcd_data_state) and error (the manifest cannot be read, else None).
    """
    if not manifest_path:
        return None
    result = {'manifest': manifest_path, 'manifest_in_place': bool(in_place), 'name': None, 'client_urls': [],
              'initial_cluster_state': None, 'initial_cluster': None,
              'process': None, 'processes': 0, 'restarts': None, 'log_path': None, 'log_mtime': None,
              'log_tail': [], 'log_reason': None, 'data': None, 'error': None}
    try:
        pod = StaticPod.from_file(manifest_path)
    except ManifestError as exc:
        result['error'] = str(exc)
        return result
    result['name'] = pod.flag('name')
    result['client_urls'] = split_urls(pod.flag('listen-client-urls'))
    # what etcd would do with an empty data directory: bootstrap (new, etcd's default) or join (existing)
    result['initial_cluster_state'] = pod.flag('initial-cluster-state') or 'new'
    result['initial_cluster'] = pod.flag('initial-cluster') or ''
    result['data'] = etcd_data_state(node, manifest_path)
    processes = find_etcd_processes(result['name'], result['client_urls'], proc_root) if result['name'] else []
    result['processes'] = len(processes)
    result['process'] = processes[0] if processes else None
    log = container_log(pod_log_dir or default_pod_log_dir(node.kubernetes_dir),
                        pod.metadata.get('namespace') or 'kube-system', pod.name or 'etcd',
                        result['name'] or '', pod.container.get('name') or 'etcd',
                        protected=(node.pki_dir,))
    if log:
        tail = read_log_tail(log['path'], REASON_LINES)
        # a container that just started has not said anything yet: the one before it said why it ended
        previous = read_log_tail(log['previous'], REASON_LINES) if log['previous'] else []
        result.update({'restarts': log['restarts'], 'log_path': log['path'], 'log_mtime': log['mtime'],
                       'log_tail': [log_line_summary(line) for line in tail[-TAIL_LINES:]],
                       'log_reason': log_reason(tail, previous)})
    return result
