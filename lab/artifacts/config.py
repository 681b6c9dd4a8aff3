"""Settings of an artifacts build. KUBERNETES_VERSION is the one variable that picks the release."""

from __future__ import annotations

import dataclasses
import os

# The newest patch of Kubernetes 1.35, the last minor that supports containerd 1.7
# (Debian trixie's containerd). See docs/kubernetes-version.md before changing it.
KUBERNETES_VERSION = "v1.35.8"
DEBIAN_SUITE = "trixie"


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
    def from_env(cls, version: str | None = None) -> "Settings":
        return cls(
            home=os.environ.get("QUORUM_LAB_HOME") or "/var/lib/quorum-lab",
            kubernetes_version=version or os.environ.get("QUORUM_KUBERNETES_VERSION") or KUBERNETES_VERSION,
            debian_suite=os.environ.get("QUORUM_ARTIFACTS_DEBIAN_SUITE") or DEBIAN_SUITE,
            debian_mirror=os.environ.get("QUORUM_ARTIFACTS_DEBIAN_MIRROR") or None,
        )
