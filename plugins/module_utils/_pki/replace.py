# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Reissue or renew the certificates of a kubeadm control-plane node on disk, with the CAs on the
node. Two steps: `plan_certificates` reads everything and decides (nothing written; check mode
stops there), `apply_plan` signs everything in memory first, then copies each file it replaces
into a dated backup directory (0700, files 0600) and writes the new files atomically (temporary
file in the same directory, fsync, rename, directory fsync), keeping mode and owner.

Private keys are generated here and written to their own file only (or, for a kubeconfig, to its
client-key-data); nothing returned by this module holds key material.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import os
import re
import stat

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node import files
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.files import fsync_dir, trust_problems
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifests import (
    DEFAULT_KUBERNETES_DIR,
    KubeadmNode,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.yaml_subset import (
    YamlSubsetError,
    load_yaml,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.pods import pods_to_restart
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.issue import (
    CA_FILES,
    ETCD_MEMBER_CERTIFICATES,
    SPECS,
    IssueError,
    certificate_pem,
    certificate_validity,
    check_days,
    generate_key,
    issue_certificate,
    kubeadm_subject,
    name_parts,
    new_key_spec,
    node_named_by,
    private_key_pem,
    reissue_sans,
    renew_certificate,
    renewal_due,
    san_problems,
    spec_by_name,
    subject_problems,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.checks import expected_sans
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.load import (
    CertFileError,
    certificate_facts,
    describe_public_key,
    isoformat,
    key_matches_certificate,
    kubeconfig_credentials,
    load_certificate,
    load_private_key,
    not_after,
    not_before,
    read_bytes,
    signature_check,
)
from ansible_collections.kubemaint.control_plane.plugins.module_utils._pki.rules import compare_sans

STATES = ('reissued', 'renewed')
BACKUP_DIR_NAME = 'pki-backups'
REPORTED_FACTS = ('subject', 'issuer', 'serial', 'sans', 'not_before', 'not_after', 'public_key')


class ReplaceError(Exception):
    """The certificates cannot be replaced as asked; nothing was changed unless `changed` (then the
    message names what was replaced and where the previous files are)."""

    def __init__(self, message, changed=False):
        super(ReplaceError, self).__init__(message)
        self.changed = changed


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def _facts(cert):
    facts = certificate_facts(cert)
    return dict((key, facts[key]) for key in REPORTED_FACTS)


class _Item:
    """One certificate of the node: what is there, what will be done. `report` is returned to the user;
    the other attributes (certificates, keys, file contents) never are."""

    def __init__(self, spec, node):
        self.spec = spec
        self.path = os.path.join(node.kubernetes_dir, spec.path)
        self.key_path = os.path.join(node.kubernetes_dir, spec.key_path) if spec.key_path else None
        self.cert = None
        self.key = None
        self.key_matches = False
        self.kubeconfig_text = None
        self.kubeconfig_user = None
        self.kubeconfig_user_name = None
        self.plan = None
        self.unusable = []
        self.new_files = {}
        self.report = {
            'name': spec.name, 'path': self.path, 'key_path': self.key_path or 'client-key-data',
            'ca': spec.ca, 'action': None, 'result': 'unchanged', 'reasons': [], 'skipped': None,
            'new_key': None, 'before': None, 'after': None,
        }

    @property
    def action(self):
        return self.report['action']

    def skip(self, why):
        self.report['result'] = 'skipped'
        self.report['skipped'] = why


def _relative(path, base):
    return os.path.relpath(path, base)


def _load_cas(node):
    """{ca name: {'cert', 'cert_path', 'key_path', 'problem'}}; keys are loaded later, only for CAs that sign."""
    cas = {}
    for name, (cert_file, key_file) in CA_FILES.items():
        entry = {'cert': None, 'key': None, 'cert_path': os.path.join(node.kubernetes_dir, cert_file),
                 'key_path': os.path.join(node.kubernetes_dir, key_file), 'problem': None}
        try:
            entry['cert'] = load_certificate(read_bytes(entry['cert_path']))[0]
        except CertFileError as exc:
            entry['problem'] = '%s %s' % (entry['cert_path'], exc)
        cas[name] = entry
    return cas


def _inspect_pki(item):
    """Load the certificate and key files; returns the reasons they cannot be used as they are."""
    reasons = []
    try:
        item.cert = load_certificate(read_bytes(item.path))[0]
    except CertFileError as exc:
        reasons.append('certificate %s' % exc)
    try:
        item.key = load_private_key(read_bytes(item.key_path))
    except CertFileError as exc:
        reasons.append('key %s %s' % (item.key_path, exc))
    if item.cert is not None and item.key is not None:
        item.key_matches = key_matches_certificate(item.key, item.cert)
        if not item.key_matches:
            reasons.append('key %s does not match the certificate' % item.key_path)
    return reasons


def _user_entry(config, user_name):
    for user in config.get('users') or []:
        if isinstance(user, dict) and user.get('name') == user_name and isinstance(user.get('user'), dict):
            return user['user']
    return None


def _inspect_kubeconfig(item, node):
    """Load a kubeconfig's embedded client certificate and key; returns reasons, or raises to skip."""
    try:
        credentials = kubeconfig_credentials(item.path, node.kubernetes_dir)
        raw = read_bytes(item.path)
        item.kubeconfig_text = raw.decode('utf-8')
        config = load_yaml(item.kubeconfig_text)
    except CertFileError as exc:
        raise IssueError('%s %s' % (item.path, exc))
    except (UnicodeDecodeError, YamlSubsetError) as exc:
        raise IssueError('%s is not a kubeconfig this module can rewrite (%s)' % (item.path, exc))
    if credentials['cert_source'] != 'embedded' or credentials['key_source'] != 'embedded':
        raise IssueError('its client certificate is a file (%s), not client-certificate-data: not rewritten'
                         % credentials['cert_source'])
    item.kubeconfig_user_name = credentials['user']
    item.kubeconfig_user = _user_entry(config, credentials['user'])
    if item.kubeconfig_user is None:
        raise IssueError('%s: user %s not found' % (item.path, credentials['user']))
    reasons = []
    try:
        item.cert = load_certificate(credentials['cert_data'])[0]
    except CertFileError as exc:
        reasons.append('client-certificate-data %s' % exc)
    try:
        item.key = load_private_key(credentials['key_data'])
    except CertFileError as exc:
        reasons.append('client-key-data %s' % exc)
    if item.cert is not None and item.key is not None:
        item.key_matches = key_matches_certificate(item.key, item.cert)
        if not item.key_matches:
            reasons.append('client-key-data does not match client-certificate-data')
    return reasons


def _identity_reasons(item, identity, cas, control_plane_endpoint, extra_sans):
    """Why the (readable) certificate is not this node's: chain, subject, SANs."""
    reasons = []
    ca = cas[item.spec.ca]
    if ca['cert'] is not None:
        problem = signature_check(item.cert, ca['cert'])
        if problem:
            reasons.append('not signed by the %s on this node: %s' % (item.spec.ca, problem))
    common_name = name_parts(item.cert.subject)[0]
    reasons.extend(subject_problems(item.spec, identity['node_name'], common_name))
    if item.spec.san_rule:
        expected = expected_sans(item.spec.san_rule, identity, control_plane_endpoint, extra_sans)
        actual = certificate_facts(item.cert)['sans']
        reasons.extend(san_problems(actual, expected, identity['other_nodes'], identity['node_name']))
    return reasons


def _plan_reissue(item, identity, cas, control_plane_endpoint, extra_sans, keep_extra_sans, force):
    reasons = list(item.report['reasons'])
    if item.cert is not None:
        reasons.extend(_identity_reasons(item, identity, cas, control_plane_endpoint, extra_sans))
    if force and not reasons:
        reasons.append('force: reissue requested')
    if not reasons:
        return
    existing_subject = name_parts(item.cert.subject) if item.cert is not None else None
    common_name, organizations = kubeadm_subject(item.spec, identity['node_name'], existing_subject)
    sans = None
    if item.spec.san_rule:
        expected = expected_sans(item.spec.san_rule, identity, control_plane_endpoint, extra_sans)
        existing = certificate_facts(item.cert)['sans'] if item.cert is not None else None
        sans = reissue_sans(expected, existing, identity['other_nodes'], keep_extra_sans)
    item.report.update(action='reissue', reasons=reasons, new_key=True)
    item.plan = {'common_name': common_name, 'organizations': organizations, 'sans': sans}


def _plan_renew(item, days, force, now, cas):
    item.unusable = item.report['reasons']
    item.report['reasons'] = []
    if item.cert is None:
        item.skip('cannot renew: %s; state=reissued issues a new one' % '; '.join(item.unusable))
        return
    if not renewal_due(not_after(item.cert), now, days, force):
        return
    ca = cas[item.spec.ca]['cert']
    if not force and ca is not None and not_after(ca) <= not_after(item.cert):
        # A renewal cannot outlive the CA: renewing again and again would change nothing useful.
        item.skip('valid until its CA %s expires (%s): renew the CA first' % (item.spec.ca, isoformat(not_after(ca))))
        return
    when = isoformat(not_after(item.cert))
    reasons = ['force: renewal requested' if force else 'expires on %s, within %d days' % (when, days)]
    item.report.update(action='renew', reasons=reasons, new_key=False)


def _predicted_after(item, now, cas):
    """What the new certificate will say (check mode shows it; apply replaces it with the real facts)."""
    ca = cas[item.spec.ca]
    if ca['cert'] is None:
        return None
    try:
        start, end = certificate_validity(now, not_before(ca['cert']), not_after(ca['cert']))
    except IssueError:
        return None
    if item.action == 'renew':
        facts = _facts(item.cert)
        public_key = facts['public_key']
    else:
        facts = {'subject': ','.join(['CN=%s' % item.plan['common_name']]
                                     + ['O=%s' % org for org in reversed(item.plan['organizations'])]),
                 'sans': item.plan['sans'] or {'dns': [], 'ip': []}}
        public_key = _describe_spec(new_key_spec(item.key, None) if item.key is not None else None, ca)
    facts.update(issuer=ca['cert'].subject.rfc4514_string(), serial=None, not_before=isoformat(start),
                 not_after=isoformat(end), public_key=public_key)
    return facts


def _describe_spec(spec, ca):
    if spec is None:
        if ca['cert'] is None:
            return None
        return describe_public_key(ca['cert'].public_key())
    return 'RSA %d' % spec[1] if spec[0] == 'rsa' else 'ECDSA %s' % spec[1]


def _check_ca_keys(items, cas, now):
    """Load the keys of the CAs that must sign; the reasons they cannot, naming the files."""
    problems = []
    for name in sorted(set(item.spec.ca for item in items if item.action)):
        ca = cas[name]
        users = ', '.join(item.spec.name for item in items if item.action and item.spec.ca == name)
        if ca['cert'] is None:
            problems.append('%s cannot be signed: the CA certificate %s' % (users, ca['problem']))
            continue
        try:
            ca['key'] = load_private_key(read_bytes(ca['key_path']))
        except CertFileError as exc:
            if str(exc) == 'missing':
                problems.append('%s cannot be signed here: the %s key %s is not on this node (external CA?); '
                                'sign them with the CA that holds the key' % (users, name, ca['key_path']))
            else:
                problems.append('%s cannot be signed: the %s key %s %s' % (users, name, ca['key_path'], exc))
            continue
        if not key_matches_certificate(ca['key'], ca['cert']):
            problems.append('%s cannot be signed: the %s key %s does not belong to %s'
                            % (users, name, ca['key_path'], ca['cert_path']))
            continue
        try:
            certificate_validity(now, not_before(ca['cert']), not_after(ca['cert']))
        except IssueError as exc:
            problems.append('%s cannot be signed: %s: %s' % (users, ca['cert_path'], exc))
    return problems


def _copied_from(node, identity):
    """Other nodes named by this node's etcd server and peer certificates (copied from there)."""
    found = []
    for name in ('etcd/server.crt', 'etcd/peer.crt'):
        try:
            cert = load_certificate(read_bytes(os.path.join(node.pki_dir, name)))[0]
        except CertFileError:
            continue
        other = node_named_by(name_parts(cert.subject)[0], certificate_facts(cert)['sans'], identity['node_name'],
                              identity['addresses'])
        if other is not None and other not in found:
            found.append(other)
    return found


def plan_certificates(kubernetes_dir=DEFAULT_KUBERNETES_DIR, identity=None, state='reissued', days=30, force=False,
                      names=None, control_plane_endpoint=None, extra_sans=None, keep_extra_sans=True, now=None):
    """Read the node's certificates and decide which to replace. Writes nothing.

    Returns {'items': [...], 'problems': [...], 'warnings': [...], 'identity': ...}: `problems` are
    reasons the plan cannot be carried out (then nothing may be written); `identity` is the one given
    with, among its other nodes, any node this node's etcd certificates are named after.
    """
    if state not in STATES:
        raise ReplaceError('state must be one of %s, got %r' % (', '.join(STATES), state))
    days = check_days(days)
    wanted = [spec_by_name(name) for name in names] if names else list(SPECS)
    now = now or utc_now()
    node = KubeadmNode(kubernetes_dir)
    cas = _load_cas(node)
    has_local_etcd = any(os.path.basename(path) == 'etcd.yaml' for path in identity.get('manifests') or [])
    items, warnings = [], []
    for spec in SPECS:
        if spec not in wanted:
            continue
        item = _Item(spec, node)
        items.append(item)
        if spec.kind == 'kubeconfig' and not os.path.exists(item.path):
            if spec.name == 'super-admin.conf':
                item.skip('absent (kubeadm writes it from v1.29 on)')
            else:
                item.skip('absent: kubeadm init phase kubeconfig writes it (server URL and all), not this module')
            continue
        if spec.kind == 'pki' and spec.name in ETCD_MEMBER_CERTIFICATES and not has_local_etcd:
            item.skip('no etcd static pod on this node (external etcd?)')
            continue
        if spec.kind == 'pki' and cas[spec.ca]['cert'] is None:
            item.skip('its CA is not usable: %s' % cas[spec.ca]['problem'])
            continue
        try:
            item.report['reasons'] = _inspect_pki(item) if spec.kind == 'pki' else _inspect_kubeconfig(item, node)
        except IssueError as exc:
            item.skip(str(exc))
            continue
        if item.cert is not None:
            item.report['before'] = _facts(item.cert)
    identity = dict(identity, other_nodes=list(identity['other_nodes']) + _copied_from(node, identity))
    for item in items:
        if item.report['result'] == 'skipped':
            continue
        if state == 'reissued':
            _plan_reissue(item, identity, cas, control_plane_endpoint, extra_sans, keep_extra_sans, force)
        else:
            _plan_renew(item, days, force, now, cas)
            if item.action == 'renew' and item.spec.san_rule:
                actual = certificate_facts(item.cert)['sans']
                expected = expected_sans(item.spec.san_rule, identity, control_plane_endpoint, extra_sans)
                foreign = compare_sans(actual, expected, identity['other_nodes'])['foreign']
                if foreign['dns'] or foreign['ip']:
                    warnings.append('%s names another control-plane node (%s); renewing keeps its SANs as kubeadm '
                                    'does: state=reissued gives it this node\'s'
                                    % (item.path, ', '.join(foreign['dns'] + foreign['ip'])))
        if not item.action:
            item.report['reasons'] = []
    problems = []
    for item in items:
        if item.action == 'renew' and (item.key is None or not item.key_matches):
            problems.append('%s cannot be renewed with its key (%s); state=reissued gives it a new key pair'
                            % (item.path, '; '.join(item.unusable)))
    problems.extend(_check_ca_keys(items, cas, now))
    for item in items:
        if item.action:
            item.report['after'] = _predicted_after(item, now, cas)
            ca = cas[item.spec.ca]['cert']
            if ca is not None and item.action == 'reissue' and not_after(ca) < now + datetime.timedelta(days=365):
                warnings.append('%s: its CA %s expires on %s, so the new certificate does too'
                                % (item.spec.name, item.spec.ca, isoformat(not_after(ca))))
    return {'items': items, 'cas': cas, 'problems': problems, 'warnings': warnings, 'node': node, 'now': now,
            'identity': identity}


# ---- writing ----------------------------------------------------------------------------------

_B64_LINE = r'^(?P<indent>[ \t]*(?:-[ \t]+)?)(?P<key>%s)[ \t]*:[ \t]*(?P<quote>["\']?)%s(?P=quote)[ \t]*$'


def replace_kubeconfig_value(text, key, old_value, new_value):
    """`text` with the one line `key: old_value` (plain or quoted scalar) carrying `new_value` instead.

    Everything else stays byte for byte. Raises IssueError when that line is not exactly once in
    the text (a value folded over several lines, say): rewriting it would take a YAML writer.
    """
    pattern = re.compile(_B64_LINE % (re.escape(key), re.escape(old_value)), re.M)
    matches = list(pattern.finditer(text))
    if len(matches) != 1:
        raise IssueError('its %s is not on one line of its own (found %d such lines); not rewritten'
                         % (key, len(matches)))
    match = matches[0]
    line = '%s%s: %s%s%s' % (match.group('indent'), key, match.group('quote'), new_value, match.group('quote'))
    return text[:match.start()] + line + text[match.end():]


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def _rewrite_kubeconfig(item, cert_pem, key_pem):
    text = item.kubeconfig_text
    user = item.kubeconfig_user
    replacements = [('client-certificate-data', cert_pem)]
    if key_pem is not None:
        replacements.append(('client-key-data', key_pem))
    for key, data in replacements:
        old = user.get(key)
        if not isinstance(old, str):
            raise IssueError('%s: %s is not a string' % (item.path, key))
        try:
            text = replace_kubeconfig_value(text, key, old, _b64(data))
        except IssueError as exc:
            raise IssueError('%s: %s' % (item.path, exc))
    # The result must read back as the same kubeconfig with only the credentials changed.
    before, after = load_yaml(item.kubeconfig_text), load_yaml(text)
    for key, data in replacements:
        _user_entry(before, item.kubeconfig_user_name)[key] = _b64(data)
    if before != after:
        raise IssueError('%s: rewriting the credentials would change more than them; not rewritten' % item.path)
    return text.encode('utf-8')


def _build(item, cas, now):
    """Sign the new certificate (and make the new key) in memory; fills item.new_files and report['after']."""
    ca = cas[item.spec.ca]
    start, end = certificate_validity(now, not_before(ca['cert']), not_after(ca['cert']))
    if item.action == 'renew':
        key = item.key
        cert = renew_certificate(item.cert, ca['cert'], ca['key'], key.public_key(), start, end)
        key_pem = None
    else:
        key = generate_key(new_key_spec(item.key, ca['key']))
        cert = issue_certificate(ca['cert'], ca['key'], key.public_key(), item.plan['common_name'],
                                 item.plan['organizations'], item.spec.usages, item.plan['sans'], start, end)
        key_pem = private_key_pem(key)
    cert_pem = certificate_pem(cert)
    if item.spec.kind == 'pki':
        item.new_files = {item.path: (cert_pem, 0o644)}
        if key_pem is not None:
            item.new_files[item.key_path] = (key_pem, 0o600)
    else:
        item.new_files = {item.path: (_rewrite_kubeconfig(item, cert_pem, key_pem), 0o600)}
    item.report['after'] = _facts(cert)


def check_backup_root(backup_root, node):
    """Refuse a backup directory inside pki/ or a manifests directory, relative, or not trustworthy."""
    if not os.path.isabs(backup_root):
        raise ReplaceError('backup_dir %r must be an absolute path' % backup_root)
    root = os.path.normpath(backup_root)
    for forbidden in (node.pki_dir, node.manifests_dir):
        if root == forbidden or root.startswith(forbidden + os.sep):
            raise ReplaceError('backup_dir %s is inside %s: backups of keys must stay out of %s'
                               % (root, forbidden, forbidden))
    if os.path.exists(root):
        problems = trust_problems(root)
        if problems:
            raise ReplaceError('backup_dir cannot be trusted with private keys: %s' % '; '.join(problems))
    return root


def _make_private_dirs(path):
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        os.mkdir(directory, 0o700)
        os.chmod(directory, 0o700)
        fsync_dir(os.path.dirname(directory))


def _new_backup_dir(root, now):
    _make_private_dirs(root)
    stamp = now.strftime('%Y%m%dT%H%M%SZ')
    for attempt in range(100):
        path = os.path.join(root, stamp if not attempt else '%s-%d' % (stamp, attempt))
        try:
            os.mkdir(path, 0o700)
        except OSError:
            if os.path.exists(path):
                continue
            raise
        os.chmod(path, 0o700)
        fsync_dir(root)
        return path
    raise ReplaceError('cannot create a backup directory under %s' % root)


def write_atomically(path, data, default_mode):
    """Replace `path` with `data` atomically, keeping the mode and owner of the file it replaces (a private
    key stays 0600 at most); a new file gets `default_mode` and is ours. An owner that cannot be kept is an
    error, never a key silently owned by someone else."""
    mode, owner = default_mode, None
    try:
        st = os.stat(path)
        mode = stat.S_IMODE(st.st_mode)
        owner = (st.st_uid, st.st_gid)
    except OSError:
        pass
    if default_mode == 0o600 and path.endswith('.key'):
        mode &= 0o600
    files.write_atomically(path, data, mode, owner=owner, owner_required=True)


def _backup(path, backup_dir, kubernetes_dir):
    target = os.path.join(backup_dir, _relative(path, kubernetes_dir))
    _make_private_dirs(os.path.dirname(target))
    files.write_atomically(target, read_bytes(path), 0o600)
    return target


def apply_plan(plan, backup_root):
    """Carry the plan out; returns the backup directory (None when nothing was replaced)."""
    items = [item for item in plan['items'] if item.action]
    if plan['problems']:
        raise ReplaceError('; '.join(plan['problems']))
    if not items:
        return None
    node, now = plan['node'], plan['now']
    for item in items:  # all signing first: a failure here changes nothing
        try:
            _build(item, plan['cas'], now)
        except IssueError as exc:
            raise ReplaceError('%s: %s; nothing was changed' % (item.path, exc))
    backup_dir = _new_backup_dir(backup_root, now)
    written = []
    try:
        for item in items:
            for path in sorted(item.new_files):
                if os.path.exists(path):
                    _backup(path, backup_dir, node.kubernetes_dir)
        for item in items:
            # the key before its certificate: a crash in between leaves a pair that a rerun reissues
            for path in sorted(item.new_files, key=lambda name: not name.endswith('.key')):
                data, default_mode = item.new_files[path]
                write_atomically(path, data, default_mode)
                written.append(path)
            item.report['result'] = 'reissued' if item.action == 'reissue' else 'renewed'
    except (IOError, OSError, CertFileError) as exc:
        raise ReplaceError('writing failed after replacing %s (the previous files are in %s): %s'
                           % (', '.join(written) or 'nothing', backup_dir, getattr(exc, 'strerror', None) or exc),
                           changed=bool(written))
    return backup_dir


def diff_text(facts, path):
    """Certificate facts as the lines a diff shows (never key material)."""
    if not facts:
        return '%s: (no usable certificate)\n' % path
    lines = ['subject: %s' % facts['subject'], 'issuer: %s' % facts['issuer'],
             'serial: %s' % (facts['serial'] or '(assigned when signed)'),
             'not_before: %s' % facts['not_before'], 'not_after: %s' % facts['not_after'],
             'public_key: %s' % facts['public_key']]
    lines += ['san: DNS:%s' % name for name in facts['sans']['dns']]
    lines += ['san: IP:%s' % ip for ip in facts['sans']['ip']]
    return '\n'.join(lines) + '\n'


def result_of(plan, backup_dir, check_mode):
    """The module's result: per certificate, what changed, and a diff per replaced file."""
    reports = [item.report for item in plan['items']]
    changed_items = [item for item in plan['items'] if item.action]
    diffs = []
    for item in changed_items:
        diffs.append({'before_header': item.path, 'after_header': item.path,
                      'before': diff_text(item.report['before'], item.path),
                      'after': diff_text(item.report['after'], item.path)})
        if item.report['new_key']:
            label = item.key_path or '%s client-key-data' % item.path
            diffs[-1]['after'] += 'key: new %s (%s)\n' % ('private key' if item.key_path else 'client key', label)
    verb = 'would replace' if check_mode else 'replaced'
    if changed_items:
        msg = '%s %d certificate(s): %s' % (verb, len(changed_items), ', '.join(i.spec.name for i in changed_items))
        if backup_dir:
            msg += '; previous files in %s' % backup_dir
    else:
        msg = 'no certificate needs replacing'
    return {
        'changed': bool(changed_items),
        'certificates': reports,
        'replaced': [item.spec.name for item in changed_items],
        'restart_pods': pods_to_restart([item.spec.name for item in changed_items]),
        'backup_dir': backup_dir,
        'msg': msg,
        'diff': diffs,
    }
