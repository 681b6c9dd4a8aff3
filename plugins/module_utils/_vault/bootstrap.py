# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotent bootstrap of one cluster's Vault layout.

Layout (prefix P, cluster C):
  P/C/kv                      KV v2: every generated secret, one folder per node class
  P/C/etcd-pki, k8s-pki, front-proxy-pki   PKI: a root per cluster, or an intermediate signed by an existing root
  auth/P-nodes                AppRole: one role per host, named C--<host>, bound to its class policies
  policies P-C-<class>        frontend, etcd, control_plane, worker, meta_worker, and P-C-orchestrator

Every ``ensure_*`` reads first, compares and writes only what differs, so a second run changes nothing.
"""

from __future__ import annotations

import re

from ansible_collections.quorum.k8s.plugins.module_utils._vault.durations import seconds
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError, VaultError

CLASSES = ("frontend", "etcd", "control_plane", "worker", "meta_worker")
PKI_MOUNTS = ("etcd-pki", "k8s-pki", "front-proxy-pki")
CA_NAMES = {"etcd-pki": "etcd-ca", "k8s-pki": "kubernetes-ca", "front-proxy-pki": "front-proxy-ca"}
_NAME_OK = re.compile(r"[^A-Za-z0-9_.-]")


class Layout(object):
    """Names of everything the bootstrap creates for one cluster."""

    def __init__(self, prefix, cluster):
        if not cluster or not _NAME_OK.sub("", cluster) == cluster:
            raise VaultConfigError("cluster name %r must be letters, digits, '_', '.' or '-'" % (cluster,))
        if not prefix or prefix.strip("/") != prefix or "//" in prefix:
            raise VaultConfigError("prefix %r must be a path without leading, trailing or double slashes" % (prefix,))
        self.prefix = prefix
        self.cluster = cluster
        self.base = "%s/%s" % (prefix, cluster)
        self.kv = self.base + "/kv"
        self.approle = "%s-nodes" % prefix.replace("/", "-")
        self.policy_prefix = "%s-%s-" % (prefix.replace("/", "-"), cluster)
        self.role_prefix = cluster + "--"

    def pki(self, name):
        return "%s/%s" % (self.base, name)

    def policy(self, klass):
        return self.policy_prefix + klass

    def role(self, host):
        return self.role_prefix + _NAME_OK.sub("_", host)


def _issue(mount, roles):
    return "".join('path "%s/issue/%s" {\n  capabilities = ["update"]\n}\n' % (mount, r) for r in roles)


def _kv_read(layout, folders):
    return "".join(
        'path "%s/data/%s/*" {\n  capabilities = ["read"]\n}\n' % (layout.kv, f) for f in folders)


def policies(layout, roles=()):
    """HCL text of every policy, by name; roles: the AppRole role names the orchestrator may mint secret IDs for."""
    etcd, k8s, fp = (layout.pki(m) for m in PKI_MOUNTS)
    ca_read = "".join('path "%s/cert/ca_chain" {\n  capabilities = ["read"]\n}\n' % m for m in (etcd, k8s, fp))
    texts = {
        "frontend": _kv_read(layout, ["frontend"]),
        "etcd": _kv_read(layout, ["etcd"]) + _issue(etcd, ["server", "peer", "client"]),
        "control_plane": (_kv_read(layout, ["control_plane"])
                          + _issue(etcd, ["server", "peer", "client", "apiserver-etcd-client"])
                          + _issue(k8s, ["server", "client", "admin"]) + _issue(fp, ["client"])),
        "worker": _kv_read(layout, ["worker"]),
        "meta_worker": _kv_read(layout, ["worker", "meta_worker"]),
    }
    out = {}
    for klass, text in texts.items():
        out[layout.policy(klass)] = "# quorum.k8s: %s nodes of cluster %s\n%s%s" % (klass, layout.cluster, text, ca_read)
    out[layout.policy("orchestrator")] = (
        "# quorum.k8s: the controller that runs the playbooks of cluster %s\n" % layout.cluster
        + 'path "%s/data/*" {\n  capabilities = ["create", "read", "update"]\n}\n' % layout.kv
        + 'path "%s/metadata/*" {\n  capabilities = ["read", "list"]\n}\n' % layout.kv
        + "".join('path "%s/issue/*" {\n  capabilities = ["update"]\n}\n' % m for m in (etcd, k8s, fp))
        + ca_read
        # read: the roles and their role-id; update on secret-id: mint a node's secret ID
        # (a glob may only end a path, so each role is named)
        + 'path "auth/%s/role/%s*" {\n  capabilities = ["read"]\n}\n' % (layout.approle, layout.role_prefix)
        + "".join('path "auth/%s/role/%s/secret-id" {\n  capabilities = ["update"]\n}\n' % (layout.approle, r)
                  for r in sorted(roles))
    )
    return out


def _same(want, have):
    if isinstance(want, bool) or isinstance(have, bool):
        return bool(want) == bool(have)
    if isinstance(want, (list, tuple)):
        return list(want) == list(have or [])
    if isinstance(want, int):
        try:
            return int(have) == want
        except (TypeError, ValueError):
            return False
    return str(want) == str(have if have is not None else "")


def differing(want, have):
    """Keys whose desired value differs from what Vault reports."""
    return sorted(k for k, v in want.items() if not _same(v, (have or {}).get(k)))


class Bootstrap(object):
    """Applies one cluster's layout; collects a list of changes (never secret values)."""

    def __init__(self, client, layout, check_mode=False):
        self.client = client
        self.layout = layout
        self.check_mode = check_mode
        self.changes = []
        self.pending = set()  # mounts that check mode would create: nothing to read under them

    def _change(self, what, path, detail=None):
        entry = {"action": what, "path": path}
        if detail:
            entry["detail"] = detail
        self.changes.append(entry)
        return not self.check_mode

    # ---------------------------------------------------------------- mounts
    def ensure_secrets_mount(self, path, kind, options=None, max_lease_ttl=None, description=""):
        mounts = (self.client.read("sys/mounts") or {})
        mounts = mounts.get("data") or mounts
        have = mounts.get(path + "/")
        if have is None:
            config = {}
            if max_lease_ttl:
                config["max_lease_ttl"] = "%ds" % max_lease_ttl
            if self.check_mode:
                self.pending.add(path)
            if self._change("mount", path, kind):
                body = {"type": kind, "options": options or {}, "config": config, "description": description}
                self.client.write("sys/mounts/" + path, body)
            return
        if have.get("type") != kind or (options and options.get("version") and
                                        str((have.get("options") or {}).get("version")) != str(options["version"])):
            raise VaultConfigError(
                "%s/v1/sys/mounts/%s holds a %s engine (options %s), not %s %s: choose another prefix "
                "or remove that mount" % (self.client.url, path, have.get("type"), have.get("options"), kind,
                                          options or ""))
        if max_lease_ttl and int((have.get("config") or {}).get("max_lease_ttl") or 0) != max_lease_ttl:
            if self._change("tune", path, "max_lease_ttl=%d" % max_lease_ttl):
                self.client.write("sys/mounts/%s/tune" % path, {"max_lease_ttl": "%ds" % max_lease_ttl})

    def ensure_auth_mount(self, path, kind, description=""):
        auths = self.client.read("sys/auth") or {}
        auths = auths.get("data") or auths
        have = auths.get(path + "/")
        if have is None:
            if self.check_mode:
                self.pending.add("auth/" + path)
            if self._change("enable auth", "auth/" + path, kind):
                self.client.write("sys/auth/" + path, {"type": kind, "description": description})
        elif have.get("type") != kind:
            raise VaultConfigError("%s/v1/sys/auth/%s is a %s auth method, not %s: choose another prefix"
                                   % (self.client.url, path, have.get("type"), kind))

    # -------------------------------------------------------------- policies
    def ensure_policy(self, name, text):
        have = self.client.read("sys/policies/acl/" + name)
        current = ((have or {}).get("data") or {}).get("policy")
        if current is None or current.strip() != text.strip():
            if self._change("policy", "sys/policies/acl/" + name, "create" if current is None else "update"):
                self.client.write("sys/policies/acl/" + name, {"policy": text})

    # ------------------------------------------------------------------- PKI
    def ensure_ca(self, mount, ca):
        """A CA in the mount: generated root, or intermediate signed by ca['parent_mount']."""
        if self.check_mode and mount in self.pending:
            self._change("generate %s CA" % ca.get("mode", "root"), mount)
            return None
        if self.client.list(mount + "/issuers"):
            return None
        name = CA_NAMES.get(mount.rsplit("/", 1)[-1], mount)
        common_name = "%s %s" % (self.layout.cluster, name)
        export = bool(ca.get("export_key"))
        kind = "exported" if export else "internal"
        params = {"common_name": common_name, "ttl": "%ds" % ca["ttl"], "key_type": ca["key_type"],
                  "key_bits": ca["key_bits"], "issuer_name": name}
        mode = ca.get("mode", "root")
        if not self._change("generate %s CA" % mode, mount, common_name):
            return None
        if mode == "root":
            answer = self.client.write("%s/root/generate/%s" % (mount, kind), params)["data"]
            material = {"certificate": answer["certificate"]}
        else:
            parent = ca.get("parent_mount")
            if not parent:
                raise VaultConfigError("intermediate CA for %s needs parent_mount (a PKI mount holding the root)" % mount)
            csr = self.client.write("%s/intermediate/generate/%s" % (mount, kind), params)["data"]
            answer = self.client.write("%s/root/sign-intermediate" % parent.strip("/"), {
                "csr": csr["csr"], "common_name": common_name, "ttl": "%ds" % ca["ttl"], "format": "pem_bundle",
                "use_csr_values": False})["data"]
            chain = [answer["certificate"]] + [c for c in (answer.get("ca_chain") or []) if c != answer["certificate"]]
            self.client.write("%s/intermediate/set-signed" % mount, {"certificate": "\n".join(chain)})
            material = {"certificate": answer["certificate"], "ca_chain": "\n".join(chain)}
            answer = dict(answer, private_key=csr.get("private_key"))
        self.client.write("%s/config/urls" % mount, {
            "issuing_certificates": ["%s/v1/%s/ca" % (self.client.url.rstrip("/"), mount)]})
        if export:
            material["private_key"] = answer["private_key"]
            path = "control_plane/%s" % name
            try:
                self.client.write("%s/data/%s" % (self.layout.kv, path), {"data": material, "options": {"cas": 0}})
            except VaultError as exc:
                raise VaultError("the %s CA of %s was generated but its key could not be stored at %s/data/%s "
                                 "(%s): delete the mount's issuer and run again"
                                 % (name, mount, self.layout.kv, path, exc))
            return "%s/%s" % (self.layout.kv, path)
        return None

    def ensure_pki_role(self, mount, name, params):
        path = "%s/roles/%s" % (mount, name)
        if mount in self.pending:
            self._change("pki role", path, "create")
            return
        have = ((self.client.read(path) or {}).get("data"))
        diff = differing(params, have) if have else None
        if have is None or diff:
            if self._change("pki role", path, "create" if have is None else "update " + ",".join(diff)):
                self.client.write(path, params)

    # --------------------------------------------------------------- AppRole
    def ensure_approle_role(self, name, params):
        path = "auth/%s/role/%s" % (self.layout.approle, name)
        if "auth/" + self.layout.approle in self.pending:
            self._change("approle role", path, "create")
            return
        have = (self.client.read(path) or {}).get("data")
        diff = differing(params, have) if have else None
        if have is None or diff:
            if self._change("approle role", path, "create" if have is None else "update " + ",".join(diff)):
                self.client.write(path, params)

    def prune_approle_roles(self, keep):
        removed = []
        if "auth/" + self.layout.approle in self.pending:
            return removed
        for name in self.client.list("auth/%s/role" % self.layout.approle):
            if name.startswith(self.layout.role_prefix) and name not in keep:
                removed.append(name)
                if self._change("delete approle role", "auth/%s/role/%s" % (self.layout.approle, name)):
                    self.client.delete("auth/%s/role/%s" % (self.layout.approle, name))
        return removed


def remove(client, prefix, cluster, check_mode=False):
    """Delete one cluster's layout: its AppRole roles, policies, KV and PKI mounts (CAs and secrets with them).

    The AppRole auth method is shared by every cluster of the prefix and stays. A second call changes nothing.
    """
    layout = Layout(prefix, cluster)
    boot = Bootstrap(client, layout, check_mode)
    auths = client.read("sys/auth") or {}
    if (auths.get("data") or auths).get(layout.approle + "/") is not None:
        boot.prune_approle_roles(keep=())
    for name in client.list("sys/policies/acl"):
        if name.startswith(layout.policy_prefix) and boot._change("delete policy", "sys/policies/acl/" + name):
            client.delete("sys/policies/acl/" + name)
    mounts = client.read("sys/mounts") or {}
    mounts = mounts.get("data") or mounts
    for path in [layout.kv] + [layout.pki(n) for n in PKI_MOUNTS]:
        if path + "/" in mounts and boot._change("unmount", path):
            client.delete("sys/mounts/" + path)
    return dict(changed=bool(boot.changes), changes=boot.changes)


def _pki_role_params(role, key_type, key_bits):
    params = {
        "ttl": seconds(role.get("ttl") or "8760h", "pki role ttl"),
        "max_ttl": seconds(role.get("max_ttl") or role.get("ttl") or "8760h", "pki role max_ttl"),
        "key_type": role.get("key_type") or key_type,
        "key_bits": int(role.get("key_bits") or key_bits),
        "server_flag": bool(role.get("server")),
        "client_flag": bool(role.get("client")),
        "allow_ip_sans": True,
        "allow_localhost": True,
        "enforce_hostnames": False,
        "organization": list(role.get("organization") or []),
        "key_usage": ["DigitalSignature", "KeyEncipherment"] if (role.get("key_type") or key_type) == "rsa"
        else ["DigitalSignature"],
    }
    if role.get("allowed_domains"):
        params.update(allowed_domains=list(role["allowed_domains"]), allow_bare_domains=True,
                      allow_subdomains=False, allow_any_name=False)
    else:
        params["allow_any_name"] = True
    return params


def run(client, spec, check_mode=False):
    """Apply the whole layout described by spec (see the vault_bootstrap module's options)."""
    layout = Layout(spec["prefix"], spec["cluster"])
    boot = Bootstrap(client, layout, check_mode)
    pki = spec.get("pki") or {}
    ca = dict(mode=pki.get("mode") or "root", parent_mount=pki.get("parent_mount"),
              ttl=seconds(pki.get("ca_ttl") or "87600h", "pki.ca_ttl"),
              key_type=pki.get("key_type") or "rsa", key_bits=int(pki.get("key_bits") or 2048))
    if ca["mode"] not in ("root", "intermediate"):
        raise VaultConfigError("pki.mode must be root or intermediate, got %r" % ca["mode"])
    export = set(pki.get("export_keys") or [])
    unknown = export - set(PKI_MOUNTS)
    if unknown:
        raise VaultConfigError("pki.export_keys may name %s, got %s" % (", ".join(PKI_MOUNTS), ", ".join(sorted(unknown))))

    boot.ensure_secrets_mount(layout.kv, "kv", {"version": "2"}, description="quorum.k8s %s secrets" % layout.cluster)
    stored = []
    for name in PKI_MOUNTS:
        mount = layout.pki(name)
        boot.ensure_secrets_mount(mount, "pki", max_lease_ttl=ca["ttl"],
                                  description="quorum.k8s %s %s" % (layout.cluster, name))
        where = boot.ensure_ca(mount, dict(ca, export_key=name in export))
        if where:
            stored.append(where)
    for role in spec.get("pki_roles") or []:
        if role.get("mount") not in PKI_MOUNTS:
            raise VaultConfigError("pki_roles entry %s: mount must be one of %s" % (role.get("name"), ", ".join(PKI_MOUNTS)))
        boot.ensure_pki_role(layout.pki(role["mount"]), role["name"], _pki_role_params(role, ca["key_type"], ca["key_bits"]))
    hosts = spec.get("hosts") or []
    role_names = [layout.role(h["name"]) for h in hosts]
    texts = policies(layout, role_names)
    for name in sorted(texts):
        boot.ensure_policy(name, texts[name])

    boot.ensure_auth_mount(layout.approle, "approle", description="quorum.k8s node identities")
    approle = spec.get("approle") or {}
    base = {
        "token_ttl": seconds(approle.get("token_ttl") or "15m", "approle.token_ttl"),
        "token_max_ttl": seconds(approle.get("token_max_ttl") or "30m", "approle.token_max_ttl"),
        "secret_id_ttl": seconds(approle.get("secret_id_ttl") or "1h", "approle.secret_id_ttl"),
        "secret_id_num_uses": int(approle.get("secret_id_num_uses") or 0),
        "token_type": "service",
    }
    wanted = []
    for host in spec.get("hosts") or []:
        classes = list(host.get("classes") or [])
        bad = [c for c in classes if c not in CLASSES]
        if bad or not classes:
            raise VaultConfigError("host %s: classes must be some of %s, got %s" % (host.get("name"), ", ".join(CLASSES), classes))
        params = dict(base, token_policies=[layout.policy(c) for c in sorted(classes)])
        if host.get("cidrs"):
            params.update(secret_id_bound_cidrs=list(host["cidrs"]), token_bound_cidrs=list(host["cidrs"]))
        name = layout.role(host["name"])
        wanted.append(name)
        boot.ensure_approle_role(name, params)
    if spec.get("orchestrator_role", True):
        name = layout.role("orchestrator")
        wanted.append(name)
        boot.ensure_approle_role(name, dict(base, token_ttl=seconds(approle.get("orchestrator_token_ttl") or "1h"),
                                            token_max_ttl=seconds(approle.get("orchestrator_token_ttl") or "1h"),
                                            token_policies=[layout.policy("orchestrator")]))
    removed = boot.prune_approle_roles(wanted) if spec.get("prune") else []
    return dict(
        changed=bool(boot.changes), changes=boot.changes, removed_roles=removed, stored_ca_keys=stored,
        kv_mount=layout.kv, pki_mounts=dict((n, layout.pki(n)) for n in PKI_MOUNTS),
        approle_mount=layout.approle, roles=dict((h["name"], layout.role(h["name"])) for h in spec.get("hosts") or []),
        policies=sorted(texts),
    )
