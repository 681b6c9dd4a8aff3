"""Helpers for the kubeadm helper tests: a real CA made with cryptography, token secrets, kubeadm-certs."""
from __future__ import annotations

import base64
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

NOW = datetime.datetime(2026, 11, 22, 8, 0, 0, tzinfo=datetime.timezone.utc)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def token_secret(token_id, token_secret_value, expiration=None, usages=("authentication", "signing"),
                 groups="system:bootstrappers:kubeadm:default-node-token", description="d"):
    data = {"token-id": b64(token_id), "token-secret": b64(token_secret_value), "description": b64(description)}
    if expiration is not None:
        data["expiration"] = b64(expiration)
    for usage in usages:
        data["usage-bootstrap-" + usage] = b64("true")
    if groups:
        data["auth-extra-groups"] = b64(groups)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": "bootstrap-token-" + token_id, "namespace": "kube-system"},
        "data": data,
    }


def make_ca(key_type="rsa"):
    if key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert


def encrypted_secret(key_hex, payload=b"-----BEGIN CERTIFICATE-----"):
    """What kubeadm's cryptoutil.EncryptBytes stores: nonce || AES-GCM(ciphertext+tag)."""
    nonce = os.urandom(12)
    blob = nonce + AESGCM(bytes.fromhex(key_hex)).encrypt(nonce, payload, None)
    return {"data": {"ca.crt": base64.b64encode(blob).decode()}}
