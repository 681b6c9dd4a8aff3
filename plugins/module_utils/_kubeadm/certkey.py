# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a certificate key open the kubeadm-certs secret?

kubeadm encrypts each entry of kube-system/kubeadm-certs with AES-256-GCM under
the hex-decoded certificate key, the 12-byte nonce in front of the ciphertext.
Checking one entry tells whether the key we hold is the one the secret was made
with.  python3-cryptography is optional on nodes: without it the check answers
None (unknown) and callers trust the secret.
"""

from __future__ import annotations

import base64
import binascii

from .errors import ParseError

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - depends on the node
    HAS_CRYPTOGRAPHY = False

NONCE_SIZE = 12
PROBE_ENTRIES = ("ca.crt", "front-proxy-ca.crt", "etcd-ca.crt", "sa.pub")


def key_opens_secret(certs_secret, certificate_key):
    """True/False when the key does/does not decrypt the secret; None when unknown."""
    if not HAS_CRYPTOGRAPHY or not certs_secret:
        return None
    data = certs_secret.get("data") or {}
    entry = next((data[name] for name in PROBE_ENTRIES if data.get(name)), None)
    if entry is None:
        return None
    try:
        blob = base64.b64decode(entry, validate=True)
        key = binascii.unhexlify(certificate_key)
    except (binascii.Error, ValueError):
        raise ParseError("kubeadm-certs entry or certificate key is not valid encoding")
    if len(blob) <= NONCE_SIZE or len(key) != 32:
        return False
    try:
        AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], None)
    except InvalidTag:
        return False
    return True
