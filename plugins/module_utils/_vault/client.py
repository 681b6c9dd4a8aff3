# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Vault client of quorum.k8s, built on hvac.

``VaultClient.from_params()`` is the single way to build it: address, CA bundle and
authentication (``token`` or ``approle``) resolve from the arguments first, then from
Vault's own environment variables (VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN). Every call
goes through ``request()``, which turns hvac and requests exceptions into the typed
errors of ``errors.py`` whose messages name the address or path and what to do.
"""

from __future__ import annotations

import os
import traceback

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import (
    VaultAuthError,
    VaultConfigError,
    VaultDependencyError,
    VaultMissingMount,
    VaultNotFound,
    VaultPermissionDenied,
    VaultRequestError,
    VaultSealed,
    VaultUnreachable,
)

HVAC_IMPORT_ERROR = None
try:
    import hvac
    import hvac.exceptions
    import requests.exceptions
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    HAS_HVAC = False
    HVAC_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_HVAC = True

AUTH_METHODS = ("token", "approle")

# The connection options every Vault module shares (doc fragment quorum.k8s.vault).
CONNECTION_ARGUMENT_SPEC = dict(
    url=dict(type="str", aliases=["vault_addr"]),
    ca_cert=dict(type="path", aliases=["cacert"]),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    auth_method=dict(type="str", default="token", choices=list(AUTH_METHODS)),
    token=dict(type="str", no_log=True),
    role_id=dict(type="str", no_log=False),
    secret_id=dict(type="str", no_log=True),
    approle_mount=dict(type="str", default="approle"),
)
CONNECTION_REQUIRED_IF = [("auth_method", "approle", ("role_id", "secret_id"))]

# The collection-wide inventory variable of each connection option (docs/inventory.md). The lookup
# quorum.k8s.vault_connection turns them into module_defaults for group/quorum.k8s.vault; an unset
# variable leaves the option to the module's default and Vault's environment (VAULT_ADDR, ...).
INVENTORY_VARIABLES = dict(
    url="quorum_vault_addr",
    ca_cert="quorum_vault_ca_cert",
    validate_certs="quorum_vault_validate_certs",
    timeout="quorum_vault_timeout",
    auth_method="quorum_vault_auth_method",
    token="quorum_vault_token",
    approle_mount="quorum_vault_approle_mount",
    role_id="quorum_vault_role_id",
    secret_id="quorum_vault_secret_id",
)


def connection_argument_spec():
    """A fresh copy of the shared connection options (modules extend it)."""
    return dict((k, dict(v)) for k, v in CONNECTION_ARGUMENT_SPEC.items())


def _missing_mount(text):
    text = (text or "").lower()
    return "no handler for route" in text or "unsupported path" in text


class VaultClient(object):
    """Thin typed wrapper around ``hvac.Client``."""

    def __init__(self, url, ca_cert=None, validate_certs=True, timeout=30, hvac_client=None):
        self.url = url
        self.settings = dict(ca_cert=ca_cert, validate_certs=validate_certs, timeout=timeout)
        if hvac_client is None:
            if not HAS_HVAC:
                raise VaultDependencyError("hvac", HVAC_IMPORT_ERROR)
            verify = (ca_cert or True) if validate_certs else False
            hvac_client = hvac.Client(url=url, verify=verify, timeout=timeout)
        self.hvac = hvac_client

    # ---------------------------------------------------------------- building
    @classmethod
    def from_params(cls, params, env=None):
        """Build and authenticate a client from module-style parameters."""
        env = os.environ if env is None else env
        url = params.get("url") or env.get("VAULT_ADDR")
        if not url:
            raise VaultConfigError(
                "no Vault address: set the url option (inventory quorum_vault_addr) or VAULT_ADDR")
        ca_cert = params.get("ca_cert") or env.get("VAULT_CACERT") or None
        if ca_cert and not os.path.isfile(ca_cert):
            raise VaultConfigError(
                "CA bundle %s for Vault at %s does not exist: set ca_cert (inventory "
                "quorum_vault_ca_cert) or VAULT_CACERT to a readable PEM file" % (ca_cert, url))
        client = cls(url, ca_cert=ca_cert, validate_certs=params.get("validate_certs", True),
                     timeout=params.get("timeout") or 30)
        method = params.get("auth_method") or "token"
        if method == "token":
            token = params.get("token") or env.get("VAULT_TOKEN")
            if not token:
                raise VaultConfigError(
                    "no Vault token for %s: set the token option or VAULT_TOKEN, or use "
                    "auth_method=approle with role_id and secret_id" % url)
            client.hvac.token = token
        elif method == "approle":
            client.login_approle(params.get("role_id"), params.get("secret_id"),
                                 params.get("approle_mount") or "approle")
        else:
            raise VaultConfigError("unknown auth_method %r (use one of %s)" % (method, ", ".join(AUTH_METHODS)))
        return client

    def login_approle(self, role_id, secret_id, mount="approle"):
        if not role_id or not secret_id:
            raise VaultConfigError("auth_method=approle needs role_id and secret_id")
        path = "auth/%s/login" % mount.strip("/")
        try:
            answer = self.request("post", path, {"role_id": role_id, "secret_id": secret_id}, auth_check=False)
        except (VaultPermissionDenied, VaultRequestError) as exc:
            raise VaultAuthError(
                "AppRole login at %s/v1/%s was refused (%s): check role_id and that the "
                "secret_id is neither expired nor used up" % (self.url, path, exc))
        self.hvac.token = answer["auth"]["client_token"]
        return answer["auth"]

    def login_as_approle_role(self, mount, role, hvac_client=None):
        """A new client logged in as AppRole role `role` of `mount`.

        This client (the orchestrator) reads the role ID and mints a single-use secret ID that
        lives five minutes, so the work is done with the role's own policies.
        """
        base = "auth/%s/role/%s" % (mount.strip("/"), role)
        answer = self.read(base + "/role-id")
        if not answer:
            raise VaultNotFound("no AppRole role at %s/v1/%s: run the bootstrap for this host "
                                "(playbooks/vault_bootstrap.yml)" % (self.url.rstrip("/"), base))
        secret = self.write(base + "/secret-id", {"num_uses": 1, "ttl": "300s"})
        other = VaultClient(self.url, hvac_client=hvac_client, **self.settings)
        other.login_approle(answer["data"]["role_id"], secret["data"]["secret_id"], mount)
        return other

    # ---------------------------------------------------------------- requests
    def request(self, method, path, data=None, params=None, auth_check=True):
        """One HTTP call to /v1/<path>; returns the decoded JSON (or None for 204)."""
        path = path.strip("/")
        where = "%s/v1/%s" % (self.url.rstrip("/"), path)
        adapter = self.hvac.adapter
        kwargs = {}
        if data is not None:
            kwargs["json"] = data
        if params:
            kwargs["params"] = params
        try:
            answer = adapter.request(method, "/v1/" + path, **kwargs)
        except Exception as exc:  # mapped below, re-raised when unknown
            raise self._translate(exc, method, path, where, auth_check)
        if hasattr(answer, "status_code"):  # raw response (204 or non-JSON)
            if answer.status_code == 204 or not answer.content:
                return None
            return answer.json()
        return answer

    def _translate(self, exc, method, path, where, auth_check):
        if HAS_HVAC:
            text = str(exc)
            if isinstance(exc, requests.exceptions.SSLError):
                return VaultUnreachable(
                    "TLS verification failed for Vault at %s: point ca_cert (inventory quorum_vault_ca_cert) "
                    "or VAULT_CACERT at the CA bundle that signed its certificate (%s)" % (self.url, _short(text)))
            if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
                return VaultUnreachable(
                    "Vault at %s is unreachable (%s): check the address, that the server runs and that "
                    "this host may reach it" % (self.url, _short(text)))
            if isinstance(exc, hvac.exceptions.VaultNotInitialized):
                return VaultSealed("Vault at %s is not initialised: run `bao operator init` (or vault) first" % self.url)
            if isinstance(exc, hvac.exceptions.VaultDown):
                return VaultSealed("Vault at %s is sealed: unseal it (`bao operator unseal`) and retry" % self.url)
            if isinstance(exc, hvac.exceptions.Unauthorized):
                return VaultAuthError("Vault at %s refused the credentials for %s: %s" % (self.url, where, _short(text)))
            if isinstance(exc, hvac.exceptions.Forbidden):
                if auth_check and not self._token_valid():
                    return VaultAuthError(
                        "the Vault token is invalid or expired (refused at %s): log in again or "
                        "set a valid VAULT_TOKEN / AppRole credentials" % where)
                verb = {"get": "reading", "list": "listing", "delete": "deleting"}.get(method.lower(), "writing to")
                return VaultPermissionDenied(
                    "permission denied %s %s: the token's policies do not allow it; grant the "
                    "capability or use a token with a policy that does" % (verb, where))
            if isinstance(exc, hvac.exceptions.InvalidPath):
                if _missing_mount(text):
                    return VaultMissingMount(
                        "nothing is mounted at %s: run the bootstrap (playbooks/vault_bootstrap.yml) "
                        "or check the mount path and prefix" % where)
                return VaultNotFound("nothing stored at %s" % where)
            if isinstance(exc, hvac.exceptions.InvalidRequest):
                if _missing_mount(text):
                    return VaultMissingMount(
                        "nothing is mounted at %s: run the bootstrap (playbooks/vault_bootstrap.yml) "
                        "or check the mount path and prefix" % where)
                return VaultRequestError("Vault at %s rejected the request to %s: %s" % (self.url, where, _short(text)))
            if isinstance(exc, hvac.exceptions.VaultError):
                return VaultRequestError("Vault at %s failed on %s: %s" % (self.url, where, _short(text)))
        return exc

    def _token_valid(self):
        try:
            self.hvac.adapter.request("get", "/v1/auth/token/lookup-self")
        except Exception:  # any refusal means the token cannot be used
            return False
        return True

    # ------------------------------------------------------------ conveniences
    def read(self, path):
        """GET; None when nothing is stored (a missing mount still raises)."""
        try:
            return self.request("get", path)
        except VaultNotFound:
            return None

    def list(self, path):
        """LIST keys under path; [] when there are none."""
        try:
            answer = self.request("list", path)
        except VaultNotFound:
            return []
        return ((answer or {}).get("data") or {}).get("keys") or []

    def write(self, path, data=None):
        return self.request("post", path, data if data is not None else {})

    def delete(self, path):
        return self.request("delete", path)

    def check_ready(self):
        """Raise VaultSealed/VaultUnreachable unless the server is initialised and unsealed."""
        answer = self.request("get", "sys/seal-status", auth_check=False)
        if not answer.get("initialized", True):
            raise VaultSealed("Vault at %s is not initialised: run `bao operator init` (or vault) first" % self.url)
        if answer.get("sealed"):
            raise VaultSealed("Vault at %s is sealed: unseal it (`bao operator unseal`) and retry" % self.url)


def _short(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."
