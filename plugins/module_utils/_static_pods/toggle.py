# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The static_pod_toggle module's logic: plan every move, then move one component at a time in
stop or start order, waiting for each to really stop or start before the next one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.health import (
    WaitTimeout,
    wait_started,
    wait_stopped,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.stash import (
    STOPPED,
    ManifestStash,
    StashError,
    describe_locations,
)


class ToggleError(Exception):
    """The toggle failed; `results` holds what was done up to the failure."""

    def __init__(self, message, results=None):
        super(ToggleError, self).__init__(message)
        self.results = results or []


def toggle_static_pods(names, state, kubernetes_dir=None, manifests_dir=None, stash_dir=None,
                       wait=True, wait_timeout=300, reason=None, check_mode=False, diff=False):
    """Bring the named components to `state`. Returns the module result (without `failed`)."""
    stash = ManifestStash(kubernetes_dir, manifests_dir, stash_dir)
    try:
        plans = stash.plan(names, state)
    except StashError as exc:
        raise ToggleError(str(exc))
    result = {
        'changed': any(plan.changed for plan in plans),
        'state': state,
        'manifests_dir': stash.manifests_dir,
        'stash_dir': stash.stash_dir,
        'record_path': stash.record_path,
        'components': [],
    }
    if diff:
        result['diff'] = {
            'before_header': 'manifest locations',
            'after_header': 'manifest locations',
            'before': describe_locations(plans, after=False),
            'after': describe_locations(plans, after=True),
        }
    for plan in plans:
        entry = plan.as_dict()
        entry['waited'] = None
        result['components'].append(entry)
        if check_mode:
            continue
        try:
            stash.apply_component(plan, reason=reason)
        except (StashError, OSError) as exc:
            raise ToggleError('%s: %s' % (plan.component, exc), result['components'])
        if wait:
            try:
                if state == STOPPED:
                    entry['waited'] = round(wait_stopped(plan.component, plan.pod, wait_timeout), 3)
                else:
                    entry['waited'] = round(wait_started(plan.component, plan.pod, stash.node, wait_timeout), 3)
            except WaitTimeout as exc:
                raise ToggleError('%s (manifest is at %s). Check the kubelet and the component\'s logs, '
                                  'or raise wait_timeout.' % (exc, plan.kept_path), result['components'])
    return result
