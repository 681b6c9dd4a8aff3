# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The discovery CA hash kubeadm join expects, without any third-party library.

kubeadm pins the cluster CA by ``sha256:<hex>`` of the DER-encoded
SubjectPublicKeyInfo of the CA certificate.  A few lines of DER walking reach that
field, so nodes need neither python3-cryptography nor openssl.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from .errors import ParseError

_PEM_RE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)
_SEQUENCE = 0x30
_CONTEXT_0 = 0xA0


def pem_certificates(text):
    """DER bytes of every certificate in a PEM text, in order."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    out = []
    for body in _PEM_RE.findall(text):
        try:
            out.append(base64.b64decode("".join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            raise ParseError("a PEM certificate block is not valid base64")
    if not out:
        raise ParseError("no PEM certificate found")
    return out


def _read_tlv(data, pos):
    """Return (tag, content_start, content_end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ParseError("truncated DER element")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ParseError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ParseError("DER element runs past the end")
    return tag, pos, end


def spki_der(cert_der):
    """The DER SubjectPublicKeyInfo (header included) of a DER X.509 certificate."""
    tag, start, end = _read_tlv(cert_der, 0)
    if tag != _SEQUENCE:
        raise ParseError("not a DER certificate")
    tag, pos, tbs_end = _read_tlv(cert_der, start)
    if tag != _SEQUENCE:
        raise ParseError("certificate has no tbsCertificate")
    tag, dummy, field_end = _read_tlv(cert_der, pos)
    if tag == _CONTEXT_0:  # explicit version
        pos = field_end
    # serialNumber, signature, issuer, validity, subject
    for dummy in range(5):
        tag, dummy, field_end = _read_tlv(cert_der, pos)
        pos = field_end
    tag, dummy, field_end = _read_tlv(cert_der, pos)
    if tag != _SEQUENCE or field_end > tbs_end:
        raise ParseError("certificate has no subjectPublicKeyInfo")
    return bytes(cert_der[pos:field_end])


def discovery_hash(pem_text):
    """``sha256:<hex>`` of the first certificate's public key, as kubeadm join wants."""
    der = pem_certificates(pem_text)[0]
    return "sha256:" + hashlib.sha256(spki_der(der)).hexdigest()
