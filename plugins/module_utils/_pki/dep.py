# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

The one place that knows whether the Python running a module has `cryptography`, the only
library beyond the standard library the collection's certificate work needs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import cryptography  # noqa: F401 pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

CRYPTOGRAPHY_REASON = 'to read and verify the certificates of the control-plane node'


def require_cryptography(module):
    """Fail the module with ansible's standard missing-library message when cryptography is absent."""
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography', reason=CRYPTOGRAPHY_REASON),
                         exception=CRYPTOGRAPHY_IMPORT_ERROR)
