"""The machine backends behind one interface: QEMU VMs (lab/qemu.py) and systemd-nspawn nodes
(lab/nspawn.py). Each module implements ``Backend``.

Chosen once: `lab up` takes the topology's (topology.backend: QUORUM_LAB_BACKEND, else the
topology's default) and records its name in the state file; `lab kill`, `start`, `status` and
`down` take it from there.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from lab import config, image, nspawn, qemu, topology


class Backend(Protocol):
    NAME: str  # in the state file and the inventory (lab_backend)
    LABEL: str  # what runs a node, in messages: "QEMU", "systemd-nspawn"
    UNIT: str  # what a node is, in messages: "VM", "node"
    TOOLS: tuple[str, ...]  # host commands it needs beyond the lab's own
    INVENTORY_VARS: dict[str, Any]  # the lab group's variables for such nodes

    def accel(self, paths: config.Paths, img: image.Image) -> str:
        """The accelerator its nodes run with ("kvm", "tcg", "native")."""

    def prepare(self, img: image.Image, state: dict[str, Any]) -> None:
        """Host-side setup before the first node boots (what it changes is noted in ``state``)."""

    def boot(self, paths: config.Paths, ns: str, node: topology.Node, img: image.Image, accel: str,
             pubkey: str) -> dict[str, Any]:
        """Start ``node`` from a fresh copy of the image; its record for the state file (pid, ip, ...)."""

    def owns(self, cmdline: list[str], paths: config.Paths, name: str | None = None) -> bool:
        """True for the process of a node of this instance (``name``: of that node)."""

    def power_cut_pid(self, pid: int) -> int | None:
        """The PID whose SIGKILL is a power cut of the node run by process ``pid``."""

    def relaunch(self, paths: config.Paths, state: dict[str, Any], node: topology.Node,
                 ns: str) -> Callable[[], dict[str, Any]]:
        """Check that ``node`` can boot again on its own disk (LabError if not); the function that
        boots it and returns the fields of its state record that change."""

    def memory_mib(self, paths: config.Paths, name: str, pid: int) -> int | None:
        """Memory the running node holds."""

    def clean_up(self, paths: config.Paths, state: dict[str, Any] | None) -> None:
        """Undo ``prepare`` and remove what its nodes leave on the host once their processes are gone."""


BACKENDS: dict[str, Backend] = {"qemu": qemu, "nspawn": nspawn}  # type: ignore[dict-item]


def for_topology(topo: str) -> Backend:
    return BACKENDS[topology.backend(topo)]


def of(state: dict[str, Any] | None) -> Backend:
    """The backend a running (or dead) lab was booted with."""
    return BACKENDS[(state or {}).get("backend") or "qemu"]


def owner(cmdline: list[str], paths: config.Paths) -> Backend | None:
    """The backend whose node process ``cmdline`` is, if any."""
    return next((b for b in BACKENDS.values() if b.owns(cmdline, paths)), None)
