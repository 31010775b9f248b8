import pytest

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import EtcdRequestError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import EtcdInputError
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.members import (
    ACTION_ADD,
    ACTION_NONE,
    ACTION_PROMOTE,
    ACTION_REMOVE,
    MemberInputError,
    QuorumRefusal,
    apply_plan,
    find_member,
    initial_cluster,
    members_text,
    member_view,
    normalize_peer_url,
    plan_member,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import quorum_summary

IDS = {'n1': '00000000000000a1', 'n2': '00000000000000a2', 'n3': '00000000000000a3', 'n4': '00000000000000a4',
       'n5': '00000000000000a5', 'l1': '00000000000000b1', '': '00000000000000c1'}


def member(name, down=False, learner=False, url=None, member_id=None):
    number = name[-1] if name else '9'
    return {'id': member_id or IDS[name], 'name': name, 'is_learner': learner, 'healthy': not down,
            'peer_urls': [url or 'https://10.0.0.%s:2380' % number],
            'client_urls': [] if not name else ['https://10.0.0.%s:2379' % number],
            'endpoint': None if not name else 'https://10.0.0.%s:2379' % number}


def state(*members, leader='n1'):
    members = list(members)
    cluster = dict(quorum_summary(members))
    lead = next((m for m in members if m['name'] == leader and m['healthy']), None)
    if not cluster['has_quorum']:
        lead = None
    cluster['leader'] = {'id': lead['id'], 'name': lead['name']} if lead else None
    return {'members': members, 'cluster': cluster, 'endpoint_errors': {}}


def three(**down):
    return state(member('n1', down.get('n1', False)), member('n2', down.get('n2', False)),
                 member('n3', down.get('n3', False)))


NEW = ['https://10.0.0.4:2380']

# (description, cluster, call kwargs, expected action, expected quorum_after (voters, learners, healthy, has_quorum))
PLANS = [
    ('add learner to 3 healthy', three(), dict(wanted='present', name='n4', peer_urls=NEW),
     ACTION_ADD, (3, 1, 3, True)),
    ('add voter to 3 healthy: quorum 3 of 4, tolerance 0 until it runs', three(),
     dict(wanted='present', name='n4', peer_urls=NEW, learner=False), ACTION_ADD, (4, 0, 3, True)),
    ('present, same name and URLs', three(), dict(wanted='present', name='n2', peer_urls=['https://10.0.0.2:2380']),
     ACTION_NONE, (3, 0, 3, True)),
    ('present by name only', three(), dict(wanted='present', name='n2'), ACTION_NONE, (3, 0, 3, True)),
    ('present, URL written differently', three(), dict(wanted='present', name='n2', peer_urls=['HTTPS://10.0.0.2:2380/']),
     ACTION_NONE, (3, 0, 3, True)),
    ('present: added, not started yet (no name), found by URL',
     state(member('n1'), member('n2'), member('', learner=True, down=True, url=NEW[0])),
     dict(wanted='present', name='n4', peer_urls=NEW), ACTION_NONE, (2, 1, 2, True)),
    ('add voter to 2 of 2 after the lost one was removed', state(member('n1'), member('n2')),
     dict(wanted='present', name='n3', peer_urls=['https://10.0.0.3:2380'], learner=False), ACTION_ADD, (3, 0, 2, True)),
    ('add voter to a cluster of one, allowed', state(member('n1')),
     dict(wanted='present', name='n2', peer_urls=['https://10.0.0.2:2380'], learner=False, allow_quorum_loss=True),
     ACTION_ADD, (2, 0, 1, False)),
    ('add learner to a cluster of one', state(member('n1')),
     dict(wanted='present', name='n2', peer_urls=['https://10.0.0.2:2380']), ACTION_ADD, (1, 1, 1, True)),
    ('remove healthy voter of 3 healthy', three(), dict(wanted='absent', name='n3'), ACTION_REMOVE, (2, 0, 2, True)),
    ('remove the down voter of 3', three(n3=True), dict(wanted='absent', name='n3'), ACTION_REMOVE, (2, 0, 2, True)),
    ('remove by hex id', three(), dict(wanted='absent', member_id='a3'), ACTION_REMOVE, (2, 0, 2, True)),
    ('remove by id and name', three(), dict(wanted='absent', member_id='0x00000000000000a3', name='n3'),
     ACTION_REMOVE, (2, 0, 2, True)),
    ('remove the leader', three(), dict(wanted='absent', name='n1'), ACTION_REMOVE, (2, 0, 2, True)),
    ('remove a healthy voter while another is down, allowed', three(n3=True),
     dict(wanted='absent', name='n2', allow_quorum_loss=True), ACTION_REMOVE, (2, 0, 1, False)),
    ('remove a learner', state(member('n1'), member('n2'), member('n3'), member('l1', learner=True)),
     dict(wanted='absent', name='l1'), ACTION_REMOVE, (3, 0, 3, True)),
    ('remove a learner that never started, by URL',
     state(member('n1'), member('n2'), member('', learner=True, down=True, url=NEW[0])),
     dict(wanted='absent', peer_urls=NEW), ACTION_REMOVE, (2, 0, 2, True)),
    ('absent already', three(), dict(wanted='absent', name='n9'), ACTION_NONE, (3, 0, 3, True)),
    ('absent already, by id', three(), dict(wanted='absent', member_id='ff'), ACTION_NONE, (3, 0, 3, True)),
    ('promote a running learner', state(member('n1'), member('n2'), member('l1', learner=True)),
     dict(wanted='promoted', name='l1'), ACTION_PROMOTE, (3, 0, 3, True)),
    ('promote a learner not running yet: quorum holds, etcd decides when it caught up',
     state(member('n1'), member('n2'), member('l1', learner=True, down=True)),
     dict(wanted='promoted', name='l1'), ACTION_PROMOTE, (3, 0, 2, True)),
    ('promoted, already a voter', three(), dict(wanted='promoted', name='n2'), ACTION_NONE, (3, 0, 3, True)),
]


@pytest.mark.parametrize('description,cluster,kwargs,action,after', PLANS, ids=[case[0] for case in PLANS])
def test_plan_table(description, cluster, kwargs, action, after):
    plan = plan_member(cluster, **kwargs)
    assert plan['action'] == action, plan['reason']
    got = plan['quorum_after']
    assert (got['voting_members'], got['learners'], got['healthy_voters'], got['has_quorum']) == after
    assert plan['quorum_before'] == dict((k, v) for k, v in quorum_summary(cluster['members']).items()
                                         if k in plan['quorum_before'])
    assert bool(plan['warnings']) == (not after[3]), plan['warnings']
    assert plan['reason']


# (description, cluster, kwargs, exception class, text in the message)
REFUSALS = [
    ('add voter to a cluster of one', state(member('n1')),
     dict(wanted='present', name='n2', peer_urls=['https://10.0.0.2:2380'], learner=False),
     QuorumRefusal, 'adding voter n2 before it runs would leave etcd without quorum'),
    ('add while a voter is down', three(n3=True), dict(wanted='present', name='n4', peer_urls=NEW),
     MemberInputError, 'refuses to add any member while a voter is down'),
    ('add voter while a voter is down', three(n3=True),
     dict(wanted='present', name='n4', peer_urls=NEW, learner=False, allow_quorum_loss=True),
     MemberInputError, 'n3 (id 00000000000000a3, https://10.0.0.3:2380) is not healthy'),
    ('a second learner', state(member('n1'), member('n2'), member('n3'), member('l1', learner=True)),
     dict(wanted='present', name='n4', peer_urls=NEW), MemberInputError, 'one learner at a time'),
    ('no quorum', three(n2=True, n3=True), dict(wanted='present', name='n4', peer_urls=NEW),
     MemberInputError, 'etcd has no quorum (1 of 3 voting members healthy, 2 needed)'),
    ('remove without quorum', three(n2=True, n3=True), dict(wanted='absent', name='n3'),
     MemberInputError, 'restore_quorum'),
    ('peer URLs of an existing member differ', three(),
     dict(wanted='present', name='n2', peer_urls=['https://10.0.0.22:2380']),
     MemberInputError, 'never changes the peer URLs'),
    ('absent with URLs of another member', three(), dict(wanted='absent', name='n2', peer_urls=['https://10.0.0.3:2380']),
     MemberInputError, 'https://10.0.0.3:2380 already belongs to member n3'),
    ('new name with the URL of a member', three(), dict(wanted='present', name='n4', peer_urls=['https://10.0.0.3:2380']),
     MemberInputError, 'already belongs to member n3'),
    ('id and name disagree', three(), dict(wanted='absent', name='n2', member_id='a3'),
     MemberInputError, 'id 00000000000000a3 is member n3, not n2'),
    ('add without peer URLs', three(), dict(wanted='present', name='n4'), MemberInputError, 'needs name and peer_urls'),
    ('add by id', three(), dict(wanted='present', member_id='ff', peer_urls=NEW), MemberInputError,
     'etcd chooses the id'),
    ('nothing named', three(), dict(wanted='absent'), MemberInputError, 'give name, id or peer_urls'),
    ('bad id', three(), dict(wanted='absent', member_id='xyz'), MemberInputError, "id 'xyz' is not a member id"),
    ('negative id', three(), dict(wanted='absent', member_id='-5'), MemberInputError, 'is not a member id'),
    ('remove a healthy voter while another is down', three(n3=True), dict(wanted='absent', name='n2'),
     QuorumRefusal, 'removing healthy n2'),
    ('remove the last voter', state(member('n1')), dict(wanted='absent', name='n1', allow_quorum_loss=True),
     MemberInputError, 'last voting member'),
    ('promote unknown', three(), dict(wanted='promoted', name='n9'), MemberInputError, 'add it first'),
    ('promote a dead learner next to a single voter', state(member('n1'), member('l1', learner=True, down=True)),
     dict(wanted='promoted', name='l1'), QuorumRefusal, 'promoting the unhealthy learner l1'),
    ('bad state', three(), dict(wanted='started', name='n1'), MemberInputError, 'state must be one of'),
    ('nobody answered', {'members': [], 'cluster': {}, 'endpoint_errors': {'https://x:2379': 'connection refused'}},
     dict(wanted='absent', name='n1'), MemberInputError, 'no etcd endpoint answered: connection refused'),
]


@pytest.mark.parametrize('description,cluster,kwargs,error,text', REFUSALS, ids=[case[0] for case in REFUSALS])
def test_refusals_table(description, cluster, kwargs, error, text):
    with pytest.raises(error) as caught:
        plan_member(cluster, **kwargs)
    assert text in str(caught.value)


def test_quorum_refusal_says_how_to_override():
    with pytest.raises(QuorumRefusal) as caught:
        plan_member(three(n3=True), 'absent', name='n2')
    assert 'allow_quorum_loss=true' in str(caught.value)
    assert caught.value.reason == 'would_lose_quorum'


def test_absent_name_hints_at_members_not_started():
    cluster = state(member('n1'), member('n2'), member('', learner=True, down=True, url=NEW[0]))
    plan = plan_member(cluster, 'absent', name='n4')
    assert plan['action'] == ACTION_NONE
    assert 'not started yet' in plan['reason'] and NEW[0] in plan['reason']


@pytest.mark.parametrize('url,text', [
    ('notaurl', 'must start with https://'),
    ('ftp://10.0.0.1:2380', 'must start with https://'),
    ('https://10.0.0.1', 'needs a host and a port'),
    ('https://10.0.0.1:2380/path', 'may only have scheme, host and port'),
    ('https://[10.0.0.1:2380', 'is not a URL'),
    ('https://10.0.0.1:99999', 'is not a URL'),
    ('', 'empty entry'),
    ('10.0.0.4:2380', 'must start with https://'),
    ('https://:2380', 'needs a host and a port'),
    ('https://10.0.0.4:0', 'not one from 1 to 65535'),
    ('https://no de:2380', 'neither an IP address nor a DNS name'),
    ('https://node_4:2380', 'neither an IP address nor a DNS name'),
])
def test_bad_peer_urls(url, text):
    with pytest.raises(MemberInputError) as caught:
        plan_member(three(), 'present', name='n4', peer_urls=[url])
    assert text in str(caught.value)


def test_peer_url_normalized():
    assert normalize_peer_url(' HTTPS://Node-4.Example:2380/ ') == 'https://node-4.example:2380'
    assert normalize_peer_url('https://[FD00::4]:2380') == 'https://[fd00::4]:2380'


def test_find_member_prefers_id_then_name_then_url():
    cluster = three()['members']
    assert find_member(cluster, member_id='00000000000000a2')['name'] == 'n2'
    assert find_member(cluster, name='n3')['name'] == 'n3'
    assert find_member(cluster, name='n9') is None
    # a named member is never found by URL alone: its name must be given or agree
    with pytest.raises(MemberInputError):
        find_member(cluster, name='n9', peer_urls=['https://10.0.0.2:2380'])


def test_initial_cluster_as_etcdctl_prints_it():
    members = [member_view(m) for m in state(member('n1'), member('n2'))['members']]
    members.insert(0, {'id': 'ffff', 'name': '', 'peer_urls': NEW, 'client_urls': [], 'is_learner': True})
    # sorted: the same members give the same text whatever order etcd lists them in
    assert initial_cluster(members, 'n4', NEW) == initial_cluster(members[::-1], 'n4', NEW) == (
        'n1=https://10.0.0.1:2380,n2=https://10.0.0.2:2380,n4=https://10.0.0.4:2380')
    # the name of a started member is etcd's, whatever the task says
    assert initial_cluster(members[1:], 'other', ['https://10.0.0.2:2380']).startswith('n1=https://10.0.0.1:2380,n2=')


def test_members_text_is_sorted_and_names_learners():
    text = members_text([member_view(member('n2')), member_view(member('l1', learner=True))])
    assert text == ('l1 00000000000000b1 learner https://10.0.0.1:2380\n'
                    'n2 00000000000000a2 voter https://10.0.0.2:2380\n')


class FakeClient:
    """Answers membership changes from a script: each entry is an answer dict or an exception."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = []

    def _next(self, call):
        self.calls.append(call)
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def member_add(self, endpoint, peer_urls, is_learner=True):
        return self._next(('add', endpoint, tuple(peer_urls), is_learner))

    def member_remove(self, endpoint, member_id):
        return self._next(('remove', endpoint, member_id))

    def member_promote(self, endpoint, member_id):
        return self._next(('promote', endpoint, member_id))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def refused(message, code=9):
    return EtcdRequestError('https://10.0.0.1:2379: etcd refused the request: %s' % message,
                            'https://10.0.0.1:2379', code=code, etcd_message=message)


NOT_IN_SYNC = 'etcdserver: can only promote a learner member which is in sync with leader'


def test_promote_retries_until_the_learner_caught_up():
    cluster = state(member('n1'), member('n2'), member('l1', learner=True), leader='n2')
    plan = plan_member(cluster, 'promoted', name='l1')
    client = FakeClient([refused(NOT_IN_SYNC), refused(NOT_IN_SYNC), {'members': []}])
    clock = Clock()
    assert apply_plan(client, cluster, plan, 10, sleep=clock.sleep, clock=clock) == {'members': []}
    # sent to the leader, with the learner's id as a number
    assert client.calls == [('promote', 'https://10.0.0.2:2379', 0xb1)] * 3
    assert clock.now == 2


def test_promote_gives_up_after_wait_timeout_and_says_why():
    cluster = state(member('n1'), member('n2'), member('l1', learner=True))
    plan = plan_member(cluster, 'promoted', name='l1')
    client = FakeClient([refused(NOT_IN_SYNC)] * 10)
    clock = Clock()
    with pytest.raises(EtcdInputError) as caught:
        apply_plan(client, cluster, plan, 3, sleep=clock.sleep, clock=clock)
    assert 'has not caught up with the leader (within wait_timeout=3 s)' in str(caught.value)
    assert '--initial-cluster-state=existing' in str(caught.value)
    assert len(client.calls) == 4


def test_unhealthy_cluster_retried_briefly_then_explained():
    cluster = three()
    plan = plan_member(cluster, 'absent', name='n3')
    client = FakeClient([refused('etcdserver: unhealthy cluster', 14)] * 30)
    clock = Clock()
    with pytest.raises(EtcdInputError) as caught:
        apply_plan(client, cluster, plan, 60, sleep=clock.sleep, clock=clock)
    assert 'reconnected less than 5 s ago' in str(caught.value)
    assert len(client.calls) == 16
    # the removal goes to the leader, n1, never to the member being removed
    assert client.calls[0] == ('remove', 'https://10.0.0.1:2379', 0xa3)


def test_removing_the_leader_is_sent_to_another_voter():
    cluster = three()
    plan = plan_member(cluster, 'absent', name='n1')
    client = FakeClient([{'members': []}])
    apply_plan(client, cluster, plan, 5, sleep=Clock().sleep)
    assert client.calls == [('remove', 'https://10.0.0.2:2379', 0xa1)]


def test_other_refusals_are_not_retried():
    cluster = three()
    plan = plan_member(cluster, 'present', name='n4', peer_urls=NEW)
    client = FakeClient([refused('etcdserver: too many learner members in cluster')])
    with pytest.raises(EtcdInputError) as caught:
        apply_plan(client, cluster, plan, 60, sleep=Clock().sleep)
    assert 'one learner at a time' in str(caught.value)
    assert client.calls == [('add', 'https://10.0.0.1:2379', tuple(NEW), True)]


@pytest.mark.parametrize('urls', [['http://10.0.0.4:2380'], ['https://10.0.0.4:2380', 'HTTP://10.0.0.4:2381']])
def test_add_with_a_plain_http_peer_url_is_refused(urls):
    with pytest.raises(MemberInputError) as caught:
        plan_member(three(), 'present', name='n4', peer_urls=urls)
    message = str(caught.value)
    assert 'plain http' in message and 'n4' in message and 'nothing was changed' in message
    assert urls[-1].lower() in message and 'https://10.0.0.4:2380 ' not in message


def test_http_peer_url_of_an_existing_member_still_finds_it_for_removal():
    cluster = state(member('n1'), member('n2'), member('n3', url='http://10.0.0.3:2380'))
    plan = plan_member(cluster, 'absent', peer_urls=['http://10.0.0.3:2380'], name='n3')
    assert plan['action'] == ACTION_REMOVE
