# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Just enough X.509 reading for nodes without python3-cryptography or openssl.

A few lines of DER walking reach the fields the collection needs from a certificate (the
validity, the subject and issuer common names, the SubjectPublicKeyInfo) and from a certificate
signing request (the subject's common name and organisations, the requested alternative names).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re

_PEM_RE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)
_PEM_CSR_RE = re.compile(
    r"-----BEGIN CERTIFICATE REQUEST-----\s*(.+?)\s*-----END CERTIFICATE REQUEST-----", re.DOTALL
)
_SEQUENCE = 0x30
_SET = 0x31
_OID = 0x06
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_CONTEXT_0 = 0xA0
_OCTET_STRING = 0x04
_COMMON_NAME = bytes([0x55, 0x04, 0x03])  # 2.5.4.3
_ORGANIZATION = bytes([0x55, 0x04, 0x0A])  # 2.5.4.10
_EXTENSION_REQUEST = bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E])  # 1.2.840.113549.1.9.14
_SUBJECT_ALT_NAME = bytes([0x55, 0x1D, 0x11])  # 2.5.29.17
_DNS_NAME = 0x82  # GeneralName [2] IMPLICIT IA5String
_IP_ADDRESS = 0x87  # GeneralName [7] IMPLICIT OCTET STRING


class X509Error(ValueError):
    """A certificate (or its PEM wrapping) could not be read."""


def pem_certificates(text):
    """DER bytes of every certificate in a PEM text, in order."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    out = []
    for body in _PEM_RE.findall(text):
        try:
            out.append(base64.b64decode("".join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            raise X509Error("a PEM certificate block is not valid base64")
    if not out:
        raise X509Error("no PEM certificate found")
    return out


def _read_tlv(data, pos):
    """Return (tag, content_start, content_end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise X509Error("truncated DER element")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise X509Error("unsupported DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise X509Error("DER element runs past the end")
    return tag, pos, end


def _signed_part(der, kind, part):
    """(start, end) of the contents of the signed part (a SEQUENCE) of a signed DER object."""
    tag, start, dummy = _read_tlv(der, 0)
    if tag != _SEQUENCE:
        raise X509Error("not a DER %s" % kind)
    tag, pos, end = _read_tlv(der, start)
    if tag != _SEQUENCE:
        raise X509Error("%s has no %s" % (kind, part))
    return pos, end


def _tbs_fields(cert_der):
    """(start, end) of serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo."""
    pos, tbs_end = _signed_part(cert_der, "certificate", "tbsCertificate")
    tag, dummy, field_end = _read_tlv(cert_der, pos)
    if tag == _CONTEXT_0:  # explicit version
        pos = field_end
    fields = []
    for dummy in range(6):
        if pos >= tbs_end:
            raise X509Error("certificate ends before its subjectPublicKeyInfo")
        tag, dummy, field_end = _read_tlv(cert_der, pos)
        fields.append((pos, field_end))
        pos = field_end
    return fields


def spki_der(cert_der):
    """The DER SubjectPublicKeyInfo (header included) of a DER X.509 certificate."""
    start, end = _tbs_fields(cert_der)[5]
    if cert_der[start] != _SEQUENCE:
        raise X509Error("certificate has no subjectPublicKeyInfo")
    return bytes(cert_der[start:end])


def _time(der, pos):
    tag, start, end = _read_tlv(der, pos)
    text = bytes(der[start:end]).decode("ascii", "replace")
    formats = {_UTC_TIME: "%y%m%d%H%M%SZ", _GENERALIZED_TIME: "%Y%m%d%H%M%SZ"}
    if tag not in formats:
        raise X509Error("validity holds no time")
    try:
        parsed = datetime.datetime.strptime(text, formats[tag])
    except ValueError:
        raise X509Error("not an X.509 time: %r" % text)
    return parsed.replace(tzinfo=datetime.timezone.utc), end


def _name_values(der, start, oid):
    """Every value of attribute ``oid`` in the Name (a SEQUENCE of SETs of SEQUENCE {OID, value}) at ``start``."""
    dummy, pos, name_end = _read_tlv(der, start)
    values = []
    while pos < name_end:
        dummy, rdn_pos, rdn_end = _read_tlv(der, pos)
        while rdn_pos < rdn_end:
            dummy, atv_pos, atv_end = _read_tlv(der, rdn_pos)
            oid_tag, oid_start, oid_end = _read_tlv(der, atv_pos)
            if oid_tag == _OID and bytes(der[oid_start:oid_end]) == oid:
                dummy, value_start, value_end = _read_tlv(der, oid_end)
                values.append(bytes(der[value_start:value_end]).decode("utf-8", "replace"))
            rdn_pos = atv_end
        pos = rdn_end
    return values


def _common_name(der, start, end):
    """The first common name of a Name, or ''."""
    names = _name_values(der, start, _COMMON_NAME)
    return names[0] if names else ""


def certificate_summary(cert_der):
    """dict(subject, issuer, not_before, not_after) of a DER certificate (times aware, UTC)."""
    fields = _tbs_fields(cert_der)
    dummy, validity_start, dummy2 = _read_tlv(cert_der, fields[3][0])
    not_before, pos = _time(cert_der, validity_start)
    not_after, dummy = _time(cert_der, pos)
    return {
        "subject": _common_name(cert_der, *fields[4]),
        "issuer": _common_name(cert_der, *fields[2]),
        "not_before": not_before,
        "not_after": not_after,
    }


def pem_csr(text):
    """DER bytes of the PEM certificate request in ``text``."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    match = _PEM_CSR_RE.search(text)
    if not match:
        raise X509Error("no PEM certificate request found")
    try:
        return base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise X509Error("the PEM certificate request is not valid base64")


def _alt_names(der, start, end):
    """(dns_names, ip_addresses) of a GeneralNames SEQUENCE; other kinds of names are returned as 'other'."""
    dns, ips, other = [], [], 0
    tag, pos, names_end = _read_tlv(der, start)
    if tag != _SEQUENCE:
        raise X509Error("subjectAltName is not a sequence")
    while pos < names_end:
        tag, value_start, value_end = _read_tlv(der, pos)
        value = bytes(der[value_start:value_end])
        if tag == _DNS_NAME:
            dns.append(value.decode("ascii", "replace"))
        elif tag == _IP_ADDRESS and len(value) in (4, 16):
            ips.append(str(ipaddress.ip_address(value)))
        else:
            other += 1
        pos = value_end
    return dns, ips, other


def csr_summary(csr_der):
    """dict(common_name, organizations, dns_names, ip_addresses, other_names) of a DER PKCS#10 request.

    other_names counts alternative names that are neither DNS names nor IP addresses (e-mail, URI...).
    The signature is not checked: the Kubernetes API server refuses a request whose signature is wrong.
    """
    pos, info_end = _signed_part(csr_der, "certificate request", "certificationRequestInfo")
    dummy, dummy2, pos = _read_tlv(csr_der, pos)  # version
    subject = pos
    dummy, dummy2, pos = _read_tlv(csr_der, pos)  # subject
    dummy, dummy2, pos = _read_tlv(csr_der, pos)  # subjectPKInfo
    out = {
        "common_name": _common_name(csr_der, subject, pos),
        "organizations": _name_values(csr_der, subject, _ORGANIZATION),
        "dns_names": [],
        "ip_addresses": [],
        "other_names": 0,
    }
    if pos >= info_end:
        return out
    tag, attr_pos, attrs_end = _read_tlv(csr_der, pos)
    if tag != _CONTEXT_0:
        raise X509Error("certificate request attributes missing")
    while attr_pos < attrs_end:
        dummy, a_pos, a_end = _read_tlv(csr_der, attr_pos)
        oid_tag, oid_start, oid_end = _read_tlv(csr_der, a_pos)
        if oid_tag == _OID and bytes(csr_der[oid_start:oid_end]) == _EXTENSION_REQUEST:
            dummy, set_pos, dummy2 = _read_tlv(csr_der, oid_end)  # SET OF
            dummy, ext_pos, exts_end = _read_tlv(csr_der, set_pos)  # Extensions SEQUENCE
            while ext_pos < exts_end:
                dummy, f_pos, ext_end = _read_tlv(csr_der, ext_pos)
                oid_tag, oid_start, f_pos = _read_tlv(csr_der, f_pos)
                ext_oid = bytes(csr_der[oid_start:f_pos])
                tag, v_start, v_end = _read_tlv(csr_der, f_pos)
                if tag != _OCTET_STRING:  # the optional critical flag comes first
                    tag, v_start, v_end = _read_tlv(csr_der, v_end)
                if ext_oid == _SUBJECT_ALT_NAME:
                    dns, ips, other = _alt_names(csr_der, v_start, v_end)
                    out["dns_names"] += dns
                    out["ip_addresses"] += ips
                    out["other_names"] += other
                ext_pos = ext_end
        attr_pos = a_end
    return out
