"""What the mirror builder and the lab (lab/util.py) share: hashing, atomic writes, log lines
and the collection's pinned Kubernetes versions.

Standard library only: the mirror builder runs on an operator's connected machine where
nothing but Python is installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Union

PathLike = Union[str, "os.PathLike[str]"]

# The collection root: a checkout, or ansible_collections/quorum/k8s of an installed collection.
ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = ROOT / "plugins" / "module_utils" / "_defaults.py"


def _defaults(path: PathLike = DEFAULTS_FILE) -> Any:
    """plugins/module_utils/_defaults.py, loaded by file path: neither Ansible nor the
    ``ansible_collections`` import path is needed."""
    spec = importlib.util.spec_from_file_location("_quorum_k8s_defaults", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned_kubernetes_version(path: PathLike = DEFAULTS_FILE) -> str:
    """KUBERNETES_VERSION of plugins/module_utils/_defaults.py ("1.35.8", without a "v")."""
    return str(_defaults(path).KUBERNETES_VERSION).lstrip("v")


def pinned_upgrade_from_version(path: PathLike = DEFAULTS_FILE) -> str:
    """UPGRADE_FROM_VERSION of plugins/module_utils/_defaults.py ("1.34.12", without a "v"): the
    release the upgrade to KUBERNETES_VERSION is tested from."""
    return str(_defaults(path).UPGRADE_FROM_VERSION).lstrip("v")


def pinned_kube_router_image(path: PathLike = DEFAULTS_FILE) -> str:
    """KUBE_ROUTER_IMAGE of plugins/module_utils/_defaults.py (the reference the roles deploy)."""
    return str(_defaults(path).KUBE_ROUTER_IMAGE)


def sha256_file(path: PathLike) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-serialisable object, independent of key order (cache keys)."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:length]


def write_atomic(path: PathLike, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` (parents made) so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def logger(name: str) -> Callable[[str], None]:
    """A log function writing ``<name> [  12.3s] message`` to stderr (seconds since this call)."""
    t0 = time.monotonic()

    def log(msg: str) -> None:
        print(f"{name} [{time.monotonic() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    return log
