from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError
from ansible_collections.quorum.k8s.plugins.module_utils._vault.generate import generate


def test_random_respects_length_and_alphabet():
    value = generate({"type": "random", "length": 50, "alphabet": "ab"})["value"]
    assert re.fullmatch(r"[ab]{50}", value)


def test_random_values_differ():
    assert generate({"type": "random"})["value"] != generate({"type": "random"})["value"]


def test_bootstrap_token_format():
    for dummy in range(20):
        assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", generate({"type": "bootstrap_token"})["value"])


def test_base64_key_is_32_bytes():
    assert len(base64.b64decode(generate({"type": "base64_key"})["value"])) == 32


def test_rsa_pair_matches():
    pair = generate({"type": "rsa", "bits": 2048})
    private = serialization.load_pem_private_key(pair["private_key"].encode(), None)
    public = serialization.load_pem_public_key(pair["public_key"].encode())
    assert private.key_size == 2048 and public.public_numbers() == private.public_key().public_numbers()


def test_ecdsa_curve():
    pair = generate({"type": "ecdsa", "curve": "secp384r1"})
    assert serialization.load_pem_private_key(pair["private_key"].encode(), None).curve.name == "secp384r1"


@pytest.mark.parametrize("spec", [
    {"type": "random", "length": 0},
    {"type": "random", "alphabet": "aaaa"},
    {"type": "rsa", "bits": 1024},
    {"type": "ecdsa", "curve": "p999"},
    {"type": "nope"},
])
def test_bad_specs_are_config_errors(spec):
    with pytest.raises(VaultConfigError):
        generate(spec)
