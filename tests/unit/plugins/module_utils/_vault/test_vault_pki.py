from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.quorum.k8s.plugins.module_utils._vault.pki import issue, reissue_reason

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def make_cert(cn="etcd1", dns=("etcd1",), ips=("10.0.0.1",), days=365, issuer="CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_fine_certificate_is_kept():
    assert reissue_reason(make_cert(), "etcd1", [], ["10.0.0.1"], 30 * 86400, now=NOW) is None


def test_reasons():
    cert = make_cert()
    assert reissue_reason("", "etcd1", now=NOW) == "missing"
    assert reissue_reason("garbage", "etcd1", now=NOW) == "unreadable"
    assert "common name" in reissue_reason(cert, "etcd2", [], ["10.0.0.1"], now=NOW)
    assert reissue_reason(cert, "etcd1", ["etcd1.example"], ["10.0.0.1"], now=NOW) == "DNS names changed"
    assert reissue_reason(cert, "etcd1", [], ["10.0.0.2"], now=NOW) == "IP addresses changed"
    assert "expires" in reissue_reason(make_cert(days=10), "etcd1", [], ["10.0.0.1"], 30 * 86400, now=NOW)


def test_ip_addresses_are_compared_normalised():
    cert = make_cert(ips=("fd00::1",))
    assert reissue_reason(cert, "etcd1", [], ["fd00:0:0::1"], now=NOW) is None


def test_other_issuer_reissues():
    ca = make_cert(cn="Other CA", dns=(), ips=())
    assert reissue_reason(make_cert(), "etcd1", [], ["10.0.0.1"], now=NOW, issuer_pem=ca) == "issued by another CA"


def test_issue_sends_names_and_returns_chain():
    class Client(object):
        def write(self, path, data):
            self.call = (path, data)
            return {"data": {"certificate": "C", "private_key": "K", "issuing_ca": "I", "ca_chain": ["I", "R"],
                             "serial_number": "01", "expiration": 1}}
    client = Client()
    cert = issue(client, "quorum/c/etcd-pki", "peer", "etcd1", ["a", "b"], ["10.0.0.1"], "24h")
    expected = {"common_name": "etcd1", "format": "pem", "alt_names": "a,b", "ip_sans": "10.0.0.1", "ttl": "24h"}
    assert client.call == ("quorum/c/etcd-pki/issue/peer", expected)
    assert cert["ca_chain"] == ["I", "R"] and cert["private_key"] == "K"
