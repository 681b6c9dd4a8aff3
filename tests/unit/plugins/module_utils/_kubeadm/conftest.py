"""Fixtures shared by the kubeadm helper tests."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from kubeadm_testlib import make_ca


@pytest.fixture(scope="session")
def ca_cert():
    return make_ca("rsa")


@pytest.fixture(scope="session")
def ca_pem(ca_cert):
    return ca_cert.public_bytes(serialization.Encoding.PEM).decode()
