# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: maintenance_lock_refresh_due
short_description: Whether the maintenance lock's lease needs renewing now
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - True once a third of the lease's TTL has passed since the lease was last renewed, so that a step
      that starts without a renewal still has two thirds of the TTL left on the lease.
    - True as well for anything unknown or odd (no renewal time, a bad number, a clock that went
      backwards), since renewing is always safe.
options:
  _input:
    description: When the lease was last renewed, seconds since the epoch on the controller's clock
        (the fact C(maintenance_lock_renewed_at) that the maintenance_lock role keeps); empty when unknown.
    type: raw
    required: true
  ttl:
    description: The lease's TTL in seconds.
    type: int
    required: true
  now:
    description: Seconds since the epoch on the same clock; default the controller's clock now.
    type: float
'''

EXAMPLES = r'''
- name: Renew the lock only when due
  kubemaint.control_plane.etcd_lock:
    state: acquired
    token: "{{ maintenance_lock_token }}"
    ttl: 300
  when: maintenance_lock_renewed_at | kubemaint.control_plane.maintenance_lock_refresh_due(300)
'''

RETURN = r'''
_value:
  description: Whether to renew now.
  type: bool
'''

import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.lock import refresh_due


def maintenance_lock_refresh_due(renewed_at, ttl, now=None):
    return refresh_due(renewed_at, ttl, time.time() if now is None else now)


class FilterModule(object):
    def filters(self):
        return {'maintenance_lock_refresh_due': maintenance_lock_refresh_due}
