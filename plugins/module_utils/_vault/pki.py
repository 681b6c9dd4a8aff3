# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node certificates from a Vault PKI mount: decide whether to (re-)issue, and issue."""

from __future__ import annotations

import datetime
import ipaddress
import traceback

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError, VaultDependencyError

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True


def _norm_ips(ips):
    out = set()
    for ip in ips or []:
        try:
            out.add(str(ipaddress.ip_address(str(ip).strip())))
        except ValueError:
            raise VaultConfigError("ip_sans entry %r is not an IP address" % (ip,))
    return out


def describe(pem):
    """Names and validity of a PEM certificate: dict(common_name, dns, ips, not_after, issuer)."""
    if not HAS_CRYPTOGRAPHY:
        raise VaultDependencyError("cryptography", CRYPTOGRAPHY_IMPORT_ERROR)
    cert = x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = set(san.get_values_for_type(x509.DNSName))
        ips = set(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = set(), set()
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return dict(common_name=cns[0].value if cns else "", dns=dns, ips=ips, not_after=not_after,
                issuer=cert.issuer.rfc4514_string())


def reissue_reason(current_pem, common_name, alt_names=None, ip_sans=None, renew_before=0, now=None,
                   issuer_pem=None):
    """Why the certificate must be (re-)issued, or None when the current one is fine.

    DNS names compared are the common name (Vault adds it to the SANs) plus alt_names.
    """
    if not current_pem or not current_pem.strip():
        return "missing"
    try:
        cur = describe(current_pem)
    except ValueError:
        return "unreadable"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if cur["common_name"] != common_name:
        return "common name %s, wanted %s" % (cur["common_name"], common_name)
    want_dns = set(alt_names or [])
    if _looks_like_hostname(common_name):
        want_dns.add(common_name)
    if cur["dns"] != want_dns:
        return "DNS names changed"
    if cur["ips"] != _norm_ips(ip_sans):
        return "IP addresses changed"
    left = (cur["not_after"] - now).total_seconds()
    if left <= renew_before:
        return "expires in %d seconds (renew_before %d)" % (max(left, 0), renew_before)
    if issuer_pem and cur["issuer"] != subject(issuer_pem):
        return "issued by another CA"
    return None


def subject(pem):
    """RFC 4514 subject of a PEM certificate."""
    if not HAS_CRYPTOGRAPHY:
        raise VaultDependencyError("cryptography", CRYPTOGRAPHY_IMPORT_ERROR)
    return x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem).subject.rfc4514_string()


def _looks_like_hostname(name):
    if not name or " " in name or ":" in name:
        return False
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        return True


def issue(client, mount, role, common_name, alt_names=None, ip_sans=None, ttl=None):
    """Issue a certificate (the private key is generated inside Vault and returned once)."""
    data = {"common_name": common_name, "format": "pem"}
    if alt_names:
        data["alt_names"] = ",".join(alt_names)
    if ip_sans:
        data["ip_sans"] = ",".join(str(ip) for ip in ip_sans)
    if ttl:
        data["ttl"] = str(ttl)
    answer = client.write("%s/issue/%s" % (mount.strip("/"), role), data)["data"]
    chain = answer.get("ca_chain") or [answer["issuing_ca"]]
    return dict(certificate=answer["certificate"], private_key=answer["private_key"],
                issuing_ca=answer["issuing_ca"], ca_chain=chain, serial_number=answer.get("serial_number"),
                expiration=answer.get("expiration"))
