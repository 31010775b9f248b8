# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_join_precheck
short_description: Whether a node can join the control plane now, and what to say
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - For the join_precheck playbook. C(kubeadm join) and C(kubeadm init phase upload-certs) write to etcd through the
      apiserver; without etcd quorum or a ready apiserver they hang until they time out. The join can go ahead when
      etcd has quorum and some apiserver answered C(/readyz) with 200.
options:
  _input:
    description: The cluster view, from P(kubemaint.control_plane.etcd_cluster_view#filter).
    type: dict
    required: true
  readyz:
    description: The hosts mapped to their registered M(ansible.builtin.uri) results of the apiserver's C(/readyz).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Refuse the join when the cluster cannot take it
  ansible.builtin.fail:
    msg: "{{ (view | kubemaint.control_plane.etcd_join_precheck(readyz_by_host)).message }}"
  when: not (view | kubemaint.control_plane.etcd_join_precheck(readyz_by_host)).ok
'''

RETURN = r'''
_value:
  description: The verdict.
  type: dict
  contains:
    ok:
      description: Whether the join can go ahead.
      type: bool
    ready:
      description: The hosts whose apiserver is ready.
      type: list
      elements: str
    message:
      description: That the join can go ahead, or why not and what to do.
      type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.cluster_health import join_precheck


def etcd_join_precheck(view, readyz):
    return join_precheck(view, dict(readyz or {}))


class FilterModule(object):
    def filters(self):
        return {'etcd_join_precheck': etcd_join_precheck}
