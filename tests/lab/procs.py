"""Process helpers shared by the lab's emulator and its controller."""
import os


def process_start_time(pid):
    """The kernel's start time of `pid` (clock ticks since boot), None when it is gone.

    Stored next to a pid so that a later `down` never signals a process that merely reused it.
    """
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def parent_pid(pid):
    """The parent of `pid`, None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def own_lineage():
    """This process and every ancestor up to init: the command that runs us is never a process we left behind."""
    lineage = set()
    pid = os.getpid()
    while pid and pid not in lineage:
        lineage.add(pid)
        pid = parent_pid(pid)
    return lineage


def names_path_under(argument, directory):
    """True when a command-line argument is `directory`, a path under it, or `--flag=` one of those."""
    directory = directory.rstrip('/') or '/'
    candidates = [argument]
    if '=' in argument:
        candidates.append(argument.split('=', 1)[1])
    return any(value == directory or value.startswith(directory + '/') for value in candidates)
