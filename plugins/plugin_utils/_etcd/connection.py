# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

The one rule for how the roles and playbooks reach etcd (the filter etcd_connection): which inventory host
runs the etcd modules (the reader), which etcd client URLs it asks and which client files it presents.

- The reader is the `reader` given when there is one. Else the first of the candidates (`readers` when given,
  else the hosts of the group) other than `avoid`: with `answering` (the hosts known to answer in this run),
  only those, and no reader ('') when none answers; without it the candidates Ansible still runs (the play's
  hosts: an unreachable or failed host has left them) first, then the others, then this host.
- The endpoints are `endpoints` when given; else the reader's host variable `etcd_endpoints` when set; else
  https://<node_address, else ansible_host, else the inventory name>:<port> of every host of the group.
- The client files are the reader's: its `kubernetes_dir` (default /etc/kubernetes) and, when set, its
  `etcd_ca_cert`, `etcd_client_cert` and `etcd_client_key` (else the modules' defaults under kubernetes_dir).

`args` is what every etcd module takes (module_defaults: group/kubemaint.control_plane.etcd), without the
options nobody set, so that the modules' own defaults apply.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import DEFAULT_KUBERNETES_DIR
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import inventory_endpoints

CLIENT_FILES = (('ca_cert', 'etcd_ca_cert'), ('client_cert', 'etcd_client_cert'), ('client_key', 'etcd_client_key'))


def host_vars(hostvars, name):
    """A host's variables, {} for a name the inventory does not hold."""
    if not name or name not in hostvars:
        return {}
    return hostvars[name]


def _names(value, what):
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        raise TypeError('%s must be a list of strings, got %r' % (what, value))
    names = list(value)  # Jinja's map() gives a generator
    if not all(isinstance(name, str) for name in names):
        raise TypeError('%s must be a list of strings, got %r' % (what, names))
    return names


def _urls(value, what):
    """A list of URLs; one URL alone counts as a list of one."""
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return _names(value, what)


def choose_reader(this_host, group_hosts, reader='', readers=None, avoid='', play_hosts=None, answering=None):
    """The inventory host that runs the etcd modules (see the module's docstring); '' when `answering` is given
    and none of the candidates answers."""
    if reader:
        return reader
    candidates = [name for name in (readers or group_hosts) if name != avoid]
    if answering is not None:
        return ([name for name in candidates if name in answering] + [''])[0]
    running = play_hosts or []
    ordered = [name for name in candidates if name in running] + [name for name in candidates if name not in running]
    return (ordered + [this_host])[0]


def answered_hosts(hostvars, hosts, answered):
    """The hosts of `hosts` that answered a task: those whose result registered under `answered`'s variable holds
    its key (`answered` is '<variable>.<key>'; an unreachable or failed host's result lacks the key)."""
    variable, _sep, key = (answered or '').partition('.')
    if not variable or not key:
        raise ValueError('answered must be <registered variable>.<key>, got %r' % (answered,))
    return [name for name in hosts if key in (host_vars(hostvars, name).get(variable) or {})]


def etcd_connection(hostvars, this_host, group_hosts, port=2379, endpoints=None, reader='', readers=None, avoid='',
                    play_hosts=None, answering=None, timeout=None, answered=None):
    """The reader, its endpoints and its client files, and `args` for the etcd modules' module_defaults.

    `hostvars` maps every inventory host to its variables (Ansible's hostvars). `answered` ('<variable>.<key>')
    gives `answering` as the hosts of `play_hosts` that answered (answered_hosts)."""
    if answered:
        answering = answered_hosts(hostvars, _names(play_hosts, 'the play hosts'), answered)
    group_hosts = _names(group_hosts, 'the group')
    endpoints = _urls(endpoints, 'endpoints')
    reader = choose_reader(this_host, group_hosts, reader or '', _names(readers, 'readers'), avoid or '',
                           _names(play_hosts, 'the play hosts'),
                           None if answering is None else _names(answering, 'the answering hosts'))
    reader_vars = host_vars(hostvars, reader)
    if not endpoints:
        endpoints = _urls(reader_vars.get('etcd_endpoints'), 'the etcd_endpoints of %s' % reader)
    if not endpoints:
        endpoints = inventory_endpoints(
            [{'name': name, 'node_address': host_vars(hostvars, name).get('node_address'),
              'ansible_host': host_vars(hostvars, name).get('ansible_host')} for name in group_hosts], int(port))
    args = {'endpoints': endpoints, 'kubernetes_dir': reader_vars.get('kubernetes_dir') or DEFAULT_KUBERNETES_DIR}
    for option, variable in CLIENT_FILES:
        if reader_vars.get(variable):
            args[option] = reader_vars.get(variable)
    if timeout is not None:
        args['timeout'] = float(timeout)
    return {'reader': reader, 'endpoints': endpoints, 'kubernetes_dir': args['kubernetes_dir'], 'args': args}
