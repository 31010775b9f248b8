# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_endpoints
short_description: etcd client URLs of inventory hosts
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - C(https://ADDRESS:PORT) for each host, ADDRESS being the host's C(node_address), else C(ansible_host),
      else its inventory name; IPv6 addresses in brackets.
options:
  _input:
    description: The hosts' variables, for example C(groups['control_plane'] | map('extract', hostvars)).
    type: list
    elements: dict
    required: true
  port:
    description: etcd's client port.
    type: int
    default: 2379
'''

EXAMPLES = r'''
- name: The etcd endpoints of the control plane
  ansible.builtin.set_fact:
    endpoints: "{{ groups['control_plane'] | map('extract', hostvars) | kubemaint.control_plane.etcd_endpoints(2379) }}"
'''

RETURN = r'''
_value:
  description: The URLs, without repeats, in the order given.
  type: list
  elements: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import (
    inventory_endpoints,
)


def etcd_endpoints(hosts, port=2379):
    entries = []
    for host in hosts or []:
        entries.append({'name': host.get('inventory_hostname'), 'node_address': host.get('node_address'),
                        'ansible_host': host.get('ansible_host')})
    return inventory_endpoints(entries, port)


class FilterModule(object):
    def filters(self):
        return {'etcd_endpoints': etcd_endpoints}
