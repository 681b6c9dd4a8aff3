# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generators of secret values; all randomness comes from the operating system (secrets module)."""

from __future__ import annotations

import base64
import secrets
import string
import traceback

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError, VaultDependencyError

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True

TYPES = ("random", "bootstrap_token", "base64_key", "rsa", "ecdsa")
KEY_PAIR_TYPES = ("rsa", "ecdsa")
DEFAULT_ALPHABET = string.ascii_letters + string.digits
TOKEN_ALPHABET = string.ascii_lowercase + string.digits
CURVES = ("secp256r1", "secp384r1", "secp521r1")

GENERATE_ARGUMENT_SPEC = dict(
    type=dict(type="str", required=True, choices=list(TYPES)),
    length=dict(type="int", default=32),
    alphabet=dict(type="str", default=DEFAULT_ALPHABET, no_log=False),
    bits=dict(type="int", default=2048),
    curve=dict(type="str", default="secp256r1", choices=list(CURVES)),
)


def _random_string(length, alphabet):
    return "".join(secrets.choice(alphabet) for dummy in range(length))


def generate(spec):
    """Return the data dict to store in KV for a generate spec (dict with 'type' and options)."""
    kind = spec.get("type")
    if kind == "random":
        length = int(32 if spec.get("length") is None else spec["length"])
        alphabet = spec.get("alphabet") or DEFAULT_ALPHABET
        if length < 1:
            raise VaultConfigError("generate.length must be at least 1, got %d" % length)
        if len(set(alphabet)) < 2:
            raise VaultConfigError("generate.alphabet must hold at least two different characters")
        return {"value": _random_string(length, "".join(sorted(set(alphabet))))}
    if kind == "bootstrap_token":
        # kubeadm's format: [a-z0-9]{6}.[a-z0-9]{16}
        return {"value": "%s.%s" % (_random_string(6, TOKEN_ALPHABET), _random_string(16, TOKEN_ALPHABET))}
    if kind == "base64_key":
        # 32 random bytes, as the Kubernetes encryption-at-rest providers (aescbc, secretbox) expect
        return {"value": base64.b64encode(secrets.token_bytes(32)).decode("ascii")}
    if kind in KEY_PAIR_TYPES:
        if not HAS_CRYPTOGRAPHY:
            raise VaultDependencyError("cryptography", CRYPTOGRAPHY_IMPORT_ERROR)
        if kind == "rsa":
            bits = int(spec.get("bits") or 2048)
            if bits < 2048:
                raise VaultConfigError("generate.bits must be at least 2048 for RSA, got %d" % bits)
            key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        else:
            curve = spec.get("curve") or "secp256r1"
            curves = {"secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1}
            if curve not in curves:
                raise VaultConfigError("generate.curve must be one of %s, got %r" % (", ".join(CURVES), curve))
            key = ec.generate_private_key(curves[curve]())
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return {"private_key": private_pem.decode("ascii"), "public_key": public_pem.decode("ascii")}
    raise VaultConfigError("generate.type must be one of %s, got %r" % (", ".join(TYPES), kind))
