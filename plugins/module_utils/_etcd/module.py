# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The connection options every etcd module shares (documented once in the `etcd` doc
fragment) and the code that turns them into a client. Defaults follow kubeadm: the etcd
CA and the node's etcd server certificate as client certificate, and the endpoint the
node's own etcd static pod advertises, all under `kubernetes_dir`.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.client import (
    DEFAULT_TIMEOUT,
    EtcdClient,
    validate_endpoint,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.errors import (
    EtcdConfigError,
    EtcdError,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.cluster import (
    EtcdInputError,
    check_member_names,
    collect_cluster_state,
    config_errors,
    copy_backend,
    ensure_leader,
    public_state,
    save_snapshot,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.maintenance import (
    DEFAULT_QUOTA_BYTES,
    DEFAULT_QUOTA_SOURCE,
    add_quota_figures,
    alarm_diff,
    compact_keyspace,
    defrag_diff,
    defragment_member,
    disarm_alarms,
    quota_from_flag,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._module.arguments import (
    REQUEST_TIMEOUT,
    check_arguments,
    number_problem,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.etcd_data import etcd_data_state
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    DEFAULT_KUBERNETES_DIR,
    KubeadmNode,
    ManifestError,
)

ETCD_CONNECTION_ARGSPEC = dict(
    endpoints=dict(type='list', elements='str'),
    ca_cert=dict(type='path'),
    client_cert=dict(type='path'),
    # a path to the key, never the key itself
    client_key=dict(type='path', no_log=False),
    timeout=dict(type='float', default=DEFAULT_TIMEOUT),
    kubernetes_dir=dict(type='path', default=DEFAULT_KUBERNETES_DIR),
)

# Checked by client_from_module before anything is read (every etcd module calls it first).
ETCD_CONNECTION_NUMBERS = {'timeout': REQUEST_TIMEOUT}
ETCD_CONNECTION_PATHS = ('ca_cert', 'client_cert', 'client_key', 'kubernetes_dir')


def etcd_argument_spec(**extra):
    """The shared connection options plus the module's own."""
    spec = dict((name, dict(option)) for name, option in ETCD_CONNECTION_ARGSPEC.items())
    spec.update(extra)
    return spec


def run_etcd_module(run, numbers=None, **options):
    """The whole main() of an etcd module with the shared connection options and `options`: check the
    numbers in `numbers` ({option: bounds}), connect, and hand over to `run(module, client, connection)`."""
    module = AnsibleModule(argument_spec=etcd_argument_spec(**options), supports_check_mode=True)
    if numbers:
        check_arguments(module, numbers=numbers)
    client, connection = client_from_module(module)
    run(module, client, connection)


def resolve_connection(params):
    """Connection settings with kubeadm defaults filled in. Raises EtcdConfigError, ManifestError."""
    node = KubeadmNode(params.get('kubernetes_dir') or DEFAULT_KUBERNETES_DIR)
    timeout = params.get('timeout')
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    problem = number_problem('timeout', timeout, REQUEST_TIMEOUT)
    if problem:
        raise EtcdConfigError(problem)
    endpoints = params.get('endpoints')
    if endpoints:
        source = 'endpoints option'
    else:
        endpoints = node.etcd_client_urls()
        source = '--advertise-client-urls in %s' % node.manifest_path('etcd')
    resolved = []
    for endpoint in endpoints:
        try:
            url = validate_endpoint(endpoint)
        except EtcdConfigError as exc:
            raise EtcdConfigError('%s (from %s)' % (exc, source))
        if url not in resolved:
            resolved.append(url)
    return {
        'endpoints': resolved,
        'endpoints_source': source,
        'ca_cert': params.get('ca_cert') or os.path.join(node.etcd_pki_dir, 'ca.crt'),
        'client_cert': params.get('client_cert') or os.path.join(node.etcd_pki_dir, 'server.crt'),
        'client_key': params.get('client_key') or os.path.join(node.etcd_pki_dir, 'server.key'),
        'timeout': float(timeout),
    }


def client_from_params(params):
    """(EtcdClient, connection dict); credentials checked. Raises EtcdConfigError, ManifestError."""
    connection = resolve_connection(params)
    client = EtcdClient(connection['ca_cert'], connection['client_cert'], connection['client_key'],
                        timeout=connection['timeout'])
    client.check_credentials()
    return client, connection


def client_from_module(module):
    """client_from_params for an AnsibleModule: bad options end in fail_json, never a traceback."""
    check_arguments(module, ETCD_CONNECTION_NUMBERS, ETCD_CONNECTION_PATHS)
    try:
        return client_from_params(module.params)
    except ManifestError as exc:
        module.fail_json(msg='cannot find the etcd endpoints: %s; set the endpoints option or kubernetes_dir'
                         % exc)
    except EtcdConfigError as exc:
        module.fail_json(msg=str(exc), reason=exc.reason)
    return None, None  # not reached: fail_json exits


def connection_result(connection):
    """What the modules report about how they connected (paths only, never key material)."""
    return dict((key, connection[key]) for key in ('endpoints', 'endpoints_source', 'ca_cert', 'client_cert',
                                                   'client_key', 'timeout'))


def _fail_on_config_errors(module, state, connection):
    """No member list from any endpoint: bad input fails, members that are merely down are reported."""
    errors = config_errors(state)
    if errors:
        module.fail_json(msg='; '.join(str(error) for error in errors),
                         reason=errors[0].reason, **connection_result(connection))


def backend_quota(params):
    """(quota in bytes or None when etcd's quota is off, where it came from, warning or None): the
    quota_backend_bytes option, else --quota-backend-bytes in this node's etcd manifest, else etcd's
    default. Every member is taken to have this node's quota (kubeadm configures them alike)."""
    if params.get('quota_backend_bytes') is not None:
        return params['quota_backend_bytes'], 'quota_backend_bytes option', None
    node = KubeadmNode(params.get('kubernetes_dir') or DEFAULT_KUBERNETES_DIR)
    manifest = node.manifest_path('etcd')
    try:
        value = node.read_manifest('etcd').flag('quota-backend-bytes') if os.path.isfile(manifest) else None
    except ManifestError as exc:
        return DEFAULT_QUOTA_BYTES, DEFAULT_QUOTA_SOURCE, 'quota figures use etcd\'s default quota: %s' % exc
    if value is None:
        return DEFAULT_QUOTA_BYTES, DEFAULT_QUOTA_SOURCE, None
    try:
        return quota_from_flag(value), '--quota-backend-bytes in %s' % manifest, None
    except ValueError:
        return DEFAULT_QUOTA_BYTES, DEFAULT_QUOTA_SOURCE, (
            'quota figures use etcd\'s default quota: --quota-backend-bytes=%s in %s is not a whole number'
            % (value, manifest))


def run_member_info(module, client, connection):
    params = module.params
    quota_bytes, quota_source, quota_warning = backend_quota(params)
    if quota_warning:
        module.warn(quota_warning)
    state = collect_cluster_state(client, connection['endpoints'], assume_stopped=params['assume_stopped'])
    add_quota_figures(state['members'], quota_bytes)
    state['cluster'].update(quota_bytes=quota_bytes, quota_source=quota_source)
    result = connection_result(connection)
    result.update(public_state(state))
    result['changed'] = False
    if not state['members']:
        _fail_on_config_errors(module, state, connection)
    else:
        try:
            check_member_names(state, params['assume_stopped'], 'assume_stopped')
        except EtcdInputError as exc:
            module.fail_json(msg=str(exc), **result)
    if params['fail_on_no_quorum']:
        if not result['cluster']['has_quorum']:
            module.fail_json(msg='etcd has no quorum: %d of %d voting members healthy, %d needed'
                             % (result['cluster']['healthy_voters'], result['cluster']['voting_members'],
                                result['cluster']['quorum_size']), **result)
        if not result['projection']['has_quorum']:
            module.fail_json(msg='etcd would lose quorum with %s stopped: %d of %d voting members left healthy, '
                             '%d needed' % (', '.join(params['assume_stopped']),
                                            result['projection']['healthy_voters'],
                                            result['projection']['voting_members'],
                                            result['projection']['quorum_size']), **result)
    module.exit_json(**result)


def _outcome_or_fail(module, result, action, *args, **kwargs):
    """action(*args, **kwargs), or fail_json with its message (and the error's reason code)."""
    try:
        return action(*args, **kwargs)
    except EtcdInputError as exc:
        module.fail_json(msg=str(exc), **result)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), reason=exc.reason, **result)
    return None  # not reached: fail_json exits


def _exit_with(module, result, outcome, diff=None):
    result.update(outcome)
    if module._diff and diff is not None:
        result['diff'] = diff(outcome)
    module.exit_json(**result)


def run_defrag(module, client, connection):
    params = module.params
    result = connection_result(connection)
    outcome = _outcome_or_fail(module, result, defragment_member, client, connection['endpoints'], params['member'],
                               wait_timeout=params['wait_timeout'], defrag_timeout=params['defrag_timeout'],
                               check_mode=module.check_mode)
    _exit_with(module, result, outcome, defrag_diff)


def run_alarm(module, client, connection):
    params = module.params
    result = connection_result(connection)
    outcome = _outcome_or_fail(module, result, disarm_alarms, client, connection['endpoints'], params['alarms'],
                               members=params['members'], check_mode=module.check_mode)
    _exit_with(module, result, outcome, alarm_diff)


def run_compact(module, client, connection):
    params = module.params
    result = connection_result(connection)
    outcome = _outcome_or_fail(module, result, compact_keyspace, client, connection['endpoints'],
                               revision=params['revision'], physical=params['physical'], check_mode=module.check_mode)
    _exit_with(module, result, outcome)


def run_leader(module, client, connection):
    params = module.params
    result = connection_result(connection)
    outcome = _outcome_or_fail(module, result, ensure_leader, client, connection['endpoints'],
                               member=params['member'], avoid=params['avoid'], check_mode=module.check_mode,
                               wait_timeout=params['wait_timeout'], prefer=params['prefer'])
    result.update(outcome)
    if module._diff:
        result['diff'] = {
            'before': 'leader: %s\n' % (outcome['leader_before']['name'] if outcome['leader_before'] else ''),
            'after': 'leader: %s\n' % (outcome['leader']['name'] if outcome['leader'] else ''),
            'before_header': 'etcd leader', 'after_header': 'etcd leader',
        }
    module.exit_json(**result)


def run_snapshot(module, client, connection):
    params = module.params
    result = connection_result(connection)
    try:
        outcome = save_snapshot(client, connection['endpoints'], params['dest'], prefix=params['prefix'],
                                keep=params['keep'], check_mode=module.check_mode)
    except EtcdInputError as exc:
        module.fail_json(msg=str(exc), **result)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), reason=exc.reason, **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot write the snapshot under %s: %s' % (params['dest'], exc), **result)
    for warning in outcome.pop('warnings', []):
        module.warn(warning)
    result.update(outcome)
    module.exit_json(**result)


def run_backend_copy(module):
    """etcd_snapshot with source=data_dir: copy the backend database of the member whose data directory
    the node's etcd manifest names (--data-dir), for a member that does not answer."""
    params = module.params
    node = KubeadmNode(params['kubernetes_dir'] or None)
    manifest = node.manifest_path('etcd')
    state = etcd_data_state(node, manifest) if os.path.isfile(manifest) else None
    if state is None:
        module.fail_json(msg='cannot find the etcd data directory: no readable etcd manifest at %s. Nothing was '
                             'changed.' % manifest)
    try:
        outcome = copy_backend(state['data_dir'], params['dest'], prefix=params['prefix'], check_mode=module.check_mode)
    except EtcdInputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**outcome)
