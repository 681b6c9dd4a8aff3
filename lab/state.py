"""The state file of a lab instance ($QUORUM_LAB_HOME/run/<instance>/state.json): its topology,
backend and accelerator, and the PID of every node, the mirror server and OpenBao."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

from lab import config
from lab.util import file_lock, read_json
from mirror_builder.common import write_atomic


def load(paths: config.Paths) -> dict[str, Any] | None:
    data = read_json(paths.state_file)
    return data if isinstance(data, dict) else None


def save(paths: config.Paths, state: dict[str, Any]) -> None:
    write_atomic(paths.state_file, json.dumps(state, indent=2) + "\n")


@contextlib.contextmanager
def locked(paths: config.Paths) -> Iterator[None]:
    """For a read-modify-write of the state file: `lab kill` and `lab start` at once must not lose a PID."""
    with file_lock(paths.run / ".state.lock", f"the state of lab {paths.instance!r}"):
        yield


def vm_entry(state: dict[str, Any] | None, name: str, paths: config.Paths) -> dict[str, Any]:
    """The state file's record of node ``name``, or a LabError naming the nodes there are."""
    if not state:
        raise config.LabError(f"lab instance {paths.instance!r} is not up (no state file at {paths.state_file})")
    vms = state.get("vms") or {}
    if name not in vms:
        raise config.LabError(f"no VM {name!r} in lab {paths.instance!r}: {', '.join(vms) or 'none'}")
    return vms[name]


def recorded_pids(state: dict[str, Any] | None) -> list[int]:
    if not state:
        return []
    pids = [vm.get("pid") for vm in state.get("vms", {}).values()]
    pids += [state.get("mirror_pid"), state.get("vault_pid")]
    return [int(p) for p in pids if p]
