"""One lab node as a host of its own: a mount namespace with kubeadm's paths, an sshd and the kubelet emulator.

    unshare --mount --propagation private -- python -m tests.lab.node --node-root DIR --address ADDR ...

Started by the lab (tests/lab/core.py) as root, in a mount namespace of its own that this
process sets up before it starts anything:
- `/etc` and `/usr` are overlays: the machine's own below, the lab's OpenSSH server and sudo
  (Debian's packages, unpacked by `make lab-os`) above them, and the node's own upper layer
  (<node root>/.os) on top, so that what the node writes there (its users, its sshd
  configuration and host key) stays the node's;
- the node's own directories are bind-mounted at kubeadm's paths: `/etc/kubernetes`,
  `/var/lib` (so `/var/lib/etcd`, `/var/lib/kubelet`, `/var/lib/etcd-snapshots` and whatever a
  node writes beside them), `/var/log`, `/root`, `/home`, and a private `/tmp`;
- `/run` is a private tmpfs;
- the lab directory is hidden (a tmpfs over it), so no node sees another node's files; only
  this node's own root is visible again at its path, for the emulator's pod records and logs,
  and so are the interpreter, the repository and the etcd binary the emulator runs.
Then it starts sshd (key-only, bound to the node's address, port 22) and the kubelet emulator,
which runs the pods with the manifests' own paths (no re-rooting). On SIGTERM it stops the
emulator (which stops every pod, as a node shutdown does) and sshd, and exits. The lab keeps
this process's pid; every process of the node shares its mount namespace.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOGIN_USER = 'kubemaint'
LOGIN_UID = 1500
SSHD_UID = 1501
KEEP_DIR = '/run/kubemaint-lab/keep'
SSHD_CONFIG = """# Written by the lab's node init (tests/lab/node.py): key-only logins on this node's address.
ListenAddress {address}
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
MaxStartups 100:30:200
MaxSessions 100
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def log(message):
    sys.stdout.write('%s node: %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stdout.flush()


def run(*argv):
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError('%s failed (exit %d): %s'
                           % (' '.join(argv), result.returncode, (result.stderr or result.stdout).strip()))


def bind(source, target):
    os.makedirs(target, exist_ok=True)
    run('mount', '--bind', source, target)


def overlay(target, lowers, state_dir):
    upper = os.path.join(state_dir, target.strip('/').replace('/', '-'))
    work = upper + '.work'
    os.makedirs(upper, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    run('mount', '-t', 'overlay', 'overlay', '-o',
        'lowerdir=%s,upperdir=%s,workdir=%s' % (':'.join(lowers + [target]), upper, work), target)


def same_directory(path, other):
    try:
        first, second = os.stat(path), os.stat(other)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def append_line(path, prefix, line):
    """Add `line` to a passwd-style file unless an entry starting with `prefix` is there."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    if not any(existing.startswith(prefix) for existing in lines):
        with open(path, 'a') as handle:
            handle.write(line + '\n')


def write_file(path, text, mode, uid=0, gid=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)
    os.chown(path, uid, gid)


def set_up_namespace(args):
    """Mount this node's view of the machine; only ever called inside a fresh mount namespace."""
    root = args.node_root
    state = os.path.join(root, '.os')
    run('mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run')
    # What must stay reachable once /tmp, /root and the lab directory are covered: the interpreter,
    # the repository (the emulator and stand-ins), the etcd binary and this node's own root.
    keep = []
    for index, path in enumerate(args.keep + [root]):
        saved = os.path.join(KEEP_DIR, str(index))
        bind(path, saved)
        keep.append((path, saved))
    overlay('/etc', [os.path.join(args.os_root, 'etc')], state)
    overlay('/usr', [os.path.join(args.os_root, 'usr')], state)
    for name, target, mode in (('etc/kubernetes', '/etc/kubernetes', None), ('var/lib', '/var/lib', None),
                               ('var/log', '/var/log', None), ('root', '/root', 0o700), ('home', '/home', None),
                               ('tmp', '/tmp', 0o1777)):
        source = os.path.join(root, name)
        os.makedirs(source, exist_ok=True)
        if mode is not None:
            os.chmod(source, mode)
        bind(source, target)
    # What the mounts above covered comes back (a mount point a boot before left under /root counts too);
    # then another node's files must not be reachable: cover the lab directory where it is still visible.
    for path, saved in keep[:-1]:
        if not same_directory(path, saved):
            bind(saved, path)
    if os.path.isdir(args.lab_dir):
        run('mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', args.lab_dir)
    bind(keep[-1][1], root)


def set_up_users(key):
    """The sshd privilege-separation user, a login user with sudo, and who may log in with the lab's key."""
    append_line('/etc/passwd', 'sshd:', 'sshd:x:%d:65534::/run/sshd:/usr/sbin/nologin' % SSHD_UID)
    append_line('/etc/passwd', LOGIN_USER + ':', '%s:x:%d:%d:kubemaint lab operator:/home/%s:/bin/bash'
                % (LOGIN_USER, LOGIN_UID, LOGIN_UID, LOGIN_USER))
    append_line('/etc/group', LOGIN_USER + ':', '%s:x:%d:' % (LOGIN_USER, LOGIN_UID))
    # '*': no password, but not locked ('!' would make sshd refuse the key without PAM).
    append_line('/etc/shadow', 'sshd:', 'sshd:*:19000:0:99999:7:::')
    append_line('/etc/shadow', LOGIN_USER + ':', '%s:*:19000:0:99999:7:::' % LOGIN_USER)
    append_line('/etc/gshadow', LOGIN_USER + ':', '%s:!::' % LOGIN_USER)
    write_file('/etc/sudoers.d/kubemaint-lab', '%s ALL=(ALL:ALL) NOPASSWD: ALL\n'
               'Defaults:%s !lecture\n' % (LOGIN_USER, LOGIN_USER), 0o440)
    write_file('/root/.ssh/authorized_keys', key, 0o600)
    os.chmod('/root/.ssh', 0o700)
    home = '/home/' + LOGIN_USER
    os.makedirs(home + '/.ssh', exist_ok=True)
    write_file(home + '/.ssh/authorized_keys', key, 0o600, LOGIN_UID, LOGIN_UID)
    for path in (home, home + '/.ssh'):
        os.chmod(path, 0o700)
        os.chown(path, LOGIN_UID, LOGIN_UID)


def start_sshd(address, host_key, host_key_pub):
    os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
    write_file('/etc/ssh/ssh_host_ed25519_key', host_key.decode(), 0o600)
    write_file('/etc/ssh/ssh_host_ed25519_key.pub', host_key_pub.decode(), 0o644)
    write_file('/etc/ssh/sshd_config', SSHD_CONFIG.format(address=address), 0o644)
    log_file = open('/var/log/sshd.log', 'ab')
    try:
        return subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', '/etc/ssh/sshd_config'], stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log_file.close()


def start_kubelet(args):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    log_file = open(os.path.join(args.node_root, 'var', 'log', 'kubelet.log'), 'ab')
    try:
        return subprocess.Popen([sys.executable, '-m', 'tests.lab.kubelet', '--node-root', args.node_root,
                                 '--etcd-bin', args.etcd_bin, '--manifests-dir', '/etc/kubernetes/manifests',
                                 '--no-remap'],
                                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT,
                                env=env)
    finally:
        log_file.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description='one lab node in a mount namespace of its own')
    parser.add_argument('--node-root', required=True)
    parser.add_argument('--lab-dir', required=True)
    parser.add_argument('--address', required=True)
    parser.add_argument('--etcd-bin', required=True)
    parser.add_argument('--os-root', required=True, help='unpacked OpenSSH server and sudo (make lab-os)')
    parser.add_argument('--host-key', required=True)
    parser.add_argument('--authorized-key', required=True)
    parser.add_argument('--ready-file', required=True)
    parser.add_argument('--keep', action='append', default=[], help='a host path the node must still reach')
    args = parser.parse_args(argv)
    stopping = []

    def request_stop(signum, _frame):
        log('signal %d: stopping the node' % signum)
        stopping.append(signum)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # Opened before the mounts: the lab directory may be covered by the time there is something to say.
    ready = open(args.ready_file, 'w')
    with open(args.host_key, 'rb') as handle:
        host_key = handle.read()
    with open(args.host_key + '.pub', 'rb') as handle:
        host_key_pub = handle.read()
    with open(args.authorized_key) as handle:
        authorized_key = handle.read()
    sshd = None
    try:
        set_up_namespace(args)
        set_up_users(authorized_key)
        sshd = start_sshd(args.address, host_key, host_key_pub)
        kubelet = start_kubelet(args)
    except (OSError, RuntimeError) as exc:
        log('cannot start: %s' % exc)
        if sshd is not None:  # nothing of a node that failed to start outlives it
            sshd.kill()
            sshd.wait()
        ready.write('error: %s\n' % exc)
        ready.close()
        return 1
    ready.write('ok %d %d\n' % (sshd.pid, kubelet.pid))
    ready.close()
    log('up: sshd pid %d on %s:22, kubelet emulator pid %d' % (sshd.pid, args.address, kubelet.pid))
    while not stopping:
        for name, process in (('sshd', sshd), ('kubelet emulator', kubelet)):
            if process.poll() is not None:
                log('%s exited with %s; stopping the node' % (name, process.returncode))
                stopping.append(name)
        time.sleep(0.2)
    for process in (kubelet, sshd):
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 60
    for process in (kubelet, sshd):
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log('stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
