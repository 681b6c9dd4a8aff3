from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.cahash import (
    discovery_hash, pem_certificates, spki_der)
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import ParseError

from kubeadm_testlib import make_ca


def expected_hash(cert):
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_hash_matches_cryptography(key_type):
    cert = make_ca(key_type)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    assert discovery_hash(pem) == expected_hash(cert)


def test_first_certificate_of_a_bundle_counts(ca_cert, ca_pem):
    other = make_ca("ec").public_bytes(serialization.Encoding.PEM).decode()
    assert discovery_hash(ca_pem + other) == expected_hash(ca_cert)
    assert len(pem_certificates(ca_pem + other)) == 2


def test_bytes_input(ca_cert, ca_pem):
    assert discovery_hash(ca_pem.encode()) == expected_hash(ca_cert)


def test_spki_is_a_sequence(ca_cert):
    der = ca_cert.public_bytes(serialization.Encoding.DER)
    assert spki_der(der)[0] == 0x30


@pytest.mark.parametrize("text", ["", "hello", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"])
def test_garbage_is_rejected(text):
    with pytest.raises(ParseError):
        discovery_hash(text)


def test_truncated_der_is_rejected(ca_cert):
    der = ca_cert.public_bytes(serialization.Encoding.DER)
    with pytest.raises(ParseError):
        spki_der(der[:40])
