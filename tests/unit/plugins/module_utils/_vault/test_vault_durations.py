from __future__ import annotations

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._vault.durations import seconds
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError


@pytest.mark.parametrize("text,expected", [
    ("15m", 900), ("8760h", 31536000), ("30d", 2592000), ("1h30m", 5400), ("45", 45), (60, 60), ("10s", 10)])
def test_seconds(text, expected):
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["", "h", "1x", "1h 30m", "m15", True])
def test_bad_durations(text):
    with pytest.raises(VaultConfigError):
        seconds(text)
