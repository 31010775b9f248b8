"""Issue 24: what ships to the nodes stays apart from what runs on the controller.

Modules and their module_utils are copied to every node a task runs on; plugin_utils (and the filters and
action plugins that use it) run on the controller only and are never shipped, so a module or a module_utils
file importing plugin_utils would fail on the node. The etcd code a module runs (module_utils/_etcd) reads
a node's etcd data through module_utils/_node, not through the static pods' recover discovery. Read with
ast, so that an import inside a function or a try block counts, and a relative one too."""
import ast
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = 'ansible_collections.kubemaint.control_plane.'


def _module_name(path):
    """plugins/module_utils/_etcd/cluster.py -> plugins.module_utils._etcd.cluster (__init__: the package)."""
    parts = os.path.splitext(os.path.relpath(path, ROOT))[0].split(os.sep)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports(source, module, is_package=False):
    """Every module name the source imports, or may import (`from a import b`: a and a.b), absolute, with
    this collection's own prefix removed: plugins.module_utils._etcd.guard."""
    found = []
    package = module.split('.') if is_package else module.split('.')[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found.append(base)
            found.extend('%s.%s' % (base, alias.name) for alias in node.names if alias.name != '*')
    return [name[len(COLLECTION):] if name.startswith(COLLECTION) else name for name in found]


def _file_imports(path):
    with open(path) as handle:
        source = handle.read()
    return imports(source, _module_name(path), os.path.basename(path) == '__init__.py')


def _python_files(*patterns):
    paths = sorted(set(path for pattern in patterns for path in glob.glob(os.path.join(ROOT, pattern), recursive=True)))
    assert paths, 'no file matches %s: the layout changed, change this test with it' % ', '.join(patterns)
    return paths


def _offending(paths, wrong):
    return ['%s imports %s' % (os.path.relpath(path, ROOT), name)
            for path in paths for name in _file_imports(path) if wrong(name)]


def _is_plugin_utils(name):
    return 'plugin_utils' in name.split('.')


def _is_static_pods(name):
    return name == 'plugins.module_utils._static_pods' or name.startswith('plugins.module_utils._static_pods.')


def test_nothing_shipped_to_a_node_imports_plugin_utils():
    found = _offending(_python_files('plugins/modules/*.py', 'plugins/module_utils/**/*.py'), _is_plugin_utils)
    assert not found, (
        'plugin_utils runs on the controller only and is not shipped with modules: keep what a module needs '
        'in module_utils, and reach controller-only code through a filter or an action plugin:\n' + '\n'.join(found))


def test_etcd_module_utils_do_not_import_the_static_pods_code():
    found = _offending(_python_files('plugins/module_utils/_etcd/*.py'), _is_static_pods)
    assert not found, (
        'what module_utils/_etcd needs of a node (its etcd data directory, its manifests) lives in module_utils/_node:'
        '\n' + '\n'.join(found))


@pytest.mark.parametrize('source, module, expected', [
    ('from ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.guard import cluster_view',
     'plugins.module_utils._etcd.cluster', 'plugins.plugin_utils._etcd.guard'),
    ('import ansible_collections.kubemaint.control_plane.plugins.plugin_utils._etcd.space as space',
     'plugins.modules.etcd_defrag', 'plugins.plugin_utils._etcd.space'),
    ('from ansible_collections.kubemaint.control_plane.plugins import plugin_utils',
     'plugins.modules.etcd_defrag', 'plugins.plugin_utils'),
    ('def f():\n    from ...plugin_utils._etcd import guard\n',
     'plugins.module_utils._etcd.cluster', 'plugins.plugin_utils._etcd.guard'),
    ('try:\n    from .._static_pods.recover import discover\nexcept ImportError:\n    pass\n',
     'plugins.module_utils._etcd.module', 'plugins.module_utils._static_pods.recover'),
    ('from ..import _static_pods', 'plugins.module_utils._etcd.module', 'plugins.module_utils._static_pods'),
])
def test_every_form_of_an_import_is_seen(source, module, expected):
    assert expected in imports(source, module)


def test_a_package_resolves_relative_imports_from_itself():
    assert imports('from ._static_pods import recover', 'plugins.module_utils', is_package=True) == [
        'plugins.module_utils._static_pods', 'plugins.module_utils._static_pods.recover']
