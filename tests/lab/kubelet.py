"""A kubelet emulator for one lab node: runs the node's static pods from its manifests directory.

    python -m tests.lab.kubelet --node-root DIR --etcd-bin PATH

What it does, as the kubelet does it:
- every regular file in the manifests directory whose name does not start with a dot is a pod
  (a stray `etcd.yaml.bak` is run too, and fails to bind the ports its twin holds);
- hostPath volumes are mapped into the node root: a flag value under a volume's mountPath is
  rewritten to node root + hostPath;
- `etcd` runs as the real etcd binary with the manifest's command line; kube-apiserver,
  kube-controller-manager and kube-scheduler run as stand-ins (tests/lab/standin.py);
- a manifest that disappears stops its pod: SIGTERM to the pod's process group, the pod's
  grace period (terminationGracePeriodSeconds, 30 s by default), then SIGKILL;
- a changed manifest stops the pod and starts the new one;
- a container that exits is restarted with back-off (1 s doubling to 10 s in the lab; the
  kubelet goes to 5 min), the back-off resets after 10 s of running;
- changes are noticed within a poll interval (0.2 s);
- a container's output goes where the kubelet puts it:
  `<node root>/var/log/pods/<namespace>_<pod>-<node>_<uid>/<container>/<restartCount>.log`, a new file
  per restart, the uid a hash of the manifest's file name and content (a changed manifest is a new pod
  whose count starts at 0, as the kubelet's config hash makes it); `<node root>/var/log/pods/<file>.log`
  is a symlink to the current container's log (the node's name is its root directory's name).

It keeps a pid record per pod under <node root>/run/kubelet/pods so that `lab down` can stop
pods even when the emulator itself was killed. On SIGTERM or SIGINT it stops every pod (as a
node shutdown would) and exits.
"""
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import yaml

from tests.lab.procs import process_start_time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLL_SECONDS = 0.2
BACKOFF_START = 1.0
BACKOFF_MAX = 10.0
BACKOFF_RESET_AFTER = 10.0
STANDINS = ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler')


def log(message):
    sys.stdout.write('%s kubelet: %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stdout.flush()


def map_host_paths(command, mounts, node_root):
    """Rewrite flag values that lie under a mounted path to the node root."""
    ordered = sorted(mounts.items(), key=lambda item: len(item[0]), reverse=True)
    mapped = []
    for argument in command:
        name, sep, value = argument.partition('=')
        if sep and value.startswith('/'):
            for mount_path, host_path in ordered:
                if value == mount_path or value.startswith(mount_path.rstrip('/') + '/'):
                    value = node_root + host_path + value[len(mount_path):]
                    argument = name + '=' + value
                    break
        mapped.append(argument)
    return mapped


def pod_log_directory(spec, filename, data, node_name):
    """Where the kubelet keeps a static pod's container logs: <namespace>_<pod>-<node>_<uid>/<container>,
    relative to the pod log directory; the uid is a hash of the manifest's file name and content."""
    metadata = (spec or {}).get('metadata') or {}
    containers = ((spec or {}).get('spec') or {}).get('containers') or [{}]
    uid = hashlib.sha256(filename.encode() + b'\0' + data).hexdigest()[:32]
    return os.path.join('%s_%s-%s_%s' % (metadata.get('namespace') or 'default', metadata.get('name') or filename,
                                         node_name, uid), containers[0].get('name') or 'container')


def next_log_number(directory):
    """The restart count the next container of a pod gets: one past the highest <N>.log there, else 0."""
    try:
        numbers = [int(name[:-4]) for name in os.listdir(directory) if name.endswith('.log') and name[:-4].isdigit()]
    except OSError:
        numbers = []
    return max(numbers) + 1 if numbers else 0


def pod_command(spec, node_root, etcd_bin):
    """(argv, grace period) for a parsed Pod manifest, or raise ValueError saying why it cannot run.

    `node_root` is where hostPath volumes lie on this machine: '/' for a node in a mount namespace
    of its own (tests/lab/node.py), whose paths are kubeadm's own.
    """
    if not isinstance(spec, dict) or spec.get('kind') != 'Pod':
        raise ValueError('not a Pod manifest')
    pod_spec = spec.get('spec') or {}
    containers = pod_spec.get('containers') or []
    if not containers:
        raise ValueError('no containers')
    container = containers[0]
    command = list(container.get('command') or []) + list(container.get('args') or [])
    if not command:
        raise ValueError('container has no command')
    volumes = {}
    for volume in pod_spec.get('volumes') or []:
        if isinstance(volume.get('hostPath'), dict):
            volumes[volume.get('name')] = volume['hostPath']
    mounts = {}
    for mount in container.get('volumeMounts') or []:
        if mount.get('name') in volumes:
            host_path = volumes[mount['name']]
            mounts[mount['mountPath']] = host_path.get('path')
            if host_path.get('type') == 'DirectoryOrCreate':
                os.makedirs(node_root.rstrip('/') + host_path.get('path'), exist_ok=True)
    args = map_host_paths(command[1:], mounts, node_root.rstrip('/'))
    binary = os.path.basename(command[0])
    if binary == 'etcd':
        for argument in args:
            if argument.startswith('--data-dir='):
                data_dir = argument.split('=', 1)[1]
                os.makedirs(data_dir, exist_ok=True)
                os.chmod(data_dir, 0o700)
        argv = [etcd_bin] + args
    elif binary in STANDINS:
        argv = [sys.executable, '-m', 'tests.lab.standin', binary] + args
    else:
        raise ValueError('the lab cannot run %r' % command[0])
    grace = pod_spec.get('terminationGracePeriodSeconds')
    return argv, (grace if isinstance(grace, int) and grace >= 0 else 30)


class Pod:
    def __init__(self, kubelet, filename):
        self.kubelet = kubelet
        self.filename = filename
        self.digest = None
        self.argv = None
        self.grace = 30
        self.process = None
        self.started_at = 0.0
        self.backoff = BACKOFF_START
        self.next_start = 0.0
        self.terminating_since = None
        self.broken = None
        self.log_directory = None

    @property
    def record(self):
        return os.path.join(self.kubelet.pod_dir, self.filename + '.json')

    def load(self, data, digest):
        self.digest = digest
        try:
            spec = yaml.safe_load(data)
            self.argv, self.grace = pod_command(spec, self.kubelet.host_root, self.kubelet.etcd_bin)
            self.log_directory = os.path.join(self.kubelet.log_dir,
                                              pod_log_directory(spec, self.filename, data, self.kubelet.node_name))
            self.broken = None
        except (ValueError, AttributeError, TypeError, yaml.YAMLError) as exc:
            self.argv, self.broken = None, str(exc).splitlines()[0]
            log('%s: cannot run: %s' % (self.filename, self.broken))

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        now = time.monotonic()
        if self.argv is None or now < self.next_start:
            return
        os.makedirs(self.log_directory, exist_ok=True)
        log_path = os.path.join(self.log_directory, '%d.log' % next_log_number(self.log_directory))
        with open(log_path, 'ab') as handle:
            env = dict(os.environ)
            env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
            self.process = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.kubelet.node_root,
                                            env=env)
        self.started_at = now
        with open(self.record, 'w') as handle:
            json.dump({'pid': self.process.pid, 'start_time': process_start_time(self.process.pid),
                       'argv': self.argv}, handle)
        current = os.path.join(self.kubelet.log_dir, self.filename + '.log')
        link = current + '.new'
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.relpath(log_path, self.kubelet.log_dir), link)
        os.replace(link, current)
        log('%s: started pid %d, log %s: %s' % (self.filename, self.process.pid, log_path, ' '.join(self.argv)))

    def check_crash(self):
        """Restart a container that exited on its own, with back-off."""
        if self.process is None or self.terminating_since is not None:
            return
        code = self.process.poll()
        if code is None:
            if time.monotonic() - self.started_at > BACKOFF_RESET_AFTER:
                self.backoff = BACKOFF_START
            return
        log('%s: container exited with %s, restarting in %.0f s' % (self.filename, code, self.backoff))
        self.process = None
        self._drop_record()
        self.next_start = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def begin_stop(self):
        if self.running() and self.terminating_since is None:
            log('%s: stopping pid %d (SIGTERM, grace %d s)' % (self.filename, self.process.pid, self.grace))
            self._signal(signal.SIGTERM)
            self.terminating_since = time.monotonic()

    def finish_stop(self):
        """True once the pod is gone; SIGKILL after the grace period."""
        if self.process is None:
            return True
        if self.process.poll() is not None:
            self._reap_group()
            self.process = None
            self.terminating_since = None
            self._drop_record()
            return True
        if self.terminating_since is None:
            self.begin_stop()
        elif time.monotonic() - self.terminating_since > self.grace:
            log('%s: grace period over, SIGKILL pid %d' % (self.filename, self.process.pid))
            self._signal(signal.SIGKILL)
        return False

    def _signal(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def _reap_group(self):
        # Anything the container left in its process group goes with it, as with a container's cgroup.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _drop_record(self):
        try:
            os.unlink(self.record)
        except FileNotFoundError:
            pass


class Kubelet:
    def __init__(self, node_root, etcd_bin, manifests_dir=None, host_root=None):
        self.node_root = os.path.abspath(node_root)
        # Where the manifests' hostPath volumes lie: the node root, or '/' in a node's own mount namespace.
        self.host_root = host_root or self.node_root
        self.etcd_bin = etcd_bin
        self.manifests_dir = manifests_dir or os.path.join(self.node_root, 'etc', 'kubernetes', 'manifests')
        self.pod_dir = os.path.join(self.node_root, 'run', 'kubelet', 'pods')
        self.log_dir = os.path.join(self.node_root, 'var', 'log', 'pods')
        self.node_name = os.path.basename(self.node_root.rstrip('/'))
        os.makedirs(self.pod_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self.pods = {}
        self.stopping = []
        self.shutdown = False

    def desired(self):
        wanted = {}
        try:
            names = os.listdir(self.manifests_dir)
        except OSError:
            return wanted
        for name in names:
            path = os.path.join(self.manifests_dir, name)
            if name.startswith('.') or not os.path.isfile(path):
                continue
            try:
                with open(path, 'rb') as handle:
                    data = handle.read()
            except OSError:
                continue
            wanted[name] = (hashlib.sha256(data).hexdigest(), data)
        return wanted

    def sync(self):
        wanted = self.desired()
        for name, pod in list(self.pods.items()):
            if name not in wanted or wanted[name][0] != pod.digest:
                if name not in wanted:
                    log('%s: manifest gone' % name)
                else:
                    log('%s: manifest changed' % name)
                pod.begin_stop()
                self.stopping.append(pod)
                del self.pods[name]
        self.stopping = [pod for pod in self.stopping if not pod.finish_stop()]
        blocked = {pod.filename for pod in self.stopping}
        for name, (digest, data) in wanted.items():
            if name in blocked:
                continue  # the old container of this file is still terminating
            pod = self.pods.get(name)
            if pod is None:
                pod = self.pods[name] = Pod(self, name)
                pod.load(data, digest)
            pod.check_crash()
            if not pod.running():
                pod.start()

    def stop_all(self):
        self.stopping.extend(self.pods.values())
        self.pods = {}
        for pod in self.stopping:
            pod.begin_stop()
        while self.stopping:
            self.stopping = [pod for pod in self.stopping if not pod.finish_stop()]
            time.sleep(0.05)

    def run(self):
        def request_shutdown(signum, _frame):
            log('signal %d: stopping every pod' % signum)
            self.shutdown = True
        signal.signal(signal.SIGTERM, request_shutdown)
        signal.signal(signal.SIGINT, request_shutdown)
        log('watching %s' % self.manifests_dir)
        while not self.shutdown:
            self.sync()
            time.sleep(POLL_SECONDS)
        self.stop_all()
        log('stopped')


def main(argv=None):
    parser = argparse.ArgumentParser(description='kubelet emulator for one lab node')
    parser.add_argument('--node-root', required=True)
    parser.add_argument('--etcd-bin', required=True)
    parser.add_argument('--manifests-dir', default=None, help='default: <node root>/etc/kubernetes/manifests')
    parser.add_argument('--no-remap', action='store_true',
                        help="the manifests' paths are this machine's own (a node in its own mount namespace)")
    args = parser.parse_args(argv)
    Kubelet(args.node_root, args.etcd_bin, manifests_dir=args.manifests_dir,
            host_root='/' if args.no_remap else None).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
