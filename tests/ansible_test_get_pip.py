"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap pip.

ansible-test creates its virtualenvs without pip and runs the get-pip script it caches as
~/.ansible/test/cache/get_pip_<pip version>.py, downloading it from the internet when missing
(ansible issue 77304). Machines that reach only a package index cannot. tests/ansible_test_sanity.py
puts this file there instead. It
- bootstraps pip from the wheel bundled with the interpreter (ensurepip, no network), in a child
  process: ensurepip clears every PIP_* variable and the pip configuration of the process it runs in;
- then installs what ansible-test asked for (e.g. pip==24.2) with that pip, in an environment left
  as it came, so the machine's pip configuration (index, find-links, certificates) applies.
"""
import subprocess
import sys

# Options of get-pip.py itself, not of `pip install`.
GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def pip_install_arguments(argv):
    """The `pip install` arguments for what get-pip.py was asked to install."""
    return [argument for argument in argv if argument not in GET_PIP_ONLY_OPTIONS]


def main(argv):
    try:
        import ensurepip  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        sys.stderr.write('%s has no ensurepip module to bootstrap pip offline; install the '
                         'interpreter\'s venv/ensurepip support (Debian: python3-venv)\n' % sys.executable)
        return 1
    bootstrap = subprocess.call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
    if bootstrap != 0:
        return bootstrap
    arguments = pip_install_arguments(argv)
    if not [argument for argument in arguments if not argument.startswith('-')]:
        return 0
    return subprocess.call([sys.executable, '-m', 'pip', 'install'] + arguments)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
