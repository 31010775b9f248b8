# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Who the node is, for the certificate modules (module_utils/_pki/options.py holds the argument spec);
    # kubernetes_dir and manifests_dir come from the node and node.manifests fragments.
    DOCUMENTATION = r'''
options:
  node_name:
    description:
      - This node's name as kubeadm knows it (the DNS SAN of its serving certificates, the name of
        its etcd server and peer certificates).
      - Default etcd's C(--name) in the node's etcd manifest.
    type: str
  advertise_addresses:
    description:
      - This node's addresses that its serving certificates carry as IP SANs.
      - Default kube-apiserver's C(--advertise-address) plus the hosts of etcd's advertised client
        and peer URLs, from the node's manifests.
    type: list
    elements: str
  other_nodes:
    description:
      - The other control-plane nodes. A SAN naming one of them (and not this node) is foreign,
        the signature of certificates copied from that node.
      - The other members of etcd's C(--initial-cluster) are added to this list. kubeadm writes only the members
        known at a node's join there (kubeadm init's node lists only itself), so give every other node here; the
        cert_check role passes the inventory's.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The node's name.
        type: str
        required: true
      addresses:
        description: The node's IP addresses.
        type: list
        elements: str
        default: []
  service_cidr:
    description:
      - The service CIDR; its first address is an IP SAN of C(apiserver.crt).
      - Default kube-apiserver's C(--service-cluster-ip-range), else C(10.96.0.0/12).
    type: str
  dns_domain:
    description:
      - The cluster DNS domain (C(kubernetes.default.svc.<dns_domain>) is a SAN of C(apiserver.crt)).
      - Default from kube-apiserver's C(--service-account-issuer), else C(cluster.local).
    type: str
  control_plane_endpoint:
    description:
      - kubeadm's C(controlPlaneEndpoint) (C(host), C(host:port) or a URL); its host is a SAN of
        C(apiserver.crt).
    type: str
  extra_sans:
    description:
      - kubeadm's C(apiServer.certSANs); each is a SAN of C(apiserver.crt).
    type: list
    elements: str
    default: []
'''
