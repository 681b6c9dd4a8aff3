"""Debian packages for image userland, fetched without touching the host's apt.

Chain of trust: the suite's InRelease is checked with ``gpgv`` against the
Debian archive keyring, the Packages index against the SHA256 in InRelease,
each .deb against the SHA256 in Packages. Files are cached by checksum.
"""

from __future__ import annotations

import dataclasses
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request

from mirror_builder.common import sha256_file

DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Never pulled in as dependencies: they only matter to a running dpkg/init system.
SKIP_DEPENDS = frozenset({
    "debconf", "debconf-2.0", "dpkg", "init-system-helpers", "perl-base", "adduser",
    "sysvinit-utils", "base-files", "debianutils", "usrmerge", "usr-is-merged",
})


class DebianError(Exception):
    """A package, index or signature cannot be obtained or trusted."""


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    architecture: str
    filename: str
    sha256: str
    size: int
    depends: str = ""
    pre_depends: str = ""
    provides: str = ""


def configured_mirror(sources_dir: str = "/etc/apt/sources.list.d") -> str:
    """The Debian mirror URI the host's apt uses (deb822 ``URIs:`` or one-line ``deb``)."""
    candidates: list[str] = []
    paths = []
    if os.path.isdir(sources_dir):
        paths = sorted(os.path.join(sources_dir, n) for n in os.listdir(sources_dir)
                       if n.endswith((".sources", ".list")))
    if os.path.exists("/etc/apt/sources.list"):
        paths.append("/etc/apt/sources.list")
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                m = re.match(r"^URIs:\s*(\S+)", line) or re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", line)
                if m:
                    candidates.append(m.group(1).rstrip("/"))
    for uri in candidates:
        if uri.endswith("/debian"):
            return uri
    return DEFAULT_MIRROR


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """Parse an RFC 822 style control file (Packages, InRelease body) into dicts."""
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
            current, key = {}, None
            continue
        if line[0] in " \t" and key is not None:
            current[key] += "\n" + line.strip()
            continue
        if ":" in line:
            key, value = line.split(":", 1)
            current[key] = value.strip()
    if current:
        out.append(current)
    return out


def parse_packages(text: str) -> dict[str, Package]:
    """Packages index -> {name: Package} (first stanza of a name wins)."""
    out: dict[str, Package] = {}
    for s in parse_stanzas(text):
        if "Package" not in s or "Filename" not in s:
            continue
        out.setdefault(s["Package"], Package(
            name=s["Package"], version=s.get("Version", ""), architecture=s.get("Architecture", ""),
            filename=s["Filename"], sha256=s.get("SHA256", ""), size=int(s.get("Size", "0")),
            depends=s.get("Depends", ""), pre_depends=s.get("Pre-Depends", ""),
            provides=s.get("Provides", ""),
        ))
    return out


def release_checksums(inrelease_text: str) -> dict[str, tuple[str, int]]:
    """SHA256 section of a Release file -> {path: (sha256, size)}."""
    out: dict[str, tuple[str, int]] = {}
    in_sha = False
    for line in inrelease_text.splitlines():
        if line.startswith("SHA256:"):
            in_sha = True
            continue
        if in_sha:
            if not line.startswith(" "):
                in_sha = False
                continue
            parts = line.split()
            if len(parts) == 3:
                out[parts[2]] = (parts[0], int(parts[1]))
    return out


def _names(field: str) -> list[list[str]]:
    """A Depends field -> list of alternative groups of bare package names."""
    groups = []
    for group in field.split(","):
        group = group.strip()
        if not group:
            continue
        alts = []
        for alt in group.split("|"):
            name = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", alt).strip()
            name = name.split(":", 1)[0]
            if name:
                alts.append(name)
        groups.append(alts)
    return groups


def resolve(roots: list[str], index: dict[str, Package], skip: frozenset[str] = SKIP_DEPENDS) -> list[Package]:
    """Roots plus their Depends/Pre-Depends closure (first satisfiable alternative), sorted."""
    providers: dict[str, str] = {}
    for pkg in index.values():
        for group in _names(pkg.provides):
            for name in group:
                providers.setdefault(name, pkg.name)
    chosen: dict[str, Package] = {}
    todo = list(roots)
    for root in roots:
        if root not in index:
            raise DebianError(f"package '{root}' is not in the index")
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        pkg = index[name]
        chosen[name] = pkg
        for group in _names(pkg.pre_depends) + _names(pkg.depends):
            if any(alt in skip for alt in group):
                continue
            pick = None
            for alt in group:
                if alt in chosen or alt in index:
                    pick = alt
                    break
                if alt in providers:
                    pick = providers[alt]
                    break
            if pick is None:
                raise DebianError(f"'{name}' depends on '{' | '.join(group)}', which is not in the index")
            todo.append(pick)
    return [chosen[n] for n in sorted(chosen)]


def _download(url: str, dest: str) -> None:
    tmp = dest + ".part"
    with urllib.request.urlopen(url, timeout=120) as resp, open(tmp, "wb") as out:
        shutil.copyfileobj(resp, out)
    os.replace(tmp, dest)


class Repository:
    """One suite/component/architecture of a Debian mirror, cached under ``cache_dir``."""

    def __init__(self, cache_dir: str, mirror: str | None = None, suite: str = "trixie",
                 component: str = "main", arch: str = "amd64", keyring: str = KEYRING) -> None:
        self.mirror = (mirror or configured_mirror()).rstrip("/")
        self.suite, self.component, self.arch, self.keyring = suite, component, arch, keyring
        self.cache_dir = cache_dir
        self._index: dict[str, Package] | None = None

    def index(self) -> dict[str, Package]:
        if self._index is not None:
            return self._index
        meta = os.path.join(self.cache_dir, "dists", self.suite)
        os.makedirs(meta, exist_ok=True)
        inrelease = os.path.join(meta, "InRelease")
        packages = os.path.join(meta, f"Packages-{self.component}-{self.arch}")
        rel_path = f"{self.component}/binary-{self.arch}/Packages.xz"
        if not os.path.exists(packages):
            _download(f"{self.mirror}/dists/{self.suite}/InRelease", inrelease)
            proc = subprocess.run(["gpgv", "--keyring", self.keyring, inrelease],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise DebianError(f"InRelease of {self.suite} at {self.mirror} failed signature check: "
                                  f"{proc.stderr.strip()}")
            with open(inrelease, encoding="utf-8") as f:
                sums = release_checksums(f.read())
            if rel_path not in sums:
                raise DebianError(f"{rel_path} is not listed in InRelease of {self.suite}")
            xz = packages + ".xz"
            _download(f"{self.mirror}/dists/{self.suite}/{rel_path}", xz)
            if sha256_file(xz) != sums[rel_path][0]:
                raise DebianError(f"{rel_path} does not match the SHA256 in InRelease")
            with lzma.open(xz) as src, open(packages + ".tmp", "wb") as out:
                shutil.copyfileobj(src, out)
            os.replace(packages + ".tmp", packages)
            os.unlink(xz)
        with open(packages, encoding="utf-8", errors="replace") as f:
            self._index = parse_packages(f.read())
        return self._index

    def fetch(self, pkg: Package) -> str:
        """Path of the verified .deb of ``pkg`` in the cache (downloaded when missing)."""
        dest = os.path.join(self.cache_dir, "pool", pkg.sha256[:2], os.path.basename(pkg.filename))
        if os.path.exists(dest) and sha256_file(dest) == pkg.sha256:
            return dest
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        _download(f"{self.mirror}/{pkg.filename}", dest)
        if sha256_file(dest) != pkg.sha256:
            os.unlink(dest)
            raise DebianError(f"{pkg.filename} does not match the SHA256 in the Packages index")
        return dest


PRUNE_PREFIXES = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
                  "usr/share/lintian", "usr/share/bug", "etc/init.d", "usr/lib/systemd",
                  "etc/systemd", "usr/share/bash-completion", "usr/share/zsh")


def extract(debs: list[str], root: str) -> None:
    """Unpack ``debs`` into ``root`` with ``dpkg-deb -x`` (no maintainer scripts) and prune docs."""
    os.makedirs(root, exist_ok=True)
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    for prefix in PRUNE_PREFIXES:
        path = os.path.join(root, prefix)
        if os.path.islink(path) or os.path.isfile(path):
            os.unlink(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)


def userland(repo: Repository, roots: list[str], workdir: str) -> tuple[str, list[Package]]:
    """Resolve, fetch and unpack ``roots``; returns (root directory, packages)."""
    pkgs = resolve(roots, repo.index())
    debs = [repo.fetch(p) for p in pkgs]
    root = tempfile.mkdtemp(prefix="rootfs-", dir=workdir)
    extract(debs, root)
    return root, pkgs
