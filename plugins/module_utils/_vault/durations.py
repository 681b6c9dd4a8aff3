# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations as Vault writes them ("8760h", "15m", "30d", "1h30m", 3600) to seconds."""

from __future__ import annotations

import re

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")


def seconds(value, what="duration"):
    """Seconds of a duration given as int, digits, or Go-style units with d for days."""
    if isinstance(value, bool):
        raise VaultConfigError("%s must be a duration such as 15m or 8760h, got %r" % (what, value))
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    total, pos = 0, 0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise VaultConfigError("%s must be a duration such as 15m, 8760h or 30d, got %r" % (what, value))
    return total
