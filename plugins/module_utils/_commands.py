# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Pure, no I/O.

The one way our messages write a command the operator should run next: as the README writes its commands,
`ansible-playbook -b -i <inventory> kubemaint.control_plane.<playbook> [options]`. Every playbook reads files
under /etc/kubernetes that only root may read, so a suggested command without -b (become) would fail on a
node that is not logged into as root. Roles reach it through the kubemaint.control_plane.playbook_command
filter.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

COLLECTION = 'kubemaint.control_plane'
INVENTORY = '<inventory>'


def playbook_command(playbook, *options):
    """`ansible-playbook -b -i <inventory> kubemaint.control_plane.<playbook>` followed by `options`.

    `playbook` is the short name (start_node) or the full one; empty options are left out, so that a
    caller may pass '' for an option that does not apply."""
    name = playbook if '.' in playbook else '%s.%s' % (COLLECTION, playbook)
    words = ['ansible-playbook', '-b', '-i', INVENTORY, name]
    words.extend(str(option) for option in options if option is not None and str(option) != '')
    return ' '.join(words)
