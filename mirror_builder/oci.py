"""OCI image archives written with the standard library only.

An archive is a tar holding an OCI image layout (``oci-layout``, ``index.json``,
``blobs/sha256/...``) plus the docker-archive ``manifest.json`` with
``RepoTags``, the same pair ``ctr images export`` writes. ``ctr -n k8s.io images
import`` reads the image name from the ``io.containerd.image.name`` annotation.

Everything is deterministic: fixed timestamps, root ownership, sorted entries,
gzip without a timestamp. The same inputs always give the same digests.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from typing import Iterable

from mirror_builder.common import sha256_file

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The images' creator (history, labels, the etcd tarball's README). Kept from the builder's first
# home (lab/artifacts) so that this tool builds the digests of the earlier builds.
SOURCE = "quorum.k8s lab/artifacts"


class OCIError(Exception):
    """An image cannot be built as asked."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_reference(ref: str) -> tuple[str, str]:
    """Split ``registry/repo:tag`` into (repository, tag); the tag is required."""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon <= slash or colon == len(ref) - 1:
        raise OCIError(f"image reference '{ref}' has no tag")
    if "@" in ref:
        raise OCIError(f"image reference '{ref}' must be a tag, not a digest")
    return ref[:colon], ref[colon + 1:]


def archive_filename(ref: str) -> str:
    """File name of the archive of ``ref``: ``registry.k8s.io_coredns_coredns_v1.13.1.tar``."""
    repo, tag = split_reference(ref)
    return f"{repo.replace('/', '_')}_{tag}.tar"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One file system entry of a layer.

    kind: ``file`` (data), ``dir``, ``symlink`` (target) or ``hostfile``
    (source: a path on the build host whose bytes are copied).
    """

    path: str
    kind: str = "file"
    mode: int = 0o644
    data: bytes = b""
    target: str = ""
    source: str = ""
    uid: int = 0
    gid: int = 0


def _tarinfo(name: str, mtime: int, mode: int, uid: int, gid: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.mode = mode
    info.uid = uid
    info.gid = gid
    info.uname = ""
    info.gname = ""
    return info


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def layer_tar(entries: Iterable[Entry], mtime: int) -> bytes:
    """An uncompressed layer tar of ``entries``; missing parent directories are added."""
    by_path: dict[str, Entry] = {}
    for entry in entries:
        path = entry.path.strip("/")
        if not path or ".." in path.split("/"):
            raise OCIError(f"invalid path in layer: '{entry.path}'")
        if entry.kind not in ("file", "dir", "symlink", "hostfile"):
            raise OCIError(f"unknown entry kind '{entry.kind}' for '{entry.path}'")
        by_path[path] = dataclasses.replace(entry, path=path)
    for path in list(by_path):
        for parent in _parents(path):
            by_path.setdefault(parent, Entry(parent, kind="dir", mode=0o755))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(by_path):
            entry = by_path[path]
            info = _tarinfo(path, mtime, entry.mode, entry.uid, entry.gid)
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                info.mode = 0o777
                tar.addfile(info)
            elif entry.kind == "hostfile":
                info.size = os.path.getsize(entry.source)
                with open(entry.source, "rb") as src:
                    tar.addfile(info, src)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return buf.getvalue()


def tree_entries(root: str, prefix: str = "") -> list[Entry]:
    """Entries for every file, directory and symlink under ``root`` (modes kept, owner root)."""
    out: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames) + sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(prefix, rel_dir, name)).lstrip("/")
            st = os.lstat(full)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out.append(Entry(rel, kind="symlink", target=os.readlink(full)))
            elif stat.S_ISDIR(st.st_mode):
                out.append(Entry(rel, kind="dir", mode=mode))
            elif stat.S_ISREG(st.st_mode):
                out.append(Entry(rel, kind="hostfile", mode=mode, source=full))
    return out


@dataclasses.dataclass
class Image:
    """What goes into one image: a reference, layers of entries and its runtime config."""

    reference: str
    layers: list[list[Entry]]
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = dataclasses.field(default_factory=lambda: [f"PATH={DEFAULT_PATH}"])
    user: str = ""
    workdir: str = "/"
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    architecture: str = "amd64"
    os: str = "linux"


@dataclasses.dataclass(frozen=True)
class Written:
    reference: str
    path: str
    sha256: str
    size: int
    manifest_digest: str


def _json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build_blobs(image: Image, mtime: int, created: str) -> tuple[dict[str, bytes], dict, str]:
    """Blobs of ``image`` (digest -> bytes), its docker manifest.json entry, manifest digest."""
    blobs: dict[str, bytes] = {}
    layer_descs = []
    diff_ids = []
    history = []
    for layer in image.layers:
        raw = layer_tar(layer, mtime)
        gz = gzip.compress(raw, compresslevel=6, mtime=0)
        diff_ids.append("sha256:" + sha256_hex(raw))
        digest = "sha256:" + sha256_hex(gz)
        blobs[digest] = gz
        layer_descs.append({"mediaType": MEDIA_LAYER_GZIP, "digest": digest, "size": len(gz)})
        history.append({"created": created, "created_by": SOURCE})
    config: dict = {"Env": image.env, "WorkingDir": image.workdir}
    if image.entrypoint is not None:
        config["Entrypoint"] = image.entrypoint
    if image.cmd is not None:
        config["Cmd"] = image.cmd
    if image.user:
        config["User"] = image.user
    if image.labels:
        config["Labels"] = image.labels
    config_blob = _json({
        "architecture": image.architecture,
        "os": image.os,
        "created": created,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    })
    config_digest = "sha256:" + sha256_hex(config_blob)
    blobs[config_digest] = config_blob
    manifest_blob = _json({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_blob)},
        "layers": layer_descs,
    })
    manifest_digest = "sha256:" + sha256_hex(manifest_blob)
    blobs[manifest_digest] = manifest_blob
    docker_entry = {
        "Config": "blobs/sha256/" + config_digest.split(":", 1)[1],
        "RepoTags": [image.reference],
        "Layers": ["blobs/sha256/" + d["digest"].split(":", 1)[1] for d in layer_descs],
    }
    return blobs, docker_entry, manifest_digest


def index_for(image: Image, manifest_digest: str, manifest_size: int) -> dict:
    tag = split_reference(image.reference)[1]
    return {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": manifest_digest,
            "size": manifest_size,
            "platform": {"architecture": image.architecture, "os": image.os},
            "annotations": {ANNOTATION_IMAGE_NAME: image.reference, ANNOTATION_REF_NAME: tag},
        }],
    }


def write_archive(image: Image, dest: str, mtime: int, created: str) -> Written:
    """Write ``image`` as an OCI archive at ``dest`` (atomically) and describe it."""
    split_reference(image.reference)
    blobs, docker_entry, manifest_digest = build_blobs(image, mtime, created)
    files: dict[str, bytes] = {
        "oci-layout": _json({"imageLayoutVersion": "1.0.0"}),
        "index.json": _json(index_for(image, manifest_digest, len(blobs[manifest_digest]))),
        "manifest.json": _json([docker_entry]),
    }
    for digest, blob in blobs.items():
        files["blobs/sha256/" + digest.split(":", 1)[1]] = blob
    tmp = dest + ".tmp"
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("blobs", "blobs/sha256"):
            info = _tarinfo(directory, mtime, 0o755, 0, 0)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name in sorted(files):
            info = _tarinfo(name, mtime, 0o644, 0, 0)
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    digest = sha256_file(tmp)
    size = os.path.getsize(tmp)
    os.replace(tmp, dest)
    return Written(image.reference, dest, digest, size, manifest_digest)


def read_archive(path: str) -> dict:
    """Parse an archive written by :func:`write_archive` and check every blob's digest.

    Returns ``{"references": [...], "index": {...}, "manifests": [...], "configs": [...]}``.
    """
    with tarfile.open(path) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}

        def read(name: str) -> bytes:
            member = members.get(name)
            if member is None:
                raise OCIError(f"{path}: missing '{name}'")
            fobj = tar.extractfile(member)
            assert fobj is not None
            return fobj.read()

        layout = json.loads(read("oci-layout"))
        if layout.get("imageLayoutVersion") != "1.0.0":
            raise OCIError(f"{path}: unexpected oci-layout {layout}")
        index = json.loads(read("index.json"))
        for name in members:
            if name.startswith("blobs/sha256/"):
                if sha256_hex(read(name)) != name.rsplit("/", 1)[1]:
                    raise OCIError(f"{path}: blob '{name}' does not match its digest")
        refs, manifests, configs = [], [], []
        for desc in index.get("manifests", []):
            refs.append(desc.get("annotations", {}).get(ANNOTATION_IMAGE_NAME))
            manifest = json.loads(read("blobs/sha256/" + desc["digest"].split(":", 1)[1]))
            manifests.append(manifest)
            configs.append(json.loads(read("blobs/sha256/" + manifest["config"]["digest"].split(":", 1)[1])))
        docker = json.loads(read("manifest.json"))
        return {"references": refs, "index": index, "manifests": manifests, "configs": configs, "docker": docker}
