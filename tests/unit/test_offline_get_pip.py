"""`make sanity` needs nothing from outside the checkout: ansible-test finds our offline get-pip stand-in."""
import base64
import hashlib
import importlib.util
import os
import subprocess
import sys
import types
import zipfile

import ansible_test
from ansible_test._internal.python_requirements import get_venv_packages

from tests import ansible_test_sanity

SETUP_DIR = os.path.join(os.path.dirname(ansible_test.__file__), '_util', 'target', 'setup')


def _ansible_test_requirements_script():
    """ansible-test's own bootstrap code (the script it runs inside each new virtualenv)."""
    spec = importlib.util.spec_from_file_location('ansible_test_setup_requirements',
                                                  os.path.join(SETUP_DIR, 'requirements.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fresh_home_gets_the_stand_in_where_ansible_test_looks(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    installed = ansible_test_sanity.install_offline_get_pip()

    pip_version = get_venv_packages(types.SimpleNamespace(version='%d.%d' % sys.version_info[:2]))['pip']
    assert installed == str(tmp_path / '.ansible' / 'test' / 'cache' / ('get_pip_%s.py' % pip_version.replace('.', '_')))
    with open(installed, 'rb') as handle, open(ansible_test_sanity.GET_PIP_STAND_IN, 'rb') as ours:
        assert handle.read() == ours.read()

    # ansible-test's bootstrap then runs it instead of downloading one.
    script = _ansible_test_requirements_script()
    ran = []

    def no_download(url, path):
        raise AssertionError('ansible-test tried to download %s' % url)

    monkeypatch.setattr(script, 'download_file', no_download)
    monkeypatch.setattr(script, 'execute_command', lambda command, env=None, **_kw: ran.append((command, env)))
    script.bootstrap('quiet_pip.py', {'pip_version': pip_version, 'packages': ['pip==%s' % pip_version],
                                      'setuptools': False, 'wheel': False})
    assert len(ran) == 1 and ran[0][1]['GET_PIP'] == installed


def test_a_stale_cached_script_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    target = ansible_test_sanity.get_pip_cache_path()
    os.makedirs(os.path.dirname(target))
    with open(target, 'w') as handle:
        handle.write('raise SystemExit("a script from somewhere else")\n')
    assert ansible_test_sanity.install_offline_get_pip() == target
    with open(target) as handle:
        assert 'ensurepip' in handle.read()


def _probe_wheel(directory):
    """A one-module wheel that only a find-links directory holds."""
    files = {'kubemaint_probe/__init__.py': 'VALUE = 42\n',
             'kubemaint_probe-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: kubemaint-probe\nVersion: 1.0\n',
             'kubemaint_probe-1.0.dist-info/WHEEL': ('Wheel-Version: 1.0\nGenerator: kubemaint-tests\n'
                                                     'Root-Is-Purelib: true\nTag: py3-none-any\n')}
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()
        record.append('%s,sha256=%s,%d' % (name, digest, len(text.encode())))
    record.append('kubemaint_probe-1.0.dist-info/RECORD,,')
    files['kubemaint_probe-1.0.dist-info/RECORD'] = '\n'.join(record) + '\n'
    path = os.path.join(directory, 'kubemaint_probe-1.0-py3-none-any.whl')
    with zipfile.ZipFile(path, 'w') as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


def test_stand_in_bootstraps_pip_offline_and_keeps_the_pip_configuration(tmp_path):
    """Run as ansible-test runs it: its quiet_pip.py, GET_PIP set, in a virtualenv without pip.

    What to install is reachable only through the caller's pip settings (PIP_FIND_LINKS, no index),
    which ensurepip clears in the process it runs in.
    """
    links = tmp_path / 'links'
    links.mkdir()
    _probe_wheel(str(links))
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    env = dict(os.environ, GET_PIP=ansible_test_sanity.GET_PIP_STAND_IN, PIP_NO_INDEX='1',
               PIP_FIND_LINKS=str(links), PIP_DISABLE_PIP_VERSION_CHECK='1')
    proc = subprocess.run([python, os.path.join(SETUP_DIR, 'quiet_pip.py'), '--disable-pip-version-check',
                           'kubemaint-probe==1.0', '--no-setuptools', '--no-wheel'],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = subprocess.run([python, '-c', 'import kubemaint_probe, pip; print(kubemaint_probe.VALUE)'],
                           capture_output=True, text=True, check=False)
    assert check.stdout.strip() == '42', check.stderr
