# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

Whether a run targets the control plane it means to: the inventory group of the control-plane
hosts exists and has hosts, `-e node=` names one of them, and `--limit` selects only hosts of it.
ansible-playbook alone skips a play whose hosts match nothing and exits 0, so a wrong group name or
a typo in `node` would pass silently. The playbooks reach this through the
kubemaint.control_plane.control_plane_target filter, in a first play that always runs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.inventory.manager import split_host_pattern

# The groups ansible-core makes for every inventory: naming them tells an operator nothing.
IMPLICIT_GROUPS = ('all', 'ungrouped')
# The host ansible-core provides when the inventory has none of that name.
IMPLICIT_HOSTS = ('localhost', '127.0.0.1', '::1')
# A limit term with one of these is a pattern (wildcard, range, regex, retry file, set operation).
PATTERN_MARKS = ('*', '?', '[', '~', '@', '!', '&')
# How much of the inventory a message shows when the group is missing or empty.
SHOWN_GROUPS = 8
SHOWN_HOSTS = 3
GROUP_OPTION = '-e control_plane_group=NAME'
NOTHING_CHANGED = 'Nothing was changed.'


def _listing(hosts):
    return ', '.join(hosts) if hosts else 'none'


def _group_summary(name, hosts):
    if not hosts:
        return '%s (no host)' % name
    if len(hosts) <= SHOWN_HOSTS:
        return '%s (%s)' % (name, ', '.join(hosts))
    return '%s (%d hosts: %s, ...)' % (name, len(hosts), ', '.join(hosts[:SHOWN_HOSTS]))


def _inventory_groups(groups):
    """The inventory's own groups with their first hosts, for a message that helps find the right one."""
    named = [(name, list(hosts or [])) for name, hosts in sorted(groups.items()) if name not in IMPLICIT_GROUPS]
    if not named:
        return 'the inventory has no group besides all (%d hosts)' % len(groups.get('all') or [])
    listed = '; '.join(_group_summary(name, hosts) for name, hosts in named[:SHOWN_GROUPS])
    more = ('; and %d more' % (len(named) - SHOWN_GROUPS)) if len(named) > SHOWN_GROUPS else ''
    return "the inventory's groups: " + listed + more


def _limit_terms(limit):
    """The plain host or group names of a --limit (a string, or a list of them), patterns left out."""
    patterns = [limit] if isinstance(limit, str) else list(limit or [])
    terms = []
    for pattern in patterns:
        for term in split_host_pattern(pattern):
            if term and not any(mark in term for mark in PATTERN_MARKS):
                terms.append(term)
    return terms


def _describe_limit(limit):
    return ','.join(limit) if isinstance(limit, (list, tuple)) else str(limit)


def _refusal(group, hosts, problem, advice):
    return {'ok': False, 'group': group, 'hosts': hosts, 'selected': [],
            'message': '%s %s %s' % (problem, advice, NOTHING_CHANGED)}


def control_plane_target(groups, group, limit=None, node=None, limited_hosts=None):
    """Does this run target hosts of the control-plane group, and only those?

    `groups` is the inventory's groups (Ansible's `groups`: name -> host names), `group` the name of
    the control-plane group, `limit` ansible_limit (None without --limit), `node` the node variable
    (None or empty: not given), `limited_hosts` the hosts a play over `all,localhost` matched under
    that limit. Returns {'ok', 'group', 'hosts' (the group's), 'selected' (the group's hosts this run
    acts on), 'message' (why not, naming the group's hosts and what to do; empty when ok)}.
    """
    groups = dict(groups or {})
    node = None if node is None else str(node)
    if group not in groups:
        return _refusal(group, [], 'The inventory has no group %s: this run would act on no host (%s).'
                        % (group, _inventory_groups(groups)),
                        'Put the control-plane hosts in %s, or name their group with %s.' % (group, GROUP_OPTION))
    hosts = list(groups[group] or [])
    if not hosts:
        return _refusal(group, [], 'The inventory group %s has no host: this run would act on no host (%s).'
                        % (group, _inventory_groups(groups)),
                        'Put the control-plane hosts in %s, or name their group with %s.' % (group, GROUP_OPTION))
    where = 'the group %s (%s)' % (group, _listing(hosts))
    other_group = 'or name another group with %s.' % GROUP_OPTION
    selected = list(hosts)
    if limit is not None and limit != '':
        known = set(groups.get('all') or []) | set(groups) | set(IMPLICIT_HOSTS)
        unknown = [term for term in _limit_terms(limit) if term not in known]
        if unknown:
            return _refusal(group, hosts, '--limit %s names %s, which %s no host or group of the inventory.'
                            % (_describe_limit(limit), _listing(unknown), 'is' if len(unknown) == 1 else 'are'),
                            'Limit the run to hosts of %s, %s' % (where, other_group))
        limited = list(limited_hosts or [])
        outside = [host for host in limited if host not in hosts]
        if outside:
            return _refusal(group, hosts, '--limit %s selects %s outside %s.'
                            % (_describe_limit(limit), _listing(outside), where),
                            'Limit the run to hosts of %s, %s' % (group, other_group))
        selected = [host for host in hosts if host in limited]
    if node is not None and node != '':
        if node not in hosts:
            return _refusal(group, hosts, 'node=%s is no host of %s.' % (node, where),
                            'Name one of them with -e node=NAME (its inventory name), %s' % other_group)
        if node not in selected:
            return _refusal(group, hosts, 'node=%s is not among the hosts --limit %s selects (%s).'
                            % (node, _describe_limit(limit), _listing(selected)),
                            'Give the node with -e node=NAME or with --limit NODE, not both.')
        selected = [node]
    return {'ok': True, 'group': group, 'hosts': hosts, 'selected': selected, 'message': ''}
