"""The mirror's on-disk layout: upstream download paths under one root.

``quorum_artifacts: upstream`` means ``https://<path>``; a mirror ``M`` serves
the same ``<path>`` as ``M/<path>``. Every file has a ``.sha256`` beside it.
"""

from __future__ import annotations

import json
import os
import shutil

from mirror_builder.common import sha256_file, write_atomic

ARCH = "amd64"


class MirrorError(Exception):
    """The mirror on disk does not match its manifest."""


def kubernetes_binary_path(version: str, name: str, arch: str = ARCH) -> str:
    return f"dl.k8s.io/release/{version}/bin/linux/{arch}/{name}"


def kubernetes_stable_path(version: str) -> str:
    major, minor = version.lstrip("v").split(".")[:2]
    return f"dl.k8s.io/release/stable-{major}.{minor}.txt"


def etcd_tarball_name(version: str, arch: str = ARCH) -> str:
    return f"etcd-{version}-linux-{arch}.tar.gz"


def etcd_tarball_path(version: str, arch: str = ARCH) -> str:
    return f"github.com/etcd-io/etcd/releases/download/{version}/{etcd_tarball_name(version, arch)}"


def coredns_tarball_path(version: str, arch: str = ARCH) -> str:
    bare = version.lstrip("v")
    return f"github.com/coredns/coredns/releases/download/{version}/coredns_{bare}_linux_{arch}.tgz"


def crictl_tarball_name(version: str, arch: str = ARCH) -> str:
    return f"crictl-{version}-linux-{arch}.tar.gz"


def crictl_tarball_path(version: str, arch: str = ARCH) -> str:
    return f"github.com/kubernetes-sigs/cri-tools/releases/download/{version}/{crictl_tarball_name(version, arch)}"


def image_path(filename: str) -> str:
    return f"images/{filename}"


def publish_file(root: str, rel: str, source: str, sha256_style: str = "bare") -> tuple[str, int]:
    """Copy ``source`` to ``root/rel`` with its ``.sha256`` beside it.

    sha256_style ``bare`` writes only the digest (as dl.k8s.io does); ``sum``
    writes ``<digest>  <name>`` (as sha256sum and the GitHub releases do).
    Returns (sha256, size).
    """
    dest = os.path.join(root, rel)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    digest = sha256_file(source)
    if not (os.path.exists(dest) and os.path.getsize(dest) == os.path.getsize(source)
            and sha256_file(dest) == digest):
        tmp = dest + ".tmp"
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    write_sha256(dest, digest, sha256_style)
    return digest, os.path.getsize(dest)


def write_sha256(dest: str, digest: str, style: str = "bare") -> None:
    name = os.path.basename(dest)
    write_atomic(dest + ".sha256", f"{digest}\n" if style == "bare" else f"{digest}  {name}\n")


def read_sha256_file(path: str) -> str:
    """The digest in a ``.sha256`` file of either style."""
    with open(path, encoding="utf-8") as f:
        first = f.read().split()
    if not first or len(first[0]) != 64:
        raise MirrorError(f"{path} holds no SHA-256 digest")
    return first[0]


def write_sha256sums(directory: str, names: list[str]) -> None:
    lines = [f"{sha256_file(os.path.join(directory, n))}  {n}\n" for n in sorted(names)]
    write_atomic(os.path.join(directory, "SHA256SUMS"), "".join(lines))


def artifact(name: str, version: str, kind: str, rel: str, sha256: str, size: int, **extra) -> dict:
    entry = {"name": name, "version": version, "kind": kind, "path": rel, "sha256": sha256, "size": size}
    entry.update(extra)
    return entry


def write_manifest(path: str, manifest: dict) -> None:
    write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def load_manifest(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def manifest_releases(manifest: dict) -> list[str]:
    """The Kubernetes releases a manifest carries (its ``releases``; older ones: ``kubernetes_version``)."""
    if isinstance(manifest.get("releases"), dict):
        return list(manifest["releases"])
    return [manifest["kubernetes_version"]] if manifest.get("kubernetes_version") else []


def is_warm(root: str, manifest: dict | None, key: str, releases: tuple[str, ...] | list[str] = ()) -> bool:
    """True when ``manifest`` was built for ``key``, carries every release of ``releases`` (more is
    fine: a mirror built with an upgrade-from release serves a build without it), and every
    artifact is on disk at its size."""
    if not manifest or manifest.get("key") != key:
        return False
    if not set(releases) <= set(manifest_releases(manifest)):
        return False
    for entry in manifest.get("artifacts", []):
        path = os.path.join(root, entry["path"])
        if not os.path.isfile(path) or os.path.getsize(path) != entry["size"]:
            return False
        if not os.path.isfile(path + ".sha256") and not entry["path"].startswith("images/"):
            return False
    return os.path.isfile(os.path.join(root, "images", "index.json"))


def verify(root: str, manifest: dict) -> list[str]:
    """Full check (hashes too): every fault found, as messages naming the file."""
    faults = []
    for entry in manifest.get("artifacts", []):
        path = os.path.join(root, entry["path"])
        if not os.path.isfile(path):
            faults.append(f"{entry['path']}: missing")
            continue
        if os.path.getsize(path) != entry["size"]:
            faults.append(f"{entry['path']}: size {os.path.getsize(path)} != {entry['size']}")
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            faults.append(f"{entry['path']}: sha256 {digest} != {entry['sha256']}")
        side = path + ".sha256"
        if os.path.isfile(side) and read_sha256_file(side) != digest:
            faults.append(f"{entry['path']}.sha256 does not match the file")
    return faults
