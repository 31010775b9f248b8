# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The certificates of a kubeadm control-plane node checked against that node: every file
kubeadm writes (and which CA signs it), the serving certificates' SANs against the node's
identity, expiry against a threshold, chain and key pairing. `check_node_certificates` returns
one entry per file with a `problems` list; nothing is changed on disk.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os

from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.load import (
    CertFileError,
    certificate_facts,
    describe_public_key,
    kubeconfig_credentials,
    key_matches_certificate,
    load_certificate,
    load_private_key,
    load_public_key,
    not_after,
    not_before,
    read_bytes,
    same_public_key,
    signature_check,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.rules import (
    DEFAULT_DNS_DOMAIN,
    DEFAULT_SERVICE_CIDR,
    SanRuleError,
    check_addresses,
    compare_sans,
    days_left,
    expected_apiserver_sans,
    expected_etcd_sans,
    residual_time,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    DEFAULT_KUBERNETES_DIR,
    KubeadmNode,
    ManifestError,
)

DEFAULT_MIN_DAYS_VALID = 30

CA_CERTIFICATES = (
    # (kubeadm name, certificate under pki/, key under pki/)
    ('ca', 'ca.crt', 'ca.key'),
    ('etcd-ca', 'etcd/ca.crt', 'etcd/ca.key'),
    ('front-proxy-ca', 'front-proxy-ca.crt', 'front-proxy-ca.key'),
)

LEAF_CERTIFICATES = (
    # (kubeadm name, kind, certificate under pki/, key under pki/, signing CA, SAN rule)
    ('apiserver', 'serving', 'apiserver.crt', 'apiserver.key', 'ca', 'apiserver'),
    ('apiserver-kubelet-client', 'client', 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key', 'ca', None),
    ('apiserver-etcd-client', 'client', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'etcd-ca', None),
    ('front-proxy-client', 'client', 'front-proxy-client.crt', 'front-proxy-client.key', 'front-proxy-ca', None),
    ('etcd-server', 'serving', 'etcd/server.crt', 'etcd/server.key', 'etcd-ca', 'etcd'),
    ('etcd-peer', 'serving', 'etcd/peer.crt', 'etcd/peer.key', 'etcd-ca', 'etcd'),
    ('etcd-healthcheck-client', 'client', 'etcd/healthcheck-client.crt', 'etcd/healthcheck-client.key', 'etcd-ca',
     None),
)

KUBECONFIGS = (
    # (file under kubernetes_dir, required): super-admin.conf exists from kubeadm 1.29 on;
    # kubelet.conf is the kubelet's, checked when present.
    ('admin.conf', True),
    ('super-admin.conf', False),
    ('controller-manager.conf', True),
    ('scheduler.conf', True),
    ('kubelet.conf', False),
)

SERVICE_ACCOUNT_KEYS = ('sa.key', 'sa.pub')

# How the one problem of a certificate that is valid but has fewer than min_days_valid days left begins:
# the report lists those apart (`expiring`), since renewing fixes them and nothing else does the rest.
EXPIRES_SOON = 'expires in '
# How the problem of a certificate past its notAfter begins: renewing fixes that one too (`expired`).
EXPIRED = 'expired on '

REGENERATE_HINT = {
    'apiserver': 'kubeadm init phase certs apiserver',
    'etcd-server': 'kubeadm init phase certs etcd-server',
    'etcd-peer': 'kubeadm init phase certs etcd-peer',
}


def unreadable_files(kubernetes_dir=DEFAULT_KUBERNETES_DIR, manifests_dir=None):
    """The files this check reads that exist but that the user it runs as may not open (permission denied): a run
    without become, since kubeadm keeps keys, kubeconfigs and manifests readable by root only. Opens each file and
    reads nothing from it. An unreadable directory counts as one entry."""
    node = KubeadmNode(kubernetes_dir, manifests_dir)
    paths = []
    for directory in (node.manifests_dir, node.default_stash_dir):
        try:
            names = sorted(os.listdir(directory))
        except PermissionError:
            paths.append(directory)
            continue
        except (IOError, OSError):
            continue
        paths.extend(os.path.join(directory, name) for name in names if name.endswith(('.yaml', '.yml')))
    for _name, cert_file, key_file in CA_CERTIFICATES:
        paths.extend(os.path.join(node.pki_dir, name) for name in (cert_file, key_file))
    for leaf in LEAF_CERTIFICATES:
        paths.extend(os.path.join(node.pki_dir, name) for name in leaf[2:4])
    paths.extend(os.path.join(node.kubernetes_dir, filename) for filename, _required in KUBECONFIGS)
    paths.extend(os.path.join(node.pki_dir, name) for name in SERVICE_ACCOUNT_KEYS)
    unreadable = []
    for path in paths:
        if os.path.isdir(path):
            unreadable.append(path)  # listed above as unreadable
            continue
        try:
            with open(path, 'rb'):
                pass
        except PermissionError:
            unreadable.append(path)
        except (IOError, OSError):
            pass  # missing or otherwise broken: the check itself reports it
    return unreadable


def not_readable_message(kubernetes_dir, unreadable, user, become_advice, shown=3):
    """What a check that may not read the node's files says: who, how many and which (a few), and become."""
    listed = ', '.join(unreadable[:shown]) + (' and %d more' % (len(unreadable) - shown) if len(unreadable) > shown else '')
    return ('cannot check the certificates under %s: the remote user %s may not read %d of the files the check reads '
            '(%s). %s' % (kubernetes_dir, user, len(unreadable), listed, become_advice))


class IdentityError(ValueError):
    """This node's name or addresses are unknown or unusable: the SAN check cannot run."""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def identity_conflicts(name, addresses, peers, other_nodes):
    """Why this node's `name` or `addresses` (given, or read from its manifests) belong to another node;
    [] when none. Pure.

    `peers` are the other members of this node's etcd --initial-cluster ({name, addresses}, the hosts of
    their peer URLs): etcd's own record of who the other nodes are; neither their names nor their
    addresses are this node's. `other_nodes` are the ones the caller gave; one with this node's name is
    this node listed among all control-plane nodes (an inventory group) unless none of its addresses is
    this node's. Reissuing certificates for another node's name
    or address would let this node pass for it."""
    problems = []
    own = name.lower()
    for peer in peers:
        peer_name = peer.get('name') or ''
        taken = [ip for ip in addresses if ip in (peer.get('addresses') or [])]
        if peer_name.lower() == own:
            problems.append("node_name %s belongs to another node: this node's etcd manifest lists %s as another "
                            'member of --initial-cluster' % (name, peer_name))
        elif taken:
            problems.append("address %s belongs to %s, another member of --initial-cluster in this node's etcd "
                            'manifest (its peer URL)' % (', '.join(taken), peer_name))
    # An address of this node among another entry's is no conflict: other_nodes may list a shared address (a
    # VIP) for several nodes. A peer URL is one member's own, so its host is checked above.
    for other in other_nodes:
        other_name = other.get('name') or ''
        other_addresses = other.get('addresses') or []
        if other_name.lower() == own and other_addresses and not [ip for ip in addresses if ip in other_addresses]:
            problems.append('node_name %s belongs to another node: other_nodes gives %s the addresses %s, none '
                            'of which is this node\'s (%s)' % (name, other_name, ', '.join(other_addresses),
                                                               ', '.join(addresses)))
    return problems


def node_identity(kubernetes_dir=DEFAULT_KUBERNETES_DIR, manifests_dir=None, node_name=None, advertise_addresses=None,
                  service_cidr=None, dns_domain=None, other_nodes=None):
    """Who this node is and what its certificates must name.

    Given values win; the rest comes from the node's own static pod manifests (in the manifests
    directory, or in the stash directory when the pods are stopped), read by KubeadmNode.identity;
    the other members of etcd's --initial-cluster are added to the other nodes given.
    """
    node = KubeadmNode(kubernetes_dir, manifests_dir)
    stash = [] if manifests_dir else [node.default_stash_dir]
    searched = ' or '.join([node.manifests_dir] + stash)
    try:
        found = node.identity(also_in=stash)
    except ManifestError as exc:
        raise IdentityError('cannot read this node\'s identity from its manifests: %s; give node_name and '
                            'advertise_addresses' % exc)
    found_name, found_addresses, others = found['node_name'], found['addresses'], found['peers']
    sources = found['manifests']
    service_cidr = service_cidr or found['service_cidr']
    dns_domain = dns_domain or found['dns_domain']

    name = node_name or found_name
    if not name:
        raise IdentityError('cannot tell this node\'s name: no etcd manifest with --name in %s; give node_name'
                            % searched)
    try:
        addresses = check_addresses(advertise_addresses or found_addresses)
    except SanRuleError as exc:
        raise IdentityError(str(exc))
    if not addresses:
        raise IdentityError('cannot tell this node\'s advertise address: no kube-apiserver --advertise-address or '
                            'etcd URLs in %s; give advertise_addresses' % searched)
    checked = []
    for other in list(other_nodes or []) + others:
        try:
            checked.append({'name': other.get('name'), 'addresses': check_addresses(other.get('addresses') or [])})
        except SanRuleError as exc:
            raise IdentityError('other_nodes entry %s: %s' % (other.get('name'), exc))
    conflicts = identity_conflicts(name, addresses, checked[len(other_nodes or []):], checked[:len(other_nodes or [])])
    if conflicts:
        raise IdentityError('refusing an identity that belongs to another node (this node: %s at %s, from %s): %s'
                            % (name, ', '.join(addresses), ', '.join(sources) or 'the options given',
                               '; '.join(conflicts)))
    merged_others = []
    for other in checked:
        other_name, other_addresses = other['name'], other['addresses']
        if other_name and other_name.lower() == name.lower():
            continue  # this node listed among all control-plane nodes (an inventory group) is fine
        other_addresses = [ip for ip in other_addresses if ip not in addresses]
        existing = [item for item in merged_others if item['name'] and other_name
                    and item['name'].lower() == other_name.lower()]
        if existing:
            existing[0]['addresses'].extend(ip for ip in other_addresses if ip not in existing[0]['addresses'])
        else:
            merged_others.append({'name': other_name, 'addresses': other_addresses})
    return {
        'node_name': name,
        'addresses': addresses,
        'service_cidr': service_cidr or DEFAULT_SERVICE_CIDR,
        'dns_domain': dns_domain or DEFAULT_DNS_DOMAIN,
        'other_nodes': merged_others,
        'manifests': sources,
    }


def expected_sans(rule, identity, control_plane_endpoint=None, extra_sans=None):
    if rule == 'apiserver':
        return expected_apiserver_sans(identity['node_name'], identity['addresses'], identity['service_cidr'],
                                       identity['dns_domain'], control_plane_endpoint, extra_sans)
    return expected_etcd_sans(identity['node_name'], identity['addresses'])


def _entry(name, kind, path, ca=None, key_path=None):
    return {
        'name': name, 'kind': kind, 'path': path, 'ca': ca, 'key_path': key_path, 'present': False,
        'encoding': None, 'subject': None, 'issuer': None, 'serial': None, 'sans': {'dns': [], 'ip': []},
        'not_before': None, 'not_after': None, 'days_left': None, 'residual_time': None, 'is_ca': None,
        'public_key': None, 'expires_soon': False, 'problems': [],
    }


def _describe_expiry(entry, cert, now, min_days_valid):
    start, end = not_before(cert), not_after(cert)
    entry['days_left'] = days_left(end, now)
    entry['residual_time'] = residual_time(end, now)
    if end <= now:
        entry['problems'].append('%s%s' % (EXPIRED, entry['not_after']))
    elif start > now:
        entry['problems'].append('not valid yet: valid from %s' % entry['not_before'])
    elif entry['days_left'] < min_days_valid:
        entry['expires_soon'] = True
        entry['problems'].append('%s%d days on %s (less than min_days_valid %d)'
                                 % (EXPIRES_SOON, entry['days_left'], entry['not_after'], min_days_valid))


def _inspect_certificate(entry, data, now, min_days_valid):
    """Fill the entry from certificate bytes; returns the certificate or None."""
    try:
        cert, encoding = load_certificate(data)
    except CertFileError as exc:
        entry['problems'].append(str(exc))
        return None
    entry['present'] = True
    entry['encoding'] = encoding
    entry.update(certificate_facts(cert))
    if encoding != 'PEM':
        entry['problems'].append('is %s-encoded: kubeadm and the control-plane components read PEM only' % encoding)
    _describe_expiry(entry, cert, now, min_days_valid)
    return cert


def _check_key(entry, cert, key_data, key_label, required=True):
    if key_data is None:
        if required:
            entry['problems'].append('key %s is missing' % key_label)
        return
    try:
        # Only its public half is compared with the certificate (see load_private_key).
        key = load_private_key(key_data, public_half_only=True)
    except CertFileError as exc:
        entry['problems'].append('key %s %s' % (key_label, exc))
        return
    if not key_matches_certificate(key, cert):
        entry['problems'].append('key %s does not match the certificate (its public key differs)' % key_label)


def _read_optional(path):
    try:
        return read_bytes(path)
    except CertFileError as exc:
        if str(exc) == 'missing':
            return None
        raise


def _check_chain(entry, cert, ca_name, cas):
    ca_cert = cas.get(ca_name)
    if ca_cert is None:
        entry['problems'].append('cannot verify the chain: its CA %s could not be loaded' % ca_name)
        return
    reason = signature_check(cert, ca_cert)
    if reason:
        entry['problems'].append('not signed by %s: %s' % (ca_name, reason))


def _check_sans(entry, rule, identity, control_plane_endpoint, extra_sans):
    expected = expected_sans(rule, identity, control_plane_endpoint, extra_sans)
    comparison = compare_sans(entry['sans'], expected, identity['other_nodes'])
    entry['expected_sans'] = expected
    entry['missing_sans'] = comparison['missing']
    entry['foreign_sans'] = comparison['foreign']
    missing = ['DNS:%s' % name for name in comparison['missing']['dns']] + [
        'IP:%s' % ip for ip in comparison['missing']['ip']]
    foreign = ['DNS:%s' % name for name in comparison['foreign']['dns']] + [
        'IP:%s' % ip for ip in comparison['foreign']['ip']]
    if missing:
        entry['problems'].append('SANs missing for this node (%s): %s' % (identity['node_name'], ', '.join(missing)))
    if foreign:
        entry['problems'].append('SANs of another control-plane node: %s' % ', '.join(foreign))


def _check_pki_file(entry, key_path, ca_name, cas, now, min_days_valid, key_required=True):
    try:
        data = read_bytes(entry['path'])
    except CertFileError as exc:
        entry['problems'].append(str(exc))
        return None
    cert = _inspect_certificate(entry, data, now, min_days_valid)
    if cert is None:
        return None
    try:
        key_data = _read_optional(key_path)
    except CertFileError as exc:
        entry['problems'].append('key %s %s' % (key_path, exc))
    else:
        entry['key_present'] = key_data is not None
        _check_key(entry, cert, key_data, key_path, required=key_required)
    if ca_name:
        _check_chain(entry, cert, ca_name, cas)
    return cert


def _check_kubeconfig(entry, kubernetes_dir, cas, now, min_days_valid):
    try:
        credentials = kubeconfig_credentials(entry['path'], kubernetes_dir)
    except CertFileError as exc:
        entry['problems'].append(str(exc))
        return
    entry['user'] = credentials['user']
    entry['cert_source'] = credentials['cert_source']
    entry['key_path'] = credentials['key_source']
    cert = _inspect_certificate(entry, credentials['cert_data'], now, min_days_valid)
    if cert is None:
        return
    label = 'client-key-data' if credentials['key_source'] == 'embedded' else credentials['key_source']
    _check_key(entry, cert, credentials['key_data'], label)
    _check_chain(entry, cert, 'ca', cas)


def _check_service_account_keys(node):
    """sa.key signs service-account tokens, sa.pub verifies them: they must be one pair."""
    key_path, pub_path = [os.path.join(node.pki_dir, name) for name in SERVICE_ACCOUNT_KEYS]
    entry = _entry('sa', 'service-account-keys', pub_path, key_path=key_path)
    try:
        private_key = load_private_key(read_bytes(key_path), public_half_only=True)
    except CertFileError as exc:
        entry['problems'].append('key %s %s' % (key_path, exc))
        return entry
    try:
        public_key = load_public_key(read_bytes(pub_path))
    except CertFileError as exc:
        entry['problems'].append(str(exc))
        return entry
    entry['present'] = True
    entry['key_present'] = True
    entry['public_key'] = describe_public_key(public_key)
    if not same_public_key(private_key.public_key(), public_key):
        entry['problems'].append('does not match %s: service-account tokens would not verify' % key_path)
    return entry


def check_node_certificates(kubernetes_dir=DEFAULT_KUBERNETES_DIR, identity=None, min_days_valid=DEFAULT_MIN_DAYS_VALID,
                            control_plane_endpoint=None, extra_sans=None, now=None):
    """Check every kubeadm certificate of the node under `kubernetes_dir`.

    `identity` comes from node_identity(). Returns {'certificates': [entry...], 'problems': [...],
    'expiring': [...], 'expired': [...], 'unfit': [...], 'ok': bool}; every entry has `problems` (list of
    text) and `ok`. `problems` holds every problem as `<path>: <problem>`; `expiring` those of certificates
    that are valid but expire within `min_days_valid` days ({name, path, days_left, problem}), `unfit` the
    rest; `expired` ({name, path, days_left, problem}) the expiries among `unfit` (renewing fixes those).
    """
    now = now or utc_now()
    node = KubeadmNode(kubernetes_dir)
    expected_sans('apiserver', identity, control_plane_endpoint, extra_sans)  # bad options fail before any check
    entries = []
    cas = {}
    for name, cert_file, key_file in CA_CERTIFICATES:
        entry = _entry(name, 'ca', os.path.join(node.pki_dir, cert_file), key_path=os.path.join(node.pki_dir, key_file))
        # A CA without its key on the node is kubeadm's external-CA mode, not a fault.
        cert = _check_pki_file(entry, entry['key_path'], None, cas, now, min_days_valid, key_required=False)
        if cert is not None:
            cas[name] = cert
            reason = signature_check(cert, cert)
            if entry['is_ca'] is False:
                entry['problems'].append('is not a CA certificate (no basicConstraints CA:TRUE)')
            elif reason and cert.issuer == cert.subject:
                entry['problems'].append('self-signed signature does not verify: %s' % reason)
        entries.append(entry)
    for name, kind, cert_file, key_file, ca_name, rule in LEAF_CERTIFICATES:
        entry = _entry(name, kind, os.path.join(node.pki_dir, cert_file), ca_name, os.path.join(node.pki_dir, key_file))
        cert = _check_pki_file(entry, entry['key_path'], ca_name, cas, now, min_days_valid)
        if rule:
            entry.update({'expected_sans': None, 'missing_sans': None, 'foreign_sans': None})
            if cert is not None:
                _check_sans(entry, rule, identity, control_plane_endpoint, extra_sans)
        entries.append(entry)
    for filename, required in KUBECONFIGS:
        path = os.path.join(node.kubernetes_dir, filename)
        if not required and not os.path.exists(path):
            continue
        entry = _entry(filename, 'kubeconfig', path, 'ca')
        entry.update({'user': None, 'cert_source': None})
        _check_kubeconfig(entry, node.kubernetes_dir, cas, now, min_days_valid)
        entries.append(entry)
    entries.append(_check_service_account_keys(node))

    problems, expiring, expired, unfit = [], [], [], []
    for entry in entries:
        entry['ok'] = not entry['problems']
        hint = REGENERATE_HINT.get(entry['name'])
        if hint and entry.get('missing_sans') and (entry['missing_sans']['dns'] or entry['missing_sans']['ip']
                                                   or entry['foreign_sans']['dns'] or entry['foreign_sans']['ip']):
            entry['problems'].append('regenerate it on this node: move %s and its key away, then run `%s` '
                                     '(kubeadm certs renew keeps the old SANs)' % (entry['path'], hint))
        for problem in entry['problems']:
            line = '%s: %s' % (entry['path'], problem)
            problems.append(line)
            if entry['expires_soon'] and problem.startswith(EXPIRES_SOON):
                expiring.append({'name': entry['name'], 'path': entry['path'], 'days_left': entry['days_left'],
                                 'problem': line})
            else:
                unfit.append(line)
                if problem.startswith(EXPIRED):
                    expired.append({'name': entry['name'], 'path': entry['path'], 'days_left': entry['days_left'],
                                    'problem': line})
    return {'certificates': entries, 'problems': problems, 'expiring': expiring, 'expired': expired, 'unfit': unfit,
            'ok': not problems}


def summary_message(report, identity, kubernetes_dir):
    if report['ok']:
        return 'all %d kubeadm certificate files under %s are valid for node %s' % (
            len(report['certificates']), kubernetes_dir, identity['node_name'])
    bad = [entry for entry in report['certificates'] if entry['problems']]
    return '%d of %d certificate files under %s have problems for node %s (%s): %s' % (
        len(bad), len(report['certificates']), kubernetes_dir, identity['node_name'],
        ', '.join(identity['addresses']), '; '.join(report['problems']))
