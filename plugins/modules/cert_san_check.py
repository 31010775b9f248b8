#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: cert_san_check
short_description: Check a kubeadm control-plane node's certificates against the node itself
version_added: 0.1.0
description:
  - Reads every certificate kubeadm writes on a control-plane node (C(pki/), C(pki/etcd/) and the
    client certificates of C(admin.conf), C(super-admin.conf), C(controller-manager.conf),
    C(scheduler.conf) and, when present, C(kubelet.conf)) and reports, per file, what is wrong.
  - The serving certificates C(apiserver.crt), C(etcd/server.crt) and C(etcd/peer.crt) must carry
    the Subject Alternative Names kubeadm gives them for B(this) node. Certificates copied from
    another node carry that node's name and address instead, and the control plane does not
    come back; C(kubeadm certs renew) keeps the old SANs, so renewing does not fix them.
  - Expiry of every certificate and CA against O(min_days_valid), with days left rounded as
    C(kubeadm certs check-expiration) rounds its residual time.
  - Chain (each certificate verifies against C(ca.crt), C(etcd/ca.crt) or C(front-proxy-ca.crt)),
    key pairing (the private key belongs to the certificate, RSA or ECDSA) and the service-account
    key pair (C(sa.key) and C(sa.pub)). A private key is judged by its public half, which must be the
    certificate's; with cryptography 39 or later the costly consistency check of an RSA key's private
    numbers is skipped (the key is only compared, never used).
  - Read-only. Private key material is never returned or logged.
author:
  - Kubemaint contributors (@kubemaint)
requirements:
  - cryptography (on the control-plane node)
extends_documentation_fragment:
  - kubemaint.control_plane.node
  - kubemaint.control_plane.node.manifests
  - kubemaint.control_plane.node_identity
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; check mode runs the same checks.
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
    details: Never changes anything.
  platform:
    platforms: posix
options:
  min_days_valid:
    description:
      - A certificate or CA with fewer days left than this is a problem.
      - From 0 to 36500.
    type: int
    default: 30
  fail_on_problems:
    description:
      - Fail when any problem is found. With V(false) the module reports and RV(ok) tells.
    type: bool
    default: true
notes:
  - Needs the node's own manifests (or O(node_name) and O(advertise_addresses)) to know who the node is.
    They are read from O(manifests_dir) and, when it is not set, also from the stash directory
    C(<kubernetes_dir>/manifests-stash) that M(kubemaint.control_plane.static_pod_toggle) uses
    while the pods are stopped.
seealso:
  - name: kubeadm certs check-expiration
    description: kubeadm's own expiry report.
    link: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-certs/
'''

EXAMPLES = r'''
- name: Check this node's certificates before starting its control plane again
  kubemaint.control_plane.cert_san_check:

- name: Flag SANs of the other control-plane nodes, report without failing
  kubemaint.control_plane.cert_san_check:
    other_nodes:
      - name: k-kube-lab-02
        addresses: [10.101.11.114]
      - name: k-kube-lab-03
        addresses: [10.101.11.154]
    min_days_valid: 60
    fail_on_problems: false
  register: certs

- name: Show what is wrong
  ansible.builtin.debug:
    msg: "{{ certs.problems }}"
  when: not certs.ok
'''

RETURN = r'''
ok:
  description: True when no file has a problem.
  returned: always
  type: bool
  sample: false
problems:
  description: Every problem, as C(<path>) colon C(<problem>).
  returned: always
  type: list
  elements: str
  sample:
    - "/etc/kubernetes/pki/apiserver.crt: SANs missing for this node (k-kube-lab-01): DNS:k-kube-lab-01, IP:10.101.11.240"
    - "/etc/kubernetes/pki/apiserver.crt: SANs of another control-plane node: DNS:k-kube-lab-02, IP:10.101.11.114"
expiring:
  description: >-
    The problems of certificates that are valid but expire within O(min_days_valid) days (renewing fixes them,
    see the C(kubemaint.control_plane.renew_certs) playbook); also in RV(problems).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: kubeadm's name for the certificate, as RV(certificates[].name).
      type: str
      returned: always
      sample: front-proxy-client
    path:
      description: The file.
      type: str
      returned: always
      sample: /etc/kubernetes/pki/front-proxy-client.crt
    days_left:
      description: Whole days left, as RV(certificates[].days_left).
      type: int
      returned: always
      sample: 12
    problem:
      description: The problem as it reads in RV(problems).
      type: str
      returned: always
      sample: "/etc/kubernetes/pki/front-proxy-client.crt: expires in 12 days on 2025-03-22T08:00:00Z (less than min_days_valid 30)"
  version_added: 0.2.0
expired:
  description: >-
    The problems of certificates past their expiry date; also in RV(problems) and RV(unfit). Renewing fixes the
    expiry (see the C(kubemaint.control_plane.renew_certs) playbook), not the other problems of RV(unfit).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: kubeadm's name for the certificate, as RV(certificates[].name).
      type: str
      returned: always
      sample: apiserver
    path:
      description: The file.
      type: str
      returned: always
      sample: /etc/kubernetes/pki/apiserver.crt
    days_left:
      description: Whole days left (0 or negative), as RV(certificates[].days_left).
      type: int
      returned: always
      sample: -3
    problem:
      description: The problem as it reads in RV(problems).
      type: str
      returned: always
      sample: "/etc/kubernetes/pki/apiserver.crt: expired on 2025-03-07T08:00:00Z"
  version_added: 0.2.0
unfit:
  description: >-
    Every problem of RV(problems) that is not in RV(expiring) (SANs of another node, another CA, a wrong or missing
    key, an expired certificate...): a certificate with these does not work. Renewing fixes only the expired ones
    (RV(expired)); for the rest the node's own pki goes back or its certificates are issued anew.
  returned: success
  type: list
  elements: str
  sample:
    - "/etc/kubernetes/pki/apiserver.crt: SANs of another control-plane node: DNS:k-kube-lab-02, IP:10.101.11.114"
  version_added: 0.2.0
unreadable:
  description: >-
    When the user the module runs as may not read some of the files it checks (a run without become), those files;
    the module then fails with a message that says to run with become, and checks nothing.
  returned: failure
  type: list
  elements: str
  sample: ["/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/pki/ca.key"]
  version_added: 0.2.0
reason:
  description: C(cert_file_not_readable) when the module failed because files were not readable (see RV(unreadable)).
  returned: failure
  type: str
  sample: cert_file_not_readable
  version_added: 0.2.0
identity:
  description: What the certificates were checked against.
  returned: success
  type: dict
  contains:
    node_name:
      description: This node's name.
      type: str
      returned: success
      sample: k-kube-lab-01
    addresses:
      description: This node's addresses.
      type: list
      elements: str
      returned: success
      sample: [10.101.11.240]
    service_cidr:
      description: Service CIDR used for the C(kubernetes) Service IP.
      type: str
      returned: success
      sample: 10.96.0.0/12
    dns_domain:
      description: Cluster DNS domain.
      type: str
      returned: success
      sample: cluster.local
    other_nodes:
      description: The other control-plane nodes (given and from etcd's C(--initial-cluster)).
      type: list
      elements: dict
      returned: success
      sample: [{name: k-kube-lab-02, addresses: [10.101.11.114]}]
    manifests:
      description: The manifests the identity was read from.
      type: list
      elements: str
      returned: success
      sample: [/etc/kubernetes/manifests/etcd.yaml, /etc/kubernetes/manifests/kube-apiserver.yaml]
certificates:
  description: One entry per file checked.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: kubeadm's name for it (as in C(kubeadm certs check-expiration)), or the kubeconfig file name.
      type: str
      returned: always
      sample: apiserver
    kind:
      description: C(ca), C(serving), C(client), C(kubeconfig) or C(service-account-keys).
      type: str
      returned: always
      sample: serving
    path:
      description: The file checked.
      type: str
      returned: always
      sample: /etc/kubernetes/pki/apiserver.crt
    key_path:
      description: The private key file checked with it, C(embedded) for a kubeconfig's client-key-data.
      type: str
      returned: always
      sample: /etc/kubernetes/pki/apiserver.key
    ca:
      description: The CA that must have signed it (C(ca), C(etcd-ca), C(front-proxy-ca)); null for CAs.
      type: str
      returned: always
      sample: ca
    present:
      description: Whether a certificate could be read from the file.
      type: bool
      returned: always
      sample: true
    encoding:
      description: C(PEM) or C(DER); null when unreadable.
      type: str
      returned: always
      sample: PEM
    subject:
      description: Subject (RFC 4514).
      type: str
      returned: always
      sample: CN=kube-apiserver
    issuer:
      description: Issuer (RFC 4514).
      type: str
      returned: always
      sample: CN=kubernetes
    serial:
      description: Serial number in hexadecimal, as C(openssl x509 -serial) prints it.
      type: str
      returned: always
      sample: 5B1D2C3E4F
    sans:
      description: Subject Alternative Names.
      type: dict
      returned: always
      sample: {dns: [k-kube-lab-01, kubernetes], ip: [10.96.0.1, 10.101.11.240]}
    not_before:
      description: Start of validity, UTC.
      type: str
      returned: always
      sample: "2024-03-10T08:00:00Z"
    not_after:
      description: End of validity, UTC.
      type: str
      returned: always
      sample: "2025-03-10T08:00:00Z"
    days_left:
      description: Whole days until RV(certificates[].not_after), truncated toward zero as kubeadm's residual time.
      type: int
      returned: always
      sample: 364
    residual_time:
      description: kubeadm's RESIDUAL TIME text for it.
      type: str
      returned: always
      sample: 364d
    is_ca:
      description: Whether it is a CA certificate.
      type: bool
      returned: always
      sample: false
    public_key:
      description: Key type and size of the certificate's public key.
      type: str
      returned: always
      sample: RSA 2048
    expected_sans:
      description: The SANs kubeadm gives this node's certificate.
      type: dict
      returned: for serving certificates
      sample: {dns: [k-kube-lab-01, localhost], ip: [10.101.11.240, 127.0.0.1, "::1"]}
    missing_sans:
      description: Expected SANs the certificate lacks.
      type: dict
      returned: for serving certificates
      sample: {dns: [k-kube-lab-01], ip: [10.101.11.240]}
    foreign_sans:
      description: SANs naming another control-plane node.
      type: dict
      returned: for serving certificates
      sample: {dns: [k-kube-lab-02], ip: [10.101.11.114]}
    user:
      description: The kubeconfig user whose client certificate was checked.
      type: str
      returned: for kubeconfigs
      sample: kubernetes-admin
    cert_source:
      description: C(embedded) or the file a kubeconfig points at.
      type: str
      returned: for kubeconfigs
      sample: embedded
    expires_soon:
      description: Valid now, but fewer than O(min_days_valid) days left.
      type: bool
      returned: always
      sample: false
      version_added: 0.2.0
    problems:
      description: What is wrong with this file.
      type: list
      elements: str
      returned: always
      sample: ["expires in 12 days on 2025-03-22T08:00:00Z (less than min_days_valid 30)"]
    ok:
      description: True when the file has no problem.
      type: bool
      returned: always
      sample: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    DAYS,
    check_arguments,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.dep import require_cryptography
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.rules import SanRuleError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import (
    DEFAULT_MIN_DAYS_VALID,
    IdentityError,
    check_node_certificates,
    not_readable_message,
    summary_message,
    unreadable_files,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import BECOME_ADVICE, running_user
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.options import (
    NODE_IDENTITY_ARGUMENT_SPEC,
    identity_from_params,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            NODE_IDENTITY_ARGUMENT_SPEC,
            min_days_valid=dict(type='int', default=DEFAULT_MIN_DAYS_VALID),
            fail_on_problems=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    check_arguments(module, numbers={'min_days_valid': DAYS}, absolute_paths=('kubernetes_dir', 'manifests_dir'))
    require_cryptography(module)
    params = module.params
    # Without become most of these files are root's only: say so, rather than that the identity or a key is wrong.
    unreadable = unreadable_files(params['kubernetes_dir'], params['manifests_dir'])
    if unreadable:
        module.fail_json(msg=not_readable_message(params['kubernetes_dir'], unreadable, running_user(), BECOME_ADVICE),
                         ok=False, problems=[], unreadable=unreadable, reason='cert_file_not_readable')
    try:
        identity = identity_from_params(params)
        report = check_node_certificates(params['kubernetes_dir'], identity, params['min_days_valid'],
                                         params['control_plane_endpoint'], params['extra_sans'])
    except (IdentityError, SanRuleError) as exc:
        module.fail_json(msg='cannot check the certificates under %s: %s' % (params['kubernetes_dir'], exc),
                         ok=False, problems=[str(exc)])
    result = dict(changed=False, identity=identity, msg=summary_message(report, identity, params['kubernetes_dir']),
                  **report)
    if not report['ok'] and params['fail_on_problems']:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
