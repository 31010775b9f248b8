"""Process helpers shared by the lab's emulator and its controller."""


def process_start_time(pid):
    """The kernel's start time of `pid` (clock ticks since boot), None when it is gone.

    Stored next to a pid so that a later `down` never signals a process that merely reused it.
    """
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None
