# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: cert_check_advice
short_description: Which fix applies to a node's certificate problems, and the message that names it
version_added: 0.2.0
author:
  - kubemaint.control_plane contributors (@kubemaint)
description:
    - A certificate that is valid and this node's but expires within the threshold is renewed by the
      C(kubemaint.control_plane.renew_certs) playbook, and the message names that run for the host.
    - A certificate that names another node, is signed by another CA, has a wrong key or cannot be read is not fit
      for the node (renewing keeps its SANs and key); the message says to put the node's own pki back or issue
      certificates for it.
    - An expired certificate is renewed the same way (renew_certs renews expired ones too), not called unfit; when
      other certificates (or the same one) are also unfit, the message names both fixes.
    - Both at once name both. An expiring or expired CA, or the kubelet's own client certificate, is named as one that
      renew_certs does not renew.
options:
  _input:
    description: The registered result of M(kubemaint.control_plane.cert_san_check) (with O(fail_on_problems=false)).
    type: dict
    required: true
  host:
    description: The inventory name of the node, for C(--limit).
    type: str
    required: true
  min_days_valid:
    description: The threshold the check ran with (C(cert_san_check)'s O(min_days_valid)); above renew_certs' 30 days
      the command passes it as C(-e renew_certs_days).
    type: int
    default: 30
  fix_hint:
    description: One more sentence for certificates that are not fit (how the caller could fix them itself).
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Fail naming the fix
  ansible.builtin.fail:
    msg: "{{ (certs | kubemaint.control_plane.cert_check_advice(host=inventory_hostname, min_days_valid=30)).message }}"
  when: certs.problems | length > 0
'''

RETURN = r'''
_value:
  description: The fixes that apply.
  type: dict
  contains:
    renew:
      description: Expiry problems (expired, or expiring within the threshold) of certificates that renew_certs renews.
      type: list
      elements: str
    not_renewable:
      description: Expiry problems (expired, or expiring within the threshold) of certificates that renew_certs does
        not renew (CAs, kubelet.conf).
      type: list
      elements: str
    expired:
      description: The problems of expired certificates (also in O(renew) or O(not_renewable)).
      type: list
      elements: str
    unfit:
      description: Every other problem (an expired certificate's expiry is not one of them).
      type: list
      elements: str
    message:
      description: What is wrong and what to do; empty when there is no problem.
      type: str
'''

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.advice import (
    RENEW_CERTS_DEFAULT_DAYS,
    certificate_advice,
)


def cert_check_advice(result, host, min_days_valid=RENEW_CERTS_DEFAULT_DAYS, fix_hint=''):
    return certificate_advice(result, host, min_days_valid=int(min_days_valid), fix_hint=fix_hint or '')


class FilterModule(object):
    def filters(self):
        return {'cert_check_advice': cert_check_advice}
