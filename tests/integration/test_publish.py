"""The collection as it is published: the built tarball through Galaxy's importer, and the
execution environment built from that tarball by ansible-builder. Offline, no container runtime."""
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from tests.integration.helpers import BIN, REPO_ROOT

IMPORTER_CONFIG = os.path.join(REPO_ROOT, 'tests', 'integration', 'files', 'galaxy-importer.cfg')
EE_DEFINITION = os.path.join(REPO_ROOT, 'meta', 'execution-environment.yml')
# The tarball name the EE definition expects in build/ (`make ee-context` copies it there).
EE_TARBALL = 'kubemaint-control_plane.tar.gz'


def _galaxy_yml():
    with open(os.path.join(REPO_ROOT, 'galaxy.yml')) as handle:
        return yaml.safe_load(handle)


def _tool_env():
    """This venv's tools first on PATH (the importer calls ansible-doc and ansible-lint by name), and
    nothing of the checkout's own collections path: the importer sees only what the tarball holds."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'GALAXY_IMPORTER_'))}
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
    return env


def _run(command, cwd, env=None, timeout=300):
    proc = subprocess.run(command, cwd=cwd, env=env or _tool_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, '%s\n%s%s' % (' '.join(command), proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    """The collection built from this checkout the way a release is built."""
    out = tmp_path_factory.mktemp('dist')
    _run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out), REPO_ROOT],
         cwd=str(out))
    meta = _galaxy_yml()
    path = out / ('%s-%s-%s.tar.gz' % (meta['namespace'], meta['name'], meta['version']))
    assert path.is_file()
    return path


@pytest.fixture(scope='module')
def members(tarball):
    with tarfile.open(str(tarball)) as archive:
        return {member.name: member for member in archive.getmembers()}


def _read_member(tarball, name):
    with tarfile.open(str(tarball)) as archive:
        return archive.extractfile(name).read().decode()


def test_galaxy_importer_accepts_the_tarball(tarball, tmp_path):
    env = _tool_env()
    env['GALAXY_IMPORTER_CONFIG'] = IMPORTER_CONFIG
    env['HOME'] = str(tmp_path)  # the importer and ansible-lint keep temporary files under ~/.ansible
    proc = _run([sys.executable, '-m', 'galaxy_importer.main', str(tarball)], cwd=str(tmp_path), env=env)
    output = proc.stdout + proc.stderr
    assert 'Importer processing completed successfully' in output, output
    assert 'Linting collection via ansible-lint' in output, 'the importer ran ansible-lint'
    complaints = [line for line in output.splitlines() if re.match(r'^(WARNING|ERROR|CRITICAL)\b', line)]
    assert complaints == [], '\n'.join(complaints)

    with open(str(tmp_path / 'importer_result.json')) as handle:
        result = json.load(handle)
    contents = {(item['content_type'], item['name']) for item in result['contents']}
    for role in ('cert_check', 'cluster_state', 'control_plane_node', 'recover'):
        assert ('role', role) in contents
    for module in ('cert_san_check', 'etcd_leader', 'etcd_member_info', 'etcd_snapshot', 'static_pod_toggle'):
        assert ('module', module) in contents
    meta = _galaxy_yml()
    assert result['metadata']['repository'] == meta['repository']
    assert result['docs_blob']['collection_readme']['name'] == 'README.md'


def test_tarball_ships_the_license_and_nothing_of_the_development_tree(tarball, members):
    license_text = _read_member(tarball, 'LICENSE')
    assert 'GNU GENERAL PUBLIC LICENSE' in license_text and 'Version 3, 29 June 2007' in license_text
    assert _galaxy_yml()['license'] == ['GPL-3.0-or-later']
    manifest = json.loads(_read_member(tarball, 'MANIFEST.json'))
    assert manifest['collection_info']['license'] == ['GPL-3.0-or-later']
    for name in members:
        assert not name.startswith(('tests/', 'build/', '.venv/', '.ci/', 'lab/', '.lab')), name
        assert name not in ('Makefile', 'requirements-test.txt', 'docs/development.md', 'pytest.ini'), name
    for role in ('cert_check', 'cluster_state', 'control_plane_node', 'recover'):
        assert 'roles/%s/README.md' % role in members
    assert 'docs/awx.md' in members
    assert 'requirements-node.txt' in members


def test_shipped_documents_link_only_to_shipped_files(tarball, members):
    """A user reading the installed collection is never sent to a file that is not there."""
    broken = []
    for name in sorted(members):
        if not name.endswith('.md'):
            continue
        text = _read_member(tarball, name)
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if re.match(r'^[a-z][a-z0-9+.-]*:', target) or target.startswith('#'):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(name), target.split('#', 1)[0]))
            if path not in members:
                broken.append('%s -> %s' % (name, target))
    assert broken == []


def test_galaxy_metadata_points_at_one_public_home():
    meta = _galaxy_yml()
    repository = meta['repository']
    assert re.match(r'^https://[a-z0-9.-]+\.[a-z]{2,}/', repository), repository
    assert not re.search(r'example|invalid|localhost|placeholder', repository), repository
    for field in ('documentation', 'homepage', 'issues'):
        assert meta[field].startswith(repository), (field, meta[field])


def _ee_context(tarball, tmp_path):
    """`ansible-builder create` on meta/execution-environment.yml with the tarball where `make ee-context` puts it."""
    checkout = tmp_path / 'checkout'
    (checkout / 'meta').mkdir(parents=True)
    (checkout / 'build').mkdir()
    shutil.copy(EE_DEFINITION, str(checkout / 'meta'))
    shutil.copy(os.path.join(REPO_ROOT, 'meta', 'bindep.txt'), str(checkout / 'meta'))
    shutil.copy(str(tarball), str(checkout / 'build' / EE_TARBALL))
    context = tmp_path / 'context'
    _run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', str(checkout / 'meta' / 'execution-environment.yml'),
          '-c', str(context), '--output-filename', 'Containerfile'], cwd=str(checkout))
    return context


def test_execution_environment_installs_this_collection_from_its_tarball(tarball, tmp_path):
    context = _ee_context(tarball, tmp_path)
    containerfile = (context / 'Containerfile').read_text()

    # A pinned base image, and the ansible-core the collection is tested with.
    base = re.search(r'^ARG EE_BASE_IMAGE="([^"]+)"', containerfile, re.M).group(1)
    assert re.search(r':[0-9][0-9.]*$', base), 'base image %s is not pinned to a release' % base
    with open(os.path.join(REPO_ROOT, 'requirements-test.txt')) as handle:
        tested_core = re.search(r'^ansible-core==(\S+)', handle.read(), re.M).group(1)
    assert 'ansible-core==%s' % tested_core in containerfile

    # The galaxy stage installs the collections of _build/requirements.yml ...
    galaxy_stage = containerfile.split('FROM base AS galaxy', 1)[1].split('\nFROM ', 1)[0]
    assert 'COPY _build /build' in galaxy_stage and 'WORKDIR /build' in galaxy_stage
    assert re.search(r'ansible-galaxy collection install .*-r requirements.yml', galaxy_stage)
    with open(str(context / '_build' / 'requirements.yml')) as handle:
        requirements = yaml.safe_load(handle)
    assert requirements['collections'] == [{'name': 'collections/' + EE_TARBALL, 'type': 'file'}]
    # ... which is this very tarball, in the build context.
    shipped = context / '_build' / 'collections' / EE_TARBALL
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == hashlib.sha256(tarball.read_bytes()).hexdigest()

    # What the galaxy stage does, here: the collection installs offline from the context alone.
    installed = tmp_path / 'usr-share-ansible-collections'
    _run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-r', 'requirements.yml',
          '--collections-path', str(installed)], cwd=str(context / '_build'))
    root = installed / 'ansible_collections' / 'kubemaint' / 'control_plane'
    manifest = json.loads((root / 'MANIFEST.json').read_text())
    assert manifest['collection_info']['version'] == _galaxy_yml()['version']

    # What the builder stage does next: gather the installed collections' Python and system needs.
    # No Python package: cryptography is for the managed nodes, never for the EE.
    pip_out, bindep_out = tmp_path / 'ee-requirements.txt', tmp_path / 'ee-bindep.txt'
    assert 'COPY _build/bindep.txt bindep.txt' in containerfile and '--user-bindep=bindep.txt' in containerfile
    _run([sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect', str(installed),
          '--user-bindep', str(context / '_build' / 'bindep.txt'),
          '--write-pip', str(pip_out), '--write-bindep', str(bindep_out)], cwd=str(tmp_path))
    assert not pip_out.exists() or 'cryptography' not in pip_out.read_text()
    # Both the definition's own list and the installed collection's (what another EE that installs this
    # collection gets) name them.
    assert 'openssh-clients [platform:rpm]  # from collection user' in bindep_out.read_text()
    assert 'openssh-clients [platform:rpm]  # from collection kubemaint.control_plane' in bindep_out.read_text()
    # The system packages the final stage installs (install-from-bindep) on the base image's platform
    # (UBI 9: /etc/os-release says rhel 9) hold an ssh client, and sshpass for password credentials.
    assert re.search(r'/ubi9/', base), 'the platform below is UBI 9\'s, the base image is %s' % base
    assert installed_system_packages(bindep_out, ['rpm', 'redhat', 'rhel', 'rhel-9']) == ['openssh-clients', 'sshpass']


def installed_system_packages(bindep_file, platforms):
    """The packages bindep installs from `bindep_file` on a machine of these platforms (default profile)."""
    from bindep.depends import Depends  # pylint: disable=import-outside-toplevel
    rules = Depends(bindep_file.read_text()).active_rules(['default'] + ['platform:' + name for name in platforms])
    return sorted(set(rule[0] for rule in rules))


@pytest.mark.parametrize('platforms,packages', [
    (['rpm', 'redhat', 'rhel', 'rhel-9'], ['openssh-clients', 'sshpass']),
    (['rpm', 'redhat', 'centos', 'centos-9'], ['openssh-clients', 'sshpass']),
    (['rpm', 'redhat', 'rhel', 'rhel-8'], ['openssh-clients']),
    (['dpkg', 'debian', 'debian-12'], ['openssh-client', 'sshpass']),
    (['dpkg', 'ubuntu', 'ubuntu-noble'], ['openssh-client', 'sshpass']),
])
def test_an_execution_environment_on_any_platform_gets_an_ssh_client(platforms, packages):
    assert installed_system_packages(pathlib.Path(REPO_ROOT, 'bindep.txt'), platforms) == packages


def test_node_and_controller_requirements_are_apart():
    def requirements(name):
        with open(os.path.join(REPO_ROOT, name)) as handle:
            return [line.split('#', 1)[0].strip() for line in handle if line.split('#', 1)[0].strip()]

    assert requirements('requirements.txt') == []
    assert any(line.startswith('cryptography') for line in requirements('requirements-node.txt'))
    with open(os.path.join(REPO_ROOT, 'README.md')) as handle:
        assert 'requirements-node.txt' in handle.read()
