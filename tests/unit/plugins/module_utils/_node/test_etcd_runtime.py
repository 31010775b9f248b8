"""Does this node's etcd run: its process by member name and client URLs, the kubelet's pod logs, its data."""
import json
import os
import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_runtime import (
    container_log,
    default_pod_log_dir,
    etcd_runtime,
    find_etcd_processes,
    log_line_summary,
    log_reason,
    read_log_tail,
    strip_cri_prefix,
)
from tests.unit.plugins.module_utils._node.test_etcd_data import kubeadm_node

NAME = 'k-kube-lab-01'
URLS = 'https://127.0.0.1:2379,https://10.101.11.240:2379'


def fake_proc(tmp_path, processes, btime=1700000000):
    """A /proc with `processes` {pid: argv} and a boot time; each started 250 ticks after boot."""
    proc = tmp_path / 'proc'
    proc.mkdir()
    (proc / 'stat').write_text('cpu  1 2 3\nbtime %d\n' % btime)
    (proc / 'self').mkdir()
    for pid, argv in processes.items():
        (proc / str(pid)).mkdir()
        (proc / str(pid) / 'cmdline').write_bytes(b'\0'.join(a.encode() for a in argv) + b'\0')
        fields = ['S'] + ['0'] * 18 + ['250'] + ['0'] * 5
        (proc / str(pid) / 'stat').write_text('%d (%s) %s\n' % (pid, os.path.basename(argv[0]), ' '.join(fields)))
    return str(proc)


def etcd_argv(name=NAME, urls=URLS, binary='/usr/local/bin/etcd'):
    return [binary, '--data-dir=/var/lib/etcd', '--listen-client-urls=' + urls, '--name=' + name]


def test_the_etcd_process_is_found_by_member_name_and_client_urls_not_by_data_dir(tmp_path):
    proc = fake_proc(tmp_path, {
        10: etcd_argv(name='other-node'),                          # another lab node's etcd, same data dir
        11: etcd_argv(urls='https://127.0.0.1:2379'),               # same name, other client URLs
        12: ['/bin/grep', '--name=' + NAME, '--listen-client-urls=' + URLS],   # not etcd
        13: ['/opt/etcd/etcd', '--name', NAME, '--listen-client-urls', 'https://10.101.11.240:2379,https://127.0.0.1:2379'],
    })
    found = find_etcd_processes(NAME, URLS, proc)
    assert [p['pid'] for p in found] == [13]
    assert found[0]['started'] == 1700000000 + 250.0 / os.sysconf('SC_CLK_TCK')
    assert find_etcd_processes(NAME, URLS, str(tmp_path / 'no-proc')) == []


def test_cri_prefix_and_etcd_json_lines_read_as_an_operator_reads_them():
    assert strip_cri_prefix('2024-03-10T10:15:00.123456789Z stderr F {"a":1}') == '{"a":1}'
    assert strip_cri_prefix('plain line') == 'plain line'
    line = json.dumps({'level': 'fatal', 'msg': 'discovery failed', 'error': 'cannot fetch cluster info',
                       'stacktrace': 'x' * 1000})
    assert log_line_summary(line) == 'fatal: discovery failed (cannot fetch cluster info)'
    assert len(log_line_summary('y' * 2000)) == 400


def test_the_reason_is_the_last_bad_line_of_the_newest_log_else_of_the_one_before():
    usage = ['flag provided but not defined: -bogus-flag', 'Usage:', '  etcd [flags]', '  etcd grpc-proxy']
    assert log_reason(usage) == 'flag provided but not defined: -bogus-flag'
    starting = [json.dumps({'level': 'info', 'msg': 'starting'})]
    died = [json.dumps({'level': 'info', 'msg': 'x'}), json.dumps({'level': 'fatal', 'msg': 'boom', 'error': 'e'})]
    assert log_reason(starting, died) == 'fatal: boom (e)'
    assert log_reason(starting, []) == 'info: starting'
    assert log_reason([], []) is None


def test_a_log_tail_is_bounded_and_drops_the_cut_first_line(tmp_path):
    path = tmp_path / '0.log'
    path.write_text(''.join('line %05d\n' % index for index in range(10000)))
    assert read_log_tail(str(path), 3) == ['line 09997', 'line 09998', 'line 09999']
    tail = read_log_tail(str(path), 10000, max_bytes=100)
    assert tail[-1] == 'line 09999' and all(len(line) == 10 for line in tail) and len(tail) == 9
    assert read_log_tail(str(tmp_path / 'none.log')) == []


def pod_logs(root, node=NAME, uid='1234', logs=('0.log',), container='etcd'):
    directory = root / ('kube-system_etcd-%s_%s' % (node, uid)) / container
    directory.mkdir(parents=True)
    for name in logs:
        (directory / name).write_text('%s\n' % name)
    return directory


def test_the_restart_count_is_the_highest_log_number_of_the_newest_pod_directory(tmp_path):
    root = tmp_path / 'pods'
    old = pod_logs(root, uid='old', logs=('0.log', '1.log', '2.log'))
    os.utime(str(old / '2.log'), (time.time() - 100, time.time() - 100))
    new = pod_logs(root, uid='new', logs=('0.log', '1.log', '3.log', '10.log', '11.log.20240101-000000', 'x.log'))
    pod_logs(root, node='other', uid='z', logs=('99.log',))
    log = container_log(str(root), 'kube-system', 'etcd', NAME, 'etcd')
    assert log['restarts'] == 10 and log['path'] == str(new / '10.log') and log['previous'] == str(new / '3.log')
    # another node name only when none matches this one's (kubeadm's node name is etcd's --name)
    assert container_log(str(root), 'kube-system', 'etcd', 'nobody', 'etcd')['restarts'] in (2, 10, 99)
    assert container_log(str(tmp_path / 'none'), 'kube-system', 'etcd', NAME, 'etcd') is None


def test_a_log_that_resolves_into_pki_is_never_read(tmp_path):
    pki = tmp_path / 'pki'
    pki.mkdir()
    (pki / 'server.key').write_text('SECRET\n')
    directory = pod_logs(tmp_path / 'pods', logs=())
    os.symlink(str(pki / 'server.key'), str(directory / '0.log'))
    assert container_log(str(tmp_path / 'pods'), 'kube-system', 'etcd', NAME, 'etcd', protected=(str(pki),)) is None


def test_etcd_runtime_of_a_crash_looping_member_on_an_empty_data_directory(tmp_path):
    node, data_dir = kubeadm_node(tmp_path)
    data_dir.mkdir(parents=True)
    logs = tmp_path / 'var' / 'log' / 'pods'
    directory = pod_logs(logs, logs=('0.log', '1.log'))
    (directory / '1.log').write_text('2024-03-10T10:15:00.1Z stderr F %s\n'
                                     % json.dumps({'level': 'fatal', 'msg': 'discovery failed', 'error': 'no peers'}))
    proc = fake_proc(tmp_path, {})
    assert default_pod_log_dir(node.kubernetes_dir) == str(logs)
    runtime = etcd_runtime(node, node.manifest_path('etcd'), True, proc_root=proc)
    assert runtime['name'] == NAME and runtime['manifest_in_place'] is True
    assert runtime['process'] is None and runtime['processes'] == 0
    assert runtime['restarts'] == 1 and runtime['log_path'] == str(directory / '1.log')
    assert runtime['log_tail'] == ['fatal: discovery failed (no peers)']
    assert runtime['log_reason'] == 'fatal: discovery failed (no peers)'
    assert runtime['data']['exists'] is True and runtime['data']['has_data'] is False
    assert runtime['error'] is None


def test_etcd_runtime_of_a_running_member_without_logs_and_of_a_broken_manifest(tmp_path):
    node, _data_dir = kubeadm_node(tmp_path)
    proc = fake_proc(tmp_path, {42: etcd_argv()})
    runtime = etcd_runtime(node, node.manifest_path('etcd'), False, pod_log_dir=str(tmp_path / 'nowhere'),
                           proc_root=proc)
    assert runtime['process']['pid'] == 42 and runtime['restarts'] is None and runtime['log_tail'] == []
    assert etcd_runtime(node, None, False) is None
    broken = tmp_path / 'broken.yaml'
    broken.write_text('kind: Service\n')
    assert 'not a Pod manifest' in etcd_runtime(node, str(broken), True)['error']
