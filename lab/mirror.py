"""The guests' apt repository: $QUORUM_LAB_HOME/mirror/debian (suite trixie, component main).

Packages come from lab/mirror-packages.txt plus the image's own packages, with
their whole dependency closure, resolved against trixie by apt with private
directories (the host's apt configuration is never touched). Debian's
signatures are checked on download; the lab repository itself is not signed:
the guests mark it ``Trusted: yes`` (it is reachable only inside the lab's
network namespace).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from pathlib import Path
from urllib.parse import unquote

from lab import config, image
from lab.util import file_lock, log, run
from mirror_builder.common import stable_hash, write_atomic

PACKAGES_FILE = Path(__file__).resolve().parent / "mirror-packages.txt"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
BUILDER_VERSION = 1


def read_packages(path: Path = PACKAGES_FILE) -> list[str]:
    """Package names from the list file: one per line, '#' comments, blanks ignored."""
    names: list[str] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not all(c.isalnum() or c in "+-.:" for c in line):
            raise config.LabError(f"{path}: {line!r} is not a Debian package name")
        if line not in names:
            names.append(line)
    return names


def mirror_key(packages: list[str], upstream: str) -> str:
    return stable_hash({"builder": BUILDER_VERSION, "suite": config.SUITE, "packages": sorted(set(packages)), "upstream": upstream})


def apt_options(aptroot: Path) -> list[str]:
    """apt options that confine apt to a private root (no host state, no host config)."""
    return [
        "-o", f"Dir={aptroot}",
        "-o", f"Dir::Etc={aptroot}/etc/apt",
        "-o", f"Dir::State={aptroot}/var/lib/apt",
        "-o", f"Dir::State::status={aptroot}/var/lib/dpkg/status",
        "-o", f"Dir::Cache={aptroot}/var/cache/apt",
        "-o", "APT::Architecture=amd64",
        "-o", "APT::Architectures::=amd64",
        "-o", "APT::Install-Recommends=false",
        "-o", "APT::Install-Suggests=false",
        "-o", "Acquire::Languages=none",
        "-o", "Acquire::Retries=3",
        "-o", "Debug::NoLocking=1",
    ]


def current_key() -> str:
    packages = sorted(set(read_packages()) | set(image.IMAGE_PACKAGES))
    return mirror_key(packages, image.debian_mirror())


def is_current(paths: config.Paths) -> bool:
    stamp = paths.debian_repo / "lab-mirror.json"
    try:
        return bool(json.loads(stamp.read_text()).get("key") == current_key())
    except (OSError, json.JSONDecodeError):
        return False


def ensure(paths: config.Paths, *, force: bool = False) -> Path:
    """Build or reuse the apt repository; return its root directory (one builder at a time)."""
    if not force and is_current(paths):
        log(f"apt mirror cached at {paths.debian_repo}")
        return paths.debian_repo
    with file_lock(paths.cache / "apt-mirror.lock", "the apt mirror"):
        return _ensure_locked(paths, force=force)


def _ensure_locked(paths: config.Paths, *, force: bool) -> Path:
    packages = sorted(set(read_packages()) | set(image.IMAGE_PACKAGES))
    upstream = image.debian_mirror()
    key = mirror_key(packages, upstream)
    repo = paths.debian_repo
    if not force and is_current(paths):
        log(f"apt mirror {key} cached at {repo}")
        return repo
    t0 = time.monotonic()
    log(f"building apt mirror {key}: {len(packages)} packages and their dependencies from {upstream}")
    aptroot = paths.cache / "apt-trixie"
    for sub in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d",
                "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"):
        (aptroot / sub).mkdir(parents=True, exist_ok=True)
    (aptroot / "var/lib/dpkg/status").write_text("")  # nothing installed: download the whole closure
    (aptroot / "etc/apt/sources.list").write_text(f"deb [signed-by={KEYRING}] {upstream} {config.SUITE} main\n")
    opts = apt_options(aptroot)
    run(["apt-get", *opts, "-q", "update"], quiet=True)
    run(["nice", "apt-get", *opts, "-q", "-y", "--download-only", "install", *packages], quiet=True)
    archives = aptroot / "var/cache/apt/archives"
    debs = sorted(archives.glob("*.deb"))
    # which debs does the current resolution want? (older ones stay in the cache but not in the repo)
    wanted = _resolved_files(opts, packages)
    # build beside the live repository and swap, so running labs never see a half-built one
    staging = repo.with_name(".debian-new")
    if staging.exists():
        shutil.rmtree(staging)
    pool = staging / "pool" / "main"
    pool.mkdir(parents=True)
    count = 0
    for deb in debs:
        if deb_identity(deb.name) not in wanted:
            continue
        target = pool / deb.name
        try:
            os.link(deb, target)
        except OSError:
            shutil.copy2(deb, target)
        count += 1
    _index(staging)
    write_atomic(staging / "lab-mirror.json", json.dumps({"key": key, "packages": packages, "debs": count, "upstream": upstream,
                                                          "build_seconds": round(time.monotonic() - t0, 1)}, indent=2))
    old = repo.with_name(".debian-old")
    if old.exists():
        shutil.rmtree(old)
    if repo.exists():
        repo.rename(old)
    staging.rename(repo)
    if old.exists():
        shutil.rmtree(old)
    log(f"apt mirror built: {count} .deb files in {round(time.monotonic() - t0, 1)} s")
    return repo


def _resolved_files(opts: list[str], packages: list[str]) -> set[tuple[str, str]]:
    """(name, version) of every package a fresh install of ``packages`` takes (apt simulation)."""
    sim = run(["apt-get", *opts, "-q", "-s", "install", *packages], capture=True).stdout
    return parse_simulation(sim)


def parse_simulation(text: str) -> set[tuple[str, str]]:
    """Parse ``Inst name (version suite [arch])`` lines of ``apt-get -s``."""
    wanted = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "Inst":
            wanted.add((parts[1], parts[2].lstrip("(")))
    return wanted


def deb_identity(filename: str) -> tuple[str, str]:
    """(name, version) of a pool file name such as ``libc6_2.41-12_amd64.deb``."""
    stem = filename[:-4] if filename.endswith(".deb") else filename
    name, version, _arch = stem.split("_", 2)
    return name, unquote(version)


def _index(repo: Path) -> None:
    dist = repo / "dists" / config.SUITE / "main" / "binary-amd64"
    dist.mkdir(parents=True, exist_ok=True)
    packages = run(["apt-ftparchive", "packages", "pool/main"], capture=True, cwd=repo).stdout
    (dist / "Packages").write_text(packages)
    with gzip.open(dist / "Packages.gz", "wt") as fh:
        fh.write(packages)
    release = run(
        [
            "apt-ftparchive",
            "-o", "APT::FTPArchive::Release::Origin=quorum-lab",
            "-o", "APT::FTPArchive::Release::Label=quorum-lab",
            "-o", f"APT::FTPArchive::Release::Suite={config.SUITE}",
            "-o", f"APT::FTPArchive::Release::Codename={config.SUITE}",
            "-o", "APT::FTPArchive::Release::Architectures=amd64",
            "-o", "APT::FTPArchive::Release::Components=main",
            "release", f"dists/{config.SUITE}",
        ],
        capture=True,
        cwd=repo,
    ).stdout
    (repo / "dists" / config.SUITE / "Release").write_text(release)
