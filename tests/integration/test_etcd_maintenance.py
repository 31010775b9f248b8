"""etcd_compact, etcd_defrag, etcd_alarm and etcd_member_info's quota figures against one lab whose
members run with a 16 MiB backend quota (set in their manifests before the lab starts, so no restart is
needed to reach NOSPACE quickly)."""
from tests.integration.etcd_helpers import conn, etcd3_client, etcdctl_json
from tests.integration.helpers import run_module, wait_for

QUOTA = 16 * 1024 * 1024
LAB_ETCD_FLAGS = ['--quota-backend-bytes=%d' % QUOTA]
VALUE = b'x' * (100 * 1024)


def ok(result):
    assert not result['failed'], result.get('msg')
    assert 'Traceback' not in result['_stdout'] + result['_stderr']
    return result


def refused(result, words):
    assert result['failed'] and words in result['msg'], result.get('msg')
    assert 'Traceback' not in result['_stdout'] + result['_stderr']
    return result


def member_info(node):
    return ok(run_module('etcd_member_info', conn(node)))


def db_sizes(node):
    return dict((m['name'], m['db_size']) for m in member_info(node)['members'])


def free_space_known(lab, node, client):
    client.put('/maintenance/tick', 'tick')
    statuses = etcdctl_json(lab, node, 'endpoint', 'status', '--cluster')
    return all(e['Status']['dbSize'] - e['Status']['dbSizeInUse'] > 4 * 1024 * 1024 for e in statuses) or None


def readable_at(lab, node, revision):
    return lab.etcdctl(node, 'get', '/maintenance/grow/00000', '--rev=%d' % revision).returncode == 0


def fill(client, prefix, count=None):
    """Put ~100 KB values under prefix: `count` of them, or until etcd refuses for lack of space.
    Returns how many were written."""
    written = 0
    while count is None or written < count:
        try:
            client.put('%s%05d' % (prefix, written), VALUE)
        except Exception as exc:  # pylint: disable=broad-except
            if count is None and 'database space exceeded' in str(exc):
                return written
            raise
        written += 1
        assert written < 400, 'a 16 MiB quota should be exceeded long before 40 MB'
    return written


def compact_and_defrag_all(lab, node):
    compaction = ok(run_module('etcd_compact', conn(node)))
    assert compaction['changed'] is True
    return [ok(run_module('etcd_defrag', conn(node, member=n.name))) for n in lab.nodes]


def test_compact_then_defrag_each_member(lab):
    lab.wait_healthy(timeout=120)
    node = lab.nodes[0]
    client = etcd3_client(node)
    fill(client, '/maintenance/grow/', count=60)
    client.delete_prefix('/maintenance/grow/')

    check = ok(run_module('etcd_compact', conn(node), check_mode=True))
    assert check['changed'] is True and check['revision'] == check['current_revision']
    assert 'would compact' in check['reason']
    revision = check['revision']
    assert readable_at(lab, node, revision - 1), 'check mode compacted'

    refused(run_module('etcd_compact', conn(node, revision=revision + 1000)), 'above the current revision')
    refused(run_module('etcd_compact', conn(node, revision=0)), 'at least 1')

    apply = ok(run_module('etcd_compact', conn(node, revision=revision)))
    assert apply['changed'] is True and apply['revision'] == revision
    assert not readable_at(lab, node, revision - 1) and readable_at(lab, node, revision)
    again = ok(run_module('etcd_compact', conn(node, revision=revision)))
    assert again['changed'] is False and 'compacted to already' in again['reason']
    check_again = ok(run_module('etcd_compact', conn(node, revision=revision), check_mode=True))
    assert check_again['changed'] is False
    below = ok(run_module('etcd_compact', conn(node, revision=revision - 5)))
    assert below['changed'] is False

    # bbolt counts pages freed by the compaction as free once later transactions committed
    wait_for(lambda: free_space_known(lab, node, client), 30, 'the compacted space shows as free on every member')
    first = lab.nodes[0].name
    before = db_sizes(node)
    dry = ok(run_module('etcd_defrag', conn(node, member=first), check_mode=True, diff=True))
    assert dry['changed'] is True and dry['db_size_before'] == before[first]
    assert dry['freed_estimate'] > 4 * 1024 * 1024, dry
    assert 'db_size_after' not in dry and 'estimate' in dry['diff']['after']
    assert db_sizes(node)[first] == before[first], 'check mode defragmented'

    refused(run_module('etcd_defrag', conn(node, member='no-such-node')), 'no-such-node, which is not a member')
    refused(run_module('etcd_defrag', conn(node, member=first, defrag_timeout='inf')),
            'defrag_timeout must be a finite number')

    for member in lab.nodes:
        done = ok(run_module('etcd_defrag', conn(node, member=member.name), diff=True))
        assert done['changed'] is True and done['member'] == member.name
        assert done['endpoint'] == 'https://%s:2379' % member.address
        assert done['db_size_after'] < done['db_size_before']
        estimate = done['db_size_before'] - done['db_size_in_use_before']
        assert done['freed'] == done['db_size_before'] - done['db_size_after']
        assert abs(done['freed'] - estimate) < 1024 * 1024, done
        assert done['seconds'] >= 0 and 'db_size: %d' % done['db_size_after'] in done['diff']['after']
    after = db_sizes(node)
    assert all(after[name] < before[name] for name in before), (before, after)


def test_nospace_is_reported_then_cleared(lab):
    lab.wait_healthy(timeout=120)
    node = lab.nodes[0]
    client = etcd3_client(node)
    info = member_info(node)
    assert info['cluster']['quota_bytes'] == QUOTA
    assert info['cluster']['quota_source'] == '--quota-backend-bytes in %s/manifests/etcd.yaml' % node.kubernetes_dir
    given = ok(run_module('etcd_member_info', conn(node, quota_backend_bytes=QUOTA * 2)))
    assert given['cluster']['quota_source'] == 'quota_backend_bytes option'
    assert all(m['quota_bytes'] == QUOTA * 2 for m in given['members'])
    nothing = ok(run_module('etcd_alarm', conn(node)))
    assert nothing['changed'] is False and nothing['alarms_before'] == [] == nothing['disarmed']

    fill(client, '/maintenance/full/')
    info = member_info(node)
    alarmed = [m for m in info['members'] if 'NOSPACE' in m['alarms']]
    assert alarmed and any(a['alarm'] == 'NOSPACE' for a in info['cluster']['alarms']), info['cluster']
    for member in info['members']:
        assert member['quota_bytes'] == QUOTA
        assert member['quota_usage'] == round(float(member['db_size']) / QUOTA, 4) and member['quota_usage'] > 0.8
        assert member['db_size_free'] == member['db_size'] - member['db_size_in_use']

    refused(run_module('etcd_alarm', conn(node, alarms=['BOGUS'])), 'value of alarms must be one or more of')
    refused(run_module('etcd_alarm', conn(node, members=['no-such-node'])), 'no-such-node, which is not a member')
    check = ok(run_module('etcd_alarm', conn(node), check_mode=True, diff=True))
    assert check['changed'] is True and check['disarmed'] and 'NOSPACE' in check['diff']['before']
    assert check['alarms_after'] == [a for a in check['alarms_before'] if a['alarm'] != 'NOSPACE']
    assert member_info(node)['cluster']['alarms'] == check['alarms_before'], 'check mode disarmed'

    client.delete_prefix('/maintenance/full/')
    compact_and_defrag_all(lab, node)
    disarm = ok(run_module('etcd_alarm', conn(node), diff=True))
    assert disarm['changed'] is True and disarm['alarms_after'] == []
    assert sorted(a['member'] for a in disarm['disarmed']) == sorted(m['name'] for m in alarmed)
    client.put('/maintenance/after', b'fits again')
    again = ok(run_module('etcd_alarm', conn(node)))
    assert again['changed'] is False and again['disarmed'] == []
    assert ok(run_module('etcd_alarm', conn(node), check_mode=True))['changed'] is False
    assert all(m['alarms'] == [] for m in member_info(node)['members'])
