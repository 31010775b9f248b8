# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: static_pods_line
short_description: One line about a host's control-plane static pods
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - Formats a M(kubemaint.control_plane.static_pod_info) result for the operator, stopped pods and stray
    manifests first; an unreachable host says so.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.static_pod_info), unreachable or not.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Print the pods of this host
  ansible.builtin.debug:
    msg: "{{ pods | kubemaint.control_plane.static_pods_line }}"
'''

RETURN = r'''
_value:
  description: The line.
  type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.recover import describe_pods


def static_pods_line(report):
    return describe_pods(report)


class FilterModule(object):
    def filters(self):
        return {'static_pods_line': static_pods_line}
