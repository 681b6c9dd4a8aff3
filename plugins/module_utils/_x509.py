# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Just enough X.509 reading for nodes without python3-cryptography or openssl.

A few lines of DER walking reach the fields the collection needs from a certificate:
the validity, the subject and issuer common names, and the SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re

_PEM_RE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)
_SEQUENCE = 0x30
_SET = 0x31
_OID = 0x06
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_CONTEXT_0 = 0xA0
_COMMON_NAME = bytes([0x55, 0x04, 0x03])  # 2.5.4.3


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


def _tbs_fields(cert_der):
    """(start, end) of serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo."""
    tag, start, dummy = _read_tlv(cert_der, 0)
    if tag != _SEQUENCE:
        raise X509Error("not a DER certificate")
    tag, pos, tbs_end = _read_tlv(cert_der, start)
    if tag != _SEQUENCE:
        raise X509Error("certificate has no tbsCertificate")
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


def _common_name(der, start, end):
    """The first common name of a Name (a SEQUENCE of SETs of SEQUENCE {OID, value}), or ''."""
    tag, pos, name_end = _read_tlv(der, start)
    while pos < name_end:
        dummy, rdn_pos, rdn_end = _read_tlv(der, pos)
        while rdn_pos < rdn_end:
            dummy, atv_pos, atv_end = _read_tlv(der, rdn_pos)
            oid_tag, oid_start, oid_end = _read_tlv(der, atv_pos)
            if oid_tag == _OID and bytes(der[oid_start:oid_end]) == _COMMON_NAME:
                dummy, value_start, value_end = _read_tlv(der, oid_end)
                return bytes(der[value_start:value_end]).decode("utf-8", "replace")
            rdn_pos = atv_end
        pos = rdn_end
    return ""


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
