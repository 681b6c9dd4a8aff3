# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the kubeadm helpers talk to a cluster: kubectl and kubeadm on a node.

Commands run through a ``run(argv) -> (rc, stdout, stderr)`` callable (a module's
``run_command`` in production, a fake in unit tests).  No secret is ever put on a
command line except the certificate key kubeadm only accepts as a flag; callers
register it as a no_log value.
"""

from __future__ import annotations

import json
import re

from .errors import CommandError, ParseError
from .tokens import CERTS_SECRET_NAME, TOKEN_SECRET_TYPE, valid_token

DEFAULT_KUBECONFIG = "/etc/kubernetes/admin.conf"


class KubeadmClient:
    def __init__(self, run, kubeadm="kubeadm", kubectl="kubectl", kubeconfig=DEFAULT_KUBECONFIG):
        self._run = run
        self.kubeadm = kubeadm
        self.kubectl = kubectl
        self.kubeconfig = kubeconfig

    def _call(self, what, argv):
        rc, out, err = self._run(argv)
        if rc != 0:
            raise CommandError(what, rc, err or out)
        return out

    def _kubectl_json(self, what, args):
        out = self._call(what, [self.kubectl, "--kubeconfig", self.kubeconfig, "-n", "kube-system"] + args)
        if not out.strip():
            return None
        try:
            return json.loads(out)
        except ValueError as exc:
            raise ParseError("%s: kubectl did not print JSON (%s)" % (what, exc))

    def token_secrets(self):
        """The bootstrap-token secrets of kube-system, as a List dict."""
        listing = self._kubectl_json(
            "listing bootstrap-token secrets",
            ["get", "secrets", "--field-selector", "type=" + TOKEN_SECRET_TYPE, "-o", "json"],
        )
        return listing or {"items": []}

    def certs_secret(self):
        """kube-system/kubeadm-certs as a dict, or None when it does not exist."""
        return self._kubectl_json(
            "reading secret kube-system/%s" % CERTS_SECRET_NAME,
            ["get", "secret", CERTS_SECRET_NAME, "--ignore-not-found", "-o", "json"],
        )

    def create_token(self, ttl_seconds, description, usages, groups):
        """Let kubeadm generate a token (so it never appears on a command line); return it."""
        argv = [
            self.kubeadm, "token", "create", "--kubeconfig", self.kubeconfig,
            "--ttl", "%ds" % ttl_seconds,
            "--description", description,
            "--usages", ",".join(usages),
            "--groups", ",".join(groups),
        ]
        out = self._call("kubeadm token create", argv)
        for line in reversed(out.strip().splitlines()):
            candidate = line.strip()
            if valid_token(candidate):
                return candidate
        raise ParseError("kubeadm token create printed no token")

    def delete_token(self, token_id):
        self._call(
            "kubeadm token delete %s" % token_id,
            [self.kubeadm, "token", "delete", "--kubeconfig", self.kubeconfig, token_id],
        )

    def upload_certs(self, certificate_key, config=None, write_temp=None):
        """Encrypt the control-plane certificates into kubeadm-certs under ``certificate_key``.

        kubeadm refuses ``--certificate-key`` together with ``--config``; with a config file the
        key goes into a private temporary copy of it (``write_temp(text) -> (path, cleanup)``).
        """
        argv = [self.kubeadm, "init", "phase", "upload-certs", "--upload-certs", "--kubeconfig", self.kubeconfig]
        if not config:
            self._call("kubeadm init phase upload-certs", argv + ["--certificate-key", certificate_key])
            return
        try:
            with open(config, "r") as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            raise ParseError("cannot read kubeadm configuration %s: %s" % (config, exc))
        path, cleanup = write_temp(config_with_certificate_key(text, certificate_key))
        try:
            self._call("kubeadm init phase upload-certs", argv + ["--config", path])
        finally:
            cleanup()

    # kubeadm on the node itself: init and join from a configuration file, reset.
    def init(self, config, verbosity=0):
        """``kubeadm init`` from a configuration file; the join command (with a token) is not printed."""
        return self._call("kubeadm init", [self.kubeadm, "init", "--config", config, "--skip-token-print",
                                           "--v=%d" % verbosity])

    def join(self, config, verbosity=0):
        """``kubeadm join`` from a configuration file (it holds the token: never on the command line)."""
        return self._call("kubeadm join", [self.kubeadm, "join", "--config", config, "--v=%d" % verbosity])

    def reset(self, cri_socket=None):
        """``kubeadm reset --force``: undoes an init or join on this node."""
        argv = [self.kubeadm, "reset", "--force"]
        if cri_socket:
            argv += ["--cri-socket", cri_socket]
        return self._call("kubeadm reset", argv)

    # Node objects (cluster-scoped), with the admin kubeconfig.
    def get_node(self, name):
        """The Node ``name`` as a dict, or None while it is not registered."""
        out = self._call("reading node %s" % name, [self.kubectl, "--kubeconfig", self.kubeconfig, "get", "node", name,
                                                    "--ignore-not-found", "-o", "json"])
        if not out.strip():
            return None
        try:
            return json.loads(out)
        except ValueError as exc:
            raise ParseError("reading node %s: kubectl did not print JSON (%s)" % (name, exc))

    def label_node(self, name, args):
        """``kubectl label node NAME --overwrite key=value key- ...``."""
        self._call("labelling node %s" % name,
                   [self.kubectl, "--kubeconfig", self.kubeconfig, "label", "node", name, "--overwrite"] + list(args))

    def taint_node(self, name, args):
        """``kubectl taint node NAME key[=value]:effect key[:effect]- ... --overwrite``."""
        self._call("tainting node %s" % name,
                   [self.kubectl, "--kubeconfig", self.kubeconfig, "taint", "node", name] + list(args) + ["--overwrite"])


def config_with_certificate_key(text, certificate_key):
    """A kubeadm configuration whose InitConfiguration carries ``certificateKey``.

    Works on the text (no YAML library on nodes): drops any top-level certificateKey of the
    InitConfiguration document and appends ours; adds a minimal InitConfiguration if none.
    """
    docs = re.split(r"(?m)^---[ \t]*$", text)
    out = []
    found = False
    for doc in docs:
        if re.search(r"(?m)^kind:[ \t]*InitConfiguration[ \t]*$", doc):
            found = True
            doc = re.sub(r"(?m)^certificateKey:.*\n?", "", doc).rstrip("\n")
            doc += '\ncertificateKey: "%s"\n' % certificate_key
        out.append(doc)
    if not found:
        api = re.search(r"(?m)^apiVersion:[ \t]*(kubeadm\.k8s\.io/\S+)", text)
        out.append('\napiVersion: %s\nkind: InitConfiguration\ncertificateKey: "%s"\n'
                   % (api.group(1) if api else "kubeadm.k8s.io/v1beta4", certificate_key))
    return "---".join(out)
