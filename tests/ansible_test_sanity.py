"""Run `ansible-test sanity` on this checkout without the wider internet.

ansible-test wants the collection at .../ansible_collections/kubemaint/control_plane and
downloads a get-pip bootstrap script that machines reaching only the package index cannot
fetch; this copies the checkout into such a tree and puts the offline stand-in
(../shared/ci/ansible_test_get_pip.py, or the file named by $ANSIBLE_TEST_GET_PIP) into
ansible-test's cache first (skipped when the cache already holds the script). Extra arguments go to ansible-test (e.g. a test or file names).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pip_version_wanted():
    import ansible_test
    source = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source) as handle:
        match = re.search(r"pip='([0-9.]+)'", handle.read())
    if not match:
        sys.exit('cannot tell which pip version ansible-test bootstraps (%s changed?)' % source)
    return match.group(1)


def install_offline_get_pip():
    cache = os.path.expanduser('~/.ansible/test/cache')
    target = os.path.join(cache, 'get_pip_%s.py' % pip_version_wanted().replace('.', '_'))
    candidates = [os.environ.get('ANSIBLE_TEST_GET_PIP', ''),
                  os.path.join(ROOT, '..', 'shared', 'ci', 'ansible_test_get_pip.py')]
    source = next((path for path in candidates if path and os.path.isfile(path)), None)
    if source is None:
        if os.path.isfile(target):
            return
        print('note: no offline get-pip stand-in found (%s); ansible-test will try to download one'
              % ' or '.join(path for path in candidates if path), flush=True)
        return
    os.makedirs(cache, exist_ok=True)
    shutil.copyfile(source, target)


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
