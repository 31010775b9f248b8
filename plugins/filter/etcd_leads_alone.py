# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: etcd_leads_alone
short_description: Whether an etcd member leads a cluster of one
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - True when the member list holds only the named member and it is healthy and leads, which is what
      C(--force-new-cluster) makes of a member.
    - With O(after_term), only once its raft term is higher than that (a restarted single member holds an
      election), so this tells that etcd restarted (for example without the flag).
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info) read through that member.
    type: dict
    required: true
  member:
    description: The member name.
    type: str
    required: true
  after_term:
    description: A raft term the member's must exceed.
    type: int
  alone:
    description: With V(false), other members may be there and lead; the member must be healthy in a cluster
        with quorum.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Wait until the member leads a cluster of one
  kubemaint.control_plane.etcd_member_info:
    endpoints: [https://10.0.0.11:2379]
  register: etcd
  until: etcd | kubemaint.control_plane.etcd_leads_alone('cp-1')
  retries: 60
  delay: 2
'''

RETURN = r'''
_value:
  description: Whether it leads alone.
  type: bool
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.restore import leads_alone


def etcd_leads_alone(info, member, after_term=None, alone=True):
    return leads_alone(info, member, after_term, bool(alone))


class FilterModule(object):
    def filters(self):
        return {'etcd_leads_alone': etcd_leads_alone}
