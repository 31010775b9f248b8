# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Which control-plane pods read which certificate (kubeadm's names, kubeconfigs by file name), so
that a renewal restarts only the pods whose certificates changed. A pod reads its certificates
when it starts; a pod not listed for a certificate never reads it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import START_ORDER

CERTIFICATE_PODS = {
    'apiserver': ('kube-apiserver',),
    'apiserver-kubelet-client': ('kube-apiserver',),
    # The apiserver's client certificate for etcd: signed by the etcd CA, read by the apiserver.
    'apiserver-etcd-client': ('kube-apiserver',),
    'front-proxy-client': ('kube-apiserver',),
    'etcd-server': ('etcd',),
    'etcd-peer': ('etcd',),
    # Used by etcdctl and probes run by hand; no pod reads it (kubeadm's etcd probe is plain HTTP).
    'etcd-healthcheck-client': (),
    'controller-manager.conf': ('kube-controller-manager',),
    'scheduler.conf': ('kube-scheduler',),
    # The administrators' kubeconfigs: no pod reads them.
    'admin.conf': (),
    'super-admin.conf': (),
}


def pods_to_restart(certificates):
    """The pods that read any of `certificates`, in start order (etcd first).

    A name this table does not know raises ValueError: restarting too little would leave a pod
    serving the old certificate until it expires.
    """
    unknown = sorted(set(certificates) - set(CERTIFICATE_PODS))
    if unknown:
        raise ValueError('no pod mapping for certificate(s) %s' % ', '.join(unknown))
    pods = set()
    for name in certificates:
        pods.update(CERTIFICATE_PODS[name])
    return [pod for pod in START_ORDER if pod in pods]
