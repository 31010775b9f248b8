"""What the node_restart and node_recover actions share."""
from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._node_action import etcd_args


def test_etcd_args_pass_on_only_the_connection_options_set():
    args = {'endpoints': ['https://a:2379'], 'kubernetes_dir': '/etc/kubernetes', 'ca_cert': None, 'client_cert': None,
            'client_key': None, 'timeout': 5.0, 'pods': {}}
    assert etcd_args(args, member='a') == {'endpoints': ['https://a:2379'], 'kubernetes_dir': '/etc/kubernetes',
                                           'timeout': 5.0, 'member': 'a'}
