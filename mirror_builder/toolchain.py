"""Find a Go toolchain, or fetch one from the Go module proxy.

Go publishes its toolchains as modules (``golang.org/toolchain``), which is how
``GOTOOLCHAIN`` switches versions. On a machine without a recent enough ``go``
the zip is fetched from ``$GOPROXY`` and checked against the checksum database
(through the proxy's ``/sumdb/`` endpoint) before it is unpacked.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import urllib.request
import zipfile

FALLBACK_GO = "1.26.8"
MIN_GO = (1, 25)


class ToolchainError(Exception):
    """No usable Go toolchain and none could be fetched."""


def parse_go_version(text: str) -> tuple[int, int, int] | None:
    m = re.search(r"go(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def zip_h1(path: str) -> str:
    """The ``h1:`` hash of a module zip (golang.org/x/mod/sumdb/dirhash Hash1)."""
    summary = hashlib.sha256()
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith("/"):
                continue
            digest = hashlib.sha256(zf.read(name)).hexdigest()
            summary.update(f"{digest}  {name}\n".encode())
    return "h1:" + base64.b64encode(summary.digest()).decode()


def sumdb_h1(lookup_body: str, module: str, version: str) -> str:
    for line in lookup_body.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == module and parts[1] == version:
            return parts[2]
    raise ToolchainError(f"checksum database has no hash for {module}@{version}")


def proxy() -> str:
    """The first HTTP(S) entry of $GOPROXY (default https://proxy.golang.org)."""
    for entry in os.environ.get("GOPROXY", "https://proxy.golang.org").split(","):
        if entry.startswith("http"):
            return entry.rstrip("/")
    return "https://proxy.golang.org"


def _usable(go: str) -> bool:
    try:
        out = subprocess.run([go, "version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return False
    version = parse_go_version(out)
    return version is not None and version[:2] >= MIN_GO


def local_go(cache_dir: str) -> str | None:
    """Path of a go binary >= MIN_GO on this machine: QUORUM_GO, PATH, /usr/local/go or the cache."""
    candidates = [os.environ.get("QUORUM_GO"), shutil.which("go"), "/usr/local/go/bin/go",
                  os.path.join(cache_dir, "toolchain", f"go{FALLBACK_GO}", "bin", "go")]
    for go in candidates:
        if go and os.path.exists(go) and _usable(go):
            return go
    return None


def find_go(cache_dir: str, log=print) -> str:
    """A local go binary (local_go), or Go FALLBACK_GO fetched from the proxy."""
    return local_go(cache_dir) or fetch_go(cache_dir, FALLBACK_GO, log)


def fetch_go(cache_dir: str, version: str, log=print) -> str:
    module, modver = "golang.org/toolchain", f"v0.0.1-go{version}.linux-amd64"
    dest = os.path.join(cache_dir, "toolchain", f"go{version}")
    zpath = dest + ".zip"
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    base = proxy()
    log(f"fetching Go {version} from {base}")
    with urllib.request.urlopen(f"{base}/{module}/@v/{modver}.zip", timeout=600) as resp, \
            open(zpath + ".part", "wb") as out:
        shutil.copyfileobj(resp, out)
    os.replace(zpath + ".part", zpath)
    with urllib.request.urlopen(f"{base}/sumdb/sum.golang.org/lookup/{module}@{modver}", timeout=60) as resp:
        want = sumdb_h1(resp.read().decode(), module, modver)
    got = zip_h1(zpath)
    if got != want:
        os.unlink(zpath)
        raise ToolchainError(f"Go toolchain zip hash {got} != checksum database {want}")
    prefix = f"{module}@{modver}/"
    shutil.rmtree(dest, ignore_errors=True)
    with zipfile.ZipFile(zpath) as zf:
        for info in zf.infolist():
            if not info.filename.startswith(prefix) or info.filename.endswith("/"):
                continue
            rel = info.filename[len(prefix):]
            target = os.path.join(dest, rel)
            if os.path.commonpath([dest, os.path.abspath(target)]) != dest:
                raise ToolchainError(f"unsafe path in toolchain zip: {info.filename}")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(target, mode or (0o755 if "/bin/" in "/" + rel or "/tool/" in rel else 0o644))
    os.unlink(zpath)
    go = os.path.join(dest, "bin", "go")
    if not _usable(go):
        raise ToolchainError(f"fetched Go at {go} does not run")
    return go
