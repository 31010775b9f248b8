"""Stand-ins for kube-apiserver, kube-controller-manager and kube-scheduler in the lab.

    python -m tests.lab.standin COMPONENT --flag=value ...

Each takes its real component's command line, reads the flags it needs and serves that
component's health endpoints over TLS, nothing more:

- kube-apiserver: `/livez`, `/readyz`, `/healthz` on `--bind-address` (else
  `--advertise-address`):`--secure-port` with `--tls-cert-file`/`--tls-private-key-file`;
  client certificates signed by `--client-ca-file` are accepted, anonymous health reads too.
  `/readyz` and `/healthz` answer 200 only while a linearizable read from etcd through
  `--etcd-servers` with `--etcd-certfile`/`--etcd-keyfile`/`--etcd-cafile` succeeds, as the real
  apiserver's etcd readiness check does. Without quorum it is live but not ready.
- kube-controller-manager (port 10257) and kube-scheduler (port 10259): `/healthz` on
  `--bind-address`:`--secure-port`. Like the real ones without `--tls-cert-file`, they serve a
  self-signed certificate made at start-up. They refuse to start when their `--kubeconfig`
  is missing or unreadable, as the real ones do.

Lab only, for tests of a change that must be rolled back: `--kubemaint-lab-never-ready` (any
value, a flag no real component knows) makes a stand-in that is given it run and listen but never
become healthy (its `/readyz`, `/healthz` answer 500), as a component with a bad flag would.

Exit on SIGTERM within a moment (the real components shut down gracefully too).
"""
import base64
import datetime
import json
import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_PORTS = {'kube-apiserver': 6443, 'kube-controller-manager': 10257, 'kube-scheduler': 10259}


def parse(argv):
    flags = {}
    for argument in argv:
        if argument.startswith('--'):
            name, sep, value = argument[2:].partition('=')
            flags[name] = value if sep else 'true'
    return flags


class EtcdProbe:
    """Caches whether a linearizable range read through the etcd gateway succeeds."""

    def __init__(self, flags):
        self.urls = [url for url in flags.get('etcd-servers', '').split(',') if url]
        self.context = ssl.create_default_context(cafile=flags['etcd-cafile'])
        self.context.load_cert_chain(flags['etcd-certfile'], flags['etcd-keyfile'])
        self.lock = threading.Lock()
        self.checked_at = 0.0
        self.result = (False, 'not checked yet')

    def _check_once(self):
        body = json.dumps({'key': base64.b64encode(b'/registry/health').decode()}).encode()
        errors = []
        for url in self.urls:
            request = urllib.request.Request(url.rstrip('/') + '/v3/kv/range', data=body,
                                             headers={'Content-Type': 'application/json'})
            try:
                with urllib.request.urlopen(request, timeout=2, context=self.context) as response:
                    json.loads(response.read() or b'{}')
                return True, 'ok'
            except (OSError, ValueError, urllib.error.URLError) as exc:
                errors.append('%s: %s' % (url, exc))
        return False, '; '.join(errors) or 'no --etcd-servers'

    def healthy(self):
        with self.lock:
            if time.monotonic() - self.checked_at > 0.5:
                self.result = self._check_once()
                self.checked_at = time.monotonic()
            return self.result


def self_signed(host):
    """A throw-away self-signed certificate, as the controller-manager and scheduler make at start-up."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '%s@%d' % (host, int(time.time())))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                        x509.DNSName('localhost')]), critical=False)
            .sign(key, hashes.SHA256()))
    directory = tempfile.mkdtemp(prefix='standin-')
    cert_path, key_path = os.path.join(directory, 'tls.crt'), os.path.join(directory, 'tls.key')
    with open(cert_path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path, directory


NEVER_READY_FLAG = 'kubemaint-lab-never-ready'


def make_handler(component, probe, never_ready=False):
    class Handler(BaseHTTPRequestHandler):
        server_version = component
        timeout = 10

        def log_message(self, fmt, *args):  # one line per request on the pod log is noise
            pass

        def _answer(self, code, text):
            body = text.encode()
            self.send_response(code)
            self.send_header('Content-Type', 'text/plain; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.split('?', 1)[0]
            if never_ready and path in ('/healthz', '/readyz'):
                return self._answer(500, '[-]lab: never ready (--%s is set)\n%s check failed'
                                    % (NEVER_READY_FLAG, path[1:]))
            if component != 'kube-apiserver':
                if path in ('/healthz', '/livez', '/readyz'):
                    return self._answer(200, 'ok')
                return self._answer(404, 'not found')
            if path == '/livez':
                return self._answer(200, 'ok')
            if path in ('/readyz', '/healthz'):
                healthy, reason = probe.healthy()
                if healthy:
                    return self._answer(200, 'ok')
                return self._answer(500, '[-]etcd failed: %s\n%s check failed' % (reason, path[1:]))
            return self._answer(403, 'forbidden: the lab apiserver serves health endpoints only')
    return Handler


def main(argv):
    if not argv or argv[0] not in DEFAULT_PORTS:
        sys.stderr.write('usage: standin.py {%s} --flags...\n' % ','.join(DEFAULT_PORTS))
        return 2
    component, flags = argv[0], parse(argv[1:])
    host = flags.get('bind-address') or flags.get('advertise-address') or '127.0.0.1'
    port = int(flags.get('secure-port') or DEFAULT_PORTS[component])
    cleanup = None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    probe = None
    if component == 'kube-apiserver':
        context.load_cert_chain(flags['tls-cert-file'], flags['tls-private-key-file'])
        if flags.get('client-ca-file'):
            context.load_verify_locations(flags['client-ca-file'])
            context.verify_mode = ssl.CERT_OPTIONAL
        probe = EtcdProbe(flags)
    else:
        kubeconfig = flags.get('kubeconfig')
        if not kubeconfig or not os.access(kubeconfig, os.R_OK):
            sys.stderr.write('%s: invalid configuration: cannot read --kubeconfig %s\n' % (component, kubeconfig))
            return 1
        if flags.get('tls-cert-file'):
            context.load_cert_chain(flags['tls-cert-file'], flags['tls-private-key-file'])
        else:
            cert_path, key_path, cleanup = self_signed(host)
            context.load_cert_chain(cert_path, key_path)
    server_class = ThreadingHTTPServer
    if ':' in host:
        server_class = type('ThreadingHTTPServer6', (ThreadingHTTPServer,), {'address_family': socket.AF_INET6})
    server = server_class((host, port), make_handler(component, probe, NEVER_READY_FLAG in flags))
    server.daemon_threads = True
    # The handshake happens in the request's thread (on first read), so a client that connects and
    # sends nothing (a port probe) cannot block accept().
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write('%s stand-in serving https://%s:%d\n' % (component, host, port))
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if cleanup:
            for name in os.listdir(cleanup):
                os.unlink(os.path.join(cleanup, name))
            os.rmdir(cleanup)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
