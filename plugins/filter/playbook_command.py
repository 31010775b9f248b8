# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: playbook_command
short_description: The command that runs one of this collection's playbooks, as a message suggests it
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
  - Writes C(ansible-playbook -b -i <inventory> kubemaint.control_plane.<playbook>) and the options given, as the
    README writes its commands (every playbook reads files only root may read, hence C(-b)).
  - Empty options are left out.
options:
  _input:
    description: The playbook, by its short name (C(start_node)) or its full one.
    type: str
    required: true
  options:
    description: What follows the playbook's name, one word or several per item.
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Say how to continue
  ansible.builtin.debug:
    msg: "Continue with: {{ 'start_node' | kubemaint.control_plane.playbook_command('--limit', inventory_hostname) }}"
'''

RETURN = r'''
_value:
  description: The command, for example C(ansible-playbook -b -i <inventory> kubemaint.control_plane.start_node --limit cp1).
  type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command


def playbook_command_filter(playbook, *options):
    return playbook_command(str(playbook), *options)


class FilterModule(object):
    def filters(self):
        return {'playbook_command': playbook_command_filter}
