# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only. Pure, no I/O.

A member's backend database figures as etcd_member_info returns them (db_size, db_size_in_use, and, when the
module reports them, db_size_free, quota_bytes, quota_usage), with what is missing derived from the rest:
free space is the file's size less what is in use, quota usage the file's size over the quota. The cluster
view, the defragmentation plan and the NOSPACE plan all read them through here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


class SpaceInputError(ValueError):
    """A figure or a threshold that is not what it must be; the message names it."""


def _label(member):
    return member.get('name') or member.get('id') or '(unknown member)'


def number(value, what):
    """`value` as a finite float, None when it is missing; SpaceInputError naming `what` otherwise. Numbers
    given as text (extra vars are text) are accepted; booleans are not."""
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        raise SpaceInputError('%s must be a number, got %r' % (what, value))
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise SpaceInputError('%s must be a number, got %r' % (what, value))
    if math.isnan(result) or math.isinf(result):
        raise SpaceInputError('%s must be a finite number, got %r' % (what, value))
    return result


def member_space(member):
    """{'size', 'in_use', 'free', 'quota', 'usage'} of one member, in bytes (usage a fraction of the quota);
    None where it is unknown. A figure that is not a number raises SpaceInputError naming the member."""
    if not isinstance(member, dict):
        raise SpaceInputError('a member must be a dict (an entry of etcd_member_info\'s members), got %r' % (member,))
    label = _label(member)
    figures = {}
    for key, field in (('size', 'db_size'), ('in_use', 'db_size_in_use'), ('free', 'db_size_free'),
                       ('quota', 'quota_bytes'), ('usage', 'quota_usage')):
        figures[key] = number(member.get(field), 'member %s: %s' % (label, field))
        if figures[key] is not None and figures[key] < 0:
            raise SpaceInputError('member %s: %s must not be negative, got %r' % (label, field, member.get(field)))
    if figures['free'] is None and figures['size'] is not None and figures['in_use'] is not None:
        figures['free'] = max(figures['size'] - figures['in_use'], 0.0)
    if figures['quota'] == 0:
        figures['quota'] = None
    if figures['usage'] is None and figures['size'] is not None and figures['quota']:
        figures['usage'] = figures['size'] / figures['quota']
    return figures


def human_size(value):
    """Bytes in binary units, as etcd's quota is given (2 GiB by default, 8 GiB advised at most): one decimal
    below 10 of a unit, none above (412 MiB, 1.0 GiB); '-' when unknown."""
    if value is None:
        return '-'
    value = float(value)
    if abs(value) < KIB:
        return '%d B' % value
    for unit in ('KiB', 'MiB', 'GiB', 'TiB'):
        value /= KIB
        if abs(value) < KIB or unit == 'TiB':
            return ('%.1f %s' if abs(value) < 10 else '%d %s') % (value, unit)
    return '-'  # pragma: no cover


def percent(fraction):
    """A fraction as a whole percentage, rounded down (44.9% reads 44%, never the 45% a threshold asks for)."""
    if fraction is None:
        return '-'
    return '%d%%' % int(math.floor(fraction * 100 + 1e-9))
