# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

A kubeadm control-plane node as it lies on disk: where its files are, what its static pod
manifests say (command-line flags) and who the node is (node
name, advertise addresses), read from the manifests kubeadm wrote.

Every absolute path kubeadm writes starts with /etc/kubernetes. `kubernetes_dir` re-roots
those paths, so that the same code serves a real node and the lab, where each node lives in
its own directory.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.yaml_subset import (
    YamlSubsetError,
    load_yaml,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the import sanity test
    from urlparse import urlsplit

DEFAULT_KUBERNETES_DIR = '/etc/kubernetes'
COMPONENTS = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')
# etcd first: each kube-apiserver reads only from its local etcd.
START_ORDER = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')
# The apiserver first, so clients and load balancers move to other apiservers before etcd goes.
STOP_ORDER = ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd')
STASH_DIR_NAME = 'manifests-stash'
# kubeadm sets --service-account-issuer=https://kubernetes.default.svc.<dnsDomain>
_ISSUER_DOMAIN_RE = re.compile(r'^https://kubernetes\.default\.svc\.(.+?)\.?$')


class ManifestError(Exception):
    """A static pod manifest is missing, unreadable, not YAML or not a Pod. The message names the file."""


def reroot(path, kubernetes_dir=DEFAULT_KUBERNETES_DIR, relative_to=None):
    """Map a path kubeadm wrote (in a manifest or a kubeconfig) onto the node under `kubernetes_dir`.

    /etc/kubernetes/... follows `kubernetes_dir`; other absolute paths (etcd's /var/lib/etcd,
    kubelet.conf's /var/lib/kubelet/pki/...) follow the node root when `kubernetes_dir` is
    <root>/etc/kubernetes, and stay as they are otherwise; a relative path is taken relative to
    `relative_to` (a kubeconfig's directory, as kubectl reads it) and kept relative without it.
    """
    if not path:
        return path
    if not os.path.isabs(path):
        return os.path.normpath(os.path.join(relative_to, path)) if relative_to else path
    default = DEFAULT_KUBERNETES_DIR
    normalized_dir = os.path.normpath(kubernetes_dir or default)
    if normalized_dir == default:
        return path
    if path == default:
        return normalized_dir
    if path.startswith(default + '/'):
        return os.path.join(normalized_dir, path[len(default) + 1:])
    suffix = default  # '/etc/kubernetes': a node root below which the whole filesystem is mirrored
    if normalized_dir.endswith(suffix):
        return normalized_dir[:-len(suffix)] + path
    return path


DEFAULT_SNAPSHOT_DIR = '/var/lib/etcd-snapshots'


def default_snapshot_dir(kubernetes_dir=DEFAULT_KUBERNETES_DIR):
    """Where etcd snapshots go by default: /var/lib/etcd-snapshots on the node whose kubeadm
    directory is `kubernetes_dir` (under the same root for a lab's <root>/etc/kubernetes)."""
    return reroot(DEFAULT_SNAPSHOT_DIR, kubernetes_dir)


def split_urls(value):
    """'https://a:2379,https://b:2379' -> list of URLs, empty items dropped."""
    if not value:
        return []
    return [item.strip() for item in value.split(',') if item.strip()]


def url_host(url):
    """Host of a URL without brackets ('https://[::1]:2379' -> '::1'); None when it has none."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def parse_flags(command):
    """`--name=value` and `--switch` arguments as a dict; a repeated flag keeps its last value."""
    flags = {}
    for argument in command or []:
        if not isinstance(argument, str) or not argument.startswith('--'):
            continue
        name, sep, value = argument[2:].partition('=')
        flags[name] = value if sep else 'true'
    return flags


class StaticPod:
    """One static pod manifest, parsed; the first container is the component."""

    def __init__(self, data, path):
        self.path = path
        if not isinstance(data, dict):
            raise ManifestError('%s is not a Kubernetes object (expected a mapping at the top level)' % path)
        if data.get('kind') != 'Pod':
            raise ManifestError('%s is not a Pod manifest (kind: %r)' % (path, data.get('kind')))
        spec = data.get('spec')
        containers = spec.get('containers') if isinstance(spec, dict) else None
        if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
            raise ManifestError('%s has no spec.containers' % path)
        self.data = data
        self.spec = spec
        self.container = containers[0]
        command = list(self.container.get('command') or []) + list(self.container.get('args') or [])
        if not command or not all(isinstance(item, str) for item in command):
            raise ManifestError('%s: the first container has no command (list of strings)' % path)
        self.command = command
        self.flags = parse_flags(command[1:])

    @classmethod
    def from_file(cls, path):
        try:
            with open(path, 'rb') as handle:
                raw = handle.read()
        except (IOError, OSError) as exc:
            raise ManifestError('cannot read %s: %s' % (path, exc.strerror or exc))
        return cls.from_text(raw, path)

    @classmethod
    def from_text(cls, raw, path):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode('utf-8')
            except UnicodeDecodeError:
                raise ManifestError('%s is not UTF-8 text' % path)
        try:
            data = load_yaml(raw)
        except YamlSubsetError as exc:
            raise ManifestError('%s is not valid YAML: %s' % (path, exc))
        return cls(data, path)

    @property
    def metadata(self):
        metadata = self.data.get('metadata')
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self):
        return self.metadata.get('name')

    @property
    def component(self):
        """The `component` label kubeadm sets (etcd, kube-apiserver, ...), else the pod name."""
        labels = self.metadata.get('labels')
        if isinstance(labels, dict) and labels.get('component'):
            return labels['component']
        return self.name

    def flag(self, name, default=None):
        return self.flags.get(name, default)


def is_within(path, directory):
    """Whether `path` is `directory` or below it, symlinks and `..` resolved (of the parts that exist)."""
    path = os.path.realpath(path)
    directory = os.path.realpath(directory)
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def kubeadm_dir_problem(option, path, kubernetes_dir=DEFAULT_KUBERNETES_DIR, manifests_dir=None):
    """Why `path` (the value of `option`) must not be used: it is, or is inside, the kubelet's manifests
    directory or kubeadm's pki directory of the node under `kubernetes_dir`, symlinks and `..` resolved.
    The kubelet runs every file of the manifests directory, and pki holds the node's keys; neither is a
    place for what this collection writes. None when `path` is elsewhere."""
    node = KubeadmNode(kubernetes_dir, manifests_dir=manifests_dir)
    for directory, what in ((node.manifests_dir, 'the manifests directory (the kubelet runs every file in it)'),
                            (node.pki_dir, "kubeadm's pki directory (the node's certificates and keys)")):
        if is_within(path, directory):
            resolved = os.path.realpath(path)
            return '%s %s is inside %s %s%s; choose a directory outside %s' % (
                option, path, what, directory, '' if resolved == os.path.normpath(path) else ' (it resolves to %s)'
                % resolved, directory)
    return None


class KubeadmNode:
    """The files of one kubeadm control-plane node under `kubernetes_dir`."""

    def __init__(self, kubernetes_dir=DEFAULT_KUBERNETES_DIR, manifests_dir=None):
        self.kubernetes_dir = os.path.normpath(kubernetes_dir or DEFAULT_KUBERNETES_DIR)
        self.manifests_dir = manifests_dir or os.path.join(self.kubernetes_dir, 'manifests')
        self.pki_dir = os.path.join(self.kubernetes_dir, 'pki')
        self.etcd_pki_dir = os.path.join(self.pki_dir, 'etcd')
        self.default_stash_dir = os.path.join(self.kubernetes_dir, STASH_DIR_NAME)

    def path(self, kubeadm_path):
        """A path as kubeadm writes it (/etc/kubernetes/...) mapped onto this node."""
        return reroot(kubeadm_path, self.kubernetes_dir)

    def manifest_path(self, component):
        return os.path.join(self.manifests_dir, component + '.yaml')

    def read_manifest(self, component, path=None):
        path = path or self.manifest_path(component)
        if not os.path.exists(path):
            raise ManifestError('%s not found: no %s static pod manifest on this node' % (path, component))
        return StaticPod.from_file(path)

    def etcd_client_urls(self, pod=None):
        """The client URLs this node's etcd advertises (--advertise-client-urls)."""
        pod = pod or self.read_manifest('etcd')
        urls = split_urls(pod.flag('advertise-client-urls'))
        if not urls:
            raise ManifestError('%s has no --advertise-client-urls' % pod.path)
        return urls

    def identity(self, also_in=()):
        """Who this node is, as its own manifests say; the first of the manifests directory and the
        directories in `also_in` (the stash, where the manifests are while the pods are stopped)
        that holds a component's manifest is read.

        Returns `node_name` (etcd's --name, which kubeadm sets to the node name), `addresses`
        (kube-apiserver's --advertise-address, then the hosts of etcd's advertised client and peer
        URLs), `peers` (the other members of etcd's --initial-cluster, {name, addresses}),
        `service_cidr` (--service-cluster-ip-range), `dns_domain` (from --service-account-issuer)
        and `manifests` (the files read). Unknown facts are None or empty. Raises ManifestError
        when a manifest exists but cannot be read.
        """
        directories = [self.manifests_dir] + list(also_in)
        found = {}
        for component in ('etcd', 'kube-apiserver'):
            for directory in directories:
                path = os.path.join(directory, component + '.yaml')
                if os.path.exists(path):
                    found[component] = self.read_manifest(component, path)
                    break
        identity = {'node_name': None, 'addresses': [], 'peers': [], 'service_cidr': None, 'dns_domain': None,
                    'manifests': []}
        etcd = found.get('etcd')
        if etcd is not None:
            identity['manifests'].append(etcd.path)
            identity['node_name'] = etcd.flag('name')
            for flag in ('advertise-client-urls', 'initial-advertise-peer-urls'):
                for url in split_urls(etcd.flag(flag)):
                    host = url_host(url)
                    if host and host not in identity['addresses']:
                        identity['addresses'].append(host)
            for member in split_urls(etcd.flag('initial-cluster')):
                name, _sep, url = member.partition('=')
                if name and name != identity['node_name']:
                    identity['peers'].append({'name': name, 'addresses': [url_host(url)] if url_host(url) else []})
        apiserver = found.get('kube-apiserver')
        if apiserver is not None:
            identity['manifests'].append(apiserver.path)
            address = apiserver.flag('advertise-address')
            if address:
                identity['addresses'] = [address] + [item for item in identity['addresses'] if item != address]
            identity['service_cidr'] = apiserver.flag('service-cluster-ip-range')
            issuer = _ISSUER_DOMAIN_RE.match(apiserver.flag('service-account-issuer') or '')
            identity['dns_domain'] = issuer.group(1) if issuer else None
        return identity
