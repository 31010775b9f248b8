"""etcd_compact, etcd_defrag, etcd_alarm and etcd_member_info's quota figures against one lab whose
members run with a 16 MiB backend quota (set in their manifests before the lab starts, so no restart is
needed to reach NOSPACE quickly)."""
from tests.integration.etcd_helpers import conn, etcd3_client, etcdctl_json
from tests.integration.helpers import run_modules, wait_for

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


def db_sizes(info):
    return dict((m['name'], m['db_size']) for m in ok(info)['members'])


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


def test_compact_then_defrag_each_member(lab):
    lab.wait_healthy(timeout=120)
    node = lab.nodes[0]
    client = etcd3_client(node)
    fill(client, '/maintenance/grow/', count=60)
    client.delete_prefix('/maintenance/grow/')

    check, future, zero = run_modules([('etcd_compact', conn(node), True, False),
                                       ('etcd_compact', conn(node, revision=10 ** 9), False, False),
                                       ('etcd_compact', conn(node, revision=0), False, False)])
    assert ok(check)['changed'] is True and check['revision'] == check['current_revision']
    assert 'would compact' in check['reason']
    revision = check['revision']
    assert readable_at(lab, node, revision - 1), 'check mode compacted'
    refused(future, 'above the current revision')
    refused(zero, 'at least 1')

    apply, again, check_again, below = run_modules([
        ('etcd_compact', conn(node, revision=revision), False, False),
        ('etcd_compact', conn(node, revision=revision), False, False),
        ('etcd_compact', conn(node, revision=revision), True, False),
        ('etcd_compact', conn(node, revision=revision - 5), False, False)])
    assert ok(apply)['changed'] is True and apply['revision'] == revision
    assert not readable_at(lab, node, revision - 1) and readable_at(lab, node, revision)
    assert ok(again)['changed'] is False and 'compacted to already' in again['reason']
    assert ok(check_again)['changed'] is False
    assert ok(below)['changed'] is False

    # bbolt counts pages freed by the compaction as free once later transactions committed
    wait_for(lambda: free_space_known(lab, node, client), 30, 'the compacted space shows as free on every member')
    first = lab.nodes[0].name
    before_info, dry, after_dry, unknown, infinite = run_modules([
        ('etcd_member_info', conn(node), False, False),
        ('etcd_defrag', conn(node, member=first), True, True),
        ('etcd_member_info', conn(node), False, False),
        ('etcd_defrag', conn(node, member='no-such-node'), False, False),
        ('etcd_defrag', conn(node, member=first, defrag_timeout='inf'), False, False)])
    before = db_sizes(before_info)
    assert ok(dry)['changed'] is True and dry['db_size_before'] == before[first]
    assert dry['freed_estimate'] > 4 * 1024 * 1024, dry
    assert 'db_size_after' not in dry and 'estimate' in dry['diff']['after']
    assert db_sizes(after_dry)[first] == before[first], 'check mode defragmented'
    refused(unknown, 'no-such-node, which is not a member')
    refused(infinite, 'defrag_timeout must be a finite number')

    results = run_modules([('etcd_defrag', conn(node, member=member.name), False, True) for member in lab.nodes]
                          + [('etcd_member_info', conn(node), False, False)])
    for member, done in zip(lab.nodes, results):
        assert ok(done)['changed'] is True and done['member'] == member.name
        assert done['endpoint'] == 'https://%s:2379' % member.address
        assert done['db_size_after'] < done['db_size_before']
        estimate = done['db_size_before'] - done['db_size_in_use_before']
        assert done['freed'] == done['db_size_before'] - done['db_size_after']
        assert abs(done['freed'] - estimate) < 1024 * 1024, done
        assert done['seconds'] >= 0 and 'db_size: %d' % done['db_size_after'] in done['diff']['after']
    after = db_sizes(results[-1])
    assert all(after[name] < before[name] for name in before), (before, after)


def test_nospace_is_reported_then_cleared(lab):
    lab.wait_healthy(timeout=120)
    node = lab.nodes[0]
    client = etcd3_client(node)
    info, given, nothing = run_modules([('etcd_member_info', conn(node), False, False),
                                        ('etcd_member_info', conn(node, quota_backend_bytes=QUOTA * 2), False, False),
                                        ('etcd_alarm', conn(node), False, False)])
    assert ok(info)['cluster']['quota_bytes'] == QUOTA
    assert info['cluster']['quota_source'] == '--quota-backend-bytes in %s/manifests/etcd.yaml' % node.kubernetes_dir
    assert ok(given)['cluster']['quota_source'] == 'quota_backend_bytes option'
    assert all(m['quota_bytes'] == QUOTA * 2 for m in given['members'])
    assert ok(nothing)['changed'] is False and nothing['alarms_before'] == [] == nothing['disarmed']

    fill(client, '/maintenance/full/')
    info, bogus, unknown, check, info_after_check = run_modules([
        ('etcd_member_info', conn(node), False, False),
        ('etcd_alarm', conn(node, alarms=['BOGUS']), False, False),
        ('etcd_alarm', conn(node, members=['no-such-node']), False, False),
        ('etcd_alarm', conn(node), True, True),
        ('etcd_member_info', conn(node), False, False)])
    alarmed = [m for m in ok(info)['members'] if 'NOSPACE' in m['alarms']]
    assert alarmed and any(a['alarm'] == 'NOSPACE' for a in info['cluster']['alarms']), info['cluster']
    for member in info['members']:
        assert member['quota_bytes'] == QUOTA
        assert member['quota_usage'] == round(float(member['db_size']) / QUOTA, 4) and member['quota_usage'] > 0.8
        assert member['db_size_free'] == member['db_size'] - member['db_size_in_use']
    refused(bogus, 'value of alarms must be one or more of')
    refused(unknown, 'no-such-node, which is not a member')
    assert ok(check)['changed'] is True and check['disarmed'] and 'NOSPACE' in check['diff']['before']
    assert check['alarms_after'] == [a for a in check['alarms_before'] if a['alarm'] != 'NOSPACE']
    # members raise their own NOSPACE as they apply the refused write: more may come, none may go
    still = ok(info_after_check)['cluster']['alarms']
    assert all(alarm in still for alarm in check['alarms_before']), 'check mode disarmed'

    client.delete_prefix('/maintenance/full/')
    results = run_modules([('etcd_compact', conn(node), False, False)]
                          + [('etcd_defrag', conn(node, member=member.name), False, False) for member in lab.nodes]
                          + [('etcd_alarm', conn(node), False, True)])
    assert all(ok(result)['changed'] for result in results)
    disarm = results[-1]
    assert disarm['alarms_after'] == []
    assert set(m['name'] for m in alarmed) <= set(a['member'] for a in disarm['disarmed'])
    client.put('/maintenance/after', b'fits again')
    again, check_again, info = run_modules([('etcd_alarm', conn(node), False, False),
                                            ('etcd_alarm', conn(node), True, False),
                                            ('etcd_member_info', conn(node), False, False)])
    assert ok(again)['changed'] is False and again['disarmed'] == []
    assert ok(check_again)['changed'] is False
    assert all(m['alarms'] == [] for m in ok(info)['members'])
