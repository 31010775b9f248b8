# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Has a control-plane component really stopped or really started? Everything is read from the
component's own static pod manifest (its flags), the way the kubelet's probes would.

- Stopped: every one of the component's ports refuses TCP connections (a connect that hangs
  means something still holds the port, so it does not count as stopped).
- Started:
  * etcd: the same meaning of "healthy" as etcd_member_info, through the same gateway client
    (`_etcd/client.EtcdClient`): a linearizable read through its first advertised client URL
    succeeds (only a member of a cluster with quorum can serve one), and the member list, read
    through that same member, lists it under its `--name` as a voting member. Client cert, key
    and CA are the ones in etcd's flags (`--cert-file`, `--key-file`, `--trusted-ca-file`), as
    the runbook's etcdctl calls use them; TLS is verified.
  * kube-apiserver: `GET /readyz` on `--bind-address` (when not a wildcard, else
    `--advertise-address`):`--secure-port` answers 200, verified against the cluster CA
    (`pki/ca.crt`).
  * kube-controller-manager / kube-scheduler: `GET /healthz` on `--bind-address`:`--secure-port`
    (defaults 10257 / 10259) answers 200. TLS choice: with `--tls-cert-file` the certificate
    in that file is the only trust anchor (the component must present it, or a certificate
    chaining to a CA in that file, valid for the address). Without it (kubeadm's default) the
    component serves a self-signed certificate it generated in memory at start-up: there is
    nothing on disk to verify it against, so a completed TLS handshake plus HTTP 200 is the
    signal, exactly what the kubelet's own HTTPS probe accepts. No credential or secret is
    sent on that unverified connection and nothing it returns is trusted beyond "alive".
- Runs its manifest (after a flag change): a process on the node runs the manifest's command, read
  from /proc/<pid>/cmdline (the kubelet's container runs the command and args as given, so the host
  sees them as the process's arguments): its arguments end with the manifest's flags, one argument
  before them names the component's binary, and it started after the manifest was last written (a
  new image alone leaves the command as it was). Until the kubelet replaced the old container, no
  process runs the new manifest, however healthy the old one is.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import socket
import time

from ansible.module_utils.urls import open_url
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    EtcdClient,
    validate_endpoint,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import EtcdError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    ManifestError,
    split_urls,
    url_host,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.procs import (
    PROC_ROOT,
    process_arguments,
    start_ticks,
    ticks_to_seconds,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the import sanity test
    from urlparse import urlsplit

DEFAULT_SECURE_PORTS = {
    'kube-apiserver': 6443,
    'kube-controller-manager': 10257,
    'kube-scheduler': 10259,
}
WILDCARD_HOSTS = ('', '0.0.0.0', '::', '[::]')
# Short: the kubelet acts on a moved manifest within a fraction of a second. A start probe is one
# small TLS request; a stop probe is one refused connect per port, so it polls faster: a restart of
# etcd moves the manifest back as soon as the old process has let go of its ports.
POLL_INTERVAL = 0.1
STOP_POLL_INTERVAL = 0.05
CLOSED_ERRNOS = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL)
PROBE_TIMEOUT = 5


class WaitTimeout(Exception):
    """The component did not reach the state in time; the message says what was last seen."""


def _local_host(host, fallback='127.0.0.1'):
    if host in WILDCARD_HOSTS or host is None:
        return fallback
    if host == 'localhost':
        return '127.0.0.1'
    return host


def _url_port(url, default):
    try:
        return urlsplit(url).port or default
    except ValueError:
        return default


def _host_for_url(host):
    return '[%s]' % host if ':' in host else host


def _secure_port(component, pod):
    value = pod.flag('secure-port')
    try:
        return int(value) if value is not None else DEFAULT_SECURE_PORTS[component]
    except ValueError:
        return DEFAULT_SECURE_PORTS[component]


def listening_addresses(component, pod):
    """[(host, port)] the component listens on, from its manifest flags (wildcards -> loopback)."""
    addresses = []
    if component == 'etcd':
        groups = (
            ('listen-client-urls', pod.flag('advertise-client-urls') or 'http://127.0.0.1:2379', 2379),
            ('listen-peer-urls', pod.flag('initial-advertise-peer-urls') or 'http://127.0.0.1:2380', 2380),
            ('listen-metrics-urls', '', None),
        )
        for flag, fallback, default_port in groups:
            for url in split_urls(pod.flag(flag) or fallback):
                port = _url_port(url, default_port)
                if port:
                    addresses.append((_local_host(url_host(url)), port))
    else:
        port = _secure_port(component, pod)
        if port:
            fallback = pod.flag('advertise-address') if component == 'kube-apiserver' else None
            addresses.append((_local_host(pod.flag('bind-address'), fallback or '127.0.0.1'), port))
    unique = []
    for address in addresses:
        if address not in unique:
            unique.append(address)
    return unique


def port_closed(host, port, timeout=1.0):
    """True only when the connection is refused (or the address is gone).

    A connect that times out is not "closed": a process that stopped accepting (a full
    backlog, a hung pod) still holds the port, and the next start would collide with it.
    """
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        return False
    except (OSError, socket.error) as exc:
        return getattr(exc, 'errno', None) in CLOSED_ERRNOS
    connection.close()
    return False


class HealthProbe:
    """How to ask one component whether it is up: URL, TLS material and what counts as healthy."""

    def __init__(self, component, pod, node):
        self.component = component
        self.pod = pod
        self.node = node
        self.client_cert = self.client_key = self.ca_path = None
        self.validate_certs = True
        if component == 'etcd':
            urls = split_urls(pod.flag('advertise-client-urls'))
            self.url = (urls[0] if urls else 'https://127.0.0.1:2379').rstrip('/')
            self.ca_path = node.path(pod.flag('trusted-ca-file') or '/etc/kubernetes/pki/etcd/ca.crt')
            self.client_cert = node.path(pod.flag('cert-file') or '/etc/kubernetes/pki/etcd/server.crt')
            self.client_key = node.path(pod.flag('key-file') or '/etc/kubernetes/pki/etcd/server.key')
        elif component == 'kube-apiserver':
            # A specific --bind-address is the only address listening; 0.0.0.0 (kubeadm's) serves
            # the advertise address too, which is what the kubelet's probes use.
            host = _local_host(pod.flag('bind-address'), _local_host(pod.flag('advertise-address')))
            self.url = 'https://%s:%d/readyz' % (_host_for_url(host), _secure_port(component, pod))
            self.ca_path = os.path.join(node.pki_dir, 'ca.crt')
        else:
            host = _local_host(pod.flag('bind-address'))
            self.url = 'https://%s:%d/healthz' % (_host_for_url(host), _secure_port(component, pod))
            tls_cert = pod.flag('tls-cert-file')
            if tls_cert:
                self.ca_path = node.path(tls_cert)
            else:
                # kubeadm default: an in-memory self-signed certificate; see the module docstring.
                self.validate_certs = False

    def expectation(self):
        """What a wait for this component waits for, in words for a timeout message."""
        if self.component == 'etcd':
            return 'etcd at %s to answer a health read and list %s as a voting member' % (
                self.url, self.pod.flag('name') or 'this node')
        return '%s to answer HTTP 200' % self.url

    def check(self, timeout=PROBE_TIMEOUT):
        """(healthy, detail) — never raises for network errors."""
        if self.component == 'etcd':
            return self._check_etcd(timeout)
        try:
            response = open_url(self.url, method='GET', validate_certs=self.validate_certs, ca_path=self.ca_path,
                                use_proxy=False, timeout=timeout, follow_redirects='none')
            status = response.getcode()
        except HTTPError as exc:
            return False, '%s answered HTTP %s' % (self.url, exc.code)
        except (URLError, socket.error, OSError, ValueError) as exc:
            return False, '%s: %s' % (self.url, getattr(exc, 'reason', None) or exc)
        if status != 200:
            return False, '%s answered HTTP %s' % (self.url, status)
        return True, '%s answered 200' % self.url

    def _check_etcd(self, timeout):
        """Healthy as etcd_member_info means it (a linearizable read), and a voting member under its --name."""
        try:
            endpoint = validate_endpoint(self.url)
            client = EtcdClient(self.ca_path, self.client_cert, self.client_key, timeout=timeout)
            client.health_probe(endpoint)
            members = client.member_list(endpoint)['members']
        except EtcdError as exc:
            return False, str(exc)
        name = self.pod.flag('name')
        for member in members:
            if member['name'] == name and not member['is_learner']:
                return True, 'healthy, voting member %s of the cluster' % name
        return False, 'healthy but %s is not (yet) a voting member in the member list' % name


def _same_argument(running, wanted):
    """An argument of a process stands for one of the manifest: equal, or a path flag whose value the
    lab's local kubelet emulator re-rooted (it ends with the manifest's absolute path)."""
    if running == wanted:
        return True
    name, sep, value = wanted.partition('=')
    return bool(sep) and value.startswith('/') and running.startswith(name + '=') and running.endswith(value)


def command_matches(argv, command):
    """Whether a process's `argv` runs a manifest's `command` (command list plus args): its arguments end
    with the command's flags (command[1:]) and an argument before them is the binary, by base name. Pure."""
    binary = os.path.basename(command[0]) if command else ''
    flags = list(command[1:])
    if not binary or len(argv) < len(flags) + 1:
        return False
    tail = argv[len(argv) - len(flags):] if flags else []
    if not all(_same_argument(running, wanted) for running, wanted in zip(tail, flags)):
        return False
    return binary in [os.path.basename(argument) for argument in argv[:len(argv) - len(flags)]]


# A process whose start the clock puts this little before the manifest's write still counts as started after
# it: the start time is read in clock ticks since boot, the write's in seconds since the epoch.
START_TOLERANCE = 0.05


def process_started_at(pid, proc_root=PROC_ROOT):
    """When `pid` started, in seconds since the epoch, to a tick (from the uptime, not the whole-second boot
    time: it is compared with the manifest's write), or None when it is gone."""
    ticks = start_ticks(pid, proc_root)
    try:
        with open(os.path.join(proc_root, 'uptime')) as handle:
            uptime = float(handle.read().split()[0])
    except (IOError, OSError, IndexError, ValueError):
        return None
    return None if ticks is None else time.time() - uptime + ticks_to_seconds(ticks)


def runs_manifest(pod, proc_root=PROC_ROOT, since=None):
    """(True, pid) when a process on this node runs `pod`'s command (command_matches), and started at `since`
    (seconds since the epoch: the manifest's write) or later when given, else (False, None). The start counts
    because a change of the image alone leaves the command as it was: only a process started after the write
    runs the new manifest."""
    for pid, argv in sorted(process_arguments(proc_root).items()):
        if not command_matches(argv, pod.command):
            continue
        started = process_started_at(pid, proc_root) if since is not None else None
        if since is None or (started is not None and started >= since - START_TOLERANCE):
            return True, pid
    return False, None


def wait_runs_healthy(component, pod, node, timeout, interval=POLL_INTERVAL, proc_root=PROC_ROOT):
    """Wait until a process runs exactly this manifest's command (the kubelet replaced the old container)
    and the component answers healthy. Returns seconds waited; WaitTimeout names the last state seen."""
    probe = HealthProbe(component, pod, node)
    try:
        written = os.stat(pod.path).st_mtime
    except (IOError, OSError):
        written = None
    started = time.monotonic()
    while True:
        remaining = timeout - (time.monotonic() - started)
        runs, pid = runs_manifest(pod, proc_root, since=written)
        if runs:
            healthy, detail = probe.check(timeout=max(1, min(PROBE_TIMEOUT, remaining)))
            detail = 'runs the manifest (pid %d) but is not healthy: %s' % (pid, detail) if not healthy else detail
        else:
            healthy, detail = False, ('no process started since the manifest was written runs its command (the '
                                      'kubelet has not started it yet)')
        waited = time.monotonic() - started
        if healthy:
            return waited
        if waited >= timeout:
            raise WaitTimeout('%s not running its manifest healthy after %d s (waited for a process running %s '
                              'and %s): last seen: %s' % (component, timeout, pod.path, probe.expectation(), detail))
        time.sleep(interval)


# One probe of a running pod for a guard's read (static_pod_info's health): short, since every node is read
# at once before a turn and a hung endpoint is an answer too.
READ_PROBE_TIMEOUT = 3


def probe_running(node, components, timeout=READ_PROBE_TIMEOUT):
    """One health probe of each of `components` whose manifest is in the node's manifests directory, as the
    waits probe it (etcd: healthy and a voting member; the apiserver: /readyz; the others: /healthz):
    {component: {'healthy': bool, 'detail': str}}. A component whose manifest is not in place is left out; one
    whose manifest cannot be read counts as not healthy, saying why. Never raises for network errors."""
    found = {}
    for component in components:
        if not os.path.exists(node.manifest_path(component)):
            continue
        try:
            pod = node.read_manifest(component)
        except (ManifestError, IOError, OSError) as exc:
            found[component] = {'healthy': False, 'detail': 'its manifest cannot be read: %s' % exc}
            continue
        healthy, detail = HealthProbe(component, pod, node).check(timeout=timeout)
        found[component] = {'healthy': healthy, 'detail': detail}
    return found


def wait_stopped(component, pod, timeout, interval=STOP_POLL_INTERVAL):
    """Wait until none of the component's ports accepts connections. Returns seconds waited."""
    started = time.monotonic()
    addresses = listening_addresses(component, pod)
    while True:
        open_ports = [address for address in addresses if not port_closed(*address)]
        waited = time.monotonic() - started
        if not open_ports:
            return waited
        if waited >= timeout:
            raise WaitTimeout('%s still holds %s (connections not refused) after %d s' % (
                component, ', '.join('%s:%d' % address for address in open_ports), timeout))
        time.sleep(interval)


def wait_started(component, pod, node, timeout, interval=POLL_INTERVAL):
    """Wait until the component's health endpoint answers healthy. Returns seconds waited."""
    probe = HealthProbe(component, pod, node)
    started = time.monotonic()
    while True:
        remaining = timeout - (time.monotonic() - started)
        healthy, detail = probe.check(timeout=max(1, min(PROBE_TIMEOUT, remaining)))
        waited = time.monotonic() - started
        if healthy:
            return waited
        if waited >= timeout:
            raise WaitTimeout('%s not healthy after %d s (waited for %s): %s'
                              % (component, timeout, probe.expectation(), detail))
        time.sleep(interval)
