"""The older ansible-core versions the collection claims (meta/runtime.yml: >=2.16.0), each in a venv of
its own under .venv/, installed once from the package index and reused (issue 25: no deprecation
warning from 2.16 on). The latest patch of each minor that installs on the controller's Python 3.11;
2.19 is the pinned tool chain of .venv itself. ansible-core 2.20 and later need Python >= 3.12 on the
controller, which CI (Debian 12) does not have: docs/development.md says so.

`python tests/ansible_core_versions.py` installs every venv that is missing and prints each version.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSIONS = ('2.16.19', '2.17.14', '2.18.19')

# (version, playbook run, rc, seconds) of every run of the test, for pytest's summary.
RUNS = []


def venv_dir(version):
    return os.path.join(ROOT, '.venv', 'ansible-core-%s' % version)


def bin_dir(version):
    return os.path.join(venv_dir(version), 'bin')


def ensure(version):
    """The venv's bin directory with ansible-core `version` in it; installs it only when missing."""
    directory = venv_dir(version)
    stamp = os.path.join(directory, '.installed')
    if not os.path.exists(stamp):
        subprocess.run([sys.executable, '-m', 'venv', '--clear', directory], check=True)
        subprocess.run([os.path.join(directory, 'bin', 'pip'), 'install', '--quiet', '--disable-pip-version-check',
                        'ansible-core==%s' % version], check=True)
        with open(stamp, 'w') as handle:
            handle.write(version + '\n')
    return bin_dir(version)


def installed_version(version):
    """What `ansible --version` of that venv says on its first line."""
    out = subprocess.run([os.path.join(bin_dir(version), 'ansible'), '--version'], capture_output=True, text=True,
                         check=True, env=dict(os.environ, ANSIBLE_NOCOLOR='1')).stdout
    return out.splitlines()[0]


def main():
    for version in VERSIONS:
        ensure(version)
        print('%s: %s' % (venv_dir(version), installed_version(version)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
