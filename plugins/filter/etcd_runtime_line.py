# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_runtime_line
short_description: One line on whether a host's etcd really runs
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - Formats the C(etcd_runtime) of a M(kubemaint.control_plane.static_pod_info) result beside the cluster view
    for the operator - manifest in place or stopped, the etcd process (pid) or C(process not running), the kubelet's
    restart count, whether its member answers (with the cluster id and member id of its own answer), and when it does
    not answer what its data directory holds and the log line that says why. C(CRASH LOOP) leads the line when the
    manifest is in place, the kubelet restarted etcd and it does not run or its member does not answer.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.static_pod_info), unreachable or not.
    type: dict
    required: true
  view:
    description: The cluster view from P(kubemaint.control_plane.etcd_cluster_view#filter).
    type: dict
    required: true
  member:
    description: The host's etcd member name when its manifest does not say it (its C(node_name)).
    type: str
'''

EXAMPLES = r'''
- name: Print whether etcd runs on this host
  ansible.builtin.debug:
    msg: "{{ pods | kubemaint.control_plane.etcd_runtime_line(cluster_state_view) }}"
'''

RETURN = r'''
_value:
  description: The line.
  type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.runtime import etcd_runtime_line


class FilterModule(object):
    def filters(self):
        return {'etcd_runtime_line': etcd_runtime_line}
