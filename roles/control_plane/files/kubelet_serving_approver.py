# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Approve a kubelet's serving-certificate request only when it matches its Node; deny the others.

Kubelets run with serverTLSBootstrap, so each asks the cluster CA (signer
kubernetes.io/kubelet-serving) for the certificate it serves on port 10250, and the API servers
verify it (--kubelet-certificate-authority). The controller manager approves no such request: it
cannot know which names belong to a node. This service, on every control plane, does:

- requester system:node:NAME in group system:nodes, subject exactly CN=system:node:NAME, O=system:nodes;
- usages: server auth, optionally digital signature and key encipherment, nothing else;
- alternative names: at least one; DNS names among NAME and the Node's DNS and host-name addresses;
  IP addresses among the Node's InternalIP/ExternalIP addresses and claimed by no other Node;
  no other kind of name.

A request whose Node does not exist yet stays pending (a kubelet may ask before its Node is
registered); every other mismatch is denied with the reason in the CSR's condition and the
journal. Several copies may run: a decision another copy made first is left as it is.
Python's standard library and the collection's _x509 reader only (installed beside this file).
"""

import argparse
import base64
import http.client
import ipaddress
import json
import os
import re
import ssl
import sys
import tempfile
import time
from urllib.parse import quote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _x509  # noqa: E402  pylint: disable=wrong-import-position

SIGNER = "kubernetes.io/kubelet-serving"
NODE_USER = "system:node:"
USAGES = {"server auth", "digital signature", "key encipherment"}
DNS_TYPES = ("Hostname", "InternalDNS", "ExternalDNS")
IP_TYPES = ("InternalIP", "ExternalIP")
REASON = "QuorumKubeletServingApprover"
CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
KUBECONFIG_KEYS = ("server", "certificate-authority-data", "client-certificate-data", "client-key-data")


def _ip(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def decide(csr, nodes):
    """("approve" | "deny", reason) for an undecided kubelet-serving request; None when it is not
    ours to decide now (another signer, already decided, or its Node is not registered yet)."""
    spec = csr.get("spec") or {}
    conditions = (csr.get("status") or {}).get("conditions") or []
    if spec.get("signerName") != SIGNER or any(c.get("type") in ("Approved", "Denied", "Failed") for c in conditions):
        return None
    user = spec.get("username") or ""
    if not user.startswith(NODE_USER) or "system:nodes" not in (spec.get("groups") or []):
        return "deny", "requested by %r, which is not a node's identity" % user
    name = user[len(NODE_USER):]
    try:
        request = _x509.csr_summary(_x509.pem_csr(base64.b64decode(spec.get("request") or "")))
    except (ValueError, TypeError) as exc:
        return "deny", "the request cannot be read: %s" % exc
    if request["common_name"] != user or request["organizations"] != ["system:nodes"]:
        return "deny", "subject CN=%s O=%s is not CN=%s O=system:nodes" % (
            request["common_name"], ",".join(request["organizations"]), user)
    usages = set(spec.get("usages") or [])
    if "server auth" not in usages or not usages <= USAGES:
        return "deny", "usages %s: server auth is required, only %s are allowed" % (sorted(usages), sorted(USAGES))
    if request["other_names"]:
        return "deny", "it asks for alternative names that are neither DNS names nor IP addresses"
    if not request["dns_names"] and not request["ip_addresses"]:
        return "deny", "it names no DNS name or IP address"
    node = nodes.get(name)
    if node is None:
        return None
    addresses = (node.get("status") or {}).get("addresses") or []
    own_names = {name} | {a.get("address") for a in addresses if a.get("type") in DNS_TYPES}
    own_ips = {_ip(a.get("address", "")) for a in addresses if a.get("type") in IP_TYPES} - {None}
    foreign = [d for d in request["dns_names"] if d not in own_names]
    if foreign:
        return "deny", "DNS names %s are not names of Node %s (%s)" % (foreign, name, sorted(own_names))
    foreign = [i for i in request["ip_addresses"] if i not in own_ips]
    if foreign:
        return "deny", "IP addresses %s are not addresses of Node %s (%s)" % (foreign, name, sorted(own_ips))
    for other, other_node in nodes.items():
        theirs = {_ip(a.get("address", "")) for a in (other_node.get("status") or {}).get("addresses") or []
                  if other != name and a.get("type") in IP_TYPES}
        if theirs & set(request["ip_addresses"]):
            return "deny", "IP addresses %s are also addresses of Node %s" % (sorted(theirs & set(request["ip_addresses"])), other)
    return "approve", "names %s and addresses %s match Node %s" % (request["dns_names"], request["ip_addresses"], name)


def approval_body(csr, verdict, reason):
    """The CSR with the Approved or Denied condition added (PUT to its approval subresource)."""
    body = json.loads(json.dumps(csr))
    status = body.setdefault("status", {})
    status.setdefault("conditions", []).append({
        "type": "Approved" if verdict == "approve" else "Denied",
        "status": "True",
        "reason": REASON,
        "message": reason[:1000],
    })
    return body


# ---------------------------------------------------------------- API client

def read_kubeconfig(path):
    """server and the three base64 blobs of a kubeadm-written kubeconfig (one `key: value` a line)."""
    found = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"^\s*(?:-\s+)?([a-z-]+):\s*['\"]?([^'\"\s]+)['\"]?\s*$", line)
            if match and match.group(1) in KUBECONFIG_KEYS and match.group(1) not in found:
                found[match.group(1)] = match.group(2)
    missing = [k for k in KUBECONFIG_KEYS if k not in found]
    if missing:
        raise ValueError("%s lacks %s" % (path, ", ".join(missing)))
    return found


class Api:
    """The API server of a kubeconfig; the TLS context is rebuilt when the file changes (renewal)."""

    def __init__(self, kubeconfig):
        self.kubeconfig = kubeconfig
        self.mtime = None
        self.context = None
        self.server = None

    def _load(self):
        mtime = os.stat(self.kubeconfig).st_mtime
        if mtime == self.mtime:
            return
        cfg = read_kubeconfig(self.kubeconfig)
        context = ssl.create_default_context(cadata=base64.b64decode(cfg["certificate-authority-data"]).decode())
        # the client key exists on disk only while it loads, in a private directory on tmpfs
        with tempfile.TemporaryDirectory(dir="/run" if os.path.isdir("/run") else None) as tmp:
            cert, key = os.path.join(tmp, "c"), os.path.join(tmp, "k")
            for path, blob in ((cert, "client-certificate-data"), (key, "client-key-data")):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(base64.b64decode(cfg[blob]))
            context.load_cert_chain(cert, key)
        self.context, self.server, self.mtime = context, urlsplit(cfg["server"]), mtime

    def call(self, method, path, body=None):
        self._load()
        conn = http.client.HTTPSConnection(self.server.hostname, self.server.port or 443, context=self.context, timeout=20)
        try:
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        if response.status >= 300:
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, response.status, text[:300]))
        return json.loads(text)


def once(api, log=print):
    """Decide every undecided kubelet-serving request; returns the number decided."""
    selector = quote("spec.signerName=%s" % SIGNER, safe="")
    csrs = api.call("GET", "%s?fieldSelector=%s" % (CSR_PATH, selector)).get("items") or []
    if not any(not (c.get("status") or {}).get("conditions") for c in csrs):
        return 0
    nodes = dict((n["metadata"]["name"], n) for n in api.call("GET", "/api/v1/nodes").get("items") or [])
    decided = 0
    for csr in csrs:
        verdict = decide(csr, nodes)
        if verdict is None:
            continue
        name = csr["metadata"]["name"]
        try:
            api.call("PUT", "%s/%s/approval" % (CSR_PATH, quote(name, safe="")), approval_body(csr, *verdict))
        except RuntimeError as exc:
            if "HTTP 409" in str(exc):  # another control plane decided it first
                continue
            raise
        decided += 1
        log("%s %s (%s): %s" % ("approved" if verdict[0] == "approve" else "DENIED", name,
                                csr["spec"].get("username"), verdict[1]))
    return decided


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two looks at the requests")
    args = parser.parse_args(argv)
    api = Api(args.kubeconfig)
    while True:
        try:
            once(api, log=lambda line: print(line, flush=True))
        except (OSError, RuntimeError, ValueError, ssl.SSLError) as exc:
            # the local API server restarts during renewals and upgrades: try again at the next turn
            print("no decision this turn: %s" % exc, file=sys.stderr, flush=True)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
