"""Make `ansible_collections.kubemaint.control_plane` importable for plain pytest runs.

The checkout is the collection root; a symlink tree in a temporary directory gives Python the
package path that ansible-test and ansible-core use.
"""
import hashlib
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_root():
    # One tree per checkout: a CI rehearsal in a second clone must not repoint this one's tests.
    checkout = hashlib.sha256(ROOT.encode()).hexdigest()[:12]
    base = os.path.join(tempfile.gettempdir(), 'kubemaint-collections-%d-%s' % (os.getuid(), checkout))
    link = os.path.join(base, 'ansible_collections', 'kubemaint', 'control_plane')
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.realpath(link) != ROOT:
        tmp = '%s.%d' % (link, os.getpid())
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return base


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS_ROOT
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
