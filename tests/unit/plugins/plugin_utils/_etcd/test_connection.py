"""connection: the one rule by which every role and playbook reaches etcd - the reading host, the endpoints it asks
and the client files it presents (filter etcd_connection)."""
import pytest

from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.connection import (
    answered_hosts,
    choose_reader,
    etcd_connection,
)

GROUP = ['cp1', 'cp2', 'cp3']
URLS = ['https://10.0.0.1:2379', 'https://10.0.0.2:2379', 'https://cp3:2379']


def inventory(**extra):
    """Three control-plane hosts: cp1 by node_address, cp2 by ansible_host, cp3 by name; `extra` adds host variables."""
    hosts = {'cp1': {'node_address': '10.0.0.1'}, 'cp2': {'ansible_host': '10.0.0.2'}, 'cp3': {},
             'bastion': {'ansible_host': '10.9.9.9'}}
    for name, variables in extra.items():
        hosts[name] = dict(hosts.get(name, {}), **variables)
    return hosts


@pytest.mark.parametrize('kwargs, expected', [
    # an explicit reader wins, whatever answers
    ({'reader': 'cp3', 'avoid': 'cp3', 'answering': []}, 'cp3'),
    # the group's hosts in order, the avoided one left out
    ({}, 'cp1'),
    ({'avoid': 'cp1'}, 'cp2'),
    # hosts Ansible still runs come first: cp1 unreachable (no longer a play host)
    ({'play_hosts': ['cp2', 'cp3']}, 'cp2'),
    ({'play_hosts': ['cp3'], 'avoid': 'cp1'}, 'cp3'),
    # none of the others runs in the play: still one of them before this host
    ({'play_hosts': ['cp1'], 'avoid': 'cp1'}, 'cp2'),
    # the caller's candidates instead of the group
    ({'readers': ['cp3', 'cp2']}, 'cp3'),
    # every candidate avoided: this host reads
    ({'readers': ['cp2'], 'avoid': 'cp2'}, 'cp1'),
    ({'readers': ['cp2'], 'avoid': 'cp2', 'this_host': 'cp3'}, 'cp3'),
    # with the hosts known to answer: only those, in the candidates' order
    ({'answering': ['cp3', 'cp2']}, 'cp2'),
    ({'answering': ['cp1', 'cp2'], 'avoid': 'cp1'}, 'cp2'),
    # nobody answers (or only the avoided host): no reader
    ({'answering': []}, ''),
    ({'answering': ['cp1'], 'avoid': 'cp1'}, ''),
])
def test_reading_host(kwargs, expected):
    kwargs = dict(kwargs)
    this_host = kwargs.pop('this_host', 'cp1')
    assert choose_reader(this_host, GROUP, **kwargs) == expected
    assert etcd_connection(inventory(), this_host, GROUP, **kwargs)['reader'] == expected


def test_the_hosts_that_answered_a_task_by_its_registered_result():
    # cp1 answered; cp2 was unreachable under ignore_unreachable (a result without the key); cp3 never ran it
    hosts = inventory(cp1={'_found': {'running': [], 'changed': False}},
                      cp2={'_found': {'unreachable': True, 'msg': 'no route'}})
    assert answered_hosts(hosts, ['cp1', 'cp2', 'cp3', 'elsewhere'], '_found.running') == ['cp1']
    # the reader is the first host of the group, other than the avoided one, that answered; none answers: none
    assert etcd_connection(hosts, 'cp3', GROUP, play_hosts=GROUP, answered='_found.running')['reader'] == 'cp1'
    assert etcd_connection(hosts, 'cp1', GROUP, avoid='cp1', play_hosts=GROUP, answered='_found.running')['reader'] == ''
    with pytest.raises(ValueError, match='answered must be'):
        answered_hosts(hosts, GROUP, '_found')


def test_an_unreachable_reader_is_passed_over_for_one_that_runs():
    # cp2 (first other host) is unreachable: Ansible dropped it from the play's hosts
    connection = etcd_connection(inventory(cp3={'kubernetes_dir': '/srv/cp3'}), 'cp1', GROUP, avoid='cp1',
                                 play_hosts=['cp1', 'cp3'])
    assert connection['reader'] == 'cp3'
    assert connection['args']['kubernetes_dir'] == '/srv/cp3'


def test_the_endpoints_of_every_host_of_the_group_by_default():
    connection = etcd_connection(inventory(), 'cp1', GROUP)
    assert connection['endpoints'] == URLS
    assert connection['args'] == {'endpoints': URLS, 'kubernetes_dir': '/etc/kubernetes'}


def test_the_client_port_and_ipv6_addresses():
    connection = etcd_connection(inventory(cp1={'node_address': 'fd00::1'}), 'cp1', GROUP, port='12379')
    assert connection['endpoints'] == ['https://[fd00::1]:12379', 'https://10.0.0.2:12379', 'https://cp3:12379']


def test_the_readers_etcd_endpoints_when_set_on_some_hosts():
    hosts = inventory(cp2={'etcd_endpoints': ['https://lb:2379']}, cp3={'etcd_endpoints': 'https://cp3.example:2379'})
    # cp1 reads: it sets none, so the group's
    assert etcd_connection(hosts, 'cp1', GROUP)['endpoints'] == URLS
    # cp2 reads (cp1 avoided): cp2's own list, not this host's nor the group's
    assert etcd_connection(hosts, 'cp1', GROUP, avoid='cp1')['endpoints'] == ['https://lb:2379']
    # one URL alone is a list of one
    assert etcd_connection(hosts, 'cp1', GROUP, reader='cp3')['endpoints'] == ['https://cp3.example:2379']
    # this host's etcd_endpoints does not count when another host reads
    assert etcd_connection(hosts, 'cp2', GROUP, avoid='cp2')['endpoints'] == URLS


def test_explicit_endpoints_win_over_the_host_variable():
    hosts = inventory(cp1={'etcd_endpoints': ['https://lb:2379']})
    assert etcd_connection(hosts, 'cp1', GROUP, endpoints=['https://x:2379'])['endpoints'] == ['https://x:2379']
    # empty is "not given"
    assert etcd_connection(hosts, 'cp1', GROUP, endpoints=[])['endpoints'] == ['https://lb:2379']


def test_the_client_files_are_the_readers_and_only_those_set():
    hosts = inventory(cp1={'kubernetes_dir': '/srv/cp1', 'etcd_ca_cert': '/pki/ca.crt', 'etcd_client_cert': '/pki/c.crt',
                           'etcd_client_key': '/pki/c.key'},
                      cp2={'kubernetes_dir': '/srv/cp2', 'etcd_client_cert': '/pki/cp2.crt', 'etcd_client_key': ''})
    assert etcd_connection(hosts, 'cp1', GROUP, timeout=5)['args'] == {
        'endpoints': URLS, 'kubernetes_dir': '/srv/cp1', 'ca_cert': '/pki/ca.crt', 'client_cert': '/pki/c.crt',
        'client_key': '/pki/c.key', 'timeout': 5.0}
    connection = etcd_connection(hosts, 'cp1', GROUP, avoid='cp1')
    assert connection['args'] == {'endpoints': URLS, 'kubernetes_dir': '/srv/cp2', 'client_cert': '/pki/cp2.crt'}
    assert connection['kubernetes_dir'] == '/srv/cp2'


def test_no_reader_still_gives_the_groups_endpoints():
    connection = etcd_connection(inventory(), 'cp1', GROUP, answering=[])
    assert connection['reader'] == ''
    assert connection['endpoints'] == URLS
    assert connection['args']['kubernetes_dir'] == '/etc/kubernetes'


def test_a_reader_outside_the_inventory_has_no_variables():
    connection = etcd_connection(inventory(), 'cp1', GROUP, reader='elsewhere')
    assert connection['reader'] == 'elsewhere'
    assert connection['args'] == {'endpoints': URLS, 'kubernetes_dir': '/etc/kubernetes'}


@pytest.mark.parametrize('kwargs', [
    {'group_hosts': 'cp1'},
    {'endpoints': [1]},
    {'readers': 'cp2'},
    {'answering': [None]},
])
def test_input_that_is_no_list_of_names_is_refused(kwargs):
    arguments = dict({'group_hosts': GROUP}, **kwargs)
    with pytest.raises(TypeError):
        etcd_connection(inventory(), 'cp1', **arguments)


def test_host_lists_may_be_generators_as_jinja_map_gives_them():
    connection = etcd_connection(inventory(), 'cp1', iter(GROUP), answering=(name for name in ['cp3']))
    assert connection['reader'] == 'cp3'
    assert connection['endpoints'] == URLS
