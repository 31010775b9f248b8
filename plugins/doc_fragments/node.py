# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Where a kubeadm node keeps its files; every module that reads or writes them takes this.
    DOCUMENTATION = r'''
options:
  kubernetes_dir:
    description:
      - The node's kubeadm directory, absolute. Every default path of the module (C(manifests/),
        C(pki/), C(pki/etcd/), C(manifests-stash/)) is taken under it.
      - Absolute paths written by kubeadm in manifests and kubeconfigs (C(/etc/kubernetes/...)) are
        re-rooted into it; when it ends in C(/etc/kubernetes) below another directory (a node root,
        as in the test lab), the other absolute paths (C(/var/lib/...)) follow that root.
    type: path
    default: /etc/kubernetes
'''

    # The kubelet's static pod directory, for the modules that read or move manifests.
    MANIFESTS = r'''
options:
  manifests_dir:
    description:
      - The directory the kubelet runs static pods from (its C(staticPodPath)), absolute.
      - Defaults to C(manifests) under O(kubernetes_dir).
    type: path
'''
