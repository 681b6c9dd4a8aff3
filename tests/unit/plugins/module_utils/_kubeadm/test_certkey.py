from __future__ import annotations

import base64
import os

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.certkey import key_opens_secret
from kubeadm_testlib import encrypted_secret


def test_right_key_opens():
    key = os.urandom(32).hex()
    assert key_opens_secret(encrypted_secret(key), key) is True


def test_wrong_key_does_not():
    key = os.urandom(32).hex()
    assert key_opens_secret(encrypted_secret(key), os.urandom(32).hex()) is False


def test_unknown_without_entries():
    assert key_opens_secret({"data": {}}, "00" * 32) is None
    assert key_opens_secret(None, "00" * 32) is None


def test_short_blob_is_a_mismatch():
    secret = {"data": {"ca.crt": base64.b64encode(b"short").decode()}}
    assert key_opens_secret(secret, "00" * 32) is False
