# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the Vault client: each message names the address or path and what to do."""

from __future__ import annotations


class VaultError(Exception):
    """Base of every error the Vault client raises; str() is the message for the user."""


class VaultDependencyError(VaultError):
    """A Python library the client needs (hvac, cryptography) is missing."""

    def __init__(self, library, traceback=None):
        super().__init__("the Python library %s is required" % library)
        self.library = library
        self.traceback = traceback


class VaultConfigError(VaultError):
    """Connection options are incomplete or contradict each other (no network involved)."""


class VaultUnreachable(VaultError):
    """No HTTP answer from the address (refused, timeout, DNS, TLS verification)."""


class VaultSealed(VaultError):
    """The server answered that it is sealed or not initialised."""


class VaultAuthError(VaultError):
    """The token is invalid or expired, or an AppRole login was refused."""


class VaultPermissionDenied(VaultError):
    """The token is valid but its policies do not allow the operation on the path."""


class VaultMissingMount(VaultError):
    """No secrets engine or auth method is mounted at the path."""


class VaultNotFound(VaultError):
    """Nothing is stored at the path (KV secret, role, issuer)."""


class VaultCasConflict(VaultError):
    """A check-and-set write lost: the secret changed since it was read."""


class VaultRequestError(VaultError):
    """The server refused the request as invalid (HTTP 400) or failed (HTTP 5xx)."""
