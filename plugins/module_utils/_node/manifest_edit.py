# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Adding, changing and removing command-line flags of a static pod (the static_pod_flags module),
for example etcd's --force-new-cluster, --initial-cluster and --initial-cluster-state.

The manifest is edited as text, one `- --flag=value` line of the first container's command list
at a time, so that every other byte stays as it was: a YAML round trip would reorder, requote
and reformat what kubeadm wrote. The edited text is parsed again and must give the same pod with
exactly the intended command, or nothing is written. New flags go where kubeadm would put them
(its flags are sorted by name).

Writing is atomic: a dotfile next to the manifest (the kubelet ignores dotfiles in its manifests
directory), fsync, rename over the manifest, fsync of the directory. The previous manifest is
kept first in a backup directory outside the manifests directory (the kubelet would run a backup
left there), with the manifest's mode and owner.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import errno
import hashlib
import os
import re
import stat

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import (
    fsync_dir,
    trust_problems,
    write_atomically,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    COMPONENTS,
    KubeadmNode,
    ManifestError,
    StaticPod,
    is_within,
    parse_flags,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.yaml_subset import (
    YamlSubsetError,
    load_yaml,
)

BACKUP_DIR_NAME = 'manifests-backup'
BACKUP_DIR_MODE = 0o700
LOCATION_MANIFESTS = 'manifests'
LOCATION_STASH = 'stash'

_FLAG_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
# What may stand as a plain YAML scalar in a block sequence with no chance of another reading.
_PLAIN_RE = re.compile(r'^--[A-Za-z0-9][A-Za-z0-9._-]*(=[A-Za-z0-9._~:/@%+,=-]*)?$')
_COMMAND_KEY_RE = re.compile(r'^( *)(- )?command:[ \t]*(\r?\n)?$')
_ITEM_RE = re.compile(r'^( *)- (.*?)(\r?\n)?$')


class FlagEditError(Exception):
    """The edit is impossible or unsafe; the message says what and where. Nothing was written."""


def normalize_flag_name(name):
    """'--initial-cluster' or 'initial-cluster' -> 'initial-cluster'."""
    text = name.strip() if isinstance(name, str) else ''
    if text.startswith('--'):
        text = text[2:]
    if not _FLAG_NAME_RE.match(text):
        raise FlagEditError('%r is not a flag name: give it as in the manifest without the dashes, e.g. '
                            'initial-cluster-state' % (name,))
    return text


def flag_value_text(name, value):
    """The text after `--name=` for a value from the task (true/false for booleans)."""
    if value is None:
        raise FlagEditError('flags: %s has no value; to remove a flag, list it in absent_flags' % name)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise FlagEditError('flags: %s must be a string, a number or a boolean, not %s' % (name, type(value).__name__))
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise FlagEditError('flags: the value of %s contains a line break or a control character' % name)
    return value


def normalize_request(flags, absent_flags):
    """The task's flags ({name: value}) and absent_flags ([name]) as ({name: text}, [name])."""
    set_flags = {}
    for name, value in (flags or {}).items():
        name = normalize_flag_name(name)
        if name in set_flags:
            raise FlagEditError('flags names %s twice' % name)
        set_flags[name] = flag_value_text(name, value)
    absent = []
    for name in absent_flags or []:
        name = normalize_flag_name(name)
        if name not in absent:
            absent.append(name)
    return set_flags, absent


def render_item(argument):
    """One command list entry as YAML: plain like kubeadm writes it, single-quoted when plain could be misread."""
    if _PLAIN_RE.match(argument) and not argument.endswith(':'):
        return argument
    return "'%s'" % argument.replace("'", "''")


def flag_name_of(argument):
    if not isinstance(argument, str) or not argument.startswith('--'):
        return None
    return argument[2:].partition('=')[0]


def _same_value(argument, value):
    name, sep, current = argument[2:].partition('=')
    return (current if sep else 'true') == value


def plan_flags(command, set_flags, absent_flags):
    """The command after the edit and the changes. Pure: `command` is the parsed list.

    Returns (entries, changes): entries are (argument, index in `command` or None for a new or
    changed argument), so that the text edit keeps every untouched line as it was. set_flags:
    {name: value text}; absent_flags: [name]. A flag that appears more than once cannot be set
    (which one wins is the program's business): FlagEditError.
    """
    both = sorted(set(set_flags) & set(absent_flags))
    if both:
        raise FlagEditError('%s both in flags and in absent_flags: say which one you want' % ', '.join(both))
    entries = [(argument, index) for index, argument in enumerate(command)]
    changes = []
    for name in sorted(absent_flags):
        found = [argument for argument, _origin in entries[1:] if flag_name_of(argument) == name]
        if found:
            entries = entries[:1] + [entry for entry in entries[1:] if flag_name_of(entry[0]) != name]
            changes.append({'flag': name, 'action': 'removed', 'before': found[-1], 'after': None})
    for name in sorted(set_flags):
        wanted = '--%s=%s' % (name, set_flags[name])
        positions = [index for index in range(1, len(entries)) if flag_name_of(entries[index][0]) == name]
        if len(positions) > 1:
            raise FlagEditError('--%s appears %d times in the command; fix the manifest by hand first'
                                % (name, len(positions)))
        if positions:
            current = entries[positions[0]][0]
            if not _same_value(current, set_flags[name]):
                changes.append({'flag': name, 'action': 'changed', 'before': current, 'after': wanted})
                entries[positions[0]] = (wanted, None)
            continue
        # kubeadm sorts its flags by name: the new one goes before the first flag that sorts after it
        index = len(entries)
        for position in range(1, len(entries)):
            other = flag_name_of(entries[position][0])
            if other is not None and other > name:
                index = position
                break
        entries.insert(index, (wanted, None))
        changes.append({'flag': name, 'action': 'added', 'before': None, 'after': wanted})
    return entries, changes


def find_command_lines(lines, command):
    """(first line index, [line indexes]) of the block list that holds `command`, in kubeadm's
    `command:` followed by `- item` lines. FlagEditError when there is no such block."""
    for key_index, line in enumerate(lines):
        match = _COMMAND_KEY_RE.match(line)
        if not match:
            continue
        key_column = len(match.group(1)) + (2 if match.group(2) else 0)
        items = []
        indent = None
        for index in range(key_index + 1, len(lines)):
            item = _ITEM_RE.match(lines[index])
            if not item or (indent is not None and len(item.group(1)) != indent):
                break
            if indent is None:
                if len(item.group(1)) < key_column:
                    break
                indent = len(item.group(1))
            items.append(index)
        if len(items) != len(command):
            continue
        try:
            parsed = load_yaml(''.join(lines[index] for index in items))
        except YamlSubsetError:
            continue
        if parsed == list(command):
            return items
    raise FlagEditError('the command of the first container is not a block list of "- item" lines under '
                        '"command:" (kubeadm\'s format); this module only edits manifests in that format')


def edit_text(text, path, set_flags=None, absent_flags=None):
    """Edit the flags in manifest text. Returns (new text, changes, pod before, pod after).

    set_flags: {name: value} (a name with or without its dashes; true/false for booleans);
    absent_flags: [name].

    Only lines of the command list are touched; the result is parsed again and must be the same
    pod with the planned command, or FlagEditError is raised.
    """
    set_flags, absent_flags = normalize_request(set_flags, absent_flags)
    try:
        pod = StaticPod.from_text(text, path)
    except ManifestError as exc:
        raise FlagEditError(str(exc))
    command = pod.container.get('command')
    if not isinstance(command, list) or not command:
        raise FlagEditError('%s: the first container has no command list (the flags of kubeadm\'s manifests are '
                            'there)' % path)
    in_args = [name for name in list(set_flags) + absent_flags
               if any(flag_name_of(arg) == name for arg in pod.container.get('args') or [])]
    if in_args:
        raise FlagEditError('%s: --%s is in the container\'s args, not in its command; this module edits the '
                            'command only' % (path, ', --'.join(in_args)))
    entries, changes = plan_flags(command, set_flags, absent_flags)
    if not changes:
        return text, changes, pod, pod
    lines = text.splitlines(True)
    item_lines = find_command_lines(lines, command)
    indent = _ITEM_RE.match(lines[item_lines[0]]).group(1)
    ending = next((_ITEM_RE.match(lines[index]).group(3) for index in item_lines
                   if _ITEM_RE.match(lines[index]).group(3)), '\n')
    new_lines = []
    for argument, origin in entries:
        line = lines[item_lines[origin]] if origin is not None else '%s- %s' % (indent, render_item(argument))
        new_lines.append(line if line.endswith('\n') else line + ending)
    if not lines[item_lines[-1]].endswith('\n'):
        # the command list ended the file without a line break: so does the new one
        new_lines[-1] = new_lines[-1].rstrip('\r\n')
    new_command = [argument for argument, _origin in entries]
    new_text = ''.join(lines[:item_lines[0]] + new_lines + lines[item_lines[-1] + 1:])
    after = _verify(new_text, path, pod, new_command)
    return new_text, changes, pod, after


def _verify(new_text, path, pod, new_command):
    try:
        after = StaticPod.from_text(new_text, path)
    except ManifestError as exc:
        raise FlagEditError('editing %s would make it unreadable (%s); nothing was written' % (path, exc))
    expected = copy.deepcopy(pod.data)
    expected['spec']['containers'][0]['command'] = list(new_command)
    if after.data != expected:
        raise FlagEditError('editing the command of %s would change more than the command (the file is not in '
                            'kubeadm\'s format); nothing was written' % path)
    return after


class ManifestFlags:
    """One component's manifest on one node, wherever it is: the manifests directory or the stash."""

    def __init__(self, component, kubernetes_dir=None, manifests_dir=None, stash_dir=None, backup_dir=None):
        if component not in COMPONENTS:
            raise FlagEditError('unknown component %r: choose from %s' % (component, ', '.join(COMPONENTS)))
        self.component = component
        self.node = KubeadmNode(kubernetes_dir or None, manifests_dir=manifests_dir or None)
        self.manifests_dir = self.node.manifests_dir
        self.stash_dir = stash_dir or self.node.default_stash_dir
        self.backup_dir = backup_dir or os.path.join(self.node.kubernetes_dir, BACKUP_DIR_NAME)
        if is_within(self.backup_dir, self.manifests_dir):
            raise FlagEditError('backup directory %s is inside the manifests directory %s: the kubelet would run the '
                                'backups. Choose a backup_dir outside it.' % (self.backup_dir, self.manifests_dir))

    def locate(self):
        """(path, location) of the manifest; FlagEditError when it is in neither place or in both."""
        running = os.path.join(self.manifests_dir, self.component + '.yaml')
        stashed = os.path.join(self.stash_dir, self.component + '.yaml')
        found = [(path, where) for path, where in ((running, LOCATION_MANIFESTS), (stashed, LOCATION_STASH))
                 if os.path.lexists(path)]
        if not found:
            raise FlagEditError('no %s manifest: neither %s nor %s exists' % (self.component, running, stashed))
        if len(found) == 2:
            raise FlagEditError('the %s manifest is both in %s and in %s: run static_pod_toggle first so that it is '
                                'in one place; nothing was changed' % (self.component, running, stashed))
        path, where = found[0]
        if not os.path.isfile(path):
            raise FlagEditError('%s is not a regular file; nothing was changed' % path)
        return path, where

    def ensure(self, flags=None, absent_flags=None, backup=True, check_mode=False, backup_always=False):
        """Bring the flags to what is asked. Returns the module result (without diff text). With
        `backup_always` the manifest is backed up even when nothing changes (before a change made by
        something else, which restore() can then undo)."""
        set_flags, absent = normalize_request(flags, absent_flags)
        path, where = self.locate()
        try:
            with open(path, 'rb') as handle:
                raw = handle.read()
        except (IOError, OSError) as exc:
            raise FlagEditError('cannot read %s: %s' % (path, exc.strerror or exc))
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            raise FlagEditError('%s is not UTF-8 text' % path)
        new_text, changes, before, after = edit_text(text, path, set_flags, absent)
        result = {
            'changed': bool(changes),
            'path': path,
            'location': where,
            'changes': changes,
            'flags_before': parse_flags(before.container.get('command')[1:]),
            'flags_after': parse_flags(after.container.get('command')[1:]),
            'backup_file': None,
            'sha256_before': hashlib.sha256(raw).hexdigest(),
            'sha256_after': hashlib.sha256(new_text.encode('utf-8')).hexdigest(),
            'before_text': text,
            'after_text': new_text,
        }
        if check_mode or not (changes or backup_always):
            return result
        if backup or backup_always:
            if not os.path.isdir(self.backup_dir) and os.path.lexists(self.backup_dir):
                raise FlagEditError('backup path %s exists and is not a directory; nothing was changed'
                                    % self.backup_dir)
        info = os.stat(path)
        if backup or backup_always:
            result['backup_file'] = self._backup(raw, info)
        if changes:
            self._replace(path, raw, new_text.encode('utf-8'), info)
        return result

    def restore(self, backup_path, check_mode=False):
        """Put a backup this module kept (in backup_dir) back as the manifest, byte for byte, atomically,
        with the manifest's mode and owner. Returns the module result (without diff text), as ensure()."""
        path, where = self.locate()
        if not is_within(backup_path, self.backup_dir) or os.path.abspath(backup_path) == os.path.abspath(self.backup_dir):
            raise FlagEditError('restore_from=%s is not in the backup directory %s; nothing was changed'
                                % (backup_path, self.backup_dir))
        problems = trust_problems(self.backup_dir) + trust_problems(backup_path)
        if problems:
            raise FlagEditError('the backup cannot be trusted: %s; nothing was changed' % '; '.join(problems))
        if not os.path.isfile(backup_path):
            raise FlagEditError('restore_from=%s is not a regular file; nothing was changed' % backup_path)
        try:
            with open(backup_path, 'rb') as handle:
                backup = handle.read()
            with open(path, 'rb') as handle:
                raw = handle.read()
        except (IOError, OSError) as exc:
            raise FlagEditError('cannot read %s: %s; nothing was changed' % (exc.filename, exc.strerror or exc))
        try:
            pod = StaticPod.from_text(backup, backup_path)
            before = StaticPod.from_text(raw, path)
        except ManifestError as exc:
            raise FlagEditError('%s; nothing was changed' % exc)
        if pod.component != self.component:
            raise FlagEditError('restore_from=%s is a manifest of %s, not of %s; nothing was changed'
                                % (backup_path, pod.component, self.component))
        result = {
            'changed': backup != raw,
            'path': path,
            'location': where,
            'changes': [],
            'flags_before': before.flags,
            'flags_after': pod.flags,
            'backup_file': None,
            'restored_from': backup_path,
            'sha256_before': hashlib.sha256(raw).hexdigest(),
            'sha256_after': hashlib.sha256(backup).hexdigest(),
            'before_text': raw.decode('utf-8', 'replace'),
            'after_text': backup.decode('utf-8', 'replace'),
        }
        if result['changed'] and not check_mode:
            self._replace(path, raw, backup, os.stat(path))
        return result

    def _backup(self, raw, info):
        try:
            os.mkdir(self.backup_dir, BACKUP_DIR_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise FlagEditError('cannot create backup directory %s: %s; nothing was changed'
                                    % (self.backup_dir, exc.strerror))
        else:
            fsync_dir(os.path.dirname(os.path.abspath(self.backup_dir)))
        problems = trust_problems(self.backup_dir)
        if problems:
            raise FlagEditError('backup directory cannot be trusted: %s; nothing was changed' % '; '.join(problems))
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
        name = '%s.yaml.%s' % (self.component, stamp)
        target = os.path.join(self.backup_dir, name)
        counter = 1
        while os.path.lexists(target):
            counter += 1
            target = os.path.join(self.backup_dir, '%s-%d' % (name, counter))
        _write_file(target, raw, info)
        return target

    def _replace(self, path, old_raw, new_raw, info):
        with open(path, 'rb') as handle:
            if handle.read() != old_raw:
                raise FlagEditError('%s changed while it was being edited; nothing was changed, run again' % path)
        _write_file(path, new_raw, info)


def _write_file(path, data, info):
    """Write `data` to `path` atomically with the mode and owner of `info` (an os.stat result)."""
    write_atomically(path, data, stat.S_IMODE(info.st_mode), owner=(info.st_uid, info.st_gid))
