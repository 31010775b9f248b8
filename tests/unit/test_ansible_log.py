"""The run-wide ansible log check (tests/ansible_log.py): it finds a deprecation warning that a real
ansible-playbook run prints, and finds none in a clean run."""
import os
import subprocess
import sys

from tests.ansible_log import MARK, deprecations, deprecations_in

LOG_LINES = [
    '2026-12-06 05:08:20,625 p=1622 u=root n=ansible WARNING| [WARNING]: Deprecation warnings can be disabled\n',
    "2026-12-06 05:08:20,625 p=1622 u=root n=ansible INFO| [DEPRECATION WARNING]: old. Removed in 2.23.\n",
    "2026-12-06 05:08:21,001 p=1623 u=root n=ansible INFO| [DEPRECATION WARNING]: old. Removed in 2.23.\n",
    '2026-12-06 05:08:21,002 p=1623 u=root n=ansible INFO| ok: [lab-cp-01]\n',
]


def test_deprecations_are_found_once_each_without_the_log_prefix():
    assert deprecations(LOG_LINES) == ['[DEPRECATION WARNING]: old. Removed in 2.23.']
    assert deprecations([LOG_LINES[0], LOG_LINES[3]]) == []


def test_a_missing_log_means_no_ansible_command_ran(tmp_path):
    assert deprecations_in(str(tmp_path / 'absent.log')) == []


def _playbook_run(tmp_path, module_body):
    library = tmp_path / 'library'
    library.mkdir()
    (library / 'probe.py').write_text('#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n'
                                      'module = AnsibleModule(argument_spec={})\n' + module_body +
                                      'module.exit_json(changed=False)\n')
    (tmp_path / 'play.yml').write_text('- hosts: localhost\n  gather_facts: false\n  tasks:\n    - probe:\n')
    log = tmp_path / 'ansible.log'
    env = dict(os.environ, ANSIBLE_LOG_PATH=str(log), ANSIBLE_DEPRECATION_WARNINGS='true', ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run([os.path.join(bindir, 'ansible-playbook'), 'play.yml', '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr, deprecations_in(str(log))


def test_a_deprecation_printed_by_ansible_playbook_reaches_the_log(tmp_path):
    output, found = _playbook_run(tmp_path, "module.deprecate('the probe is old', version='9.99')\n")
    assert MARK in output
    assert len(found) == 1 and 'the probe is old' in found[0], found


def test_a_clean_run_logs_no_deprecation(tmp_path):
    output, found = _playbook_run(tmp_path, '')
    assert MARK not in output and found == []
