# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Stopping and starting static pods by moving their manifests between the manifests directory
(which the kubelet runs) and a stash directory outside it, without ever losing a manifest.

Where a manifest is IS the state: in the manifests directory = started, in the stash =
stopped. Every step is a single atomic rename followed by an fsync of both directories, so a
process killed at any point leaves each manifest in exactly one of the two places. The only
other state a crash can leave is "the same content in both places" (a cross-filesystem move
interrupted after the copy), which the next run resolves by removing the stray copy.

A plan is computed first for every requested component (reading, never writing), then
applied; check mode and diff mode report the same plan without applying it. Any problem
found while planning fails the whole run before anything is touched.

Trust: the kubelet runs as root whatever lies in the manifests directory, so a stash directory
(or a manifest in it, or one about to go there) that another user owns or that group or others
may write is refused, for stopping and for starting alike (_node/files.trust_problems).

Strays: the kubelet runs every file of the manifests directory that is not a dotfile, whatever
its name. A copy such as `etcd.yaml.bak` defines the same pod as `etcd.yaml`: stopping etcd by
moving `etcd.yaml` away leaves the copy running (etcd comes back from it). Such strays are
reported, and stashed (never deleted, never restored) under `<stash>/strays/` together with
their component when it stops.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import errno
import json
import os
import stat

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import (
    TMP_PREFIX,
    fsync_dir,
    os_error_text,
    sha256_file,
    trust_problems,
    write_atomically,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    COMPONENTS,
    START_ORDER,
    STOP_ORDER,
    KubeadmNode,
    ManifestError,
    StaticPod,
    is_within,
    kubeadm_dir_problem,
)

STARTED = 'started'
STOPPED = 'stopped'
STATES = (STARTED, STOPPED)
RECORD_NAME = 'stash-record.json'
STRAYS_DIR_NAME = 'strays'
STASH_DIR_MODE = 0o700
RECORD_MODE = 0o600

# What a component needs, per (where it is, wanted state).
ACTION_NONE = 'none'
ACTION_STASH = 'stash'                  # manifests/ -> stash/
ACTION_RESTORE = 'restore'              # stash/ -> manifests/
ACTION_REMOVE_STRAY_MANIFEST = 'remove-stray-manifest'
ACTION_REMOVE_STRAY_STASH = 'remove-stray-stash'


class StashError(Exception):
    """Planning or applying a move failed; the message says what, where and what to do."""


def untrusted(what, path):
    """StashError message parts when `path` must not be trusted, else None."""
    problems = trust_problems(path)
    if not problems:
        return None
    return ('%s cannot be trusted: %s. The kubelet runs as root whatever is restored from there; nothing was '
            'changed. Make it owned by the user this runs as (root) and not writable by group or others '
            '(chown root; chmod go-w), after checking its content.' % (what, '; '.join(problems)))


def resolve_components(names):
    """['all'] or a list of component names -> the components, unique, in COMPONENTS order."""
    names = list(names or [])
    if not names:
        raise StashError('name is empty: give one or more of %s, or all' % ', '.join(COMPONENTS))
    unknown = [name for name in names if name != 'all' and name not in COMPONENTS]
    if unknown:
        raise StashError('unknown component(s) %s: choose from %s, or all'
                         % (', '.join(map(str, unknown)), ', '.join(COMPONENTS)))
    if 'all' in names:
        return list(COMPONENTS)
    return [component for component in COMPONENTS if component in names]


def ordered(components, state):
    order = STOP_ORDER if state == STOPPED else START_ORDER
    return [component for component in order if component in components]


# Directories a system shares between many programs: never a stash, whatever they hold (their mode is not ours).
SHARED_DIRS = ('/', '/bin', '/boot', '/dev', '/dev/shm', '/etc', '/home', '/lib', '/lib64', '/media', '/mnt', '/opt',
               '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/local', '/var', '/var/lib',
               '/var/tmp')


def stash_entries_ours(names):
    """The names of a stash directory's entries that are not this collection's: anything but the
    components' manifests, the stash record, the strays directory and leftovers of an atomic write."""
    ours = set(component + '.yaml' for component in COMPONENTS) | set([RECORD_NAME, STRAYS_DIR_NAME])
    return sorted(name for name in names if name not in ours and not name.startswith(TMP_PREFIX))


def stash_dir_problem(stash_dir, wanted, kubernetes_dir, manifests_dir, entries=None, sticky=False):
    """Why `stash_dir` must not be used as the stash for `wanted` (STARTED or STOPPED), or None. Pure
    but for resolving symlinks: `entries` are the names in it (None when it does not exist), `sticky`
    whether its sticky bit is set.

    Never: a directory the system shares (/, /etc, /tmp, /var/lib, ...), the kubeadm directory itself,
    or anything in the manifests (the kubelet would run the stash) or pki directory. For STOPPED, the
    stash is created or tightened to 0700 and written to, so an existing directory must be this
    collection's stash already: only our manifests, the record and the strays directory in it, and no
    sticky bit (a shared scratch directory). Restoring (STARTED) may read from a runbook-style
    manifests-<date> directory that holds other pods' manifests too."""
    resolved = os.path.realpath(stash_dir)
    shown = stash_dir if resolved == os.path.normpath(stash_dir) else '%s (resolves to %s)' % (stash_dir, resolved)
    if resolved in SHARED_DIRS or resolved == os.path.realpath(kubernetes_dir):
        return ('stash_dir %s is a directory the system or kubeadm shares with other files, not a stash: the module '
                'would move manifests into it and set its mode to 0700. Nothing was changed; choose a directory of '
                'its own, such as the default %s' % (shown, os.path.join(kubernetes_dir, 'manifests-stash')))
    problem = kubeadm_dir_problem('stash_dir', stash_dir, kubernetes_dir, manifests_dir)
    if problem:
        return problem + ': the kubelet would run the stashed manifests, or they would sit among the keys. Nothing ' \
                         'was changed.'
    if wanted != STOPPED or entries is None:
        return None
    if sticky:
        return ('stash_dir %s has the sticky bit set: a shared scratch directory, not a stash, and its mode is not '
                'ours to change to 0700. Nothing was changed; choose a directory of its own' % shown)
    foreign = stash_entries_ours(entries)
    if foreign:
        return ('stash_dir %s exists and holds files that are not stashed control-plane manifests (%s%s): it is not '
                "this collection's stash, and stopping would set its mode to 0700 and move manifests among them. "
                'Nothing was changed; choose a directory of its own (missing or empty), such as the default %s'
                % (shown, ', '.join(foreign[:5]), ', ...' if len(foreign) > 5 else '',
                   os.path.join(kubernetes_dir, 'manifests-stash')))
    return None


def pod_mismatch_problem(component, path, pod):
    """Why the manifest `path` cannot stand for `component`, or None: the pod it defines (its component
    label, else metadata.name) is another component. Moving it would start or stop another pod than the
    one named (a stashed etcd.yaml that holds kube-apiserver runs a second kube-apiserver, and no etcd)."""
    labels = pod.metadata.get('labels')
    label = labels.get('component') if isinstance(labels, dict) else None
    name = pod.name
    # kubeadm names the pod after the component (the kubelet adds the node name to the mirror pod only)
    others = [value for value in (label, name) if value in COMPONENTS and value != component]
    if not others and (label in (None, '', component) or name == component):
        return None
    return ('%s holds the pod %s (component label %s), not %s: the file named for %s defines another pod. '
            'Nothing was changed; put the right manifest back under that name, or move this one away after '
            'checking it' % (path, name or '(no name)', label or '(none)', component, component))


class ComponentPlan:
    """Where one component's manifest is, where it must go, and what that takes."""

    def __init__(self, component, manifest_path, stash_path, wanted):
        self.component = component
        self.manifest_path = manifest_path
        self.stash_path = stash_path
        self.wanted = wanted
        self.state_before = None        # started | stopped | both
        self.sha256 = None
        self.pod = None                 # StaticPod parsed from the copy that will stay
        self.action = ACTION_NONE

    @property
    def changed(self):
        return self.action != ACTION_NONE

    @property
    def kept_path(self):
        return self.manifest_path if self.wanted == STARTED else self.stash_path

    def as_dict(self):
        return {
            'name': self.component,
            'state_before': self.state_before,
            'state_after': self.wanted,
            'action': self.action,
            'changed': self.changed,
            'manifest_path': self.manifest_path,
            'stash_path': self.stash_path,
            'path': self.kept_path,
            'sha256': self.sha256,
        }


class StrayPlan:
    """A stray copy of a component's manifest and what becomes of it."""

    def __init__(self, component, path):
        self.component = component
        self.path = path
        self.action = ACTION_NONE
        self.stash_path = None

    @property
    def changed(self):
        return self.action != ACTION_NONE

    def as_dict(self):
        return {'path': self.path, 'component': self.component, 'action': self.action,
                'stash_path': self.stash_path}


class ManifestStash:
    """The manifests directory and the stash directory of one node."""

    def __init__(self, kubernetes_dir=None, manifests_dir=None, stash_dir=None):
        self.node = KubeadmNode(kubernetes_dir or None, manifests_dir=manifests_dir or None)
        self.manifests_dir = self.node.manifests_dir
        self.stash_dir = stash_dir or self.node.default_stash_dir
        self.record_path = os.path.join(self.stash_dir, RECORD_NAME)
        self.strays_dir = os.path.join(self.stash_dir, STRAYS_DIR_NAME)

    def stash_path(self, component):
        return os.path.join(self.stash_dir, component + '.yaml')

    # ------------------------------------------------------------------ planning (read-only)

    def check_directories(self, wanted):
        if not os.path.isdir(self.manifests_dir):
            raise StashError('manifests directory %s does not exist or is not a directory: is this a kubeadm '
                             'control-plane node? Set kubernetes_dir or manifests_dir.' % self.manifests_dir)
        if is_within(self.stash_dir, self.manifests_dir):
            raise StashError('stash directory %s is inside the manifests directory %s: the kubelet would run the '
                             'stashed manifests. Choose a stash_dir outside it.' % (self.stash_dir, self.manifests_dir))
        if os.path.lexists(self.stash_dir) and not os.path.isdir(self.stash_dir):
            raise StashError('stash path %s exists and is not a directory: move it away or choose another stash_dir'
                             % self.stash_dir)
        entries, sticky = None, False
        if os.path.isdir(self.stash_dir):
            try:
                entries = os.listdir(self.stash_dir)
            except OSError as exc:
                raise StashError('cannot read stash directory %s: %s. Nothing was changed.'
                                 % (self.stash_dir, exc.strerror or exc))
            sticky = bool(os.stat(self.stash_dir).st_mode & stat.S_ISVTX)
        problem = stash_dir_problem(self.stash_dir, wanted, self.node.kubernetes_dir, self.manifests_dir, entries, sticky)
        if problem:
            raise StashError(problem)
        for directory, what in ((self.stash_dir, 'stash directory %s' % self.stash_dir),
                                (self.strays_dir, 'stray stash directory %s' % self.strays_dir)):
            if os.path.isdir(directory):
                message = untrusted(what, directory)
                if message:
                    raise StashError(message)
        if not os.path.isdir(self.stash_dir) and wanted == STOPPED:
            parent = os.path.dirname(os.path.abspath(self.stash_dir))
            if not os.path.isdir(parent):
                raise StashError('cannot create stash directory %s: its parent %s does not exist'
                                 % (self.stash_dir, parent))

    def plan_component(self, component, wanted):
        plan = ComponentPlan(component, self.node.manifest_path(component), self.stash_path(component), wanted)
        in_manifests = os.path.lexists(plan.manifest_path)
        in_stash = os.path.lexists(plan.stash_path)
        if not in_manifests and not in_stash:
            raise StashError('no %s manifest: neither %s nor %s exists. Nothing to %s; restore the manifest '
                             'from a backup or leave %s out of name.'
                             % (component, plan.manifest_path, plan.stash_path,
                                'stop' if wanted == STOPPED else 'start', component))
        checksums = {}
        for path in (plan.manifest_path, plan.stash_path):
            if os.path.lexists(path):
                if not os.path.isfile(path):
                    raise StashError('cannot read %s manifest %s: not a regular file. Nothing was changed.'
                                     % (component, path))
                message = untrusted('%s manifest %s' % (component, path), path)
                if message:
                    raise StashError(message)
                try:
                    checksums[path] = sha256_file(path)
                except (IOError, OSError) as exc:
                    raise StashError('cannot read %s manifest %s: %s. Nothing was changed.'
                                     % (component, path, exc.strerror or exc))
        if in_manifests and in_stash:
            if checksums[plan.manifest_path] != checksums[plan.stash_path]:
                raise StashError(
                    '%s manifest exists in both places with different content: %s (sha256 %s) and %s (sha256 %s). '
                    'Nothing was changed; keep the right one, move the other out of both directories, and rerun.'
                    % (component, plan.manifest_path, checksums[plan.manifest_path],
                       plan.stash_path, checksums[plan.stash_path]))
            plan.state_before = 'both'
            plan.action = ACTION_REMOVE_STRAY_MANIFEST if wanted == STOPPED else ACTION_REMOVE_STRAY_STASH
        elif in_manifests:
            plan.state_before = STARTED
            plan.action = ACTION_STASH if wanted == STOPPED else ACTION_NONE
        else:
            plan.state_before = STOPPED
            plan.action = ACTION_RESTORE if wanted == STARTED else ACTION_NONE
        plan.sha256 = checksums[plan.manifest_path if in_manifests else plan.stash_path]
        plan.pod = self._read(component, plan.manifest_path if in_manifests else plan.stash_path)
        # both copies, when there are two, have the same content (checked above)
        problem = pod_mismatch_problem(component, plan.manifest_path if in_manifests else plan.stash_path, plan.pod)
        if problem:
            raise StashError(problem)
        return plan

    def find_strays(self):
        """Files of the manifests directory, other than `<component>.yaml`, that the kubelet would run and
        that define a control-plane pod already defined by another file (the component's own manifest,
        in the manifests directory or stashed, or another such copy). Read-only; [] when there is none."""
        try:
            names = sorted(os.listdir(self.manifests_dir))
        except OSError:
            return []
        canonical = set(component + '.yaml' for component in COMPONENTS)
        copies = {}
        for name in names:
            path = os.path.join(self.manifests_dir, name)
            if name.startswith('.') or name in canonical or not os.path.isfile(path):
                continue
            try:
                component = StaticPod.from_file(path).component
            except ManifestError:
                continue  # not a pod the kubelet could run either
            if component in COMPONENTS:
                copies.setdefault(component, []).append(path)
        strays = []
        for component in COMPONENTS:
            paths = copies.get(component, [])
            own = (os.path.lexists(self.node.manifest_path(component))
                   or os.path.lexists(self.stash_path(component)))
            if paths and (own or len(paths) > 1):
                strays.extend(StrayPlan(component, path) for path in paths)
        return strays

    def plan_strays(self, components, wanted):
        """Every stray, with the ones of `components` to be stashed when stopping."""
        strays = self.find_strays()
        taken = set()
        for stray in strays:
            if wanted == STOPPED and stray.component in components:
                stray.action = ACTION_STASH
                stray.stash_path = self._free_stray_path(os.path.basename(stray.path), taken)
                taken.add(stray.stash_path)
        return strays

    def _free_stray_path(self, name, taken):
        candidate, counter = os.path.join(self.strays_dir, name), 0
        while os.path.lexists(candidate) or candidate in taken:
            counter += 1
            candidate = os.path.join(self.strays_dir, '%s.%d' % (name, counter))
        return candidate

    def _read(self, component, path):
        try:
            pod = StaticPod.from_file(path)
        except ManifestError as exc:
            raise StashError('%s manifest unusable: %s. Nothing was changed; fix or restore the file.'
                             % (component, exc))
        return pod

    def plan(self, names, wanted):
        """Plans for the components in `names` (or all), in the order they are to be applied."""
        if wanted not in STATES:
            raise StashError('state must be one of %s, not %r' % (', '.join(STATES), wanted))
        components = resolve_components(names)
        self.check_directories(wanted)
        return [self.plan_component(component, wanted) for component in ordered(components, wanted)]

    # ------------------------------------------------------------------ applying

    def ensure_stash_dir(self, directory=None):
        directory = directory or self.stash_dir
        try:
            os.mkdir(directory, STASH_DIR_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise StashError('cannot create stash directory %s: %s' % (directory, exc.strerror))
        else:
            fsync_dir(os.path.dirname(os.path.abspath(directory)))
        if stat.S_IMODE(os.stat(directory).st_mode) != STASH_DIR_MODE:
            os.chmod(directory, STASH_DIR_MODE)

    def apply_stray(self, stray):
        """Move a stray copy out of the manifests directory into <stash>/strays/ (never deleted)."""
        if stray.action != ACTION_STASH:
            return
        self.ensure_stash_dir()
        self.ensure_stash_dir(self.strays_dir)
        self._move(stray.path, stray.stash_path)

    def apply_component(self, plan, reason=None):
        """Carry out one component's plan. Each step leaves the manifest in at least one place."""
        if plan.action == ACTION_STASH:
            self.ensure_stash_dir()
            # The record first: a crash after it but before the move leaves a stale entry,
            # which is harmless (the file's place is the truth) and rewritten on the rerun.
            self.update_record(plan.component, stashed=True, plan=plan, reason=reason)
            self._move(plan.manifest_path, plan.stash_path)
        elif plan.action == ACTION_RESTORE:
            self._move(plan.stash_path, plan.manifest_path)
            self.update_record(plan.component, stashed=False)
        elif plan.action == ACTION_REMOVE_STRAY_MANIFEST:
            self._remove_stray(plan.manifest_path, plan.stash_path)
            self.update_record(plan.component, stashed=True, plan=plan, reason=reason)
        elif plan.action == ACTION_REMOVE_STRAY_STASH:
            self._remove_stray(plan.stash_path, plan.manifest_path)
            self.update_record(plan.component, stashed=False)

    def _remove_stray(self, stray, kept):
        # Content is compared again right before removing: never delete what might be the only good copy.
        if sha256_file(stray) != sha256_file(kept):
            raise StashError('%s and %s changed while running and now differ; nothing removed' % (stray, kept))
        os.unlink(stray)
        fsync_dir(os.path.dirname(stray))

    def _move(self, source, destination):
        if os.path.lexists(destination):
            raise StashError('%s appeared while running; not overwriting it with %s' % (destination, source))
        try:
            os.rename(source, destination)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise StashError('cannot move %s to %s: %s' % (source, destination, exc.strerror))
            self._copy_then_remove(source, destination)
            return
        fsync_dir(os.path.dirname(destination))
        fsync_dir(os.path.dirname(source))

    @staticmethod
    def _copy_then_remove(source, destination):
        """Across filesystems: copy to a dotfile, fsync, rename into place, only then remove the source.

        A crash in between leaves identical copies in both places, which the next run cleans.
        """
        info = os.stat(source)
        try:
            with open(source, 'rb') as reader:
                write_atomically(destination, reader, stat.S_IMODE(info.st_mode), owner=(info.st_uid, info.st_gid),
                                 times=(info.st_atime, info.st_mtime))
        except (IOError, OSError) as exc:
            raise StashError('cannot copy %s to %s: %s; the manifest stays at %s'
                             % (source, destination, os_error_text(exc), source))
        os.unlink(source)
        fsync_dir(os.path.dirname(source))

    # ------------------------------------------------------------------ the record

    def read_record(self):
        """{component: {stashed_at, reason, sha256, manifest_path}}; {} when missing or unreadable."""
        try:
            with open(self.record_path) as handle:
                data = json.load(handle)
        except (IOError, OSError, ValueError):
            return {}
        components = data.get('components') if isinstance(data, dict) else None
        return components if isinstance(components, dict) else {}

    def update_record(self, component, stashed, plan=None, reason=None):
        if not os.path.isdir(self.stash_dir):
            return
        record = self.read_record()
        # Entries whose manifest is not stashed any more are dropped on every write.
        record = dict((name, entry) for name, entry in record.items()
                      if name != component and os.path.lexists(self.stash_path(name)))
        if stashed:
            record[component] = {
                'stashed_at': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
                'reason': reason or 'stopped by kubemaint.control_plane.static_pod_toggle',
                'sha256': plan.sha256,
                'manifest_path': plan.manifest_path,
            }
        text = json.dumps({'components': record}, indent=2, sort_keys=True) + '\n'
        try:
            write_atomically(self.record_path, text.encode('utf-8'), RECORD_MODE)
        except (IOError, OSError) as exc:
            raise StashError('cannot write the stash record %s: %s' % (self.record_path, os_error_text(exc)))


def describe_locations(plans, after, strays=()):
    """Diff text: one line per component naming the file(s) holding its manifest, one per stray copy."""
    lines = []
    for plan in plans:
        if after:
            paths = [plan.kept_path]
        elif plan.state_before == 'both':
            paths = [plan.manifest_path, plan.stash_path]
        else:
            paths = [plan.manifest_path if plan.state_before == STARTED else plan.stash_path]
        state = plan.wanted if after else plan.state_before
        lines.append('%s: %s (%s) sha256 %s' % (plan.component, state, ', '.join(paths), plan.sha256))
    for stray in strays:
        lines.append('%s: stray copy %s' % (stray.component, stray.stash_path if after and stray.changed
                                            else stray.path))
    return '\n'.join(lines) + '\n'
