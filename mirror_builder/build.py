"""Build or reuse the whole mirror; the manifest's path is the result."""

from __future__ import annotations

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
from mirror_builder.config import Settings

HERE = os.path.dirname(os.path.abspath(__file__))
# The files whose change changes what is built (common.py and cli.py do not).
RECIPE_FILES = ("build.py", "config.py", "debian.py", "gobuild.py", "images.py", "mirror.py", "oci.py",
                "pause/main.go")

log = logger("mirror")


def cache_key(settings: Settings) -> str:
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


def _build(settings: Settings, force: bool) -> str:
    root = settings.mirror_dir
    manifest_path = os.path.join(root, "manifest.json")
    key = cache_key(settings)
    if not force and mirror.is_warm(root, mirror.load_manifest(manifest_path), key):
        log(f"mirror for Kubernetes {settings.kubernetes_version} is up to date (key {key})")
        return manifest_path

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t_all = time.monotonic()
    cpu_mark = [_cpu_seconds()]

    def step(name: str, t0: float) -> None:
        timings[name] = round(time.monotonic() - t0, 1)
        now = _cpu_seconds()
        cpu[name] = round(now - cpu_mark[0], 1)
        cpu_mark[0] = now
        log(f"{name}: {timings[name]} s wall, {cpu[name]} s CPU")

    go = gobuild.Go(settings.cache_dir, log=log)
    version = settings.kubernetes_version
    bin_dir = os.path.join(settings.cache_dir, "bin")

    t0 = time.monotonic()
    kube = gobuild.build_kubernetes(go, version, os.path.join(bin_dir, f"kubernetes-{version}"))
    step("kubernetes", t0)
    pins = gobuild.KubeadmPins(**kube["pins"])
    t0 = time.monotonic()
    etcd = gobuild.build_etcd(go, pins.etcd_version, os.path.join(bin_dir, f"etcd-{pins.etcd_version}"))
    step("etcd", t0)
    t0 = time.monotonic()
    coredns = gobuild.build_coredns(go, pins.coredns_version,
                                    os.path.join(bin_dir, f"coredns-{pins.coredns_version}"))
    step("coredns", t0)
    t0 = time.monotonic()
    gobuild.build_pause(go, pins.pause_version, os.path.join(bin_dir, f"pause-{pins.pause_version}"))
    step("pause", t0)
    t0 = time.monotonic()
    crictl = gobuild.build_crictl(go, version, bin_dir)
    step("crictl", t0)
    t0 = time.monotonic()
    router_ref = pinned_kube_router_image()
    router_version = oci.split_reference(router_ref)[1]
    router = gobuild.build_kube_router(go, router_version, os.path.join(bin_dir, f"kube-router-{router_version}"))
    step("kube-router", t0)

    kdir = os.path.join(bin_dir, f"kubernetes-{version}")
    edir = os.path.join(bin_dir, f"etcd-{pins.etcd_version}")
    bins = {c: os.path.join(kdir, c) for c in gobuild.KUBERNETES_COMMANDS}
    bins.update({c: os.path.join(edir, c) for c in gobuild.ETCD_COMMANDS})
    bins["coredns"] = os.path.join(bin_dir, f"coredns-{pins.coredns_version}", "coredns")
    bins["pause"] = os.path.join(bin_dir, f"pause-{pins.pause_version}", "pause")
    bins["kube-router"] = os.path.join(bin_dir, f"kube-router-{router_version}", "kube-router")

    mtime = _epoch(kube["build_date"]) if kube.get("build_date") else 0
    created = kube.get("build_date") or "1970-01-01T00:00:00Z"
    artifacts: list[dict] = []

    # Binaries in the dl.k8s.io layout.
    t0 = time.monotonic()
    for name in gobuild.KUBERNETES_COMMANDS:
        rel = mirror.kubernetes_binary_path(version, name)
        digest, size = mirror.publish_file(root, rel, bins[name], "bare")
        artifacts.append(mirror.artifact(name, version, "binary", rel, digest, size))
    write_atomic(os.path.join(root, mirror.kubernetes_stable_path(version)), version + "\n")

    # etcd as its release tarball.
    ev = pins.etcd_version
    top = f"etcd-{ev}-linux-amd64"
    with tempfile.TemporaryDirectory(dir=settings.cache_dir) as tmp:
        readme = os.path.join(tmp, "README.md")
        with open(readme, "w", encoding="utf-8") as f:
            f.write(f"etcd {ev} built from go.etcd.io/etcd modules (commit {etcd['commit']}) by {oci.SOURCE}.\n")
        tarball = os.path.join(tmp, mirror.etcd_tarball_name(ev))
        _tar_gz(tarball, [(top, "", 0o755), (f"{top}/README.md", readme, 0o644)]
                + [(f"{top}/{n}", bins[n], 0o755) for n in ("etcd", "etcdctl", "etcdutl")], mtime)
        rel = mirror.etcd_tarball_path(ev)
        digest, size = mirror.publish_file(root, rel, tarball, "sum")
        mirror.write_sha256sums(os.path.dirname(os.path.join(root, rel)), [os.path.basename(rel)])
        artifacts.append(mirror.artifact("etcd", ev, "tarball", rel, digest, size, commit=etcd["commit"]))

        cv = pins.coredns_version
        ctgz = os.path.join(tmp, f"coredns_{cv.lstrip('v')}_linux_amd64.tgz")
        _tar_gz(ctgz, [("coredns", bins["coredns"], 0o755)], mtime)
        rel = mirror.coredns_tarball_path(cv)
        digest, size = mirror.publish_file(root, rel, ctgz, "sum")
        artifacts.append(mirror.artifact("coredns", cv, "tarball", rel, digest, size, commit=coredns["commit"]))

        if crictl:
            xv = crictl["version"]
            xtgz = os.path.join(tmp, mirror.crictl_tarball_name(xv))
            _tar_gz(xtgz, [("crictl", os.path.join(crictl["dir"], "crictl"), 0o755)], mtime)
            rel = mirror.crictl_tarball_path(xv)
            digest, size = mirror.publish_file(root, rel, xtgz, "bare")
            artifacts.append(mirror.artifact("crictl", xv, "tarball", rel, digest, size, commit=crictl["commit"]))
    step("publish-binaries", t0)

    # Userland from Debian for kube-proxy, kube-router and the test image.
    t0 = time.monotonic()
    repo = debian.Repository(os.path.join(settings.cache_dir, "debian"), mirror=settings.debian_mirror,
                             suite=settings.debian_suite)
    work = tempfile.mkdtemp(prefix="images-", dir=settings.cache_dir)
    try:
        network_root, network_pkgs = debian.userland(repo, images.NETWORK_DEBS, work)
        busybox_root, busybox_pkgs = debian.userland(repo, images.TEST_IMAGE_DEBS, work)
        step("debian-userland", t0)

        t0 = time.monotonic()
        refs = kubeadm_image_list(bins["kubeadm"], version)
        expected = images.expected_references(version, pins.etcd_image_tag, pins.coredns_version,
                                              pins.pause_version)
        if refs != expected:
            log(f"note: kubeadm lists {refs}, the pins give {expected}; following kubeadm")
        labels = {"org.opencontainers.image.source": oci.SOURCE,
                  "org.opencontainers.image.created": created}
        index = []
        img_dir = os.path.join(root, "images")
        for ref in refs + [router_ref, images.TEST_IMAGE]:
            extra = dict(labels)
            image = images.define(ref, bins, network_root, busybox_root, extra)
            filename = oci.archive_filename(ref)
            written = oci.write_archive(image, os.path.join(img_dir, filename), mtime, created)
            mirror.write_sha256(written.path, written.sha256, "sum")
            repo_name, tag = oci.split_reference(ref)
            kubeadm_listed = ref in refs
            index.append({"image": ref, "file": filename, "sha256": written.sha256, "size": written.size,
                          "manifest_digest": written.manifest_digest, "kubeadm": kubeadm_listed})
            artifacts.append(mirror.artifact(repo_name, tag, "image", mirror.image_path(filename),
                                             written.sha256, written.size, image=ref,
                                             manifest_digest=written.manifest_digest, kubeadm=kubeadm_listed))
            log(f"image {ref}: {written.size // 1024} KiB")
        write_atomic(os.path.join(img_dir, "index.json"), json.dumps(index, indent=2) + "\n")
        step("images", t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    timings["total"] = round(time.monotonic() - t_all, 1)
    manifest = {
        "schema": 1,
        "key": key,
        "kubernetes_version": version,
        "pins": {"etcd": pins.etcd_version, "etcd_image_tag": pins.etcd_image_tag,
                 "coredns": pins.coredns_version, "pause": pins.pause_version,
                 "crictl": crictl["version"] if crictl else None, "kube-router": router_version},
        "kubernetes_commit": kube.get("commit", ""),
        "kube_router_commit": router["commit"],
        "build_date": created,
        "go": go.version(),
        "debian": {"mirror": repo.mirror, "suite": repo.suite,
                   "packages": {p.name: p.version for p in network_pkgs + busybox_pkgs}},
        "test_image": {"image": images.TEST_IMAGE, "port": images.TEST_IMAGE_PORT},
        "timings_seconds": timings,
        "cpu_seconds": cpu,
        "artifacts": artifacts,
    }
    mirror.write_manifest(manifest_path, manifest)
    log(f"done in {timings['total']} s")
    return manifest_path
