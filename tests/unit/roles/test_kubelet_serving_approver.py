"""roles/control_plane/files/kubelet_serving_approver.py: which kubelet-serving requests it approves,
denies or leaves pending, against requests made with cryptography and a fake API."""
from __future__ import annotations

import base64
import importlib.util
import ipaddress
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "plugins" / "module_utils"))  # where the role installs _x509 beside it
SPEC = importlib.util.spec_from_file_location("approver", REPO / "roles/control_plane/files/kubelet_serving_approver.py")
approver = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(approver)


def request(cn="system:node:w-1", orgs=("system:nodes",), dns=("w-1",), ips=("10.0.0.5",), uris=()):
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    names = ([x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
             + [x509.UniformResourceIdentifier(u) for u in uris])
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    pem = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(pem).decode()


def csr(name="csr-1", user="system:node:w-1", groups=("system:nodes", "system:authenticated"),
        usages=("digital signature", "server auth"), signer=approver.SIGNER, conditions=None, **req):
    return {"metadata": {"name": name},
            "spec": {"signerName": signer, "username": user, "groups": list(groups), "usages": list(usages),
                     "request": request(**req)},
            "status": {"conditions": conditions} if conditions else {}}


def node(name, *ips, hostname=None):
    addresses = [{"type": "InternalIP", "address": ip} for ip in ips]
    addresses.append({"type": "Hostname", "address": hostname or name})
    return {"metadata": {"name": name}, "status": {"addresses": addresses}}


NODES = {"w-1": node("w-1", "10.0.0.5"), "w-2": node("w-2", "10.0.0.6"), "cp-1": node("cp-1", "10.0.0.2")}


def test_a_kubelets_own_names_are_approved():
    verdict, reason = approver.decide(csr(dns=("w-1",), ips=("10.0.0.5",)), NODES)
    assert verdict == "approve" and "w-1" in reason


@pytest.mark.parametrize("kwargs, words", [
    ({"ips": ("10.0.0.6",)}, "not addresses of Node w-1"),                     # another node's address
    ({"ips": ("10.9.9.9",)}, "not addresses of Node w-1"),                     # nobody's address
    ({"dns": ("kubernetes.default",)}, "not names of Node w-1"),
    ({"user": "kubernetes-admin", "groups": ("kubeadm:cluster-admins",)}, "not a node's identity"),
    ({"cn": "system:node:w-2"}, "is not CN=system:node:w-1"),
    ({"orgs": ("system:nodes", "system:masters")}, "O=system:nodes,system:masters"),
    ({"usages": ("server auth", "client auth")}, "usages"),
    ({"usages": ("digital signature",)}, "server auth is required"),
    ({"dns": (), "ips": ()}, "no DNS name or IP address"),
    ({"uris": ("spiffe://x",)}, "neither DNS names nor IP addresses"),
])
def test_requests_that_do_not_match_their_node_are_denied(kwargs, words):
    verdict, reason = approver.decide(csr(**kwargs), NODES)
    assert verdict == "deny" and words in reason


def test_an_address_another_node_reports_too_is_denied():
    nodes = dict(NODES, w2=node("w-2b", "10.0.0.5"))  # a second Node claims w-1's address
    verdict, reason = approver.decide(csr(), nodes)
    assert verdict == "deny" and "also addresses of Node w2" in reason


def test_not_ours_or_already_decided_or_node_not_registered_stays_as_it_is():
    assert approver.decide(csr(signer="kubernetes.io/kube-apiserver-client-kubelet"), NODES) is None
    assert approver.decide(csr(conditions=[{"type": "Approved", "status": "True"}]), NODES) is None
    assert approver.decide(csr(user="system:node:w-9", cn="system:node:w-9", dns=("w-9",)), NODES) is None


def test_unreadable_request_is_denied():
    bad = csr()
    bad["spec"]["request"] = base64.b64encode(b"not a request").decode()
    assert approver.decide(bad, NODES)[0] == "deny"


class FakeApi:
    def __init__(self, csrs, conflict=()):
        self.csrs, self.conflict, self.puts, self.node_lists = csrs, set(conflict), [], 0

    def call(self, method, path, body=None):
        if method == "GET" and path.startswith(approver.CSR_PATH):
            assert "fieldSelector=spec.signerName%3Dkubernetes.io%2Fkubelet-serving" in path
            return {"items": self.csrs}
        if method == "GET" and path == "/api/v1/nodes":
            self.node_lists += 1
            return {"items": list(NODES.values())}
        assert method == "PUT" and path.endswith("/approval")
        name = path.split("/")[-2]
        if name in self.conflict:
            raise RuntimeError("PUT %s: HTTP 409 Conflict" % path)
        self.puts.append((name, body["status"]["conditions"][-1]))
        return body


def test_once_approves_and_denies_with_the_reason_in_the_condition():
    api = FakeApi([csr("good"), csr("bad", ips=("10.0.0.6",)), csr("raced"),
                   csr("done", conditions=[{"type": "Denied", "status": "True"}])], conflict={"raced"})
    lines = []
    assert approver.once(api, log=lines.append) == 2
    (good, approved), (bad, denied) = api.puts
    assert (good, approved["type"], approved["reason"]) == ("good", "Approved", approver.REASON)
    assert (bad, denied["type"]) == ("bad", "Denied") and "10.0.0.6" in denied["message"]
    assert lines[0].startswith("approved good") and lines[1].startswith("DENIED bad")


def test_once_does_not_list_nodes_when_nothing_waits():
    api = FakeApi([csr(conditions=[{"type": "Approved", "status": "True"}])])
    assert approver.once(api) == 0 and api.node_lists == 0


def test_kubeconfig_needs_embedded_credentials(tmp_path):
    path = tmp_path / "c.conf"
    path.write_text("clusters:\n- cluster:\n    server: https://10.0.0.2:6443\n")
    with pytest.raises(ValueError, match="lacks certificate-authority-data"):
        approver.read_kubeconfig(str(path))
