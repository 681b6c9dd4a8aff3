"""Settings of a mirror build. The Kubernetes version is the collection's pin unless asked otherwise."""

from __future__ import annotations

import dataclasses
import os

from mirror_builder.common import pinned_kubernetes_version

# The release the collection is tested with, stated once in plugins/module_utils/_defaults.py
# (the newest 1.35 patch: the last minor that supports containerd 1.7, Debian trixie's).
# See docs/kubernetes-version.md before changing it.
KUBERNETES_VERSION = "v" + pinned_kubernetes_version()
DEBIAN_SUITE = "trixie"
DEFAULT_HOME = "/var/lib/quorum-lab"


@dataclasses.dataclass(frozen=True)
class Settings:
    home: str
    kubernetes_version: str = KUBERNETES_VERSION
    debian_suite: str = DEBIAN_SUITE
    debian_mirror: str | None = None

    @property
    def cache_dir(self) -> str:
        return os.path.join(self.home, "cache", "artifacts")

    @property
    def mirror_dir(self) -> str:
        return os.path.join(self.home, "mirror")

    @classmethod
    def from_env(cls, version: str | None = None, home: str | None = None, debian_mirror: str | None = None,
                 debian_suite: str | None = None) -> "Settings":
        """Arguments first, then QUORUM_LAB_HOME, QUORUM_KUBERNETES_VERSION, QUORUM_ARTIFACTS_DEBIAN_*."""
        env = os.environ
        version = version or env.get("QUORUM_KUBERNETES_VERSION") or KUBERNETES_VERSION
        return cls(
            home=os.path.abspath(home or env.get("QUORUM_LAB_HOME") or DEFAULT_HOME),
            kubernetes_version=version if version.startswith("v") else "v" + version,
            debian_suite=debian_suite or env.get("QUORUM_ARTIFACTS_DEBIAN_SUITE") or DEBIAN_SUITE,
            debian_mirror=debian_mirror or env.get("QUORUM_ARTIFACTS_DEBIAN_MIRROR") or None,
        )
