"""Command line of the lab.

    python -m tests.lab up --nodes 3 --dir .lab [--base-address 127.0.1.] [--timeout 90]
    python -m tests.lab status --dir .lab [--json]
    python -m tests.lab down --dir .lab
    python -m tests.lab power-cycle --dir .lab --node lab-cp-01 [--down-seconds 0]

Errors are one line on stderr and exit code 2; nothing is left running after a failed `up`.
"""
import argparse
import json
import sys

from tests.lab.core import Lab, LabError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write('lab: error: %s (see python -m tests.lab --help)\n' % message)
        sys.exit(2)


def _build_parser():
    parser = _Parser(prog='python -m tests.lab', description='kubeadm-shaped control-plane lab with real etcd')
    sub = parser.add_subparsers(dest='command')
    up = sub.add_parser('up', help='build and start a lab')
    up.add_argument('--nodes', type=int, default=3, help='number of control-plane nodes (1, 3, 5, 7)')
    up.add_argument('--dir', required=True, help='lab directory (created)')
    up.add_argument('--base-address', default=None, help='node N gets this prefix + N (default 127.0.1.)')
    up.add_argument('--timeout', type=float, default=90, help='seconds to wait until healthy')
    up.add_argument('--key-type', choices=('rsa', 'ecdsa'), default='rsa', help='key type (kubeadm default: rsa)')
    up.add_argument('--connection', choices=('auto', 'ssh', 'local'), default=None,
                    help='ssh: every node a host of its own reached over SSH, with kubeadm\'s paths (needs root and '
                         '`make lab-os`); local: one filesystem, paths in inventory variables; auto (default, or '
                         '$KUBEMAINT_LAB_CONNECTION): ssh where possible')
    up.add_argument('--bootstrap', choices=('kubeadm', 'all-at-once'), default='kubeadm',
                    help='kubeadm (default): the first node bootstrapped alone, the others joined one at a time '
                         '(--initial-cluster-state=existing), as kubeadm init and join write them; all-at-once: '
                         'every member bootstrapped together, --initial-cluster-state=new everywhere (starts about '
                         '10 s faster; as a cluster restored from a snapshot on every node)')
    status = sub.add_parser('status', help='show the nodes of a running lab')
    status.add_argument('--dir', required=True)
    status.add_argument('--json', action='store_true')
    down = sub.add_parser('down', help='stop every process of a lab')
    down.add_argument('--dir', required=True)
    cycle = sub.add_parser('power-cycle', help='SIGKILL every process of one node (kubelet emulator and pods), '
                                               'then start its kubelet emulator again, as a reboot with running pods')
    cycle.add_argument('--dir', required=True)
    cycle.add_argument('--node', required=True, help='node name (lab-cp-01), index or address')
    cycle.add_argument('--down-seconds', type=float, default=0.0, help='seconds the node stays off (default 0)')
    return parser


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.error('a command is required: up, status, down or power-cycle')
    try:
        if args.command == 'up':
            lab = Lab(args.dir, nodes=args.nodes, base_address=args.base_address, key_type=args.key_type,
                      connection=args.connection, bootstrap=args.bootstrap)
            lab.up(timeout=args.timeout)
            print('lab up: %d nodes in %s, %s' % (len(lab.nodes), lab.directory, lab.describe_connection()))
            for node in lab.nodes:
                print('  %s  %-12s  %s' % (node.name, node.address, lab.describe_node(node)))
            print('inventory: %s' % lab.inventory_path)
        elif args.command == 'status':
            lab = Lab.load(args.dir)
            rows = lab.status()
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for row in rows:
                    print('%s  %-12s kubelet=%-5s etcd_healthy=%-5s apiserver_ready=%-5s pods=%s' % (
                        row['name'], row['address'], row['kubelet'], row['etcd_healthy'], row['apiserver_ready'],
                        ','.join(row['pods']) or '-'))
        elif args.command == 'down':
            lab = Lab.load(args.dir)
            lab.down()
            left = lab.processes()
            if left:
                raise LabError('processes still running after down: %s' % ', '.join(str(pid) for pid, _cmdline in left))
            print('lab down: %s' % lab.directory)
        elif args.command == 'power-cycle':
            lab = Lab.load(args.dir)
            node = lab.node(int(args.node) if args.node.isdigit() else args.node)
            killed = lab.power_cycle(node, down_seconds=args.down_seconds)
            print('power-cycled %s: SIGKILLed %s; kubelet emulator started again (pid %d)' % (
                node.name, ', '.join('%s (pid %d)' % (what, pid) for pid, what in killed) or 'nothing (it was off)',
                lab.kubelet_pids[node.name][0]))
    except LabError as exc:
        sys.stderr.write('lab: error: %s\n' % exc)
        return 2
    except KeyboardInterrupt:
        sys.stderr.write('lab: interrupted\n')
        return 130
    return 0


if __name__ == '__main__':
    sys.exit(main())
