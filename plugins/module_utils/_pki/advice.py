# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Pure, no I/O.

What to tell the operator about a node's certificate problems (cert_san_check's result), and which
fix applies: a certificate that is valid and this node's but expires within the threshold is
renewed by the renew_certs playbook; one naming another node, signed by another CA or with a wrong
key is not fit for the node and renewing keeps that (its pki goes back, or it is issued anew). A
CA, and the kubelet's own client certificate, renew_certs does not renew. The cert_check role
reaches this through the kubemaint.control_plane.cert_check_advice filter.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kubemaint.control_plane.plugins.module_utils._commands import playbook_command
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.issue import SPEC_NAMES

# playbooks/renew_certs.yml: renew_certs_days, the days within which a certificate is renewed.
RENEW_CERTS_DEFAULT_DAYS = 30

CA_NAMES = ('ca', 'etcd-ca', 'front-proxy-ca')


def renew_certs_command(host, min_days_valid):
    """The renew_certs run that renews, on `host`, everything a check with `min_days_valid` flags as expiring.

    renew_certs renews what has fewer than renew_certs_days days left, and the check flags fewer than
    min_days_valid whole days: a threshold above renew_certs' default must be passed on."""
    days = ('-e renew_certs_days=%d' % int(min_days_valid)) if int(min_days_valid) > RENEW_CERTS_DEFAULT_DAYS else ''
    return playbook_command('renew_certs', '--limit', host, days)


def _why_not_renewed(item):
    if item['name'] in CA_NAMES:
        return 'a CA: rotate it as kubeadm\'s "Manual rotation of CA certificates" describes'
    return 'the kubelet renews its own client certificate when rotateCertificates is on'


def _listed(items):
    return '; '.join(item['problem'] for item in items)


def certificate_advice(result, host, min_days_valid=RENEW_CERTS_DEFAULT_DAYS, fix_hint=''):
    """The fixes that apply to the problems in a registered cert_san_check result, and the message.

    Returns {'renew': [...], 'not_renewable': [...], 'expired': [...], 'unfit': [...], 'message'}: `renew` the
    expired or expiring certificates renew_certs renews (their problems), `not_renewable` expired or expiring ones
    it does not, `expired` the expired ones of both, `unfit` every other problem; `message` is empty when there is no
    problem. An expired certificate is renewed (renew_certs renews what has expired too), not called unfit; when the
    same or another certificate is also unfit, both fixes are named. A result without the `expiring` and `unfit`
    lists (a check that failed) counts every problem as unfit. `fix_hint` (how the caller itself could fix unfit
    certificates) is added only when there are unfit ones.
    """
    result = result or {}
    expired = list(result.get('expired') or [])
    expired_lines = set(item['problem'] for item in expired)
    due = list(result.get('expiring') or []) + expired
    if 'unfit' in result:
        unfit = [line for line in result.get('unfit') or [] if line not in expired_lines]
    else:
        unfit = list(result.get('problems') or [])
    renew = [item for item in due if item.get('name') in SPEC_NAMES]
    not_renewable = [item for item in due if item.get('name') not in SPEC_NAMES]
    verdict = {'renew': [item['problem'] for item in renew], 'not_renewable': [item['problem'] for item in not_renewable],
               'expired': [item['problem'] for item in expired], 'unfit': unfit, 'message': ''}
    if not (due or unfit):
        return verdict
    identity = result.get('identity') or {}
    command = renew_certs_command(host, min_days_valid)
    days = int(min_days_valid)
    # What renew_certs is asked to fix: certificates that expired, that expire within the threshold, or both.
    if expired and len(expired) == len(due):
        when, label = 'have expired', 'expired'
    elif expired:
        when, label = 'have expired or expire within %d days' % days, 'expired or expiring'
    else:
        when, label = 'expire within %d days' % days, 'expiring'
    parts = []
    if unfit:
        parts.append(
            'Certificates of %s (node %s, addresses %s) are not fit for this node: %s. Certificates like these keep '
            'a control plane from coming back (other members and clients reject SANs naming another node). Nothing '
            'was stopped or started on this node. What to do: put this node\'s own pki back, or issue certificates '
            'for it (kubeadm init phase certs ... on this node), then run this again.'
            % (host, identity.get('node_name') or '?', ', '.join(identity.get('addresses') or []), '; '.join(unfit)))
        if fix_hint and fix_hint.strip():
            parts.append(fix_hint.strip())
        if renew:
            parts.append('Certificates also %s (%s): once the above is fixed, renew what %s with %s.'
                         % (when, _listed(renew), 'is still due' if expired else 'still expires', command))
    elif renew:
        parts.append('Certificates of %s %s: renew them with %s.' % (host, when, command))
        parts.append('%s: %s. They are otherwise fit for this node (identity, chain and keys); nothing was '
                     'stopped or started on it. renew_certs renews them keeping their SANs and keys, as kubeadm certs '
                     'renew does, and restarts only the pods that read a renewed certificate.'
                     % (label.capitalize(), _listed(renew)))
    if not_renewable:
        lead = 'Also %s' % label if unfit or renew else 'Certificates of %s %s' % (host, when)
        parts.append('%s, which renew_certs does not renew: %s.' % (lead, '; '.join(
            '%s (%s)' % (item['problem'], _why_not_renewed(item)) for item in not_renewable)))
    verdict['message'] = ' '.join(parts)
    return verdict
