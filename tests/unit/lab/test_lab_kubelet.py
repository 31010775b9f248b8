"""The kubelet emulator keeps container logs where the kubelet does, one file per restart."""
import yaml

from tests.lab.kubelet import next_log_number, pod_log_directory

MANIFEST = b'''apiVersion: v1
kind: Pod
metadata: {name: etcd, namespace: kube-system}
spec:
  containers:
  - name: etcd
    command: [etcd, --name=lab-cp-02]
'''


def test_pod_logs_go_under_namespace_pod_node_uid_and_container():
    directory = pod_log_directory(yaml.safe_load(MANIFEST), 'etcd.yaml', MANIFEST, 'lab-cp-02')
    pod, container = directory.split('/')
    assert container == 'etcd' and pod.startswith('kube-system_etcd-lab-cp-02_') and len(pod.rsplit('_', 1)[1]) == 32
    # a changed manifest, or the same pod from another file (a stray copy), is another pod
    changed = MANIFEST.replace(b'lab-cp-02]', b'lab-cp-02, --bogus]')
    assert pod_log_directory(yaml.safe_load(changed), 'etcd.yaml', changed, 'lab-cp-02') != directory
    assert pod_log_directory(yaml.safe_load(MANIFEST), 'etcd.yaml.bak', MANIFEST, 'lab-cp-02') != directory
    assert pod_log_directory(yaml.safe_load(MANIFEST), 'etcd.yaml', MANIFEST, 'lab-cp-02') == directory


def test_each_restart_gets_the_next_log_number(tmp_path):
    assert next_log_number(str(tmp_path / 'none')) == 0
    for name in ('0.log', '1.log', '9.log', '10.log.20240101', 'x.log'):
        (tmp_path / name).write_text('')
    assert next_log_number(str(tmp_path)) == 10
