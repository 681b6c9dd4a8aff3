"""module_utils._x509 and _certfiles against certificates made with cryptography."""
from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.quorum.k8s.plugins.module_utils import _certfiles, _x509

NOW = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.timezone.utc)


def make_cert(subject="kube-apiserver", issuer="kubernetes", not_after=NOW + datetime.timedelta(days=10),
              not_before=NOW - datetime.timedelta(days=1), extra_attrs=()):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(list(extra_attrs) + [x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    cert = (x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_summary_reads_names_and_validity():
    pem = make_cert(extra_attrs=[x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")])
    summary = _x509.certificate_summary(_x509.pem_certificates(pem)[0])
    assert summary["subject"] == "kube-apiserver"
    assert summary["issuer"] == "kubernetes"
    assert summary["not_after"] == NOW + datetime.timedelta(days=10)
    assert summary["not_before"] == NOW - datetime.timedelta(days=1)


def test_generalized_time_after_2049():
    far = datetime.datetime(2060, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    summary = _x509.certificate_summary(_x509.pem_certificates(make_cert(not_after=far))[0])
    assert summary["not_after"] == far


def test_not_a_certificate():
    with pytest.raises(_x509.X509Error, match="no PEM certificate"):
        _x509.pem_certificates("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(_x509.X509Error):
        _x509.certificate_summary(b"\x30\x03\x02\x01\x01")


def test_scan_files_and_kubeconfigs(tmp_path):
    (tmp_path / "apiserver.crt").write_text(make_cert(not_after=NOW + datetime.timedelta(days=2)))
    (tmp_path / "ca.crt").write_text(make_cert("kubernetes", not_after=NOW + datetime.timedelta(days=3650)))
    client = make_cert("kubernetes-admin")
    (tmp_path / "admin.conf").write_text(
        "apiVersion: v1\nusers:\n- name: kubernetes-admin\n  user:\n"
        "    client-certificate-data: %s\n    client-key-data: c2VjcmV0\n"
        % base64.b64encode(client.encode()).decode())
    (tmp_path / "broken.crt").write_text("not a certificate\n")
    (tmp_path / "kubelet.conf").write_text(
        "apiVersion: v1\nkind: Config\nusers:\n- name: default-auth\n  user:\n"
        "    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n")
    certs, unreadable = _certfiles.scan([str(tmp_path / "*.crt"), str(tmp_path / "*.conf"),
                                         str(tmp_path / "missing-*.pem")], NOW)
    assert [c["subject"] for c in certs] == ["kube-apiserver", "kubernetes-admin", "kubernetes"]
    assert certs[0]["days_left"] == 2.0 and certs[0]["source"] == "pem"
    assert certs[1]["source"] == "kubeconfig" and certs[1]["path"].endswith("admin.conf")
    assert certs[0]["not_after"] == (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [u["path"] for u in unreadable] == [str(tmp_path / "broken.crt")]


def test_expired_certificates_have_negative_time_left(tmp_path):
    (tmp_path / "old.crt").write_text(make_cert(not_after=NOW - datetime.timedelta(hours=12),
                                                not_before=NOW - datetime.timedelta(days=2)))
    certs, dummy = _certfiles.scan([str(tmp_path / "*.crt")], NOW)
    assert certs[0]["seconds_left"] == -12 * 3600
    assert certs[0]["days_left"] == -0.5


def make_csr(cn="system:node:w-1", orgs=("system:nodes",), dns=("w-1",), ips=("10.0.0.5",), emails=(), critical=False):
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    names = ([x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
             + [x509.RFC822Name(e) for e in emails])
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    builder = builder.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("critical", [False, True])
def test_csr_summary_reads_subject_and_alternative_names(critical):
    pem = make_csr(dns=("w-1", "w-1.example"), ips=("10.0.0.5", "fd00::5"), emails=("a@b.c",), critical=critical)
    summary = _x509.csr_summary(_x509.pem_csr(pem))
    assert summary == {"common_name": "system:node:w-1", "organizations": ["system:nodes"],
                       "dns_names": ["w-1", "w-1.example"], "ip_addresses": ["10.0.0.5", "fd00::5"], "other_names": 1}


def test_csr_summary_without_extensions_and_two_organisations():
    summary = _x509.csr_summary(_x509.pem_csr(make_csr(orgs=("system:nodes", "system:masters"), dns=(), ips=())))
    assert summary["organizations"] == ["system:nodes", "system:masters"]
    assert summary["dns_names"] == [] and summary["ip_addresses"] == []


def test_pem_csr_refuses_other_text():
    with pytest.raises(_x509.X509Error, match="no PEM certificate request"):
        _x509.pem_csr(make_cert())
    with pytest.raises(_x509.X509Error):
        _x509.csr_summary(b"\x02\x01\x00")
