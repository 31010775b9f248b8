# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

kubeadm's rules for certificates, as plain data and arithmetic (no cryptography needed):
which Subject Alternative Names each serving certificate of a control-plane node must carry,
how to tell a node's own SANs from another node's, and how many days a certificate has left,
rounded the way `kubeadm certs check-expiration` rounds its RESIDUAL TIME column.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the import sanity test
    from urlparse import urlsplit

DEFAULT_SERVICE_CIDR = '10.96.0.0/12'
DEFAULT_DNS_DOMAIN = 'cluster.local'
KUBERNETES_SERVICE_NAMES = ('kubernetes', 'kubernetes.default', 'kubernetes.default.svc')
ETCD_LOCAL_DNS = ('localhost',)
ETCD_LOCAL_IPS = ('127.0.0.1', '::1')

SECONDS_PER_DAY = 86400


class SanRuleError(ValueError):
    """An option meant to describe the node (an address, a CIDR, an endpoint) cannot be used."""


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8')
    return u'%s' % value


def normalize_ip(value):
    """The canonical text of an IP address ('0:0::1' -> '::1'), or None when it is not one."""
    try:
        return str(ipaddress.ip_address(_text(value).strip().strip('[]')))
    except ValueError:
        return None


def normalize_dns(value):
    """DNS names compare without letter case and without a trailing dot."""
    return _text(value).strip().rstrip('.').lower()


def first_service_ip(service_cidr):
    """The first address of the (first) service CIDR: the IP of the `kubernetes` Service.

    kubeadm takes the first subnet of a comma-separated dual-stack list.
    """
    first = _text(service_cidr).split(',')[0].strip()
    try:
        network = ipaddress.ip_network(first, strict=False)
    except ValueError:
        raise SanRuleError('service_cidr %r is not a CIDR such as 10.96.0.0/12' % service_cidr)
    if network.num_addresses < 2:
        raise SanRuleError('service_cidr %r has no address after its network address' % service_cidr)
    return str(network.network_address + 1)


def endpoint_host(endpoint):
    """Host part of a control-plane endpoint: 'lb.example:6443', '[fd00::1]:6443', 'https://x', 'x'."""
    endpoint = _text(endpoint).strip()
    if not endpoint:
        return None
    if '://' not in endpoint:
        if normalize_ip(endpoint):
            return normalize_ip(endpoint)
        endpoint = 'https://' + endpoint
    try:
        host = urlsplit(endpoint).hostname
    except ValueError:
        host = None
    if not host:
        raise SanRuleError('control_plane_endpoint %r has no host (expected host, host:port or a URL)' % endpoint)
    return host


def split_sans(values):
    """Split free-form SAN strings (certSANs style) into (dns names, ip addresses)."""
    dns, ips = [], []
    for value in values or []:
        value = _text(value).strip()
        if not value:
            continue
        ip = normalize_ip(value)
        if ip:
            ips.append(ip)
        else:
            dns.append(value)
    return dns, ips


def _unique(items, key):
    seen = set()
    result = []
    for item in items:
        marker = key(item)
        if item and marker not in seen:
            seen.add(marker)
            result.append(item)
    return result


def _sans(dns, ips):
    return {'dns': _unique(dns, normalize_dns), 'ip': _unique([normalize_ip(ip) or ip for ip in ips], str)}


def check_addresses(addresses):
    """Canonical IPs for `addresses`; raises SanRuleError naming the first entry that is not an IP."""
    result = []
    for address in addresses or []:
        ip = normalize_ip(address)
        if ip is None:
            raise SanRuleError('%r is not an IP address: advertise addresses and other nodes\' addresses '
                               'must be IPs (kubeadm puts IP SANs for them)' % (address,))
        if ip not in result:
            result.append(ip)
    return result


def expected_apiserver_sans(node_name, addresses, service_cidr=DEFAULT_SERVICE_CIDR,
                            dns_domain=DEFAULT_DNS_DOMAIN, control_plane_endpoint=None, extra_sans=None):
    """kubeadm's SANs for apiserver.crt (certs.GetAPIServerAltNames)."""
    dns = [node_name] + list(KUBERNETES_SERVICE_NAMES)
    dns.append('kubernetes.default.svc.' + (dns_domain or DEFAULT_DNS_DOMAIN).strip('.'))
    ips = [first_service_ip(service_cidr or DEFAULT_SERVICE_CIDR)] + list(check_addresses(addresses))
    if control_plane_endpoint:
        host = endpoint_host(control_plane_endpoint)
        if normalize_ip(host):
            ips.append(normalize_ip(host))
        else:
            dns.append(host)
    extra_dns, extra_ips = split_sans(extra_sans)
    return _sans(dns + extra_dns, ips + extra_ips)


def expected_etcd_sans(node_name, addresses, extra_sans=None):
    """kubeadm's SANs for etcd/server.crt and etcd/peer.crt (certs.GetEtcdAltNames / GetEtcdPeerAltNames)."""
    extra_dns, extra_ips = split_sans(extra_sans)
    dns = [node_name] + list(ETCD_LOCAL_DNS) + extra_dns
    ips = list(check_addresses(addresses)) + list(ETCD_LOCAL_IPS) + extra_ips
    return _sans(dns, ips)


def compare_sans(actual, expected, other_nodes=None):
    """What a certificate's SANs lack and which of them name another control-plane node.

    `actual` and `expected` are {'dns': [...], 'ip': [...]}; `other_nodes` a list of
    {'name': ..., 'addresses': [...]}. DNS names compare without letter case. A SAN that is
    expected for this node is never foreign, even when another node claims it too (a shared
    control-plane endpoint, say).
    Returns {'missing': {'dns', 'ip'}, 'foreign': {'dns', 'ip'}} with the names as written.
    """
    have_dns = set(normalize_dns(name) for name in actual.get('dns', []))
    have_ips = set(normalize_ip(ip) or ip for ip in actual.get('ip', []))
    want_dns = set(normalize_dns(name) for name in expected.get('dns', []))
    want_ips = set(normalize_ip(ip) or ip for ip in expected.get('ip', []))
    other_dns, other_ips = set(), set()
    for node in other_nodes or []:
        if node.get('name'):
            other_dns.add(normalize_dns(node['name']))
        for address in node.get('addresses') or []:
            other_ips.add(normalize_ip(address) or address)
    return {
        'missing': {
            'dns': [name for name in expected.get('dns', []) if normalize_dns(name) not in have_dns],
            'ip': [ip for ip in expected.get('ip', []) if (normalize_ip(ip) or ip) not in have_ips],
        },
        'foreign': {
            'dns': [name for name in actual.get('dns', [])
                    if normalize_dns(name) in other_dns and normalize_dns(name) not in want_dns],
            'ip': [ip for ip in actual.get('ip', [])
                   if (normalize_ip(ip) or ip) in other_ips and (normalize_ip(ip) or ip) not in want_ips],
        },
    }


def _go_int(value):
    """Go's int(float): truncation toward zero."""
    return int(value)


def residual_seconds(not_after, now):
    """Whole seconds from `now` to `not_after` (negative once expired), truncated toward zero
    like kubeadm's int64(time.Until(notAfter) / time.Second)."""
    delta = not_after - now
    microseconds = (delta.days * SECONDS_PER_DAY + delta.seconds) * 1000000 + delta.microseconds
    seconds = abs(microseconds) // 1000000
    return seconds if microseconds >= 0 else -seconds


def days_left(not_after, now):
    """Whole days left, as kubeadm's residual time shows them ('364d'): truncated toward zero.

    A certificate with 23 hours left has 0 days left; one expired 23 hours ago has 0 too
    (its expiry is reported separately); one expired 2.5 days ago has -2.
    """
    seconds = residual_seconds(not_after, now)
    days = abs(seconds) // SECONDS_PER_DAY
    return days if seconds >= 0 else -days


def residual_time(not_after, now):
    """kubeadm's RESIDUAL TIME text (apimachinery duration.ShortHumanDuration of the residual seconds)."""
    seconds = residual_seconds(not_after, now)
    if seconds < -1:
        return '<invalid>'
    if seconds < 0:
        return '0s'
    if seconds < 60:
        return '%ds' % seconds
    minutes = seconds // 60
    if minutes < 60:
        return '%dm' % minutes
    hours = seconds // 3600
    if hours < 24:
        return '%dh' % hours
    if hours < 24 * 365:
        return '%dd' % (hours // 24)
    return '%dy' % _go_int(seconds / 3600.0 / 24 / 365)
