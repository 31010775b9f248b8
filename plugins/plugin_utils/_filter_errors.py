# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API. Runs on the controller only.

A filter fed input it cannot use says so in one line naming the filter and the value at fault
(AnsibleFilterError), never with a Python traceback.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError


def reported_as_filter_error(name, errors):
    """Decorate a filter so that `errors` (the input errors its pure function raises) become AnsibleFilterError."""
    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except errors as error:
                raise AnsibleFilterError('%s: %s' % (name, error))
        return run
    return decorate
