"""Build or reuse the whole mirror; the manifest's path is the result.

A build carries one Kubernetes release, or two (the main one and the one an upgrade starts from):
each release's part (Kubernetes, the etcd, CoreDNS, pause and crictl its kubeadm pins, their
tarballs and the images kubeadm lists) is made per release, the rest (kube-router, the test image,
the Debian userland) once. Mirror paths carry versions, so releases share one tree; a file two
releases share (pause 3.10.1 for both) is made once, by the main release.
"""

from __future__ import annotations

import dataclasses
import fcntl
import gzip
import io
import json
import os
import resource
import shutil
import subprocess
import tarfile
import tempfile
import time

from mirror_builder import debian, gobuild, images, mirror, oci
from mirror_builder.common import logger, pinned_kube_router_image, sha256_file, stable_hash, write_atomic
from mirror_builder.config import Settings, version_key

HERE = os.path.dirname(os.path.abspath(__file__))
# The files whose change changes what is built (common.py and cli.py do not).
RECIPE_FILES = ("build.py", "config.py", "debian.py", "gobuild.py", "images.py", "mirror.py", "oci.py",
                "pause/main.go")

log = logger("mirror")


def cache_key(settings: Settings) -> str:
    """The recipe, the main release and the release-independent inputs. Not the upgrade-from release:
    the manifest's ``releases`` say which releases a mirror carries, and a mirror carrying more than
    asked for is up to date (mirror.is_warm), so a plain build after an upgrade build reuses it."""
    recipe = {rel: sha256_file(os.path.join(HERE, rel)) for rel in RECIPE_FILES}
    return stable_hash({"kubernetes": settings.kubernetes_version, "suite": settings.debian_suite,
                        "kube_router": pinned_kube_router_image(), "recipe": recipe}, 24)


def _tar_gz(dest: str, members: list[tuple[str, str, int]], mtime: int) -> None:
    """Deterministic .tar.gz of (arcname, source or '' for a directory, mode)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for arcname, source, mode in members:
            info = tarfile.TarInfo(arcname)
            info.mtime, info.mode, info.uid, info.gid = mtime, mode, 0, 0
            if not source:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info.size = os.path.getsize(source)
            with open(source, "rb") as f:
                tar.addfile(info, f)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest + ".tmp", "wb") as out:
        out.write(gzip.compress(buf.getvalue(), compresslevel=9, mtime=0))
    os.replace(dest + ".tmp", dest)


def _cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (go, dpkg-deb)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _epoch(rfc3339: str) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


def kubeadm_image_list(kubeadm: str, version: str) -> list[str]:
    proc = subprocess.run([kubeadm, "config", "images", "list", "--kubernetes-version", version],
                          capture_output=True, text=True, check=True, timeout=120)
    return sorted(line.strip() for line in proc.stdout.splitlines() if line.strip())


def build(settings: Settings, force: bool = False) -> str:
    """Build what is missing and return the path of manifest.json (one build at a time per home)."""
    os.makedirs(settings.cache_dir, exist_ok=True)
    with open(os.path.join(settings.cache_dir, ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(settings, force)


@dataclasses.dataclass(frozen=True)
class Release:
    """One Kubernetes release as built: its facts, its kubeadm pins and its binaries by name."""
    version: str
    commit: str
    build_date: str
    pins: gobuild.KubeadmPins
    etcd_commit: str
    coredns_commit: str
    crictl: dict | None
    bins: dict[str, str]

    @property
    def mtime(self) -> int:
        """Timestamp of its tarball members and image layers: the release's publication time."""
        return _epoch(self.build_date) if self.build_date else 0

    @property
    def created(self) -> str:
        return self.build_date or "1970-01-01T00:00:00Z"

    def pins_dict(self) -> dict:
        return {"etcd": self.pins.etcd_version, "etcd_image_tag": self.pins.etcd_image_tag,
                "coredns": self.pins.coredns_version, "pause": self.pins.pause_version,
                "crictl": self.crictl["version"] if self.crictl else None}


def add_release(entry: dict, version: str) -> None:
    """Add ``version`` to ``entry["kubernetes"]``, kept sorted oldest first, once."""
    have = entry.setdefault("kubernetes", [])
    if version not in have:
        have.append(version)
        have.sort(key=version_key)


class Artifacts:
    """The manifest's artifacts by path: a file two releases share is listed once, with both."""

    def __init__(self) -> None:
        self.by_path: dict[str, dict] = {}

    def claim(self, rel: str, release: str | None) -> bool:
        """True when ``rel`` is not made yet (the caller makes it); else ``release`` is added to it."""
        entry = self.by_path.get(rel)
        if entry is None:
            return True
        if release:
            add_release(entry, release)
        return False

    def add(self, entry: dict, release: str | None = None) -> None:
        if release:
            add_release(entry, release)
        self.by_path[entry["path"]] = entry

    def as_list(self) -> list[dict]:
        return list(self.by_path.values())


def build_release(go: gobuild.Go, version: str, bin_dir: str, step) -> Release:
    """Compile (or find in the cache) the binaries of one release and of what its kubeadm pins."""
    t0 = time.monotonic()
    kube = gobuild.build_kubernetes(go, version, os.path.join(bin_dir, f"kubernetes-{version}"))
    step("kubernetes", t0, version)
    pins = gobuild.KubeadmPins(**kube["pins"])
    t0 = time.monotonic()
    edir = os.path.join(bin_dir, f"etcd-{pins.etcd_version}")
    etcd = gobuild.build_etcd(go, pins.etcd_version, edir)
    step("etcd", t0, version)
    t0 = time.monotonic()
    cdir = os.path.join(bin_dir, f"coredns-{pins.coredns_version}")
    coredns = gobuild.build_coredns(go, pins.coredns_version, cdir)
    step("coredns", t0, version)
    t0 = time.monotonic()
    pdir = os.path.join(bin_dir, f"pause-{pins.pause_version}")
    gobuild.build_pause(go, pins.pause_version, pdir)
    step("pause", t0, version)
    t0 = time.monotonic()
    crictl = gobuild.build_crictl(go, version, bin_dir)
    step("crictl", t0, version)

    kdir = os.path.join(bin_dir, f"kubernetes-{version}")
    bins = {c: os.path.join(kdir, c) for c in gobuild.KUBERNETES_COMMANDS}
    bins.update({c: os.path.join(edir, c) for c in gobuild.ETCD_COMMANDS})
    bins["coredns"] = os.path.join(cdir, "coredns")
    bins["pause"] = os.path.join(pdir, "pause")
    return Release(version, kube.get("commit", ""), kube.get("build_date", ""), pins, etcd["commit"],
                   coredns["commit"], crictl, bins)


def publish_release(root: str, work: str, release: Release, out: Artifacts, stable_done: set) -> None:
    """The release's binaries in the dl.k8s.io layout, its etcd, CoreDNS and crictl as release tarballs."""
    version, bins, mtime = release.version, release.bins, release.mtime
    for name in gobuild.KUBERNETES_COMMANDS:
        rel = mirror.kubernetes_binary_path(version, name)
        digest, size = mirror.publish_file(root, rel, bins[name], "bare")
        out.add(mirror.artifact(name, version, "binary", rel, digest, size), version)
    stable = mirror.kubernetes_stable_path(version)
    if stable not in stable_done:  # the main (newest) release first: an older patch of its minor does not win
        stable_done.add(stable)
        write_atomic(os.path.join(root, stable), version + "\n")

    ev = release.pins.etcd_version
    rel = mirror.etcd_tarball_path(ev)
    if out.claim(rel, version):
        top = f"etcd-{ev}-linux-amd64"
        readme = os.path.join(work, f"README-etcd-{ev}.md")
        with open(readme, "w", encoding="utf-8") as f:
            f.write(f"etcd {ev} built from go.etcd.io/etcd modules (commit {release.etcd_commit}) by {oci.SOURCE}.\n")
        tarball = os.path.join(work, mirror.etcd_tarball_name(ev))
        _tar_gz(tarball, [(top, "", 0o755), (f"{top}/README.md", readme, 0o644)]
                + [(f"{top}/{n}", bins[n], 0o755) for n in ("etcd", "etcdctl", "etcdutl")], mtime)
        digest, size = mirror.publish_file(root, rel, tarball, "sum")
        mirror.write_sha256sums(os.path.dirname(os.path.join(root, rel)), [os.path.basename(rel)])
        out.add(mirror.artifact("etcd", ev, "tarball", rel, digest, size, commit=release.etcd_commit), version)

    cv = release.pins.coredns_version
    rel = mirror.coredns_tarball_path(cv)
    if out.claim(rel, version):
        ctgz = os.path.join(work, f"coredns_{cv.lstrip('v')}_linux_amd64.tgz")
        _tar_gz(ctgz, [("coredns", bins["coredns"], 0o755)], mtime)
        digest, size = mirror.publish_file(root, rel, ctgz, "sum")
        out.add(mirror.artifact("coredns", cv, "tarball", rel, digest, size, commit=release.coredns_commit), version)

    crictl = release.crictl
    if crictl and out.claim(mirror.crictl_tarball_path(crictl["version"]), version):
        xv = crictl["version"]
        rel = mirror.crictl_tarball_path(xv)
        xtgz = os.path.join(work, mirror.crictl_tarball_name(xv))
        _tar_gz(xtgz, [("crictl", os.path.join(crictl["dir"], "crictl"), 0o755)], mtime)
        digest, size = mirror.publish_file(root, rel, xtgz, "bare")
        out.add(mirror.artifact("crictl", xv, "tarball", rel, digest, size, commit=crictl["commit"]), version)


def image_index(entries: list[dict]) -> list[dict]:
    """images/index.json: the kubeadm-listed images sorted by reference, then the others as made."""
    listed = sorted((e for e in entries if e["kubeadm"]), key=lambda e: e["image"])
    return listed + [e for e in entries if not e["kubeadm"]]


def _build(settings: Settings, force: bool) -> str:
    root = settings.mirror_dir
    manifest_path = os.path.join(root, "manifest.json")
    key = cache_key(settings)
    main = settings.kubernetes_version
    wanted = " and ".join(settings.releases)
    current = mirror.load_manifest(manifest_path)
    if not force and mirror.is_warm(root, current, key, settings.releases):
        extra = [r for r in mirror.manifest_releases(current) if r not in settings.releases]
        also = f"; it also carries {', '.join(extra)}" if extra else ""
        log(f"mirror for Kubernetes {wanted} is up to date (key {key}{also})")
        return manifest_path

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t_all = time.monotonic()
    cpu_mark = [_cpu_seconds()]

    def step(name: str, t0: float, version: str | None = None) -> None:
        """Record a step; those of a release other than the main one are named "<step> for <version>"."""
        label = name if version in (None, main) else f"{name} for {version}"
        timings[label] = round(time.monotonic() - t0, 1)
        now = _cpu_seconds()
        cpu[label] = round(now - cpu_mark[0], 1)
        cpu_mark[0] = now
        log(f"{label}: {timings[label]} s wall, {cpu[label]} s CPU")

    go = gobuild.Go(settings.cache_dir, log=log)
    bin_dir = os.path.join(settings.cache_dir, "bin")

    # Every compile first: a release that cannot be built leaves the published mirror as it was.
    releases: list[Release] = []
    for version in settings.releases:
        t_release, cpu_release = time.monotonic(), _cpu_seconds()
        releases.append(build_release(go, version, bin_dir, step))
        if version != main:
            log(f"Kubernetes {version} and its pins: {round(time.monotonic() - t_release, 1)} s wall, "
                f"{round(_cpu_seconds() - cpu_release, 1)} s CPU")
    first = releases[0]
    t0 = time.monotonic()
    router_ref = pinned_kube_router_image()
    router_version = oci.split_reference(router_ref)[1]
    router = gobuild.build_kube_router(go, router_version, os.path.join(bin_dir, f"kube-router-{router_version}"))
    router_bin = os.path.join(bin_dir, f"kube-router-{router_version}", "kube-router")
    step("kube-router", t0)

    artifacts = Artifacts()
    stable_done: set[str] = set()
    for release in releases:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(dir=settings.cache_dir) as tmp:
            publish_release(root, tmp, release, artifacts, stable_done)
        step("publish-binaries", t0, release.version)

    # Userland from Debian for kube-proxy, kube-router and the test image.
    t0 = time.monotonic()
    repo = debian.Repository(os.path.join(settings.cache_dir, "debian"), mirror=settings.debian_mirror,
                             suite=settings.debian_suite)
    work = tempfile.mkdtemp(prefix="images-", dir=settings.cache_dir)
    try:
        network_root, network_pkgs = debian.userland(repo, images.NETWORK_DEBS, work)
        busybox_root, busybox_pkgs = debian.userland(repo, images.TEST_IMAGE_DEBS, work)
        step("debian-userland", t0)

        img_dir = os.path.join(root, "images")
        made: dict[str, dict] = {}

        def image(ref: str, bins: dict[str, str], mtime: int, created: str, release: str | None) -> None:
            """Make the archive of ``ref`` unless this build made it; ``release``: whose kubeadm lists it."""
            filename = oci.archive_filename(ref)
            if ref in made:
                add_release(made[ref], release)
                artifacts.claim(mirror.image_path(filename), release)
                return
            labels = {"org.opencontainers.image.source": oci.SOURCE, "org.opencontainers.image.created": created}
            spec = images.define(ref, bins, network_root, busybox_root, labels)
            written = oci.write_archive(spec, os.path.join(img_dir, filename), mtime, created)
            mirror.write_sha256(written.path, written.sha256, "sum")
            repo_name, tag = oci.split_reference(ref)
            listed = release is not None
            made[ref] = {"image": ref, "file": filename, "sha256": written.sha256, "size": written.size,
                         "manifest_digest": written.manifest_digest, "kubeadm": listed}
            if listed:
                add_release(made[ref], release)
            artifacts.add(mirror.artifact(repo_name, tag, "image", mirror.image_path(filename), written.sha256,
                                          written.size, image=ref, manifest_digest=written.manifest_digest,
                                          kubeadm=listed), release)
            log(f"image {ref}: {written.size // 1024} KiB")

        for release in releases:
            t0 = time.monotonic()
            version, pins = release.version, release.pins
            refs = kubeadm_image_list(release.bins["kubeadm"], version)
            expected = images.expected_references(version, pins.etcd_image_tag, pins.coredns_version,
                                                  pins.pause_version)
            if refs != expected:
                log(f"note: kubeadm {version} lists {refs}, the pins give {expected}; following kubeadm")
            for ref in refs:
                image(ref, release.bins, release.mtime, release.created, version)
            if release is first:
                for ref in (router_ref, images.TEST_IMAGE):
                    image(ref, dict(first.bins, **{"kube-router": router_bin}), first.mtime, first.created, None)
            step("images", t0, version)
        index = image_index(list(made.values()))
        write_atomic(os.path.join(img_dir, "index.json"), json.dumps(index, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    timings["total"] = round(time.monotonic() - t_all, 1)
    manifest = {
        "schema": 1,
        "key": key,
        # The main release, as before a mirror could carry two: what the lab and the roles read.
        "kubernetes_version": main,
        "pins": dict(first.pins_dict(), **{"kube-router": router_version}),
        "kubernetes_commit": first.commit,
        "build_date": first.created,
        # Every release the mirror carries, the main one included.
        "releases": {r.version: {"pins": r.pins_dict(), "kubernetes_commit": r.commit, "build_date": r.created}
                     for r in releases},
        "kube_router_commit": router["commit"],
        "go": go.version(),
        "debian": {"mirror": repo.mirror, "suite": repo.suite,
                   "packages": {p.name: p.version for p in network_pkgs + busybox_pkgs}},
        "test_image": {"image": images.TEST_IMAGE, "port": images.TEST_IMAGE_PORT},
        "timings_seconds": timings,
        "cpu_seconds": cpu,
        "artifacts": artifacts.as_list(),
    }
    mirror.write_manifest(manifest_path, manifest)
    log(f"done in {timings['total']} s")
    return manifest_path
