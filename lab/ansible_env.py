"""How the lab runs Ansible: Mitogen's strategy unless QUORUM_LAB_MITOGEN=0.

Measured on one idle software-emulated guest: a task costs about 4 s with the stock
strategy (a new Python per task compiles Ansible's module_utils from the AnsiballZ zip),
about 0.1 s with Mitogen (one Python per host that keeps its imports). Playbooks and
roles do not depend on it: ansible.cfg keeps the stock strategy for operators.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def mitogen_strategy_dir() -> Path | None:
    """ansible_mitogen's strategy plugins in this Python's environment, or None."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "plugins" / "strategy"
    return path if path.is_dir() else None


def ansible_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Variables to add to Ansible's environment for lab runs."""
    environ = os.environ if environ is None else environ
    if environ.get("QUORUM_LAB_MITOGEN", "1") == "0" or environ.get("ANSIBLE_STRATEGY"):
        return {}
    strategy_dir = mitogen_strategy_dir()
    if strategy_dir is None:
        return {}
    return {"ANSIBLE_STRATEGY_PLUGINS": str(strategy_dir), "ANSIBLE_STRATEGY": "mitogen_linear"}
