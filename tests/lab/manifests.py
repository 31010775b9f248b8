"""Static pod manifests in kubeadm's format (v1.28, stacked etcd) for one lab node.

The shape follows ../shared/reference/kubeadm-node/manifests (copied to
tests/data/kubeadm-node/manifests) flag for flag. Deviations, all because every lab node
shares one machine and its loopback interface:

- etcd has no `https://127.0.0.1:2379` client listener (every node would claim it); it listens
  on the node's own address only, and the metrics listener and probes use the node address.
- kube-apiserver reaches its local etcd through the node address (`--etcd-servers`) and gets
  `--bind-address=<node address>` (the real one binds 0.0.0.0).
- kube-controller-manager and kube-scheduler bind their health ports to the node address
  instead of 127.0.0.1, and their probes follow.
- By default (bootstrap "kubeadm") the etcd manifests are kubeadm's own: the first node bootstrapped
  alone (`new`, only itself in `--initial-cluster`), every other node joined one at a time
  (`existing`, the members known at its join, itself last), which is what leaves a kubeadm cluster
  open to split brain when the first node's data directory is lost. With bootstrap "all-at-once"
  every node's etcd.yaml lists every member in `--initial-cluster` with `--initial-cluster-state=new`
  and all members bootstrap together, as after a restore from a snapshot on every node; tests that
  need `new` in every manifest name it.
"""
import yaml

ETCD_IMAGE = 'registry.k8s.io/etcd:3.5.9-0'
K8S_VERSION = 'v1.28.2'
SERVICE_CIDR = '10.96.0.0/12'


def _probe(host, path, port, scheme, failure_threshold, initial_delay=10, period=10):
    probe = {'failureThreshold': failure_threshold,
             'httpGet': {'host': host, 'path': path, 'port': port, 'scheme': scheme},
             'periodSeconds': period, 'timeoutSeconds': 15}
    if initial_delay is not None:
        probe['initialDelaySeconds'] = initial_delay
    return probe


def _host_path(name, path, kind='DirectoryOrCreate'):
    return {'hostPath': {'path': path, 'type': kind}, 'name': name}


def _pod(component, container, volumes, annotations=None):
    metadata = {'creationTimestamp': None, 'labels': {'component': component, 'tier': 'control-plane'},
                'name': component, 'namespace': 'kube-system'}
    if annotations:
        metadata['annotations'] = annotations
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': metadata,
            'spec': {'containers': [container], 'hostNetwork': True, 'priority': 2000001000,
                     'priorityClassName': 'system-node-critical',
                     'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},
                     'volumes': volumes},
            'status': {}}


def etcd_manifest(node, members, state='new'):
    """node: dict(name, address, optional etcd_flags: more etcd flags); members: list of such dicts (the
    members in --initial-cluster); state: --initial-cluster-state."""
    address = node['address']
    initial_cluster = ','.join('%s=https://%s:2380' % (member['name'], member['address']) for member in members)
    command = [
        'etcd',
        '--advertise-client-urls=https://%s:2379' % address,
        '--cert-file=/etc/kubernetes/pki/etcd/server.crt',
        '--client-cert-auth=true',
        '--data-dir=/var/lib/etcd',
        '--experimental-initial-corrupt-check=true',
        '--experimental-watch-progress-notify-interval=5s',
        '--initial-advertise-peer-urls=https://%s:2380' % address,
        '--initial-cluster=%s' % initial_cluster,
        '--initial-cluster-state=%s' % state,
        '--key-file=/etc/kubernetes/pki/etcd/server.key',
        '--listen-client-urls=https://%s:2379' % address,
        '--listen-metrics-urls=http://%s:2381' % address,
        '--listen-peer-urls=https://%s:2380' % address,
        '--name=%s' % node['name'],
        '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt',
        '--peer-client-cert-auth=true',
        '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key',
        '--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
        '--snapshot-count=10000',
        '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
    ]
    command.extend(node.get('etcd_flags') or ())  # flags a test asks for (a small --quota-backend-bytes, say)
    container = {
        'command': command, 'image': ETCD_IMAGE, 'imagePullPolicy': 'IfNotPresent',
        'livenessProbe': _probe(address, '/health?exclude=NOSPACE&serializable=true', 2381, 'HTTP', 8),
        'name': 'etcd', 'resources': {'requests': {'cpu': '100m', 'memory': '100Mi'}},
        'startupProbe': _probe(address, '/health?serializable=false', 2381, 'HTTP', 24),
        'volumeMounts': [{'mountPath': '/var/lib/etcd', 'name': 'etcd-data'},
                         {'mountPath': '/etc/kubernetes/pki/etcd', 'name': 'etcd-certs'}],
    }
    volumes = [_host_path('etcd-certs', '/etc/kubernetes/pki/etcd'), _host_path('etcd-data', '/var/lib/etcd')]
    return _pod('etcd', container, volumes,
                {'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://%s:2379' % address})


_CA_VOLUMES = [('ca-certs', '/etc/ssl/certs'), ('etc-ca-certificates', '/etc/ca-certificates')]
_SHARE_VOLUMES = [('usr-local-share-ca-certificates', '/usr/local/share/ca-certificates'),
                  ('usr-share-ca-certificates', '/usr/share/ca-certificates')]


def apiserver_manifest(node):
    address = node['address']
    command = [
        'kube-apiserver',
        '--advertise-address=%s' % address,
        '--allow-privileged=true',
        '--authorization-mode=Node,RBAC',
        '--bind-address=%s' % address,
        '--client-ca-file=/etc/kubernetes/pki/ca.crt',
        '--enable-admission-plugins=NodeRestriction',
        '--enable-bootstrap-token-auth=true',
        '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
        '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
        '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
        '--etcd-servers=https://%s:2379' % address,
        '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
        '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key',
        '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
        '--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt',
        '--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key',
        '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-username-headers=X-Remote-User',
        '--secure-port=6443',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
        '--service-account-signing-key-file=/etc/kubernetes/pki/sa.key',
        '--service-cluster-ip-range=%s' % SERVICE_CIDR,
        '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
        '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
    ]
    mounts = [('ca-certs', '/etc/ssl/certs'), ('etc-ca-certificates', '/etc/ca-certificates'),
              ('k8s-certs', '/etc/kubernetes/pki')] + _SHARE_VOLUMES
    container = {
        'command': command, 'image': 'registry.k8s.io/kube-apiserver:' + K8S_VERSION,
        'imagePullPolicy': 'IfNotPresent',
        'livenessProbe': _probe(address, '/livez', 6443, 'HTTPS', 8),
        'name': 'kube-apiserver',
        'readinessProbe': _probe(address, '/readyz', 6443, 'HTTPS', 3, initial_delay=None, period=1),
        'resources': {'requests': {'cpu': '250m'}},
        'startupProbe': _probe(address, '/livez', 6443, 'HTTPS', 24),
        'volumeMounts': [{'mountPath': path, 'name': name, 'readOnly': True} for name, path in mounts],
    }
    volumes = [_host_path(name, path) for name, path in mounts]
    return _pod('kube-apiserver', container, volumes,
                {'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': '%s:6443' % address})


def controller_manager_manifest(node):
    address = node['address']
    command = [
        'kube-controller-manager',
        '--allocate-node-cidrs=true',
        '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf',
        '--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf',
        '--bind-address=%s' % address,
        '--client-ca-file=/etc/kubernetes/pki/ca.crt',
        '--cluster-cidr=10.244.0.0/16',
        '--cluster-name=kubernetes',
        '--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt',
        '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key',
        '--controllers=*,bootstrapsigner,tokencleaner',
        '--kubeconfig=/etc/kubernetes/controller-manager.conf',
        '--leader-elect=true',
        '--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt',
        '--root-ca-file=/etc/kubernetes/pki/ca.crt',
        '--service-account-private-key-file=/etc/kubernetes/pki/sa.key',
        '--service-cluster-ip-range=%s' % SERVICE_CIDR,
        '--use-service-account-credentials=true',
    ]
    container = {
        'command': command, 'image': 'registry.k8s.io/kube-controller-manager:' + K8S_VERSION,
        'imagePullPolicy': 'IfNotPresent',
        'livenessProbe': _probe(address, '/healthz', 10257, 'HTTPS', 8),
        'name': 'kube-controller-manager', 'resources': {'requests': {'cpu': '200m'}},
        'startupProbe': _probe(address, '/healthz', 10257, 'HTTPS', 24),
        'volumeMounts': [
            {'mountPath': '/etc/ssl/certs', 'name': 'ca-certs', 'readOnly': True},
            {'mountPath': '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', 'name': 'flexvolume-dir'},
            {'mountPath': '/etc/kubernetes/pki', 'name': 'k8s-certs', 'readOnly': True},
            {'mountPath': '/etc/kubernetes/controller-manager.conf', 'name': 'kubeconfig', 'readOnly': True},
        ],
    }
    volumes = [_host_path('ca-certs', '/etc/ssl/certs'),
               _host_path('flexvolume-dir', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec'),
               _host_path('k8s-certs', '/etc/kubernetes/pki'),
               _host_path('kubeconfig', '/etc/kubernetes/controller-manager.conf', 'FileOrCreate')]
    return _pod('kube-controller-manager', container, volumes)


def scheduler_manifest(node):
    address = node['address']
    command = [
        'kube-scheduler',
        '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
        '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf',
        '--bind-address=%s' % address,
        '--kubeconfig=/etc/kubernetes/scheduler.conf',
        '--leader-elect=true',
    ]
    container = {
        'command': command, 'image': 'registry.k8s.io/kube-scheduler:' + K8S_VERSION,
        'imagePullPolicy': 'IfNotPresent',
        'livenessProbe': _probe(address, '/healthz', 10259, 'HTTPS', 8),
        'name': 'kube-scheduler', 'resources': {'requests': {'cpu': '100m'}},
        'startupProbe': _probe(address, '/healthz', 10259, 'HTTPS', 24),
        'volumeMounts': [{'mountPath': '/etc/kubernetes/scheduler.conf', 'name': 'kubeconfig', 'readOnly': True}],
    }
    volumes = [_host_path('kubeconfig', '/etc/kubernetes/scheduler.conf', 'FileOrCreate')]
    return _pod('kube-scheduler', container, volumes)


def render(manifest):
    """YAML as kubeadm writes it: keys sorted, block style, sequences not indented under their key."""
    return yaml.safe_dump(manifest, sort_keys=True, default_flow_style=False)


BOOTSTRAPS = ('all-at-once', 'kubeadm')


def initial_cluster(members, index, bootstrap):
    """(members in --initial-cluster, --initial-cluster-state) of the node at `index` of `members`."""
    if bootstrap == 'kubeadm':
        return members[:index + 1], 'new' if index == 0 else 'existing'
    return members, 'new'


def node_manifests(node, members, state='new'):
    """{file name: YAML text} for one node; `members` are those of its --initial-cluster."""
    return {
        'etcd.yaml': render(etcd_manifest(node, members, state)),
        'kube-apiserver.yaml': render(apiserver_manifest(node)),
        'kube-controller-manager.yaml': render(controller_manager_manifest(node)),
        'kube-scheduler.yaml': render(scheduler_manifest(node)),
    }
