"""Import the mirror's images into containerd and compare them with kubeadm's list.

Self-contained (Python 3 standard library, ``ctr``, optionally ``kubeadm``), so it
can be copied to a node and run there, e.g. from a Molecule verify step:

    python3 verify_images.py --mirror http://10.0.0.1:8080 --kubeadm /usr/bin/kubeadm \
        --json /tmp/images.json

It downloads ``images/index.json`` and the archives a node of version V needs
(checking each SHA-256): the entries without a ``kubernetes`` key and those whose
``kubernetes`` list names V (a mirror may carry two releases). It imports them
with ``ctr -n k8s.io images import`` (``--local`` on containerd 2), then checks that

* every image selected is known to containerd under its exact name, and
* ``kubeadm config images list --kubernetes-version V`` equals, as a set, the
  ``registry.k8s.io/`` images containerd holds in the ``k8s.io`` namespace.

Exit status 0 when every check passes; the JSON report lists each check and the
import time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def _fetch(mirror: str, rel: str, dest: str | None = None) -> bytes | str:
    if mirror.startswith(("http://", "https://")):
        url = mirror.rstrip("/") + "/" + rel
        with urllib.request.urlopen(url, timeout=300) as resp:
            if dest is None:
                return resp.read()
            with open(dest, "wb") as out:
                shutil.copyfileobj(resp, out)
            return dest
    path = os.path.join(mirror, rel)
    if dest is None:
        with open(path, "rb") as f:
            return f.read()
    return path


def _sha256(path: str) -> str:  # not common.sha256_file: this file is copied to the nodes alone
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ctr_major(ctr: list[str]) -> int:
    out = subprocess.run(ctr + ["--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"\bv?(\d+)\.\d+", out)
    return int(m.group(1)) if m else 1


def for_version(index: list[dict], version: str) -> list[dict]:
    """The entries a node of ``version`` imports: those without ``kubernetes`` (not kubeadm's) and
    those whose ``kubernetes`` names ``version`` (the roles select the same way)."""
    version = version if version.startswith("v") else "v" + version
    return [e for e in index if "kubernetes" not in e or version in e["kubernetes"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--mirror", required=True, help="mirror base URL or directory (holds images/index.json)")
    ap.add_argument("--address", default="/run/containerd/containerd.sock", help="containerd socket")
    ap.add_argument("--ctr", default="ctr")
    ap.add_argument("--kubeadm", default=shutil.which("kubeadm"), help="kubeadm binary (default: from PATH)")
    ap.add_argument("--kubernetes-version", help="default: the mirror's manifest.json or the kube-apiserver tag")
    ap.add_argument("--json", help="write the report here")
    args = ap.parse_args(argv)

    checks: list[dict] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail and not ok else ""), flush=True)

    index = json.loads(_fetch(args.mirror, "images/index.json"))
    version = args.kubernetes_version
    if not version:
        try:
            version = json.loads(_fetch(args.mirror, "manifest.json"))["kubernetes_version"]
        except (OSError, ValueError, KeyError):
            tags = [e["image"].rsplit(":", 1)[1] for e in index if "/kube-apiserver:" in e["image"]]
            version = max(tags, key=lambda t: [int(n) for n in re.findall(r"\d+", t)])  # the newest release

    index = for_version(index, version)
    ctr = [args.ctr, "--address", args.address, "--namespace", "k8s.io"]
    import_flags = ["--local"] if ctr_major([args.ctr]) >= 2 else []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for entry in index:
            path = _fetch(args.mirror, "images/" + entry["file"], os.path.join(tmp, entry["file"]))
            digest = _sha256(path)
            if digest != entry["sha256"]:
                check(f"{entry['file']} sha256", False, f"{digest} != {entry['sha256']}")
                continue
            proc = subprocess.run(ctr + ["images", "import"] + import_flags + [path],
                                  capture_output=True, text=True, check=False)
            check(f"import {entry['image']}", proc.returncode == 0, proc.stderr.strip()[-500:])
            if path.startswith(tmp):
                os.unlink(path)
    import_seconds = round(time.monotonic() - t0, 1)

    listed = subprocess.run(ctr + ["images", "ls", "-q"], capture_output=True, text=True, check=False)
    present = {line.strip() for line in listed.stdout.splitlines() if line.strip()}
    for entry in index:
        check(f"containerd knows {entry['image']}", entry["image"] in present)
    if args.kubeadm:
        out = subprocess.run([args.kubeadm, "config", "images", "list", "--kubernetes-version", version],
                             capture_output=True, text=True, check=False)
        wanted = {line.strip() for line in out.stdout.splitlines() if line.strip()}
        have = {ref for ref in present if ref.startswith("registry.k8s.io/")}
        check("kubeadm config images list == imported registry.k8s.io images", out.returncode == 0 and wanted == have,
              f"only kubeadm: {sorted(wanted - have)}; only containerd: {sorted(have - wanted)}")
    else:
        check("kubeadm available for the image list comparison", False, "pass --kubeadm")

    report = {"ok": all(c["ok"] for c in checks), "kubernetes_version": version, "images": len(index),
              "import_seconds": import_seconds, "checks": checks}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    print(json.dumps({"ok": report["ok"], "import_seconds": import_seconds}))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
