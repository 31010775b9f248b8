# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

What the action plugins that run a node's whole turn as one task share (node_restart, node_recover): the etcd
connection options they take (from module_defaults group/kubemaint.control_plane.etcd) and passes on to the
etcd modules, and the run that checks the arguments, hands the work to the plugin's runner and cleans up.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

COLLECTION = 'kubemaint.control_plane.'

ETCD_ARGUMENT_SPEC = dict(
    endpoints=dict(type='list', elements='str'),
    kubernetes_dir=dict(type='path', default='/etc/kubernetes'),
    ca_cert=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path', no_log=False),
    timeout=dict(type='float', default=5.0),
)


def etcd_args(args, **extra):
    """The etcd connection options of `args` that are set, with `extra`: the arguments of an etcd module."""
    given = dict((name, args[name]) for name in ETCD_ARGUMENT_SPEC if args.get(name) is not None)
    given.update(extra)
    return given


class NodeAction(ActionBase):
    """An action whose work `runner(args, task_vars).run()` does; `MINIMUM` holds the least value of int options."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    NAME = ''
    ARGUMENT_SPEC = {}
    MINIMUM = {}

    def runner(self, args, task_vars):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(NodeAction, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        for name, least in self.MINIMUM.items():
            if args[name] < least:
                return dict(result, failed=True, changed=False,
                            msg='%s: %s=%s must be at least %d. Nothing was changed.' % (self.NAME, name, args[name], least))
        try:
            result.update(self.runner(args, task_vars or {}).run())
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
