"""Every ansible command a test run starts logs to one file (ANSIBLE_LOG_PATH, set by tests/conftest.py);
a deprecation warning found there fails the run (issue 25): ansible-core prints them once and goes on,
so a test that only reads a command's result would never notice one."""
import os

MARK = '[DEPRECATION WARNING]'


def deprecations(lines):
    """The distinct deprecation warnings in ansible log lines, in the order first seen, without the
    log's time, pid and user prefix."""
    found = []
    for line in lines:
        at = line.find(MARK)
        if at < 0:
            continue
        message = line[at:].rstrip('\n')
        if message not in found:
            found.append(message)
    return found


def deprecations_in(path):
    """deprecations() of the log file at `path`; none when no ansible command wrote it."""
    if not os.path.exists(path):
        return []
    with open(path, errors='replace') as handle:
        return deprecations(handle)
