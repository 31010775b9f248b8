# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_connection
short_description: How a task reaches etcd - the host that asks it, the endpoints and the client files
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - The one rule every role and playbook of this collection uses to reach etcd.
    - "The reading host: O(reader) when given; else the first of the candidates (O(readers), else O(group)) other
      than O(avoid): with O(answering), the first that answers (none: V('')); without it, the candidates still in
      O(play_hosts) first (Ansible drops an unreachable or failed host from them), then the others, then O(host)."
    - "The endpoints: O(endpoints) when given; else the reading host's variable C(etcd_endpoints) when set; else
      C(https://ADDRESS:PORT) of every host of O(group), ADDRESS being the host's C(node_address), else
      C(ansible_host), else its inventory name."
    - "The client files: the reading host's C(kubernetes_dir) (default C(/etc/kubernetes)) and, when set, its
      C(etcd_ca_cert), C(etcd_client_cert) and C(etcd_client_key); unset ones take the modules' defaults under
      C(kubernetes_dir)."
options:
  _input:
    description: Every inventory host's variables, C(hostvars).
    type: dict
    required: true
  host:
    description: The host the task runs for, C(inventory_hostname); the last resort for the reading host.
    type: str
    required: true
  group:
    description: The control-plane hosts, for example C(groups['control_plane']).
    type: list
    elements: str
    required: true
  port:
    description: etcd's client port on every host, for the endpoints made from the inventory.
    type: int
    default: 2379
  endpoints:
    description: etcd client URLs that override the rule (a role's C(*_etcd_endpoints)); empty follows it.
    type: list
    elements: str
  reader:
    description: The reading host, chosen by the caller; empty follows the rule.
    type: str
  readers:
    description: The candidates for reading host, in order of preference; empty means O(group).
    type: list
    elements: str
  avoid:
    description: A host not to read through when another one can (the host about to stop).
    type: str
  play_hosts:
    description: The hosts still running in the play, C(ansible_play_hosts).
    type: list
    elements: str
  answering:
    description: The hosts known to answer in this run; when given, only they can read.
    type: list
    elements: str
  timeout:
    description: Seconds each etcd request may take, added to RV(_value.args).
    type: float
  answered:
    description:
      - A registered result and one of its keys, C(<variable>.<key>), for example C(_ping.ping). The hosts of
        O(play_hosts) whose result holds that key are the hosts that answered, O(answering) (a host unreachable or
        failed in that task, even with C(ignore_unreachable) or C(failed_when), has a result without it).
    type: str
'''

EXAMPLES = r'''
- name: Read etcd through the reading host
  kubemaint.control_plane.etcd_member_info:
  module_defaults:
    group/kubemaint.control_plane.etcd: "{{ connection.args }}"
  delegate_to: "{{ connection.reader }}"
  vars:
    connection: >-
      {{ hostvars | kubemaint.control_plane.etcd_connection(inventory_hostname, groups['control_plane'],
         play_hosts=ansible_play_hosts) }}
'''

RETURN = r'''
_value:
  description: The connection.
  type: dict
  contains:
    reader:
      description: The inventory host that runs the etcd modules; empty when O(answering) holds no candidate.
      type: str
    endpoints:
      description: The etcd client URLs it asks.
      type: list
      elements: str
    kubernetes_dir:
      description: The reading host's kubernetes directory.
      type: str
    args:
      description: The options of every etcd module (C(endpoints), C(kubernetes_dir), the client files that are set,
        C(timeout) when given), for C(module_defaults) with C(group/kubemaint.control_plane.etcd).
      type: dict
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.connection import (
    etcd_connection,
)
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


class FilterModule(object):
    def filters(self):
        return {'etcd_connection': reported_as_filter_error('etcd_connection', (TypeError, ValueError))(etcd_connection)}
