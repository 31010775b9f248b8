# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_cluster_health
short_description: Whether the etcd cluster is healthy - readable, with quorum, every member healthy, no alarm
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - The verdict that makes C(cluster_info) fail after printing the cluster, so that a scheduled job turns red when
      etcd could not be read, has no quorum, a member (voter or learner) is not healthy or an alarm is raised.
    - The message says what is wrong and what to do.
options:
  _input:
    description: A view from P(kubemaint.control_plane.etcd_cluster_view#filter); C(reader) and C(endpoints), when
        present, name the host and the endpoints it was read through.
    type: dict
    required: true
  pods:
    description: Hosts mapped to their M(kubemaint.control_plane.static_pod_info) results, to name the hosts whose
        etcd is in a crash loop, its restarts and the log line that says why.
    type: dict
    version_added: 0.2.0
'''

EXAMPLES = r'''
- name: Fail when etcd is not healthy
  ansible.builtin.fail:
    msg: "{{ (view | kubemaint.control_plane.etcd_cluster_health).message }}"
  when: not (view | kubemaint.control_plane.etcd_cluster_health).healthy
'''

RETURN = r'''
_value:
  description: The verdict.
  type: dict
  contains:
    healthy:
      description: Readable, with quorum, every member healthy and no alarm raised.
      type: bool
    problems:
      description: What is wrong, one short phrase each.
      type: list
      elements: str
    message:
      description: What is wrong and what to do; empty when healthy.
      type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.cluster_health import cluster_health


class FilterModule(object):
    def filters(self):
        return {'etcd_cluster_health': cluster_health}
