import os
import shutil
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._static_pods.health import (
    HealthProbe,
    WaitTimeout,
    command_matches,
    listening_addresses,
    probe_running,
    runs_manifest,
    wait_runs_healthy,
    wait_started,
    wait_stopped,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import KubeadmNode, StaticPod
from tests.lab.standin import self_signed

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', '..', '..', '..', 'data', 'kubeadm-node', 'manifests')


def reference(component):
    return StaticPod.from_file(os.path.join(REFERENCE, component + '.yaml'))


def scheduler_text(port, extra=(), component='kube-scheduler'):
    text = ('apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n'
            '  - name: %s\n    command:\n    - %s\n    - --bind-address=127.0.0.1\n'
            '    - --secure-port=%d\n' % (component, component, component, port))
    for flag in extra:
        text += '    - %s\n' % flag
    return text


def scheduler_pod(port, extra=()):
    return StaticPod.from_text(scheduler_text(port, extra), 'kube-scheduler.yaml')


# Only computed, never contacted: these are the runbook cluster's addresses.
@pytest.mark.parametrize('component,expected', [
    ('etcd', [('127.0.0.1', 2379), ('10.101.11.240', 2379), ('10.101.11.240', 2380), ('127.0.0.1', 2381)]),
    ('kube-apiserver', [('10.101.11.240', 6443)]),
    ('kube-controller-manager', [('127.0.0.1', 10257)]),
    ('kube-scheduler', [('127.0.0.1', 10259)]),
])
def test_listening_addresses_from_kubeadm_manifests(component, expected):
    assert listening_addresses(component, reference(component)) == expected


def test_probes_from_kubeadm_manifests_keep_tls_verified():
    node = KubeadmNode('/srv/node1/etc/kubernetes')
    etcd = HealthProbe('etcd', reference('etcd'), node)
    assert etcd.url == 'https://10.101.11.240:2379'
    assert (etcd.ca_path, etcd.client_cert, etcd.client_key) == (
        '/srv/node1/etc/kubernetes/pki/etcd/ca.crt', '/srv/node1/etc/kubernetes/pki/etcd/server.crt',
        '/srv/node1/etc/kubernetes/pki/etcd/server.key')
    assert etcd.validate_certs
    apiserver = HealthProbe('kube-apiserver', reference('kube-apiserver'), node)
    assert apiserver.url == 'https://10.101.11.240:6443/readyz'
    assert apiserver.ca_path == '/srv/node1/etc/kubernetes/pki/ca.crt' and apiserver.validate_certs
    scheduler = HealthProbe('kube-scheduler', reference('kube-scheduler'), node)
    assert scheduler.url == 'https://127.0.0.1:10259/healthz'
    assert scheduler.validate_certs is False and scheduler.client_cert is None  # in-memory self-signed cert
    pinned = HealthProbe('kube-scheduler', scheduler_pod(10259, ['--tls-cert-file=/etc/kubernetes/pki/s.crt']), node)
    assert pinned.validate_certs and pinned.ca_path == '/srv/node1/etc/kubernetes/pki/s.crt'


@pytest.mark.parametrize('backlog', [5, 0], ids=['accepting', 'backlog-full'])
def test_wait_stopped_waits_for_the_port_to_close(backlog):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(backlog)  # never accept()ed: with a full backlog connects hang, which is not "stopped"
    pod = scheduler_pod(listener.getsockname()[1])
    with pytest.raises(WaitTimeout, match=r'still holds 127\.0\.0\.1:%d' % listener.getsockname()[1]):
        wait_stopped('kube-scheduler', pod, timeout=1, interval=0.1)
    timer = threading.Timer(0.5, listener.close)
    timer.start()
    waited = wait_stopped('kube-scheduler', pod, timeout=10, interval=0.1)
    timer.join()
    assert 0.3 < waited < 10


class _Healthz(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        code = 200 if self.path == '/healthz' else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'ok')

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_healthz():
    cert_path, key_path, cleanup = self_signed('127.0.0.1')
    server = HTTPServer(('127.0.0.1', 0), _Healthz)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        shutil.rmtree(cleanup, ignore_errors=True)


def test_wait_started_self_signed_without_tls_cert_file(tls_healthz):
    port, _cert = tls_healthz
    assert wait_started('kube-scheduler', scheduler_pod(port), KubeadmNode('/nonexistent'), timeout=10) < 10


def test_wait_started_verifies_against_the_tls_cert_file(tmp_path, tls_healthz):
    port, cert = tls_healthz
    pod = scheduler_pod(port, ['--tls-cert-file=%s' % cert])
    assert wait_started('kube-scheduler', pod, KubeadmNode('/nonexistent'), timeout=10) < 10
    other_cert, _key, cleanup = self_signed('127.0.0.1')
    try:
        pod = scheduler_pod(port, ['--tls-cert-file=%s' % other_cert])
        with pytest.raises(WaitTimeout, match='kube-scheduler not healthy'):
            wait_started('kube-scheduler', pod, KubeadmNode('/nonexistent'), timeout=1, interval=0.2)
    finally:
        shutil.rmtree(cleanup, ignore_errors=True)


def test_probe_running_probes_each_component_in_place_once(tmp_path, tls_healthz):
    port, _cert = tls_healthz
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    manifests = tmp_path / 'manifests'
    manifests.mkdir()
    (manifests / 'kube-scheduler.yaml').write_text(scheduler_text(port))
    (manifests / 'kube-controller-manager.yaml').write_text(scheduler_text(closed_port, component='kube-controller-manager'))
    (manifests / 'kube-apiserver.yaml').write_text('not: a pod\n')
    every = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']
    found = probe_running(KubeadmNode(str(tmp_path)), every, timeout=1)
    # etcd's manifest is not in place: left out; a manifest that cannot be read is not healthy, saying why
    assert sorted(found) == ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']
    assert found['kube-scheduler'] == {'healthy': True, 'detail': 'https://127.0.0.1:%d/healthz answered 200' % port}
    assert not found['kube-controller-manager']['healthy']
    assert '127.0.0.1:%d/healthz' % closed_port in found['kube-controller-manager']['detail']
    assert not found['kube-apiserver']['healthy']
    assert found['kube-apiserver']['detail'].startswith('its manifest cannot be read: ')
    assert probe_running(KubeadmNode(str(tmp_path)), []) == {}


def test_wait_started_times_out_when_nothing_listens():
    probe_socket = socket.socket()
    probe_socket.bind(('127.0.0.1', 0))
    port = probe_socket.getsockname()[1]
    probe_socket.close()
    with pytest.raises(WaitTimeout, match=r'127\.0\.0\.1:%d' % port) as raised:
        wait_started('kube-scheduler', scheduler_pod(port), KubeadmNode('/nonexistent'), timeout=1, interval=0.2)
    assert 'not healthy after 1 s (waited for https://127.0.0.1:%d/healthz to answer HTTP 200)' % port in str(raised.value)


def test_etcd_probe_speaks_through_the_gateway_client_and_says_why_not():
    """One HTTP path to etcd: the probe's failures are the gateway client's classified errors."""
    probe_socket = socket.socket()
    probe_socket.bind(('127.0.0.1', 0))
    port = probe_socket.getsockname()[1]
    probe_socket.close()
    cert, key, cleanup = self_signed('127.0.0.1')
    try:
        text = ('apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\nspec:\n  containers:\n  - name: etcd\n'
                '    command:\n    - etcd\n    - --name=n1\n    - --advertise-client-urls=https://127.0.0.1:%d\n'
                '    - --cert-file=%s\n    - --key-file=%s\n    - --trusted-ca-file=%s\n' % (port, cert, key, cert))
        probe = HealthProbe('etcd', StaticPod.from_text(text, 'etcd.yaml'), KubeadmNode('/nonexistent'))
        assert (probe.ca_path, probe.client_cert, probe.client_key) == (cert, cert, key)
        healthy, detail = probe.check(timeout=1)
        assert not healthy and 'https://127.0.0.1:%d: connection refused' % port in detail
        assert probe.expectation() == ('etcd at https://127.0.0.1:%d to answer a health read and list n1 as a '
                                       'voting member' % port)
        plain = HealthProbe('etcd', StaticPod.from_text(text.replace('https://', 'http://'), 'etcd.yaml'),
                            KubeadmNode('/nonexistent'))
        healthy, detail = plain.check(timeout=1)
        assert not healthy and 'scheme must be https' in detail
    finally:
        shutil.rmtree(cleanup, ignore_errors=True)


def _proc(tmp_path, processes, started_ago=None):
    """A /proc with these processes ({pid: argv}), each started `started_ago` ({pid: seconds}, default 100) ago."""
    root = tmp_path / 'proc'
    hz = os.sysconf('SC_CLK_TCK')
    uptime = 10000.0
    for pid, argv in processes.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / 'cmdline').write_bytes(b'\0'.join(arg.encode() for arg in argv) + b'\0')
        ticks = int((uptime - (started_ago or {}).get(pid, 100)) * hz)
        (root / str(pid) / 'stat').write_text('%d (x y) S 1' % pid + ' 0' * 17 + ' %d 0 0\n' % ticks)
    (root / 'self').mkdir(parents=True, exist_ok=True)
    (root / 'uptime').write_text('%.2f 1.00\n' % uptime)
    return str(root)


@pytest.mark.parametrize('argv,matches', [
    (['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1'], True),  # a kubelet's container
    (['/usr/local/bin/kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1'], True),
    (['python3', '-m', 'tests.lab.standin', 'kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1'], True),
    (['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=2'], False),  # the old manifest
    (['kube-scheduler', '--bind-address=127.0.0.1'], False),
    (['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1', '--v=2'], False),
    (['kube-apiserver', '--bind-address=127.0.0.1', '--secure-port=1'], False),  # another component
    (['vi', 'kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1'], True),
])
def test_command_matches(argv, matches):
    assert command_matches(argv, scheduler_pod(1).command) is matches


def test_command_matches_a_path_rerooted_by_the_lab():
    command = ['etcd', '--data-dir=/var/lib/etcd', '--name=a']
    assert command_matches(['/x/etcd', '--data-dir=/tmp/lab/n1/var/lib/etcd', '--name=a'], command)
    assert not command_matches(['/x/etcd', '--data-dir=/tmp/lab/n1/var/lib/etcd2', '--name=a'], command)


def test_runs_manifest_reads_every_process(tmp_path):
    proc = _proc(tmp_path, {12: ['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=2'],
                            40: ['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1']})
    assert runs_manifest(scheduler_pod(1), proc) == (True, 40)
    assert runs_manifest(scheduler_pod(3), proc) == (False, None)


def test_runs_manifest_counts_only_a_process_started_after_the_write(tmp_path):
    """A new image alone leaves the command as it was: the old container runs it until the kubelet replaced it."""
    argv = ['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=1']
    proc = _proc(tmp_path, {12: argv, 40: argv}, started_ago={12: 100, 40: 5})
    assert runs_manifest(scheduler_pod(1), proc, since=time.time() - 10) == (True, 40)
    assert runs_manifest(scheduler_pod(1), proc, since=time.time() - 1) == (False, None)
    assert runs_manifest(scheduler_pod(1), proc, since=time.time() - 200) == (True, 12)


def test_wait_runs_healthy_names_what_it_saw_last(tmp_path):
    node = KubeadmNode(str(tmp_path))
    proc = _proc(tmp_path, {12: ['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=2']})
    with pytest.raises(WaitTimeout, match='no process started since the manifest was written runs its command'):
        wait_runs_healthy('kube-scheduler', scheduler_pod(1), node, 0.2, interval=0.05, proc_root=proc)
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    proc = _proc(tmp_path / 'b', {7: ['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=%d' % port]})
    with pytest.raises(WaitTimeout, match=r'runs the manifest \(pid 7\) but is not healthy'):
        wait_runs_healthy('kube-scheduler', scheduler_pod(port), node, 0.2, interval=0.05, proc_root=proc)
