# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The discovery CA hash kubeadm join expects, without any third-party library.

kubeadm pins the cluster CA by ``sha256:<hex>`` of the DER-encoded
SubjectPublicKeyInfo of the CA certificate.  A few lines of DER walking reach that
field (module_utils._x509), so nodes need neither python3-cryptography nor openssl.
"""

from __future__ import annotations

import hashlib

from ansible_collections.quorum.k8s.plugins.module_utils import _x509
from .errors import ParseError


def pem_certificates(text):
    """DER bytes of every certificate in a PEM text, in order."""
    try:
        return _x509.pem_certificates(text)
    except _x509.X509Error as exc:
        raise ParseError(str(exc))


def spki_der(cert_der):
    """The DER SubjectPublicKeyInfo (header included) of a DER X.509 certificate."""
    try:
        return _x509.spki_der(cert_der)
    except _x509.X509Error as exc:
        raise ParseError(str(exc))


def discovery_hash(pem_text):
    """``sha256:<hex>`` of the first certificate's public key, as kubeadm join wants."""
    der = pem_certificates(pem_text)[0]
    return "sha256:" + hashlib.sha256(spki_der(der)).hexdigest()
