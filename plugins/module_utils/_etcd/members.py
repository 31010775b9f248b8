# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Adding, promoting and removing etcd members (the etcd_member module). The decisions are pure
functions over the state `collect_cluster_state` returns: which member the task means, what it
takes to reach the wanted state, and what that does to quorum. `ensure_member` reads the
cluster, decides, and carries the change out through the gateway.

etcd's own rules the decisions follow (etcd 3.4 to 3.6, --strict-reconfig-check on, as kubeadm
runs it): a membership change goes through raft, so it needs quorum; etcd refuses to add any
member, voter or learner, while a voting member is unreachable, and refuses to remove a healthy
voter when the rest would not hold quorum ("etcdserver: unhealthy cluster"); it keeps one learner
at a time; it promotes a learner only once the learner's log is close to the leader's. A voter
added before it runs raises the quorum size at once, which is how adding a member to a cluster
with a member down (or to a cluster of one) loses quorum.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    member_id_hex,
    member_id_int,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import (
    EtcdInputError,
    collect_cluster_state,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdRequestError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.quorum import (
    quorum_summary,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the import sanity test
    from urlparse import urlsplit

PRESENT = 'present'
ABSENT = 'absent'
PROMOTED = 'promoted'
STATES = (PRESENT, ABSENT, PROMOTED)

ACTION_NONE = 'none'
ACTION_ADD = 'add'
ACTION_REMOVE = 'remove'
ACTION_PROMOTE = 'promote'

# etcd refuses reconfiguration for 5 s after a peer (re)connects; a refusal then is worth a retry.
UNHEALTHY_RETRY_SECONDS = 15.0
RETRY_INTERVAL = 1.0

# A host in a peer URL: an IPv4 or IPv6 address (urlsplit strips the brackets) or a DNS name.
_PEER_HOST = re.compile(r'^([0-9a-f:.]+|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?)$',
                        re.IGNORECASE)

QUORUM_FIELDS = ('voting_members', 'learners', 'healthy_voters', 'quorum_size', 'has_quorum', 'fault_tolerance')


class QuorumRefusal(EtcdInputError):
    """The change would leave the cluster without quorum; only allow_quorum_loss lets it through."""
    reason = 'would_lose_quorum'


class MemberInputError(EtcdInputError):
    reason = 'bad_input'


def normalize_peer_url(url):
    """'HTTPS://Host:2380/' -> 'https://host:2380'. Raises MemberInputError for anything etcd refuses."""
    text = url.strip() if isinstance(url, str) else ''
    example = 'give URLs such as https://10.0.0.4:2380'
    if not text:
        raise MemberInputError('peer_urls has an empty entry: %s' % example)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise MemberInputError('peer_urls: %r is not a URL (%s): %s' % (text, exc, example))
    if parts.scheme.lower() not in ('http', 'https'):
        raise MemberInputError('peer_urls: %r must start with https:// (or http://): %s' % (text, example))
    if not host or port is None:
        raise MemberInputError('peer_urls: %r needs a host and a port (etcd requires host:port): %s' % (text, example))
    if not 0 < port < 65536:
        raise MemberInputError('peer_urls: %r has port %d, not one from 1 to 65535: %s' % (text, port, example))
    if not _PEER_HOST.match(host):
        raise MemberInputError('peer_urls: %r has host %r, which is neither an IP address nor a DNS name: %s'
                               % (text, host, example))
    if parts.path not in ('', '/') or parts.query or parts.fragment or parts.username or parts.password:
        raise MemberInputError('peer_urls: %r may only have scheme, host and port: %s' % (text, example))
    host_part = '[%s]' % host if ':' in host else host
    return '%s://%s:%d' % (parts.scheme.lower(), host_part.lower(), port)


def plain_http_peer_urls(urls):
    """The URLs of `urls` (normalized) that are not https: a member must not be added with one.

    kubeadm's etcd talks TLS to its peers (--peer-cert-file, --peer-client-cert-auth); a member added
    with an http:// peer URL can never join, and the others would try to reach it without TLS."""
    return [url for url in urls if not url.startswith('https://')]


def normalize_peer_urls(urls):
    result = []
    for url in urls or []:
        normalized = normalize_peer_url(url)
        if normalized not in result:
            result.append(normalized)
    return result


def _member_urls(member):
    urls = set()
    for url in member.get('peer_urls') or []:
        try:
            urls.add(normalize_peer_url(url))
        except MemberInputError:
            urls.add(url)
    return urls


def describe_member(member):
    name = member.get('name') or '(not started yet, no name)'
    return '%s (id %s, %s)' % (name, member.get('id'), ', '.join(member.get('peer_urls') or []) or 'no peer URLs')


def find_member(members, name=None, member_id=None, peer_urls=None):
    """The member the task means, or None. Raises MemberInputError when the options point at
    different members.

    By `id` when given; else by `name`; else by `peer_urls` (a member added but not started yet
    has no name, only its peer URLs). Whatever else was given must agree with the member found.
    """
    wanted_urls = set(peer_urls or [])
    found = None
    if member_id is not None:
        found = next((m for m in members if m['id'] == member_id), None)
        if found is None:
            return None
        if name and found['name'] and found['name'] != name:
            raise MemberInputError('id %s is member %s, not %s' % (member_id, found['name'], name))
    elif name:
        found = next((m for m in members if m['name'] == name), None)
    if found is None and wanted_urls:
        found = next((m for m in members if not m['name'] and _member_urls(m) & wanted_urls), None)
    if wanted_urls:
        for other in members:
            if other is not found and _member_urls(other) & wanted_urls:
                raise MemberInputError(
                    'peer URL %s already belongs to member %s%s' % (
                        ', '.join(sorted(_member_urls(other) & wanted_urls)), describe_member(other),
                        '' if found is None else ', not to %s' % describe_member(found)))
    return found


def project(members, action, target=None, learner=True):
    """The members as they would be after `action` on `target` (new member: healthy=False)."""
    if action == ACTION_ADD:
        # etcd learns the name of a new member only when it starts
        return list(members) + [dict(target, name='', is_learner=learner, healthy=False)]
    if action == ACTION_REMOVE:
        return [m for m in members if m is not target]
    if action == ACTION_PROMOTE:
        return [dict(m, is_learner=False) if m is target else m for m in members]
    return list(members)


def quorum_view(members):
    summary = quorum_summary(members)
    return dict((key, summary[key]) for key in QUORUM_FIELDS)


def _refuse_quorum_loss(before, after, what, allow_quorum_loss, warnings):
    if after['has_quorum']:
        return
    message = ('%s would leave etcd without quorum: %d voting members, quorum %d, but only %d healthy voters '
               'after it (now %d of %d)' % (what, after['voting_members'], after['quorum_size'], after['healthy_voters'],
                                            before['healthy_voters'], before['voting_members']))
    if not allow_quorum_loss:
        raise QuorumRefusal(message + '. Bring the unhealthy members back first, or set allow_quorum_loss=true '
                                      'if you accept that etcd stops accepting writes until enough members run.')
    warnings.append(message + ' (allowed by allow_quorum_loss)')


def plan_member(state, wanted, name=None, member_id=None, peer_urls=None, learner=True, allow_quorum_loss=False):
    """What etcd_member must do. Pure: `state` is collect_cluster_state's answer.

    Returns {'action', 'member' (the member dict, or the one to add), 'reason', 'warnings',
    'quorum_before', 'quorum_after'}. Raises MemberInputError for impossible requests and
    QuorumRefusal for changes that would cost quorum.
    """
    if wanted not in STATES:
        raise MemberInputError('state must be one of %s, not %r' % (', '.join(STATES), wanted))
    members = state['members']
    if not members:
        raise MemberInputError('no etcd endpoint answered: %s'
                               % ('; '.join(state['endpoint_errors'].values()) or 'no endpoints'))
    member_id = _normalize_id(member_id)
    if not (name or member_id or peer_urls):
        raise MemberInputError('name the member: give name, id or peer_urls')
    peer_urls = normalize_peer_urls(peer_urls)
    target = find_member(members, name, member_id, peer_urls)
    if target is not None and peer_urls and _member_urls(target) != set(peer_urls):
        raise MemberInputError(
            'member %s has peer URLs %s, not %s; etcd_member never changes the peer URLs of a member: give its '
            'current peer URLs, or remove it (state=absent) and add it again'
            % (describe_member(target), ', '.join(sorted(_member_urls(target))), ', '.join(peer_urls)))
    before = quorum_view(members)
    plan = {'action': ACTION_NONE, 'member': target, 'warnings': [], 'quorum_before': before,
            'quorum_after': before}
    if wanted == PRESENT:
        if target is None:
            return _plan_add(state, plan, name, member_id, peer_urls, learner, allow_quorum_loss)
        plan['reason'] = 'member %s is present (%s)' % (describe_member(target),
                                                        'learner' if target['is_learner'] else 'voter')
        return plan
    if target is None:
        return _plan_missing(members, plan, wanted, name or member_id or ', '.join(peer_urls))
    if wanted == ABSENT:
        return _plan_remove(state, plan, target, allow_quorum_loss)
    return _plan_promote(state, plan, target, allow_quorum_loss)


def _normalize_id(member_id):
    if member_id in (None, ''):
        return None
    try:
        number = member_id_int(member_id)
        if not 0 < number < 1 << 64:
            raise ValueError('out of range')
    except ValueError:
        raise MemberInputError('id %r is not a member id: give 16 hex digits as etcdctl member list prints them'
                               % (member_id,))
    return member_id_hex(number)


def _plan_add(state, plan, name, member_id, peer_urls, learner, allow_quorum_loss):
    members = state['members']
    if member_id:
        raise MemberInputError('no member has id %s; etcd chooses the id of a new member, so give name and '
                               'peer_urls to add one' % member_id)
    if not name or not peer_urls:
        raise MemberInputError('adding a member needs name and peer_urls (no member named %s%s exists)'
                               % (name or '(no name given)', ' or with those peer URLs' if peer_urls else ''))
    plain = plain_http_peer_urls(peer_urls)
    if plain:
        raise MemberInputError(
            'peer_urls: %s %s plain http: the members of this cluster talk TLS to their peers (kubeadm sets '
            '--peer-cert-file and --initial-advertise-peer-urls=https://HOST:2380), so member %s could never join. '
            'Give https:// peer URLs; nothing was changed.'
            % (', '.join(plain), 'is' if len(plain) == 1 else 'are', name))
    _check_can_reconfigure(state, 'add member %s' % name)
    other_learners = [m for m in members if m['is_learner']]
    if other_learners:
        raise MemberInputError('the cluster already has a learner, %s: etcd keeps one learner at a time; '
                               'promote it (state=promoted) or remove it first' % describe_member(other_learners[0]))
    down = [m for m in members if not m['is_learner'] and not m['healthy']]
    if down:
        raise MemberInputError(
            'voting member%s %s %s not healthy: etcd refuses to add any member while a voter is down (it cannot '
            'tell that the change keeps quorum). Remove the lost member first (state=absent), or bring it back'
            % ('s' if len(down) > 1 else '', ', '.join(describe_member(m) for m in down),
               'are' if len(down) > 1 else 'is'))
    new = {'id': None, 'name': name, 'peer_urls': list(peer_urls), 'client_urls': [], 'is_learner': learner,
           'healthy': False}
    after = quorum_view(project(members, ACTION_ADD, new, learner))
    if not learner:
        _refuse_quorum_loss(plan['quorum_before'], after, 'adding voter %s before it runs' % name,
                            allow_quorum_loss, plan['warnings'])
    kind = 'learner' if learner else 'voting member'
    plan.update(action=ACTION_ADD, member=new, quorum_after=after,
                reason='add %s as a %s with peer URLs %s' % (name, kind, ', '.join(peer_urls)))
    return plan


def _plan_missing(members, plan, wanted, asked):
    nameless = [m for m in members if not m['name']]
    hint = ''
    if nameless:
        hint = '; members not started yet (no name): %s, give id or peer_urls to mean one of them' % (
            ', '.join(describe_member(m) for m in nameless))
    if wanted == PROMOTED:
        raise MemberInputError('%s is not a member of this etcd cluster: add it first (state=present)%s'
                               % (asked, hint))
    plan['reason'] = '%s is not a member of this etcd cluster%s' % (asked, hint)
    return plan


def _plan_remove(state, plan, target, allow_quorum_loss):
    remaining = project(state['members'], ACTION_REMOVE, target)
    if not target['is_learner'] and not [m for m in remaining if not m['is_learner']]:
        raise MemberInputError('%s is the last voting member: etcd cannot remove it' % describe_member(target))
    _check_can_reconfigure(state, 'remove member %s' % describe_member(target))
    after = quorum_view(remaining)
    if not target['is_learner']:
        _refuse_quorum_loss(plan['quorum_before'], after,
                            'removing %s%s' % ('healthy ' if target['healthy'] else '', describe_member(target)),
                            allow_quorum_loss, plan['warnings'])
    plan.update(action=ACTION_REMOVE, quorum_after=after,
                reason='remove %s %s' % ('learner' if target['is_learner'] else 'voting member',
                                         describe_member(target)))
    return plan


def _plan_promote(state, plan, target, allow_quorum_loss):
    if not target['is_learner']:
        plan['reason'] = 'member %s is already a voting member' % describe_member(target)
        return plan
    _check_can_reconfigure(state, 'promote learner %s' % describe_member(target))
    after = quorum_view(project(state['members'], ACTION_PROMOTE, target))
    _refuse_quorum_loss(plan['quorum_before'], after,
                        'promoting %s learner %s' % ('the' if target['healthy'] else 'the unhealthy',
                                                     describe_member(target)),
                        allow_quorum_loss, plan['warnings'])
    plan.update(action=ACTION_PROMOTE, quorum_after=after,
                reason='promote learner %s to a voting member' % describe_member(target))
    return plan


def _check_can_reconfigure(state, what):
    if not state['cluster']['has_quorum']:
        cluster = state['cluster']
        raise MemberInputError(
            'cannot %s: etcd has no quorum (%d of %d voting members healthy, %d needed) and a membership change '
            'needs quorum. Bring members back, or rebuild the cluster from the member with the most data '
            '(restore_quorum)' % (what, cluster['healthy_voters'], cluster['voting_members'], cluster['quorum_size']))


def initial_cluster(members, name=None, peer_urls=None):
    """--initial-cluster for a joining member: name=peerURL for every peer URL of every member, as
    `etcdctl member add` prints ETCD_INITIAL_CLUSTER, sorted so that the same members always give
    the same text (a manifest edited with it does not change, and restart its pod, on a rerun).
    A member that has not started has no name yet: the one with `peer_urls` gets `name`."""
    wanted = set(normalize_peer_urls(peer_urls)) if peer_urls else set()
    entries = []
    for member in members:
        member_name = member.get('name') or ''
        if not member_name and name and wanted and _member_urls(member) == wanted:
            member_name = name
        for url in member.get('peer_urls') or []:
            entries.append('%s=%s' % (member_name, url))
    return ','.join(sorted(entries))


def member_view(member):
    """A member as etcd_member returns it (ids as 16 hex digits)."""
    if member is None:
        return None
    member_id = member.get('id')
    if isinstance(member_id, int):
        member_id = member_id_hex(member_id)
    return {'id': member_id, 'name': member.get('name') or '', 'peer_urls': list(member.get('peer_urls') or []),
            'client_urls': list(member.get('client_urls') or []), 'is_learner': bool(member.get('is_learner'))}


def members_text(members):
    """Diff text: one line per member, sorted by name then peer URLs."""
    lines = ['%s %s %s %s' % (m['name'] or '(not started)', m['id'] or '(new)', 'learner' if m['is_learner'] else 'voter',
                              ','.join(m['peer_urls'])) for m in members]
    return '\n'.join(sorted(lines)) + '\n'


def explain_refusal(exc, plan, wait_timeout):
    """An EtcdInputError that says what etcd's refusal means for this change."""
    message = (exc.etcd_message or str(exc)) if isinstance(exc, EtcdRequestError) else str(exc)
    what = plan['reason']
    if 'in sync with leader' in message:
        return EtcdInputError(
            'etcd refused to %s: "%s": the learner has not caught up with the leader (within wait_timeout=%s s). '
            'Check that it runs (its manifest needs --initial-cluster-state=existing and the current members in '
            '--initial-cluster) and is not behind, then run again or raise wait_timeout' % (what, message, wait_timeout))
    if 'unhealthy cluster' in message:
        return EtcdInputError(
            'etcd refused to %s: "%s": etcd accepts no member change while a voting member is unreachable or '
            'reconnected less than 5 s ago, nor a removal that would leave the remaining voters without quorum'
            % (what, message))
    if 'too many learner' in message:
        return EtcdInputError('etcd refused to %s: "%s": etcd keeps one learner at a time; promote or remove it first'
                              % (what, message))
    if 'already exist' in message:
        return EtcdInputError('etcd refused to %s: "%s": a member with those peer URLs exists' % (what, message))
    return EtcdInputError('etcd refused to %s: %s' % (what, exc))


def _change_endpoint(state, target):
    """Where to send a membership change: the leader, else a healthy voter (learners refuse it)."""
    leader = state['cluster']['leader']
    candidates = [m for m in state['members'] if m['endpoint'] and m['healthy'] and not m['is_learner']]
    candidates.sort(key=lambda m: (m is target, not (leader and m['id'] == leader['id']), m['name']))
    if not candidates:
        raise EtcdInputError('no healthy voting member with a client URL to send the change to')
    return candidates[0]['endpoint']


def apply_plan(client, state, plan, wait_timeout, sleep=time.sleep, clock=time.monotonic):
    """Carry the plan out; returns the member list etcd answered after the change (parsed)."""
    endpoint = _change_endpoint(state, plan['member'])
    member = plan['member']
    deadline = clock() + wait_timeout
    unhealthy_deadline = clock() + min(wait_timeout, UNHEALTHY_RETRY_SECONDS)
    while True:
        try:
            if plan['action'] == ACTION_ADD:
                return client.member_add(endpoint, member['peer_urls'], is_learner=member['is_learner'])
            if plan['action'] == ACTION_REMOVE:
                return client.member_remove(endpoint, member_id_int(member['id']))
            return client.member_promote(endpoint, member_id_int(member['id']))
        except EtcdRequestError as exc:
            message = exc.etcd_message or ''
            retry = (('in sync with leader' in message and plan['action'] == ACTION_PROMOTE and clock() < deadline)
                     or ('unhealthy cluster' in message and clock() < unhealthy_deadline))
            if not retry:
                raise explain_refusal(exc, plan, wait_timeout)
        sleep(RETRY_INTERVAL)


def ensure_member(client, endpoints, wanted, name=None, member_id=None, peer_urls=None, learner=True,
                  allow_quorum_loss=False, wait_timeout=60.0, check_mode=False):
    """etcd_member's work: read the cluster, plan, apply. Returns the module result (without connection info)."""
    state = collect_cluster_state(client, endpoints)
    plan = plan_member(state, wanted, name=name, member_id=member_id, peer_urls=peer_urls, learner=learner,
                       allow_quorum_loss=allow_quorum_loss)
    before = [member_view(m) for m in state['members']]
    result = {
        'changed': plan['action'] != ACTION_NONE,
        'action': plan['action'],
        'reason': plan['reason'],
        'warnings': plan['warnings'],
        'quorum_before': plan['quorum_before'],
        'quorum_after': plan['quorum_after'],
        'members_before': before,
    }
    target = plan['member']
    if plan['action'] == ACTION_NONE or check_mode:
        projected = project(state['members'], plan['action'], target, learner)
        after = [member_view(m) for m in projected]
        if plan['action'] == ACTION_ADD:
            target = projected[-1]
        elif plan['action'] == ACTION_REMOVE:
            target = None
        elif plan['action'] == ACTION_PROMOTE:
            target = dict(target, is_learner=False)
    else:
        answer = apply_plan(client, state, plan, wait_timeout)
        after = [member_view(m) for m in answer['members']]
        if plan['action'] == ACTION_ADD:
            target = answer['member']
        elif plan['action'] == ACTION_REMOVE:
            target = None
        else:
            target = next((m for m in answer['members'] if m['id'] == member_id_int(plan['member']['id'])), None)
    result['member'] = member_view(target)
    result['id'] = result['member']['id'] if result['member'] else None
    result['members'] = after
    named = plan['member'] or {}
    result['etcd_initial_cluster'] = initial_cluster(after, name or named.get('name'), named.get('peer_urls'))
    result['diff'] = {'before': members_text(before), 'after': members_text(after),
                      'before_header': 'etcd members', 'after_header': 'etcd members'}
    return result
