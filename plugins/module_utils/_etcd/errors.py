# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

What can go wrong talking to etcd, one class per kind of fault, so that callers (and the
operator reading the message) can tell a wrong option from a refused certificate from a
member that is down.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class EtcdError(Exception):
    """Anything that went wrong talking to etcd. `reason` is a short machine-readable code."""
    reason = 'error'

    def __init__(self, message, endpoint=None):
        super(EtcdError, self).__init__(message)
        self.message = message
        self.endpoint = endpoint


class EtcdConfigError(EtcdError):
    """Bad input found before any request: malformed URL, missing or unreadable cert/key."""
    reason = 'bad_configuration'


class EtcdMalformedURLError(EtcdConfigError):
    reason = 'malformed_url'


class EtcdCertFileError(EtcdConfigError):
    reason = 'cert_file_unusable'


class EtcdCertFileNotReadable(EtcdCertFileError):
    """A certificate or key exists but the user the module runs as may not read it: a run without become."""
    reason = 'cert_file_not_readable'


class EtcdTLSVerifyError(EtcdError):
    """The server's certificate is not signed by the CA given, or does not name the host."""
    reason = 'tls_verify_failed'


class EtcdClientCertRejected(EtcdError):
    """The server refused our client certificate (signed by a CA it does not trust)."""
    reason = 'client_cert_rejected'


class EtcdNotEtcdError(EtcdError):
    """Something answered, but not etcd's gateway (no TLS, HTML, 404 on /v3/...)."""
    reason = 'not_etcd'


class EtcdConnectionError(EtcdError):
    """Nothing answered: connection refused, no route, name not resolved."""
    reason = 'connection_refused'


class EtcdTimeoutError(EtcdConnectionError):
    reason = 'timeout'


class EtcdSplitBrainError(EtcdConnectionError):
    """The endpoint answers, but for another etcd cluster than the majority's (another cluster ID, or a member
    list without the majority's members): a split brain. Its answers say nothing of the majority's cluster."""
    reason = 'split_brain'


class EtcdRequestError(EtcdError):
    """etcd answered with an error (gRPC code and message), e.g. 'etcdserver: not leader'."""
    reason = 'etcd_error'

    def __init__(self, message, endpoint=None, code=None, etcd_message=None):
        super(EtcdRequestError, self).__init__(message, endpoint)
        self.code = code
        self.etcd_message = etcd_message


class EtcdCompactedError(EtcdRequestError):
    """etcd answered 'mvcc: required revision has been compacted': the revision is at or below the
    revision the keyspace was compacted to already."""
    reason = 'compacted'


class EtcdFutureRevisionError(EtcdRequestError):
    """etcd answered 'mvcc: required revision is a future revision'."""
    reason = 'future_revision'


class EtcdSnapshotError(EtcdError):
    reason = 'snapshot_invalid'
