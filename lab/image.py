"""Guest image: Debian trixie by mmdebstrap, ext4 in a qcow2 base, kernel and initrd beside it.

The image is cached under $QUORUM_LAB_HOME/images/<recipe hash>/ and rebuilt only
when the recipe (suite, packages, guest files, builder version) changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab import config
from lab.util import file_lock, log, put_file, run, tail
from mirror_builder.common import sha256_file, stable_hash, write_atomic

# Bump when the build steps below change in a way the recipe does not show.
BUILDER_VERSION = 3

GUEST_DIR = Path(__file__).resolve().parent / "guest"

IMAGE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "udev",
    "dbus",
    "libnss-myhostname",
    "openssh-server",
    "python3",
    "python3-apt",
    "linux-image-amd64",
    "initramfs-tools",
    "zstd",
    "iproute2",
    "iputils-ping",
    "ca-certificates",
    "procps",
    "kmod",
)

# Units that only cost time or wake the guest up for nothing.
MASKED_UNITS = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "man-db.timer",
    "dpkg-db-backup.timer",
    "systemd-timesyncd.service",
    "getty@tty1.service",
    "systemd-binfmt.service",
    "proc-sys-fs-binfmt_misc.automount",
)

DISK_SIZE = "8G"


@dataclass(frozen=True)
class Image:
    """A built image: the files a VM boots from."""

    directory: Path
    key: str

    @property
    def base(self) -> Path:
        return self.directory / "base.qcow2"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def manifest(self) -> Path:
        return self.directory / "image.json"

    def complete(self) -> bool:
        return self.manifest.is_file() and self.base.is_file() and self.kernel.is_file() and self.initrd.is_file()


def debian_mirror(sources_dir: Path = Path("/etc/apt/sources.list.d"), env: dict[str, str] | None = None) -> str:
    """The Debian mirror the host uses (deb822 URIs line ending in /debian), or the override."""
    env = os.environ if env is None else env
    if env.get("QUORUM_LAB_DEBIAN_MIRROR"):
        return env["QUORUM_LAB_DEBIAN_MIRROR"].rstrip("/")
    candidates: list[Path] = sorted(sources_dir.glob("*.sources")) if sources_dir.is_dir() else []
    for path in candidates:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("URIs:"):
                for uri in line.split()[1:]:
                    if uri.rstrip("/").endswith("/debian"):
                        return uri.rstrip("/")
    legacy = sources_dir.parent / "sources.list"
    if legacy.is_file():
        for line in legacy.read_text(errors="replace").splitlines():
            parts = line.split()
            if parts and parts[0] == "deb":
                uris = [p for p in parts[1:] if p.startswith("http")]
                if uris and uris[0].rstrip("/").endswith("/debian"):
                    return uris[0].rstrip("/")
    return "http://deb.debian.org/debian"


def guest_sources() -> str:
    """deb822 sources of the guests: the lab mirror only."""
    return (
        "Types: deb\n"
        f"URIs: {config.MIRROR_URL}/debian\n"
        f"Suites: {config.SUITE}\n"
        "Components: main\n"
        "Trusted: yes\n"
    )


def recipe(packages: tuple[str, ...] = IMAGE_PACKAGES) -> dict[str, object]:
    """Everything that determines the image's content (the cache key's input)."""
    guest_files = {p.name: sha256_file(p) for p in sorted(GUEST_DIR.iterdir()) if p.is_file()}
    return {
        "builder": BUILDER_VERSION,
        "suite": config.SUITE,
        "arch": "amd64",
        "packages": sorted(packages),
        "masked": sorted(MASKED_UNITS),
        "guest_files": guest_files,
        "sources": guest_sources(),
        "disk": DISK_SIZE,
    }


def image_key(rec: dict[str, object]) -> str:
    return stable_hash(rec)


def current(paths: config.Paths) -> Image:
    rec = recipe()
    key = image_key(rec)
    return Image(paths.images / key, key)


def ensure(paths: config.Paths, *, force: bool = False) -> Image:
    """Build the image unless a complete one with the same recipe exists (one builder at a time)."""
    img = current(paths)
    if img.complete() and not force:
        log(f"image {img.key} cached at {img.directory}")
        return img
    with file_lock(paths.images / ".build.lock", "the guest image"):
        return _ensure_locked(paths, force=force)


def _ensure_locked(paths: config.Paths, *, force: bool) -> Image:
    rec = recipe()
    key = image_key(rec)
    img = Image(paths.images / key, key)
    if img.complete() and not force:
        log(f"image {key} cached at {img.directory}")
        return img
    if shutil.which("mmdebstrap") is None:
        raise config.LabError("mmdebstrap is not installed: run scripts/host-deps.sh (or apt-get install mmdebstrap)")
    t0 = time.monotonic()
    work = paths.images / f".build-{key}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    root = work / "root"
    mirror = debian_mirror()
    log(f"building image {key}: Debian {config.SUITE} from {mirror} (a few minutes)")
    build_log = paths.images / f"build-{key}.log"
    cmd = [
        "nice",
        "mmdebstrap",
        "--mode=root",
        "--variant=minbase",
        "--format=directory",
        "--include=" + ",".join(IMAGE_PACKAGES),
        "--aptopt=Acquire::Retries \"3\"",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-exclude=/usr/share/info/*",
        config.SUITE,
        str(root),
        f"deb {mirror} {config.SUITE} main",
    ]
    for attempt in (1, 2):  # a mirror hiccup should not cost a whole lab run
        if root.exists():
            shutil.rmtree(root)
        with build_log.open("w" if attempt == 1 else "a") as fh:
            fh.write(f"=== attempt {attempt}\n")
            fh.flush()
            rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False).returncode
        if rc == 0:
            break
        log(f"mmdebstrap failed (exit {rc}, attempt {attempt}); log: {build_log}")
        if attempt == 2:
            raise config.LabError(f"image build failed (mmdebstrap exit {rc}); last lines of {build_log}:\n" + tail(build_log, 40))
    _customize(root)
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    initrds = sorted((root / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise config.LabError(f"image build: no kernel or initrd in {root}/boot")
    shutil.copy2(kernels[-1], work / "vmlinuz")
    shutil.copy2(initrds[-1], work / "initrd.img")
    raw = work / "root.ext4"
    run(["mkfs.ext4", "-q", "-F", "-L", "labroot", "-E", "root_owner=0:0", "-d", str(root), str(raw), DISK_SIZE], quiet=True)
    run(["nice", "qemu-img", "convert", "-O", "qcow2", str(raw), str(work / "base.qcow2")], quiet=True)
    raw.unlink()
    shutil.rmtree(root)
    seconds = round(time.monotonic() - t0, 1)
    write_atomic(
        work / "image.json",
        json.dumps({"key": key, "recipe": rec, "mirror": mirror, "kernel": kernels[-1].name, "build_seconds": seconds}, indent=2),
    )
    if img.directory.exists():
        shutil.rmtree(img.directory)
    work.rename(img.directory)
    log(f"image {key} built in {seconds} s")
    return img


def _customize(root: Path) -> None:
    """Lab-specific configuration written into the image root."""

    def put(rel: str, text: str, mode: int = 0o644) -> None:
        put_file(root, rel, text, mode)

    def guest(name: str) -> str:
        return (GUEST_DIR / name).read_text()

    put("/usr/local/sbin/lab-identity", guest("lab-identity"), 0o755)
    put("/etc/systemd/system/lab-identity.service", guest("lab-identity.service"))
    put("/etc/ssh/sshd_config.d/lab.conf", guest("sshd-lab.conf"))
    put("/etc/apt/apt.conf.d/90lab", guest("apt-lab.conf"))
    put("/etc/systemd/journald.conf.d/lab.conf", guest("journald-lab.conf"))
    put("/etc/fstab", "LABEL=labroot / ext4 rw,discard,errors=remount-ro 0 1\n")
    put("/etc/apt/sources.list.d/lab.sources", guest_sources())
    for leftover in ("etc/apt/sources.list", "etc/apt/sources.list.d/debian.sources"):
        (root / leftover).unlink(missing_ok=True)
    # unique per VM: host keys (lab-identity makes them), machine-id (systemd makes it)
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    put("/etc/machine-id", "")
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    (root / "etc/hostname").unlink(missing_ok=True)
    # no DNS in the lab: a resolver address that exists (CoreDNS needs one) and answers nothing
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    put("/etc/resolv.conf", f"nameserver {config.GATEWAY}\n")
    put("/etc/hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
    run(["chroot", str(root), "systemctl", "enable", "lab-identity.service", "systemd-networkd.service",
         "systemd-network-generator.service"], quiet=True)
    run(["chroot", str(root), "systemctl", "mask", *MASKED_UNITS], quiet=True)
    run(["chroot", str(root), "passwd", "-l", "root"], quiet=True)
    run(["chroot", str(root), "systemctl", "set-default", "multi-user.target"], quiet=True)
    # first boot must not run ldconfig/update-done (ConditionNeedsUpdate): mark /etc and /var current
    for stamp in ("etc/.updated", "var/.updated"):
        put(stamp, "# written by the quorum.k8s lab image build\n")
    _forget_package_lists(root)


def _forget_package_lists(root: Path) -> None:
    """Nothing of the build's apt state may pass for fresh in the guest.

    The lists came from the build mirror, not the guest's sources; a young lists directory or an
    update stamp made `cache_valid_time` skip the update, and the first install found nothing.
    """
    for rel in ("var/lib/apt/lists", "var/cache/apt"):
        for entry in (root / rel).rglob("*"):
            if entry.is_file() and entry.name != "lock":
                entry.unlink()
    (root / "var/lib/apt/periodic/update-success-stamp").unlink(missing_ok=True)
    # the directories' own times are what apt's users read as "last update": make them ancient
    for rel in ("var/lib/apt/lists", "var/lib/apt/lists/partial", "var/cache/apt"):
        if (root / rel).is_dir():
            os.utime(root / rel, (0, 0))
