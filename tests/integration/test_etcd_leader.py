"""etcd_leader against the lab: four-way idempotency, avoid, refusals."""
from tests.integration.etcd_helpers import conn, etcdctl_json, leader_name
from tests.integration.helpers import run_module


def test_member_four_ways(lab):
    node = lab.nodes[0]
    lab.wait_healthy(timeout=120)
    current = leader_name(lab, node)
    target = [n.name for n in lab.nodes if n.name != current][0]

    check = run_module('etcd_leader', conn(node, member=target), check_mode=True, diff=True)
    assert not check['failed'], check.get('msg')
    assert check['changed'] is True and check['leader']['name'] == target
    assert check['leader_before']['name'] == current
    assert 'leader: %s' % target in check['diff']['after']
    assert leader_name(lab, node) == current, 'check mode moved leadership'

    apply = run_module('etcd_leader', conn(node, member=target))
    assert not apply['failed'], apply.get('msg')
    assert apply['changed'] is True and apply['leader']['name'] == target
    assert leader_name(lab, node) == target

    again = run_module('etcd_leader', conn(node, member=target))
    assert not again['failed'], again.get('msg')
    assert again['changed'] is False and again['leader']['name'] == target

    check_again = run_module('etcd_leader', conn(node, member=target), check_mode=True)
    assert check_again['changed'] is False
    assert leader_name(lab, node) == target


def test_avoid_four_ways(lab):
    node = lab.nodes[0]
    lab.wait_healthy(timeout=120)
    current = leader_name(lab, node)
    statuses = etcdctl_json(lab, node, 'endpoint', 'status', '--cluster')
    assert statuses

    check = run_module('etcd_leader', conn(node, avoid=[current]), check_mode=True)
    assert not check['failed'], check.get('msg')
    assert check['changed'] is True and check['leader']['name'] != current
    assert leader_name(lab, node) == current

    apply = run_module('etcd_leader', conn(node, avoid=[current]))
    assert not apply['failed'], apply.get('msg')
    assert apply['changed'] is True
    new = leader_name(lab, node)
    assert new != current and new == apply['leader']['name']
    assert 'most caught-up' in apply['reason']

    again = run_module('etcd_leader', conn(node, avoid=[current]))
    assert again['changed'] is False and again['leader']['name'] == new
    check_again = run_module('etcd_leader', conn(node, avoid=[current]), check_mode=True)
    assert check_again['changed'] is False

    # avoiding everybody but one member leaves exactly one choice
    others = [n.name for n in lab.nodes if n.name != new]
    forced = run_module('etcd_leader', conn(node, avoid=[new, others[0]]))
    assert not forced['failed'], forced.get('msg')
    assert forced['leader']['name'] == others[1] == leader_name(lab, node)


def test_refusals(lab):
    node = lab.nodes[0]
    unknown = run_module('etcd_leader', conn(node, member='no-such-node'))
    assert unknown['failed'] and 'no-such-node, which is not a member' in unknown['msg']
    everyone = run_module('etcd_leader', conn(node, avoid=[n.name for n in lab.nodes]))
    assert everyone['failed'] and 'no healthy voting member outside avoid' in everyone['msg']
    both = run_module('etcd_leader', conn(node, member=lab.nodes[0].name, avoid=[lab.nodes[1].name]))
    assert both['failed'] and 'mutually exclusive' in both['msg']
    neither = run_module('etcd_leader', conn(node))
    assert neither['failed'] and 'one of the following is required' in neither['msg']


def test_hostile_numbers_are_refused_before_anything_moves(lab):
    """Issue 14: non-finite or unbounded numbers were accepted (nan) or crashed (1e13, inf)."""
    node = lab.nodes[0]
    lab.wait_healthy(timeout=120)
    before = leader_name(lab, node)
    target = [n.name for n in lab.nodes if n.name != before][0]
    for args, words in (({'wait_timeout': 'nan'}, 'wait_timeout must be a finite number'),
                        ({'wait_timeout': 'inf'}, 'wait_timeout must be a finite number'),
                        ({'wait_timeout': -1}, 'wait_timeout must be greater than 0'),
                        ({'timeout': 1e13}, 'timeout must be greater than 0 and at most 3600')):
        result = run_module('etcd_leader', conn(node, member=target, **args))
        assert result['failed'] and words in result['msg'], result.get('msg')
        assert 'Traceback' not in result['_stdout'] + result['_stderr']
    assert leader_name(lab, node) == before
