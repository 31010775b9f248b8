# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: defrag_table
short_description: A narrow table of what etcd's defragmentation freed, or of the members' space before it
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - With O(results), one row per member - db size before and after, in use after, freed, and the seconds the member
    was blocked (it serves no read or write while it defragments) - then failures and a total line.
  - Without O(results) (check mode, the plan), one row per member - role, db size, in use, free, quota usage - then
    raised alarms and a total line.
  - Under 90 columns; member names longer than 20 characters are cut.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.etcd_member_info) (or its C(members) list) read
      before the defragmentation.
    type: raw
    required: true
  results:
    description: What M(kubemaint.control_plane.etcd_defrag) returned for each member - a list of results, the
      registered result of a loop, or a dict by member name. Results without C(member) are matched by C(item).
    type: raw
'''

EXAMPLES = r'''
- name: Print what the defragmentation freed
  ansible.builtin.debug:
    msg: "{{ etcd_before | kubemaint.control_plane.defrag_table(defrag_results) }}"

- name: Print the members' space before (check mode)
  ansible.builtin.debug:
    msg: "{{ etcd_before | kubemaint.control_plane.defrag_table }}"
'''

RETURN = r'''
_value:
  description: The lines of the table, then notes and the total line.
  type: list
  elements: str
'''

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd import defrag
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._filter_errors import reported_as_filter_error


@reported_as_filter_error('defrag_table', (defrag.SpaceInputError, TypeError))
def defrag_table(before, results=None):
    return defrag.defrag_table(before, results)


class FilterModule(object):
    def filters(self):
        return {'defrag_table': defrag_table}
