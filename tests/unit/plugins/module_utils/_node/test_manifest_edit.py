import difflib
import os
import stat

import pytest
import yaml

from ansible_collections.kubemaint.control_plane.plugins.module_utils._node import yaml_subset
from ansible_collections.kubemaint.control_plane.plugins.module_utils._node.manifest_edit import (
    FlagEditError,
    ManifestFlags,
    edit_text,
    plan_flags,
    render_item,
)

REFERENCE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'data', 'kubeadm-node', 'manifests')


def reference(component='etcd'):
    with open(os.path.join(REFERENCE, component + '.yaml'), 'rb') as handle:
        return handle.read().decode('utf-8')


def line_changes(before, after):
    """(removed lines, added lines) between two texts, line endings included."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(True), after.splitlines(True)):
        if line.startswith('- '):
            removed.append(line[2:])
        elif line.startswith('+ '):
            added.append(line[2:])
    return removed, added


@pytest.fixture(params=['pyyaml', 'subset'])
def parser(request, monkeypatch):
    """Every edit is checked with PyYAML and with the fallback parser a bare node uses."""
    if request.param == 'subset':
        monkeypatch.setattr(yaml_subset, 'HAS_PYYAML', False)
    return request.param


def test_add_flag_where_kubeadm_puts_it(parser):
    text = reference()
    new, changes, _before, after = edit_text(text, 'etcd.yaml', {'initial-cluster-state': 'existing'})
    assert changes == [{'flag': 'initial-cluster-state', 'action': 'added', 'before': None,
                        'after': '--initial-cluster-state=existing'}]
    assert line_changes(text, new) == ([], ['    - --initial-cluster-state=existing\n'])
    lines = new.splitlines()
    index = lines.index('    - --initial-cluster-state=existing')
    assert lines[index - 1].startswith('    - --initial-cluster=') and lines[index + 1].startswith('    - --key-file=')
    assert after.flag('initial-cluster-state') == 'existing'


def test_change_flag_touches_one_line_only(parser):
    text = reference()
    value = 'k-kube-lab-01=https://10.101.11.240:2380,k-kube-lab-02=https://10.101.11.241:2380'
    new, changes, _before, after = edit_text(text, 'etcd.yaml', {'initial-cluster': value})
    assert [c['action'] for c in changes] == ['changed']
    assert changes[0]['before'] == '--initial-cluster=k-kube-lab-01=https://10.101.11.240:2380'
    assert line_changes(text, new) == (['    - --initial-cluster=k-kube-lab-01=https://10.101.11.240:2380\n'],
                                       ['    - --initial-cluster=%s\n' % value])
    assert after.flag('initial-cluster') == value
    assert len(new) == len(text) + len(value) - len('k-kube-lab-01=https://10.101.11.240:2380')


def test_remove_flag_and_add_back_gives_the_same_bytes(parser):
    text = reference()
    removed, changes, _before, after = edit_text(text, 'etcd.yaml', absent_flags=['snapshot-count'])
    assert changes[0]['action'] == 'removed' and changes[0]['before'] == '--snapshot-count=10000'
    assert line_changes(text, removed) == (['    - --snapshot-count=10000\n'], [])
    assert after.flag('snapshot-count') is None
    back, _changes, _before, _after = edit_text(removed, 'etcd.yaml', {'snapshot-count': 10000})
    assert back == text


def test_force_new_cluster_on_and_off(parser):
    text = reference()
    on, changes, _before, after = edit_text(text, 'etcd.yaml', {'force-new-cluster': True})
    assert line_changes(text, on) == ([], ['    - --force-new-cluster=true\n'])
    assert after.command[after.command.index('--force-new-cluster=true') - 1].startswith(
        '--experimental-watch-progress-notify-interval')
    off, changes, _before, _after = edit_text(on, 'etcd.yaml', absent_flags=['--force-new-cluster'])
    assert off == text and changes[0]['action'] == 'removed'


def test_everything_at_once_and_nothing_else(parser):
    text = reference()
    new, changes, before, after = edit_text(text, 'etcd.yaml', {
        'initial-cluster-state': 'existing', 'initial-cluster': 'a=https://10.0.0.1:2380,b=https://10.0.0.2:2380',
        'name': 'k-kube-lab-01'}, ['force-new-cluster', 'snapshot-count'])
    assert sorted((c['flag'], c['action']) for c in changes) == [
        ('initial-cluster', 'changed'), ('initial-cluster-state', 'added'), ('snapshot-count', 'removed')]
    # the parsed pod is the same but for the command, and the command only by those flags
    expected = yaml.safe_load(text)
    command = expected['spec']['containers'][0]['command']
    command.remove('--snapshot-count=10000')
    command[command.index('--initial-cluster=k-kube-lab-01=https://10.101.11.240:2380')] = \
        '--initial-cluster=a=https://10.0.0.1:2380,b=https://10.0.0.2:2380'
    command.insert(command.index('--key-file=/etc/kubernetes/pki/etcd/server.key'), '--initial-cluster-state=existing')
    assert yaml.safe_load(new) == expected == after.data
    assert before.flag('snapshot-count') == '10000'


@pytest.mark.parametrize('flags,absent', [
    ({'initial-cluster': 'k-kube-lab-01=https://10.101.11.240:2380'}, []),
    ({'client-cert-auth': True}, []),
    ({'--snapshot-count': 10000}, ['force-new-cluster']),
    ({}, []),
])
def test_already_so_changes_nothing(flags, absent):
    text = reference()
    new, changes, _before, _after = edit_text(text, 'etcd.yaml', flags, absent)
    assert changes == [] and new is text


def test_bare_switch_counts_as_true():
    text = reference().replace('    - --client-cert-auth=true\n', '    - --client-cert-auth\n')
    assert edit_text(text, 'etcd.yaml', {'client-cert-auth': True})[1] == []
    changed = edit_text(text, 'etcd.yaml', {'client-cert-auth': False})
    assert line_changes(text, changed[0]) == (['    - --client-cert-auth\n'], ['    - --client-cert-auth=false\n'])


@pytest.mark.parametrize('value,line', [
    ('a: b', "    - '--x=a: b'\n"),
    ("it's", "    - '--x=it''s'\n"),
    ('ends:', "    - '--x=ends:'\n"),
    ('#hash', "    - '--x=#hash'\n"),
    ('', '    - --x=\n'),
    ('https://[fd00::1]:2380', "    - '--x=https://[fd00::1]:2380'\n"),
])
def test_values_are_quoted_when_plain_could_be_misread(parser, value, line):
    text = reference('kube-scheduler')
    new, _changes, _before, after = edit_text(text, 'kube-scheduler.yaml', {'x': value})
    assert line_changes(text, new) == ([], [line])
    assert after.flag('x') == value


def test_other_components_too(parser):
    text = reference('kube-apiserver')
    new, changes, _before, after = edit_text(text, 'kube-apiserver.yaml', {'v': 4})
    assert line_changes(text, new) == ([], ['    - --v=4\n'])
    assert after.command[-1] == '--v=4'


def test_crlf_file_keeps_its_line_endings(parser):
    text = reference().replace('\n', '\r\n')
    new, _changes, _before, _after = edit_text(text, 'etcd.yaml', {'initial-cluster-state': 'existing'})
    assert line_changes(text, new) == ([], ['    - --initial-cluster-state=existing\r\n'])


def test_command_list_at_the_end_of_the_file_without_newline():
    text = 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command:\n    - x\n    - --a=1'
    new = edit_text(text, 'x.yaml', {'b': 2})[0]
    assert new == text + '\n    - --b=2'


@pytest.mark.parametrize('text,kwargs,message', [
    ('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command: [x, --a=1]\n', {'flags': {'b': 1}},
     "kubeadm's format"),
    ('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command:\n    - x\n    args:\n    - --a=1\n',
     {'flags': {'a': 2}}, "in the container's args"),
    ('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command:\n    - x\n    - --a=1\n    - --a=2\n',
     {'flags': {'a': 3}}, 'appears 2 times'),
    ('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command:\n    - x\n    - --a=1\n',
     {'flags': {'a': 3}, 'absent_flags': ['a']}, 'both in flags and in absent_flags'),
    ('apiVersion: v1\nkind: Service\n', {'flags': {'a': 3}}, 'not a Pod manifest'),
    ('apiVersion: v1\nkind: Pod\nspec: [\n', {'flags': {'a': 3}}, 'not valid YAML'),
])
def test_refused_edits(text, kwargs, message):
    with pytest.raises(FlagEditError) as caught:
        edit_text(text, 'x.yaml', kwargs.get('flags'), kwargs.get('absent_flags'))
    assert message in str(caught.value)


def test_plan_flags_keeps_origins_for_untouched_arguments():
    entries, changes = plan_flags(['etcd', '--a=1', '--c=3', '--c=3'], {'b': '2'}, [])
    assert entries == [('etcd', 0), ('--a=1', 1), ('--b=2', None), ('--c=3', 2), ('--c=3', 3)]
    assert changes == [{'flag': 'b', 'action': 'added', 'before': None, 'after': '--b=2'}]
    # a repeated flag can be removed (every copy)
    entries, changes = plan_flags(['etcd', '--a=1', '--c=3', '--c=4'], {}, ['c'])
    assert entries == [('etcd', 0), ('--a=1', 1)] and changes[0]['before'] == '--c=4'


def test_render_item():
    assert render_item('--initial-cluster=a=https://10.0.0.1:2380,b=https://10.0.0.2:2380') == \
        '--initial-cluster=a=https://10.0.0.1:2380,b=https://10.0.0.2:2380'
    assert render_item('--a=b c') == "'--a=b c'"


# ---------------------------------------------------------------- on disk

@pytest.fixture
def node(tmp_path):
    kubernetes_dir = tmp_path / 'etc' / 'kubernetes'
    manifests = kubernetes_dir / 'manifests'
    manifests.mkdir(parents=True)
    for component in ('etcd', 'kube-apiserver'):
        path = manifests / (component + '.yaml')
        path.write_bytes(reference(component).encode())
        path.chmod(0o600)
    return kubernetes_dir


def listing(directory):
    return sorted(os.listdir(str(directory)))


def test_edit_on_disk_backup_kept_outside_manifests(node):
    manifests = node / 'manifests'
    path = manifests / 'etcd.yaml'
    original = path.read_bytes()
    editor = ManifestFlags('etcd', kubernetes_dir=str(node))
    checked = editor.ensure({'initial-cluster-state': 'existing'}, check_mode=True)
    assert checked['changed'] and checked['backup_file'] is None
    assert path.read_bytes() == original and not (node / 'manifests-backup').exists()

    result = editor.ensure({'initial-cluster-state': 'existing'})
    assert result['changed'] and result['location'] == 'manifests' and result['path'] == str(path)
    assert result['flags_before'].get('initial-cluster-state') is None
    assert result['flags_after']['initial-cluster-state'] == 'existing'
    assert result['sha256_after'] == checked['sha256_after'] != result['sha256_before']
    assert listing(manifests) == ['etcd.yaml', 'kube-apiserver.yaml']  # no temp file, no backup left here
    backup = result['backup_file']
    assert os.path.dirname(backup) == str(node / 'manifests-backup')
    assert open(backup, 'rb').read() == original
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(node / 'manifests-backup')).st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert line_changes(original.decode(), path.read_text()) == ([], ['    - --initial-cluster-state=existing\n'])

    again = editor.ensure({'initial-cluster-state': 'existing'})
    assert not again['changed'] and again['backup_file'] is None
    assert listing(node / 'manifests-backup') == [os.path.basename(backup)]

    back = editor.ensure(absent_flags=['initial-cluster-state'])
    assert back['changed'] and path.read_bytes() == original
    assert len(listing(node / 'manifests-backup')) == 2


def test_stashed_manifest_is_edited_in_the_stash(node):
    stash = node / 'manifests-stash'
    stash.mkdir(mode=0o700)
    os.rename(str(node / 'manifests' / 'etcd.yaml'), str(stash / 'etcd.yaml'))
    result = ManifestFlags('etcd', kubernetes_dir=str(node)).ensure({'force-new-cluster': True}, backup=False)
    assert result['location'] == 'stash' and result['path'] == str(stash / 'etcd.yaml')
    assert result['backup_file'] is None
    assert '    - --force-new-cluster=true\n' in (stash / 'etcd.yaml').read_text()
    assert listing(stash) == ['etcd.yaml'] and listing(node / 'manifests') == ['kube-apiserver.yaml']


def test_manifest_in_both_places_is_refused(node):
    stash = node / 'manifests-stash'
    stash.mkdir()
    (stash / 'etcd.yaml').write_bytes((node / 'manifests' / 'etcd.yaml').read_bytes())
    with pytest.raises(FlagEditError) as caught:
        ManifestFlags('etcd', kubernetes_dir=str(node)).ensure({'force-new-cluster': True})
    assert 'run static_pod_toggle first' in str(caught.value)


@pytest.mark.parametrize('case,message', [
    ('missing', 'no etcd manifest'),
    ('backup_inside_manifests', 'is inside the manifests directory'),
    ('backup_world_writable', 'writable by group and others (mode 0777)'),
    ('backup_is_a_file', 'exists and is not a directory'),
    ('unknown_component', "unknown component 'etcd2'"),
    ('bad_flag_name', 'is not a flag name'),
    ('null_value', 'list it in absent_flags'),
    ('list_value', 'must be a string, a number or a boolean'),
    ('newline_value', 'line break'),
])
def test_refusals_change_nothing(node, case, message):
    path = node / 'manifests' / 'etcd.yaml'
    original = path.read_bytes()
    kwargs = {}
    flags = {'initial-cluster-state': 'existing'}
    component = 'etcd'
    if case == 'missing':
        path.unlink()
    elif case == 'backup_inside_manifests':
        kwargs['backup_dir'] = str(node / 'manifests' / 'old')
    elif case == 'backup_world_writable':
        (node / 'manifests-backup').mkdir()
        (node / 'manifests-backup').chmod(0o777)
    elif case == 'backup_is_a_file':
        (node / 'manifests-backup').write_text('x')
    elif case == 'unknown_component':
        component = 'etcd2'
    elif case == 'bad_flag_name':
        flags = {'a b': 'x'}
    elif case == 'null_value':
        flags = {'force-new-cluster': None}
    elif case == 'list_value':
        flags = {'initial-cluster': ['a', 'b']}
    elif case == 'newline_value':
        flags = {'initial-cluster': 'a\n    - --x=1'}
    with pytest.raises(FlagEditError) as caught:
        ManifestFlags(component, kubernetes_dir=str(node), **kwargs).ensure(flags)
    assert message in str(caught.value)
    if case != 'missing':
        assert path.read_bytes() == original
        assert listing(node / 'manifests') == ['etcd.yaml', 'kube-apiserver.yaml']


def test_restore_puts_the_backup_back_byte_for_byte(node):
    path = node / 'manifests' / 'kube-apiserver.yaml'
    original = path.read_bytes()
    editor = ManifestFlags('kube-apiserver', kubernetes_dir=str(node))
    changed = editor.ensure({'audit-log-maxage': 30})
    backup = changed['backup_file']
    assert path.read_bytes() != original

    checked = editor.restore(backup, check_mode=True)
    assert checked['changed'] and checked['restored_from'] == backup and path.read_bytes() != original
    assert checked['flags_before']['audit-log-maxage'] == '30' and 'audit-log-maxage' not in checked['flags_after']

    restored = editor.restore(backup)
    assert restored['changed'] and path.read_bytes() == original
    assert restored['sha256_after'] == changed['sha256_before']
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert listing(node / 'manifests') == ['etcd.yaml', 'kube-apiserver.yaml']
    assert not editor.restore(backup)['changed']


@pytest.mark.parametrize('case,message', [
    ('outside', 'is not in the backup directory'),
    ('other component', 'is a manifest of etcd, not of kube-apiserver'),
    ('missing', 'cannot be read'),
])
def test_restore_refusals_change_nothing(node, case, message):
    path = node / 'manifests' / 'kube-apiserver.yaml'
    editor = ManifestFlags('kube-apiserver', kubernetes_dir=str(node))
    editor.ensure({'audit-log-maxage': 30})
    before = path.read_bytes()
    backups = node / 'manifests-backup'
    if case == 'outside':
        source = node / 'kube-apiserver.yaml.old'
        source.write_bytes(reference('kube-apiserver').encode())
    elif case == 'other component':
        source = backups / 'etcd.yaml.old'
        source.write_bytes(reference('etcd').encode())
        source.chmod(0o600)
    else:
        source = backups / 'kube-apiserver.yaml.gone'
    with pytest.raises(FlagEditError, match=message):
        editor.restore(str(source))
    assert path.read_bytes() == before


def test_backup_always_keeps_an_unchanged_manifest_for_a_later_restore(node):
    path = node / 'manifests' / 'etcd.yaml'
    original = path.read_bytes()
    editor = ManifestFlags('etcd', kubernetes_dir=str(node))
    assert editor.ensure(backup_always=True, check_mode=True)['backup_file'] is None
    kept = editor.ensure(backup_always=True)
    assert not kept['changed'] and open(kept['backup_file'], 'rb').read() == original and path.read_bytes() == original
    path.write_bytes(original.replace(b'--name=', b'--name=x'))  # a change made by other means
    assert editor.restore(kept['backup_file'])['changed'] and path.read_bytes() == original
