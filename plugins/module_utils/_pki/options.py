# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The options that tell the certificate modules who the node is (documented once in the
doc fragment kubemaint.control_plane.node_identity), and the identity they give.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import DEFAULT_KUBERNETES_DIR
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import node_identity

NODE_IDENTITY_ARGUMENT_SPEC = dict(
    kubernetes_dir=dict(type='path', default=DEFAULT_KUBERNETES_DIR),
    manifests_dir=dict(type='path'),
    node_name=dict(type='str'),
    advertise_addresses=dict(type='list', elements='str'),
    other_nodes=dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True),
        addresses=dict(type='list', elements='str', default=[]),
    )),
    service_cidr=dict(type='str'),
    dns_domain=dict(type='str'),
    control_plane_endpoint=dict(type='str'),
    extra_sans=dict(type='list', elements='str', default=[]),
)


def identity_from_params(params):
    """node_identity() from the module's options; raises IdentityError as node_identity does."""
    return node_identity(params['kubernetes_dir'], params['manifests_dir'], params['node_name'],
                         params['advertise_addresses'], params['service_cidr'], params['dns_domain'],
                         params['other_nodes'])
