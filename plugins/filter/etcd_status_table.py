# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_status_table
short_description: The runbook's etcd endpoint status table and quorum summary, as lines
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - Formats a cluster view as the table C(etcdctl endpoint status --cluster -w table) prints, plus health and errors, and a quorum summary line.
options:
  _input:
    description: A view from P(kubemaint.control_plane.etcd_cluster_view#filter), or the registered result of
        M(kubemaint.control_plane.etcd_member_info).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Print the table
  ansible.builtin.debug:
    msg: "{{ view | kubemaint.control_plane.etcd_status_table }}"
'''

RETURN = r'''
_value:
  description: The lines.
  type: list
  elements: str
'''

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.guard import (
    status_table,
)


def etcd_status_table(state):
    return status_table(state)


class FilterModule(object):
    def filters(self):
        return {'etcd_status_table': etcd_status_table}
