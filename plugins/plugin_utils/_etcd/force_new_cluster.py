# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

What member_recovery's force_new_cluster (restore_quorum's rebuild) says, free of I/O: where the snapshot (or the
copy of the backend file) of the chosen member went, the cluster of one it leads, and after a failure the message
naming what was done so far and the command that continues.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import DEFAULT_KUBERNETES_DIR


def _result(results, name):
    value = (results or {}).get(name)
    return value if isinstance(value, dict) else {}


def snapshot_line(member, host, snapshot):
    return 'etcd snapshot of %s written to %s on %s (revision %s, raft index %s).' % (
        member, snapshot.get('path'), host, snapshot.get('revision'), snapshot.get('raft_index'))


def backend_copy_line(member, host, copy):
    return ('etcd backend file of %s (%s, %s bytes) copied to %s on %s (mode 0600, sha256 %s); it holds no appended '
            'hash: restore it with etcdutl snapshot restore --skip-hash-check.'
            % (member, copy.get('source'), copy.get('size'), copy.get('path'), host, copy.get('sha256')))


def alone_line(member, back, rejoin):
    first = (back.get('members') or [{}])[0]
    return ('%s leads a cluster of one, restarted without --force-new-cluster, its data kept (raft term %s, applied '
            'index %s). Next: %s.' % (member, first.get('raft_term'), first.get('raft_applied_index'),
                                      ', '.join(rejoin or []) or 'nothing'))


def done_so_far(results):
    """What the rebuild did before it failed, from its steps' registered results."""
    snapshot, copy = _result(results, 'snapshot'), _result(results, 'backend_copy')
    done = [('snapshot %s' % snapshot['path']) if 'path' in snapshot else '',
            ('copy of the backend file %s' % copy['path']) if 'path' in copy else '',
            '--force-new-cluster set' if _result(results, 'forced_flag').get('changed') else '',
            '--force-new-cluster removed' if _result(results, 'unflagged').get('changed') else '']
    return ', '.join(item for item in done if item) or 'nothing'


def failure_message(plan, host, failed_task, results, kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    """The message a failed rebuild fails with: the host, the member, the failed task, what was done so far and the
    command that continues (with restore_quorum_member when the member was named because nothing answered)."""
    member = (plan.get('survivor') or {}).get('member')
    command = playbook_command('restore_quorum', '-e restore_quorum_confirm=%s' % member,
                               '-e restore_quorum_member=%s' % member if plan.get('blind') else '')
    return ('restore_quorum failed on %s (member %s) at "%s" (its error is above). Done so far: %s. Once the cause is '
            'fixed, continue with: %s (it reads etcd again and goes on from where it stopped; the etcd manifest\'s '
            'previous versions are under %s/manifests-backup).'
            % (host, member, failed_task, done_so_far(results), command, kubernetes_dir or DEFAULT_KUBERNETES_DIR))


def force_new_cluster_lines(plan, host, results=None, failed_task=None, kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    """{'snapshot', 'backend_copy', 'alone', 'failure'}: the lines force_new_cluster prints, each '' when the step it
    reports has no result (`results` maps snapshot, backend_copy, forced_flag, unflagged and back to the registered
    results); 'failure' only with `failed_task`."""
    plan = plan or {}
    member = (plan.get('survivor') or {}).get('member')
    snapshot, copy, back = (_result(results, name) for name in ('snapshot', 'backend_copy', 'back'))
    return {
        'snapshot': snapshot_line(member, host, snapshot) if 'path' in snapshot else '',
        'backend_copy': backend_copy_line(member, host, copy) if 'path' in copy else '',
        'alone': alone_line(member, back, plan.get('rejoin')) if back.get('members') else '',
        'failure': failure_message(plan, host, failed_task, results, kubernetes_dir) if failed_task else '',
    }
