"""Node certificates from the real OpenBao's PKI: chain and names verified with cryptography,
files 0600, idempotent, re-issued on a name change or near expiry; intermediate CAs."""
from __future__ import annotations

import ipaddress
import os
import stat
import sys

import hvac
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vault_helpers import REPO, playbook_file, recap, run_playbook, write_inventory

sys.path.insert(0, os.path.join(REPO, ".collections"))
from ansible_collections.quorum.k8s.plugins.module_utils._vault import bootstrap  # noqa: E402
from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import VaultClient  # noqa: E402
from ansible_collections.quorum.k8s.plugins.module_utils._vault.pki import issue  # noqa: E402

CLUSTER = "certs"
ROLES = [
    {"mount": "etcd-pki", "name": "peer", "server": True, "client": True, "ttl": "2000h"},
    {"mount": "etcd-pki", "name": "server", "server": True, "client": True, "ttl": "2000h"},
    {"mount": "etcd-pki", "name": "apiserver-etcd-client", "client": True, "organization": ["system:masters"],
     "allowed_domains": ["kube-apiserver-etcd-client"]},
]

BOOK = """
- name: Etcd certificates
  hosts: etcd
  gather_facts: false
  roles:
    - role: quorum.k8s.vault_cert
      vars:
        vault_cert_dir: "%(dir)s"
        vault_cert_certificates:
          - {name: peer, pki: etcd-pki, role: peer, ip_sans: ["{{ ansible_host }}", 127.0.0.1],
             alt_names: "{{ extra_names | default([]) }}"}
          # its CA in another directory than its key, as the API server's etcd client has it
          - {name: server, pki: etcd-pki, role: server, alt_names: [localhost], ip_sans: ["{{ ansible_host }}"],
             ca_path: "%(dir)s/ca/server-ca.crt"}
  post_tasks:
    - name: Report what was issued
      ansible.builtin.debug:
        msg: "ISSUED=[{{ vault_cert_issued | join(',') }}]"
"""


def client_for(openbao):
    return VaultClient.from_params(dict(url=openbao.addr, ca_cert=openbao.ca_cert, token=openbao.root_token))


@pytest.fixture(scope="module")
def layout(openbao):
    return bootstrap.run(client_for(openbao), dict(prefix="quorum", cluster=CLUSTER, pki_roles=ROLES,
                                                   hosts=[{"name": "etcd1", "classes": ["etcd"]},
                                                          {"name": "w1", "classes": ["worker"]}]))


def load(path):
    with open(path, "rb") as f:
        return f.read()


def verify_chain(cert, ca):
    cert.verify_directly_issued_by(ca)  # raises on a wrong signature or issuer


def test_role_issues_verifiable_certificates_then_changes_nothing(openbao, layout, tmp_path):
    inv = write_inventory(tmp_path / "hosts.yml", openbao, CLUSTER, local=("etcd1",))
    book = playbook_file(tmp_path, "certs.yml", BOOK % dict(dir=tmp_path / "pki"))
    rc, out = run_playbook(openbao, inv, book)
    assert "ISSUED=[peer,server]" in out
    pki = tmp_path / "pki"
    for name in ("peer", "server"):
        for suffix in (".crt", ".key"):
            assert stat.S_IMODE(os.stat(pki / (name + suffix)).st_mode) == 0o600
    peer = x509.load_pem_x509_certificate(load(pki / "peer.crt"))
    ca = x509.load_pem_x509_certificate(load(pki / "peer-ca.crt"))
    verify_chain(peer, ca)
    assert ca.subject.rfc4514_string() == "CN=%s etcd-ca" % CLUSTER
    san = peer.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["etcd1"]
    assert sorted(san.get_values_for_type(x509.IPAddress)) == sorted(
        [ipaddress.ip_address("10.1.0.4"), ipaddress.ip_address("127.0.0.1")])
    usages = peer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {u._name for u in usages} >= {"serverAuth", "clientAuth"}
    key = serialization.load_pem_private_key(load(pki / "peer.key"), None)
    assert key.public_key().public_numbers() == peer.public_key().public_numbers()
    server = x509.load_pem_x509_certificate(load(pki / "server.crt"))
    assert sorted(server.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                  .value.get_values_for_type(x509.DNSName)) == ["etcd1", "localhost"]

    # second run: nothing issued, nothing changed
    rc, out = run_playbook(openbao, inv, book)
    assert recap(out)["etcd1"]["changed"] == 0, out[-5000:]
    assert "ISSUED=[]" in out
    assert load(pki / "peer.crt").strip() == peer.public_bytes(serialization.Encoding.PEM).strip()

    # a new name re-issues only the peer certificate
    rc, out = run_playbook(openbao, inv, book, "-e", '{"extra_names": ["etcd1.example"]}')
    assert "ISSUED=[peer]" in out
    new_peer = x509.load_pem_x509_certificate(load(pki / "peer.crt"))
    assert "etcd1.example" in new_peer.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert new_peer.serial_number != peer.serial_number

    # a threshold longer than the lifetime (2000h) re-issues both
    rc, out = run_playbook(openbao, inv, book, "-e", '{"extra_names": ["etcd1.example"], "vault_cert_renew_before": "2100h"}')
    assert "ISSUED=[peer,server]" in out


def test_etcd_ca_key_never_leaves_vault(openbao, layout):
    root = hvac.Client(url=openbao.addr, token=openbao.root_token, verify=openbao.ca_cert)
    issuers = root.list("quorum/%s/etcd-pki/issuers" % CLUSTER)["data"]["keys"]
    for issuer in issuers:
        data = root.read("quorum/%s/etcd-pki/issuer/%s" % (CLUSTER, issuer))["data"]
        assert "private_key" not in data
    status, answer = openbao.api("GET", "quorum/%s/etcd-pki/key/%s" % (CLUSTER, data["key_id"]), expect=None)
    assert status == 200 and "BEGIN" not in str(answer)


def test_apiserver_etcd_client_role_only_issues_its_name(openbao, layout):
    client = client_for(openbao)
    cert = issue(client, "quorum/%s/etcd-pki" % CLUSTER, "apiserver-etcd-client", "kube-apiserver-etcd-client")
    parsed = x509.load_pem_x509_certificate(cert["certificate"].encode())
    from cryptography.x509.oid import NameOID
    assert [a.value for a in parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["kube-apiserver-etcd-client"]
    assert [a.value for a in parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:masters"]
    status, answer = openbao.api("POST", "quorum/%s/etcd-pki/issue/apiserver-etcd-client" % CLUSTER,
                                 {"common_name": "admin"}, expect=None)
    assert status == 400


def test_intermediate_mode_chains_to_existing_root(openbao):
    root = hvac.Client(url=openbao.addr, token=openbao.root_token, verify=openbao.ca_cert)
    root.sys.enable_secrets_engine("pki", path="corp-root", config={"max_lease_ttl": "876000h"})
    root_ca = root.write_data("corp-root/root/generate/internal",
                              data={"common_name": "Corp Root", "ttl": "876000h"})["data"]["certificate"]
    client = client_for(openbao)
    spec = dict(prefix="quorum", cluster="inter", pki=dict(mode="intermediate", parent_mount="corp-root"),
                pki_roles=[{"mount": "etcd-pki", "name": "peer", "server": True, "client": True}])
    first = bootstrap.run(client, spec)
    assert first["changed"]
    assert bootstrap.run(client, spec)["changes"] == []
    cert = issue(client, "quorum/inter/etcd-pki", "peer", "node1", ip_sans=["10.0.0.9"])
    leaf = x509.load_pem_x509_certificate(cert["certificate"].encode())
    inter = x509.load_pem_x509_certificate(cert["issuing_ca"].encode())
    top = x509.load_pem_x509_certificate(root_ca.encode())
    verify_chain(leaf, inter)
    verify_chain(inter, top)
    assert inter.subject.rfc4514_string() == "CN=inter etcd-ca"
    assert any(c.strip() == root_ca.strip() for c in cert["ca_chain"])


NODE_BOOK = """
- name: Etcd certificates issued with each host's own AppRole policies
  hosts: etcd1:w1
  gather_facts: false
  roles:
    - role: quorum.k8s.vault_cert
      vars:
        vault_cert_identity: node
        vault_cert_dir: "%(dir)s/{{ inventory_hostname }}"
        vault_cert_certificates:
          - {name: peer, pki: etcd-pki, role: peer, ip_sans: ["{{ ansible_host }}"]}
"""


def test_node_identity_issues_only_what_the_class_may(openbao, layout, tmp_path):
    inv = write_inventory(tmp_path / "hosts.yml", openbao, CLUSTER, local=("etcd1", "w1"))
    book = playbook_file(tmp_path, "node.yml", NODE_BOOK % dict(dir=tmp_path))
    rc, out = run_playbook(openbao, inv, book, check=False)
    counts = recap(out)
    assert counts["etcd1"]["failed"] == 0 and counts["w1"]["failed"] == 1, out[-4000:]
    assert "permission denied writing to %s/v1/quorum/%s/etcd-pki/issue/peer" % (openbao.addr, CLUSTER) in out
    assert "Traceback" not in out
    peer = x509.load_pem_x509_certificate(load(tmp_path / "etcd1" / "peer.crt"))
    verify_chain(peer, x509.load_pem_x509_certificate(load(tmp_path / "etcd1" / "peer-ca.crt")))
    assert not (tmp_path / "w1" / "peer.crt").exists()


ETCD_BOOK = """
- name: The etcd role's certificates entry point, as playbooks/etcd.yml runs it
  hosts: etcd1
  gather_facts: false
  module_defaults:
    group/quorum.k8s.vault: "{{ lookup('quorum.k8s.vault_connection') }}"
  tasks:
    - name: The etcd user and the member's certificates
      ansible.builtin.include_role:
        name: quorum.k8s.etcd
        tasks_from: certificates
    - name: Report what was issued
      ansible.builtin.debug:
        msg: "ISSUED=[{{ vault_cert_issued | join(',') }}]"
"""


def test_etcd_certificates_entry_point(openbao, tmp_path):
    """Server, peer and client certificates at the role's file paths, the member's address in the SANs.

    The etcd user is the system's `daemon` (home /usr/sbin, nologin: the user task changes nothing),
    and Vault's environment is empty: the connection comes from quorum_vault_* (module_defaults).
    """
    cluster = "etcdcerts"
    bootstrap.run(client_for(openbao), dict(
        prefix="quorum", cluster=cluster, hosts=[{"name": "etcd1", "classes": ["etcd"]}],
        pki_roles=[{"mount": "etcd-pki", "name": name, "server": name != "client", "client": True}
                   for name in ("server", "peer", "client")]))
    before = open("/etc/passwd").read()
    pki = tmp_path / "pki"
    inv = write_inventory(tmp_path / "hosts.yml", openbao, cluster, local=("etcd1",), extra_vars={
        "etcd_user": "daemon", "etcd_data_dir": "/usr/sbin", "etcd_pki_dir": str(pki),
        "etcd_peer_cert_file": str(tmp_path / "peer" / "member.crt"),
        "etcd_peer_key_file": str(tmp_path / "peer" / "member.key")})
    env = {"VAULT_ADDR": "", "VAULT_CACERT": "", "VAULT_TOKEN": ""}
    book = playbook_file(tmp_path, "etcd.yml", ETCD_BOOK)
    rc, out = run_playbook(openbao, inv, book, "-e", "quorum_vault_token=%s" % openbao.root_token, env=env)
    assert "ISSUED=[server,peer,client]" in out
    assert open("/etc/passwd").read() == before
    ca = x509.load_pem_x509_certificate(load(pki / "ca.crt"))
    for crt, key in ((pki / "server.crt", pki / "server.key"), (tmp_path / "peer" / "member.crt", tmp_path / "peer" / "member.key"),
                     (pki / "client.crt", pki / "client.key")):
        cert = x509.load_pem_x509_certificate(load(crt))
        verify_chain(cert, ca)
        assert os.stat(key).st_uid == 1 and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    for crt in (pki / "server.crt", tmp_path / "peer" / "member.crt"):
        san = x509.load_pem_x509_certificate(load(crt)).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sorted(san.get_values_for_type(x509.DNSName)) == ["etcd1", "localhost"]
        assert sorted(map(str, san.get_values_for_type(x509.IPAddress))) == ["10.1.0.4", "127.0.0.1"]

    rc, out = run_playbook(openbao, inv, book, "-e", "quorum_vault_token=%s" % openbao.root_token, env=env)
    assert "ISSUED=[]" in out and recap(out)["etcd1"]["changed"] == 0, out[-4000:]
