# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Connection options shared by every etcd module (action group kubemaint.control_plane.etcd).
    DOCUMENTATION = r'''
options:
  endpoints:
    description:
      - etcd client URLs to ask, C(https://HOST:PORT).
      - Only C(https) is accepted; TLS is always verified, there is no option to turn that off.
      - Defaults to the URLs in C(--advertise-client-urls) of this node's own etcd static pod
        manifest, C(<kubernetes_dir>/manifests/etcd.yaml), so a kubeadm node needs no configuration.
      - The other members are found through etcd's member list, not through this option; give
        several endpoints when the local member may be down.
    type: list
    elements: str
  ca_cert:
    description:
      - CA bundle that signed the etcd server certificates (an absolute path, as for the other files).
      - Defaults to C(<kubernetes_dir>/pki/etcd/ca.crt).
    type: path
  client_cert:
    description:
      - Client certificate presented to etcd (signed by the etcd CA).
      - Defaults to C(<kubernetes_dir>/pki/etcd/server.crt), as the runbook's etcdctl commands use.
    type: path
  client_key:
    description:
      - Private key of O(client_cert). Its content is never logged or returned.
      - Defaults to C(<kubernetes_dir>/pki/etcd/server.key).
    type: path
  timeout:
    description:
      - Seconds to wait for each request to each member. Members are asked in parallel, so a
        member that is down costs one timeout, not one per member.
      - A finite number greater than 0 and at most 3600.
    type: float
    default: 5.0
notes:
  - Talks to etcd's gRPC-JSON gateway on the client port with the Python standard library
    only (etcd 3.4, 3.5 and 3.6); nothing needs to be installed on the node.
  - Use C(module_defaults) with C(group/kubemaint.control_plane.etcd) to set the connection
    options once for all etcd modules.
  - The default paths are taken under O(kubernetes_dir) (documented with the node paths).
'''

    # The action group every etcd module belongs to (meta/runtime.yml action_groups.etcd).
    ACTION_GROUP = r'''
attributes:
  action_group:
    description: Use C(group/kubemaint.control_plane.etcd) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - kubemaint.control_plane.etcd
'''
