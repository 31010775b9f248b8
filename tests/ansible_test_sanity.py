"""Run `ansible-test sanity` on this checkout without the wider internet.

ansible-test wants the collection at .../ansible_collections/kubemaint/control_plane and
downloads a get-pip bootstrap script that machines reaching only the package index cannot
fetch; this copies the checkout into such a tree and first puts the offline stand-in that
ships with the checkout (tests/ansible_test_get_pip.py) where ansible-test looks for its cached
script (~/.ansible/test/cache/get_pip_<pip version>.py). Nothing outside the checkout is needed.
Extra arguments go to ansible-test (e.g. a test or file names).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GET_PIP_STAND_IN = os.path.join(ROOT, 'tests', 'ansible_test_get_pip.py')


def pip_version_wanted():
    """The pip version ansible-test bootstraps its virtualenvs with (it names the cached script)."""
    import ansible_test
    source = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source) as handle:
        match = re.search(r"pip='([0-9.]+)'", handle.read())
    if not match:
        sys.exit('cannot tell which pip version ansible-test bootstraps (%s changed?)' % source)
    return match.group(1)


def get_pip_cache_path():
    """Where ansible-test looks for its get-pip script before it tries to download one."""
    return os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % pip_version_wanted().replace('.', '_'))


def install_offline_get_pip():
    """Put the stand-in where ansible-test looks, replacing whatever script was cached there."""
    target = get_pip_cache_path()
    with open(GET_PIP_STAND_IN, 'rb') as handle:
        wanted = handle.read()
    try:
        with open(target, 'rb') as handle:
            if handle.read() == wanted:
                return target
    except OSError:
        pass
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(GET_PIP_STAND_IN, target + '.tmp')
    os.replace(target + '.tmp', target)
    return target


def tracked_files():
    out = subprocess.check_output(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT)
    return [name for name in out.decode().split('\0') if name and os.path.isfile(os.path.join(ROOT, name))]


def main(argv):
    install_offline_get_pip()
    with tempfile.TemporaryDirectory(prefix='kubemaint-sanity-') as tmp:
        dest = os.path.join(tmp, 'ansible_collections', 'kubemaint', 'control_plane')
        for name in tracked_files():
            target = os.path.join(dest, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), target)
        python = '%d.%d' % sys.version_info[:2]
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-test'), 'sanity', '--local',
                   '--python', python, '--color', 'no'] + argv
        print(' '.join(command), flush=True)
        return subprocess.call(command, cwd=dest)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
