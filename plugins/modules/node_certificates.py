#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_certificates
short_description: Reissue or renew a kubeadm control-plane node's certificates with the CAs on the node
version_added: 0.2.0
description:
  - Issues the certificates of a kubeadm control-plane node B(for that node), signed by the cluster
    CAs present on it (C(pki/ca.key), C(pki/etcd/ca.key), C(pki/front-proxy-ca.key)), the way
    C(kubeadm init phase certs) does, with kubeadm's subject, Subject Alternative Names, key usages and
    extended key usages per certificate, valid for one year from now (minus kubeadm's five minutes
    of backdating), never past the CA's own expiry.
  - Covers C(pki/apiserver), C(apiserver-kubelet-client), C(apiserver-etcd-client),
    C(front-proxy-client), C(etcd/server), C(etcd/peer), C(etcd/healthcheck-client) and the client
    certificates embedded in C(admin.conf), C(super-admin.conf) (when present),
    C(controller-manager.conf) and C(scheduler.conf).
  - C(kubelet.conf) is left alone; the kubelet rotates its own client certificate
    (C(/var/lib/kubelet/pki/kubelet-client-current.pem)), and C(kubeadm certs renew) leaves it alone too.
    CAs and the service-account key pair are never replaced.
  - O(state=reissued) replaces every certificate that does not belong to this node. That is, SANs missing
    for this node or naming another control-plane node (a C(pki) copied from another node, the
    runbook's scenario 2.3), etcd server or peer certificates named after another node, a
    certificate not signed by the CA on this node, a key that does not match its certificate, a
    missing or unreadable file. A reissued certificate always gets a B(new) private key of the
    existing key's type (else its CA's). C(kubeadm certs renew) cannot do this, it keeps the SANs.
  - O(state=renewed) replaces the certificates that expire within O(days) days (all of them with
    O(force)), keeping subject, SANs, key usages and the private key, as C(kubeadm certs renew) does.
  - Every file it replaces is first copied into a new dated directory under O(backup_dir) (mode
    0700, files 0600). Files are written atomically and keep their mode and owner; private keys
    are written only to their own key file (or a kubeconfig's C(client-key-data)).
  - "Never for another node: before anything is read or written, the node's name and addresses (O(node_name),
    O(advertise_addresses), or what the node's own manifests say) are compared with the other nodes the node
    itself knows, the other members of C(--initial-cluster) in its etcd manifest (their names, and the hosts of
    their peer URLs), and with O(other_nodes). A name or an address of another member, or a name that
    O(other_nodes) gives other addresses than this node's, is refused, naming that node, and nothing is
    changed. (etcd's live member list is not read: the module works with the node's files only, also while
    etcd is down. kubeadm init's node lists only itself in C(--initial-cluster): there only O(other_nodes) names
    the other nodes.)"
  - The pods keep using the old certificates until they restart; restart them one node at a time
    (C(kubemaint.control_plane.start_node) after C(stop_node), or the C(rolling_restart) playbook).
author:
  - Kubemaint contributors (@kubemaint)
requirements:
  - cryptography (on the control-plane node)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubemaint.control_plane.node
  - kubemaint.control_plane.node.manifests
  - kubemaint.control_plane.node_identity
attributes:
  check_mode:
    support: full
    details: Reads everything, reports what would be replaced and the new certificates' subject, SANs and expiry.
  diff_mode:
    support: full
    details: Per replaced file its subject, issuer, serial, validity, key type and SANs before and after; never key material.
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: partial
    details: >-
      A second O(state=reissued) run or O(state=renewed) run with the same O(days) changes nothing;
      O(force=true) replaces the selected certificates every time, as C(kubeadm certs renew all) does.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(reissued) gives this node's identity to every certificate that lacks it, with new keys.
      - V(renewed) extends the certificates that expire within O(days), keeping their attributes and keys.
    type: str
    required: true
    choices: [reissued, renewed]
  days:
    description:
      - With O(state=renewed), renew the certificates that expire within this many days (expired ones included).
      - A whole number from 0 to 36500.
    type: int
    default: 30
  force:
    description:
      - Replace every selected certificate, whatever its state (O(state=renewed) as C(kubeadm certs renew all);
        O(state=reissued) with new keys for all).
    type: bool
    default: false
  certificates:
    description:
      - Restrict the work to these certificates (kubeadm's names, kubeconfigs by file name). Default all.
    type: list
    elements: str
    choices: [apiserver, apiserver-kubelet-client, apiserver-etcd-client, front-proxy-client, etcd-server,
              etcd-peer, etcd-healthcheck-client, admin.conf, super-admin.conf, controller-manager.conf,
              scheduler.conf]
  backup_dir:
    description:
      - Where the dated backup directories go (C(<backup_dir>/<UTC time>/pki/...)). Created with mode 0700.
      - Default C(<kubernetes_dir>/pki-backups). Must be absolute, outside C(pki/) and the manifests directory,
        and neither group- nor world-writable.
    type: path
  keep_extra_sans:
    description:
      - With O(state=reissued), keep the SANs of the old serving certificate that kubeadm's rules do not give
        but that name no other control-plane node (certSANs, a load balancer name).
    type: bool
    default: true
notes:
  - Without the CA key on the node (kubeadm's external CA mode) the module refuses, naming the missing file,
    and changes nothing; certificates that need no replacing need no CA key.
  - Runs on the node (it reads the CA keys there); run it with C(become=true).
seealso:
  - module: kubemaint.control_plane.cert_san_check
  - name: kubeadm certs
    description: kubeadm's certificate commands.
    link: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-certs/
'''

EXAMPLES = r'''
- name: Give this node its own certificates again after its pki was copied from another node
  kubemaint.control_plane.node_certificates:
    state: reissued
  register: reissue

- name: Renew what expires within 30 days, keeping SANs and keys
  kubemaint.control_plane.node_certificates:
    state: renewed
    days: 30

- name: Renew everything (kubeadm certs renew all)
  kubemaint.control_plane.node_certificates:
    state: renewed
    force: true
'''

RETURN = r'''
replaced:
  description: Names of the certificates replaced (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [apiserver, etcd-server, etcd-peer]
restart_pods:
  description:
    - The control-plane pods that read a replaced certificate and must restart to serve it, in start
      order (etcd first); empty when only the administrators' kubeconfigs or etcd's healthcheck client changed.
  returned: always
  type: list
  elements: str
  sample: [etcd, kube-apiserver]
backup_dir:
  description: The dated directory holding the replaced files; null when nothing was replaced or in check mode.
  returned: always
  type: str
  sample: /etc/kubernetes/pki-backups/20250310T080000Z
identity:
  description:
    - The node identity the certificates were issued for (as cert_san_check returns it).
    - Its C(other_nodes) also holds a node that this node's etcd server or peer certificate is named
      after (the node a copied C(pki) came from); its name and addresses are never kept as SANs.
  returned: success
  type: dict
  sample: {node_name: k-kube-lab-01, addresses: [10.101.11.240], service_cidr: 10.96.0.0/12,
           dns_domain: cluster.local, other_nodes: [], manifests: []}
certificates:
  description: One entry per certificate looked at.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: kubeadm's name, or the kubeconfig's file name.
      type: str
      returned: always
      sample: apiserver
    path:
      description: The certificate file (or kubeconfig).
      type: str
      returned: always
      sample: /etc/kubernetes/pki/apiserver.crt
    key_path:
      description: The key file, or C(client-key-data) for a kubeconfig.
      type: str
      returned: always
      sample: /etc/kubernetes/pki/apiserver.key
    ca:
      description: The CA that signs it.
      type: str
      returned: always
      sample: ca
    action:
      description: C(reissue), C(renew), or null when it is left as it is.
      type: str
      returned: always
      sample: reissue
    result:
      description: C(reissued), C(renewed), C(unchanged) or C(skipped) (check mode says C(unchanged) for all).
      type: str
      returned: always
      sample: reissued
    reasons:
      description: Why it is replaced.
      type: list
      elements: str
      returned: always
      sample: ["SANs of another control-plane node: DNS:k-kube-lab-02, IP:10.101.11.114"]
    skipped:
      description: Why it was not looked at (absent kubeconfig, external etcd, unusable file in renew mode).
      type: str
      returned: always
      sample: null
    new_key:
      description: Whether a new private key is generated (reissue) or the existing one kept (renew).
      type: bool
      returned: always
      sample: true
    before:
      description: Subject, issuer, serial, SANs, validity and key type of the certificate found; null if none.
      type: dict
      returned: always
      sample: {subject: CN=kube-apiserver, issuer: CN=kubernetes, serial: 5B1D2C3E4F,
               sans: {dns: [k-kube-lab-02], ip: [10.101.11.114]}, not_before: "2024-03-10T08:00:00Z",
               not_after: "2025-03-10T08:00:00Z", public_key: RSA 2048}
    after:
      description: The same facts of the new certificate (serial null in check mode); null when unchanged.
      type: dict
      returned: always
      sample: {subject: CN=kube-apiserver, issuer: CN=kubernetes, serial: 1F2E3D4C5B,
               sans: {dns: [k-kube-lab-01], ip: [10.101.11.240]}, not_before: "2025-03-10T07:55:00Z",
               not_after: "2026-03-10T08:00:00Z", public_key: RSA 2048}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.dep import require_cryptography
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.rules import SanRuleError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import IdentityError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.issue import SPEC_NAMES, IssueError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.options import (
    NODE_IDENTITY_ARGUMENT_SPEC,
    identity_from_params,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.replace import (
    BACKUP_DIR_NAME,
    ReplaceError,
    apply_plan,
    check_backup_root,
    plan_certificates,
    result_of,
)


def main():
    argument_spec = dict(NODE_IDENTITY_ARGUMENT_SPEC)
    argument_spec.update(
        state=dict(type='str', required=True, choices=['reissued', 'renewed']),
        days=dict(type='int', default=30),
        force=dict(type='bool', default=False),
        certificates=dict(type='list', elements='str', choices=list(SPEC_NAMES)),
        backup_dir=dict(type='path'),
        keep_extra_sans=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_cryptography(module)
    params = module.params
    for option in ('kubernetes_dir', 'manifests_dir', 'backup_dir'):
        if params[option] is not None and not os.path.isabs(params[option]):
            module.fail_json(msg='%s %r must be an absolute path; nothing was changed' % (option, params[option]))
    backup_root = params['backup_dir'] or os.path.join(params['kubernetes_dir'], BACKUP_DIR_NAME)
    try:
        identity = identity_from_params(params)
        plan = plan_certificates(params['kubernetes_dir'], identity, params['state'], params['days'], params['force'],
                                 params['certificates'], params['control_plane_endpoint'], params['extra_sans'],
                                 params['keep_extra_sans'])
        backup_root = check_backup_root(backup_root, plan['node'])
    except (IdentityError, SanRuleError, IssueError, ReplaceError) as exc:
        module.fail_json(msg='cannot %s the certificates under %s: %s; nothing was changed'
                         % ('reissue' if params['state'] == 'reissued' else 'renew', params['kubernetes_dir'], exc))
    for warning in plan['warnings']:
        module.warn(warning)
    if plan['problems']:
        result = result_of(plan, None, True)
        result.pop('diff')
        module.fail_json(msg='refusing to change the certificates under %s: %s; nothing was changed'
                         % (params['kubernetes_dir'], '; '.join(plan['problems'])),
                         certificates=result['certificates'], identity=plan['identity'], changed=False)
    backup_dir = None
    if not module.check_mode:
        try:
            backup_dir = apply_plan(plan, backup_root)
        except ReplaceError as exc:
            module.fail_json(msg='cannot replace the certificates under %s: %s' % (params['kubernetes_dir'], exc),
                             changed=exc.changed)
    result = result_of(plan, backup_dir, module.check_mode)
    if not module._diff:
        result.pop('diff')
    module.exit_json(identity=plan['identity'], **result)


if __name__ == '__main__':
    main()
