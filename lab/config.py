"""Paths, addresses and sizes of the lab; everything overridable by environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from mirror_builder.common import pinned_kubernetes_version

# The lab network lives only inside the lab's own network namespace, so every
# instance can use the same addresses.
NODE_CIDR = "10.231.0.0/24"
GATEWAY = "10.231.0.1"  # the bridge: mirror and OpenBao listen here
NETMASK = "255.255.255.0"
PREFIXLEN = 24
API_VIP = "10.231.0.250"  # inside NODE_CIDR, never given to a host
MIRROR_PORT = 80
VAULT_PORT = 8200
MIRROR_URL = f"http://{GATEWAY}"
VAULT_ADDR = f"https://{GATEWAY}:{VAULT_PORT}"
BRIDGE = "qlbr0"
SUITE = "trixie"
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"
# When no mirror manifest says otherwise: the version the collection pins (plugins/module_utils/_defaults.py).
DEFAULT_KUBERNETES_VERSION = pinned_kubernetes_version()

INSTANCE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")


class LabError(Exception):
    """A fault the lab reports to the user as one clear message."""


@dataclass(frozen=True)
class Size:
    """Resources of one VM."""

    memory_mib: int
    cpus: int
    tb_size_mib: int


# Per-role defaults. Control planes need >= 2 GiB for kubeadm; the others are
# kept small because TCG guests are expensive. QUORUM_LAB_MEM_<ROLE>,
# QUORUM_LAB_CPUS_<ROLE> and QUORUM_LAB_TB_<ROLE> override them.
ROLE_SIZES: dict[str, Size] = {
    "frontend": Size(512, 1, 64),
    "backend": Size(512, 1, 64),
    "etcd": Size(768, 1, 128),
    "control_plane": Size(2048, 2, 256),
    "worker": Size(1536, 1, 256),
    "meta_worker": Size(1536, 1, 256),
    "node": Size(512, 1, 64),
}


def role_size(role: str, env: dict[str, str] | None = None) -> Size:
    """Size of a VM of ``role``, with environment overrides applied."""
    env = os.environ if env is None else env
    base = ROLE_SIZES[role]
    key = role.upper()

    def pick(name: str, default: int) -> int:
        raw = env.get(f"QUORUM_LAB_{name}_{key}")
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise LabError(f"QUORUM_LAB_{name}_{key}={raw!r} is not an integer") from exc
        if value <= 0:
            raise LabError(f"QUORUM_LAB_{name}_{key}={raw!r} must be positive")
        return value

    return Size(pick("MEM", base.memory_mib), pick("CPUS", base.cpus), pick("TB", base.tb_size_mib))


def lab_home(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("QUORUM_LAB_HOME") or "/var/lib/quorum-lab")


def instance_name(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    name = env.get("QUORUM_LAB_INSTANCE") or "default"
    check_instance(name)
    return name


def check_instance(name: str) -> None:
    if not INSTANCE_RE.match(name):
        raise LabError(f"lab instance name {name!r}: use 1-24 of a-z, 0-9 and '-', starting with a letter or digit")


def netns_name(instance: str) -> str:
    """Network namespace of an instance: ``quorum-lab`` for the default one."""
    return "quorum-lab" if instance == "default" else f"quorum-lab-{instance}"


@dataclass(frozen=True)
class Paths:
    """Where the lab keeps things under $QUORUM_LAB_HOME."""

    home: Path
    instance: str

    @property
    def images(self) -> Path:
        return self.home / "images"

    @property
    def mirror(self) -> Path:
        return self.home / "mirror"

    @property
    def debian_repo(self) -> Path:
        return self.mirror / "debian"

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def ssh_key(self) -> Path:
        return self.home / "ssh" / "id_ed25519"

    @property
    def ca_dir(self) -> Path:
        return self.home / "ca"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "ca.pem"

    @property
    def results(self) -> Path:
        return self.home / "results"

    @property
    def run(self) -> Path:
        """State of this instance while it runs."""
        return self.home / "run" / self.instance

    @property
    def state_file(self) -> Path:
        return self.run / "state.json"

    @property
    def inventory(self) -> Path:
        """Outside the run directory: it outlives 'lab down' (Molecule links it before 'create')."""
        return self.home / "inventory" / f"{self.instance}.yml"

    @property
    def vault_dir(self) -> Path:
        return self.run / "vault"

    @property
    def vault_init(self) -> Path:
        return self.vault_dir / "init.json"

    def vm_dir(self, name: str) -> Path:
        return self.run / "vms" / name


def paths(env: dict[str, str] | None = None) -> Paths:
    return Paths(lab_home(env), instance_name(env))
