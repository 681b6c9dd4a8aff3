# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed exceptions of the etcd client. Only modules turn them into fail_json."""

from __future__ import annotations


class EtcdError(Exception):
    """Base class of every error raised by the etcd client."""


class EtcdConnectionError(EtcdError):
    """No answer from one endpoint (refused, timeout, DNS), or from any endpoint.

    ``failures`` maps each endpoint tried to the reason it failed.
    """

    def __init__(self, message, failures=None):
        super().__init__(message)
        self.failures = dict(failures or {})


class EtcdTLSError(EtcdConnectionError):
    """The TLS handshake with an endpoint failed (unknown CA, bad client certificate, wrong name)."""


class EtcdAPIError(EtcdError):
    """The gateway answered with an error (HTTP status and etcd's message)."""

    def __init__(self, message, endpoint=None, status=None, etcd_message=None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.etcd_message = etcd_message or ""


class EtcdLearnerNotReadyError(EtcdAPIError):
    """A learner cannot be promoted yet: not started, or not in sync with the leader."""


class EtcdQuorumError(EtcdError):
    """The requested change would break quorum, or the cluster is unhealthy; pass force to override."""


class EtcdConflictError(EtcdError):
    """The request contradicts the cluster (a name or peer URL already used by another member)."""


class EtcdTimeoutError(EtcdError):
    """A bounded wait (learner catch-up, cluster health) ran out."""
