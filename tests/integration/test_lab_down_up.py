"""The lab's command line as operators run it: under wrappers, and `up` right after a `down`."""
import os
import socket
import subprocess
import sys

from tests.lab import Lab, free_base_address
from tests.lab.core import NODE_PORTS, REPO_ROOT

CLI = [sys.executable, '-m', 'tests.lab']
TCP_TIME_WAIT = '06'


def _cli(args, wrapper=(), timeout=180):
    return subprocess.run(list(wrapper) + CLI + args, capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=timeout, check=False)


def _in_time_wait(address, port):
    """True when /proc/net/tcp lists a connection with local address:port in TIME-WAIT."""
    local = '%s:%04X' % (''.join('%02X' % int(part) for part in reversed(address.split('.'))), port)
    with open('/proc/net/tcp') as handle:
        rows = [line.split() for line in handle.readlines()[1:]]
    return any(row[1] == local and row[3] == TCP_TIME_WAIT for row in rows)


def _leave_time_wait(address, port):
    """A connection accepted on address:port and closed by the server first, as a lab's etcd does going down."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(1)
    client = socket.create_connection((address, port), timeout=5)
    accepted, _peer = server.accept()
    server.close()
    accepted.close()
    client.recv(1)  # the server's FIN
    client.close()
    assert _in_time_wait(address, port), 'no TIME-WAIT on %s:%d' % (address, port)


def test_up_right_after_a_lab_and_down_under_wrappers(tmp_path):
    base = free_base_address(1)
    address = base + '1'
    for port in NODE_PORTS:
        _leave_time_wait(address, port)
    with socket.socket() as plain:
        try:
            plain.bind((address, 2379))
            bound = True
        except OSError:
            bound = False
    assert not bound, 'a bind without SO_REUSEADDR is refused while the port is in TIME-WAIT'

    lab_dir = str(tmp_path / 'lab')
    up = _cli(['up', '--nodes', '1', '--dir', lab_dir, '--base-address', base])
    lab = Lab(lab_dir, nodes=1, base_address=base)
    try:
        assert up.returncode == 0, up.stderr
        # `timeout` keeps running as the parent of `down`, and its command line names the lab directory.
        down = _cli(['down', '--dir', lab_dir], wrapper=('timeout', '120'))
        assert down.returncode == 0, down.stderr
        assert 'lab down: %s' % lab_dir in down.stdout
        assert lab.processes() == []

        # The same addresses again at once: the lab that just went down left its own TIME-WAITs.
        again = _cli(['up', '--nodes', '1', '--dir', lab_dir, '--base-address', base])
        assert again.returncode == 0, again.stderr
        shell = ('sh', '-c', '"$@"; status=$?; echo "wrapped down exited $status"; exit $status', 'sh')
        down = _cli(['down', '--dir', lab_dir], wrapper=shell)
        assert down.returncode == 0, down.stderr
        assert 'wrapped down exited 0' in down.stdout
        assert lab.processes() == []
    finally:
        if os.path.exists(os.path.join(lab_dir, 'lab.json')):
            Lab.load(lab_dir).down()
    assert lab.nodes[0].listening() == []


def test_processes_are_those_with_a_path_in_the_lab_directory(tmp_path):
    lab_dir = str(tmp_path / 'lab')
    lab = Lab(lab_dir, nodes=1, base_address='127.0.1.')
    sleeper = [sys.executable, '-c', 'import time; time.sleep(60)']
    inside = subprocess.Popen(sleeper + ['--data-dir=%s/lab-cp-01/var/lib/etcd' % lab_dir])
    beside = subprocess.Popen(sleeper + [lab_dir + '2/lab-cp-01', 'see %s/lab-cp-01' % lab_dir])
    try:
        assert [pid for pid, _cmdline in lab.processes()] == [inside.pid]
    finally:
        for process in (inside, beside):
            process.kill()
            process.wait()
    assert lab.processes() == []
