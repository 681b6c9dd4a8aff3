"""Settings of a mirror build. The Kubernetes version is the collection's pin unless asked otherwise;
the release an upgrade starts from is built beside it only when asked for."""

from __future__ import annotations

import dataclasses
import os
import re

from mirror_builder.common import pinned_kubernetes_version, pinned_upgrade_from_version

# The release the collection is tested with, stated once in plugins/module_utils/_defaults.py
# (the newest 1.35 patch: the last minor that supports containerd 1.7, Debian trixie's).
# See docs/kubernetes-version.md before changing it.
KUBERNETES_VERSION = "v" + pinned_kubernetes_version()
# The release the upgrade to KUBERNETES_VERSION is tested from (docs/kubernetes-version.md,
# "The upgrade pair"); built only on request (--upgrade-from, QUORUM_ARTIFACTS_UPGRADE_FROM).
UPGRADE_FROM_VERSION = "v" + pinned_upgrade_from_version()
DEBIAN_SUITE = "trixie"
DEFAULT_HOME = "/var/lib/quorum-lab"
# Values of --upgrade-from and QUORUM_ARTIFACTS_UPGRADE_FROM that mean the pin, and nothing.
PIN_WORDS = ("1", "yes", "true")
OFF_WORDS = ("", "0", "no", "false")


class SettingsError(ValueError):
    """A version or pair of versions the builder refuses, with what to do instead."""


def _release(version: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", version)
    if not m:
        raise SettingsError(f"'{version}' is not a release version like v1.35.8")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of "v1.34.12" (numeric: v1.9.0 before v1.10.0); unparsable versions sort first."""
    try:
        return _release(version)
    except SettingsError:
        return ()


def check_upgrade_pair(main: str, old: str) -> None:
    """Refuse an upgrade-from release that is not older than ``main``, or more than one minor older
    (kubeadm upgrades one minor at a time)."""
    new_v, old_v = _release(main), _release(old)
    if old_v >= new_v:
        raise SettingsError(f"the upgrade-from release {old} is not older than the release built, {main}: "
                            f"name an older one (the pin is {UPGRADE_FROM_VERSION})")
    if old_v[0] != new_v[0] or new_v[1] - old_v[1] > 1:
        raise SettingsError(f"the upgrade-from release {old} is more than one minor older than {main}: kubeadm "
                            f"upgrades one minor at a time, name a v{new_v[0]}.{new_v[1] - 1}.x or v{new_v[0]}."
                            f"{new_v[1]}.x release")


def upgrade_from_value(value: str | None) -> str | None:
    """The upgrade-from release a flag or variable asks for: None for unset, "", 0, no; the pin for
    1, yes; else the version given (a "v" added)."""
    if value is None or value.strip().lower() in OFF_WORDS:
        return None
    value = value.strip()
    if value.lower() in PIN_WORDS:
        return UPGRADE_FROM_VERSION
    return value if value.startswith("v") else "v" + value


@dataclasses.dataclass(frozen=True)
class Settings:
    home: str
    kubernetes_version: str = KUBERNETES_VERSION
    debian_suite: str = DEBIAN_SUITE
    debian_mirror: str | None = None
    upgrade_from: str | None = None

    def __post_init__(self) -> None:
        if self.upgrade_from is not None:
            check_upgrade_pair(self.kubernetes_version, self.upgrade_from)

    @property
    def releases(self) -> tuple[str, ...]:
        """The Kubernetes releases to build: the main one first, then the upgrade-from one if asked for."""
        return (self.kubernetes_version,) + ((self.upgrade_from,) if self.upgrade_from else ())

    @property
    def cache_dir(self) -> str:
        return os.path.join(self.home, "cache", "artifacts")

    @property
    def mirror_dir(self) -> str:
        return os.path.join(self.home, "mirror")

    @classmethod
    def from_env(cls, version: str | None = None, home: str | None = None, debian_mirror: str | None = None,
                 debian_suite: str | None = None, upgrade_from: str | None = None) -> "Settings":
        """Arguments first, then QUORUM_LAB_HOME, QUORUM_KUBERNETES_VERSION, QUORUM_ARTIFACTS_DEBIAN_*,
        QUORUM_ARTIFACTS_UPGRADE_FROM. Raises SettingsError for a refused upgrade pair."""
        env = os.environ
        version = version or env.get("QUORUM_KUBERNETES_VERSION") or KUBERNETES_VERSION
        return cls(
            home=os.path.abspath(home or env.get("QUORUM_LAB_HOME") or DEFAULT_HOME),
            kubernetes_version=version if version.startswith("v") else "v" + version,
            debian_suite=debian_suite or env.get("QUORUM_ARTIFACTS_DEBIAN_SUITE") or DEBIAN_SUITE,
            debian_mirror=debian_mirror or env.get("QUORUM_ARTIFACTS_DEBIAN_MIRROR") or None,
            upgrade_from=upgrade_from_value(upgrade_from if upgrade_from is not None
                                            else env.get("QUORUM_ARTIFACTS_UPGRADE_FROM")),
        )
