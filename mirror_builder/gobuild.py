"""Go builds from the Go module proxy, stamped like the upstream releases.

Each project is built in a small *consumer module* under the cache: its go.mod
requires the published module at the wanted version. Kubernetes' own go.mod
replaces its staging modules (k8s.io/api, ...) with local paths, which a
consumer ignores, so the consumer replaces each of them with its published
``v0.X.Y``. GOCACHE and GOMODCACHE live under ``$QUORUM_LAB_HOME`` so a
second build is warm.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import time
from typing import Callable

from mirror_builder import toolchain
from mirror_builder.common import sha256_file

KUBERNETES_COMMANDS = ("kubeadm", "kubelet", "kubectl", "kube-apiserver",
                       "kube-controller-manager", "kube-scheduler", "kube-proxy")
VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
HERE = os.path.dirname(os.path.abspath(__file__))


class GoBuildError(Exception):
    """The Go toolchain or a module cannot produce what was asked."""


@dataclasses.dataclass(frozen=True)
class ModuleInfo:
    path: str
    version: str
    time: str
    commit: str
    gomod: str
    dir: str


@dataclasses.dataclass(frozen=True)
class KubeadmPins:
    etcd_image_tag: str      # "3.6.6-0"
    coredns_version: str     # "v1.13.1"
    pause_version: str       # "3.10.1"

    @property
    def etcd_version(self) -> str:
        """Module version of etcd: "v3.6.6" for the image tag "3.6.6-0"."""
        return "v" + self.etcd_image_tag.split("-", 1)[0]


def parse_kubeadm_pins(constants_go: str) -> KubeadmPins:
    """Read etcd, CoreDNS and pause versions from kubeadm's constants.go."""
    def const(name: str) -> str:
        m = re.search(rf'^\s*{name}\s*=\s*"([^"]+)"', constants_go, re.M)
        if not m:
            raise GoBuildError(f"kubeadm constants.go has no {name}")
        return m.group(1)
    return KubeadmPins(const("DefaultEtcdVersion"), const("CoreDNSVersion"), const("PauseVersion"))


def parse_version(version: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", version)
    if not m:
        raise GoBuildError(f"'{version}' is not a release version like v1.35.8")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def staging_modules(kubernetes_gomod: str) -> list[str]:
    """Module paths that k8s.io/kubernetes' go.mod replaces with ./staging/... directories."""
    out = []
    for m in re.finditer(r"^\s*(?:replace\s+)?(\S+)\s+=>\s+\./staging/\S+", kubernetes_gomod, re.M):
        out.append(m.group(1))
    return sorted(set(out))


def go_directive(gomod: str) -> str:
    m = re.search(r"^go\s+(\S+)", gomod, re.M)
    return m.group(1) if m else "1.22"


def kubernetes_consumer_gomod(version: str, kubernetes_gomod: str) -> str:
    """go.mod of the consumer module that builds k8s.io/kubernetes at ``version``."""
    minor, patch = parse_version(version)[1:]
    staging = staging_modules(kubernetes_gomod)
    lines = ["module quorum.lab/kubernetes-build", "", f"go {go_directive(kubernetes_gomod)}", ""]
    m = re.search(r"^godebug\s+(.+)$", kubernetes_gomod, re.M)
    if m:
        lines += [f"godebug {m.group(1).strip()}", ""]
    lines += [f"require k8s.io/kubernetes {version}", "", "replace ("]
    lines += [f"\t{mod} => {mod} v0.{minor}.{patch}" for mod in staging]
    lines += [")", ""]
    return "\n".join(lines)


def kubernetes_ldflags(version: str, build_date: str, commit: str = "") -> str:
    """-ldflags as upstream's hack/lib/version.sh sets them (plus -s -w, as releases are stripped)."""
    major, minor = parse_version(version)[:2]
    flags = ["-s", "-w"]
    for pkg in VERSION_PACKAGES:
        values = {"gitVersion": version, "gitMajor": str(major), "gitMinor": str(minor),
                  "gitTreeState": "clean", "buildDate": build_date,
                  # Empty rather than the "$Format:%H$" placeholder when the proxy records no commit.
                  "gitCommit": commit}
        flags += [f"-X {pkg}.{k}={v}" for k, v in sorted(values.items())]
    return " ".join(flags)


class Go:
    """The go command with the lab's caches and a static, reproducible environment."""

    def __init__(self, cache_root: str, go: str | None = None, log=print) -> None:
        self.go = go or toolchain.find_go(cache_root, log)
        self.cache_root = cache_root
        self.log = log
        self.env = dict(os.environ)
        self.env.update({
            "GOCACHE": os.path.join(cache_root, "go-build"),
            "GOMODCACHE": os.path.join(cache_root, "gomod"),
            "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local"),
            "GOFLAGS": "-mod=mod -buildvcs=false",
            "CGO_ENABLED": "0",
            "GOOS": "linux",
            "GOARCH": "amd64",
            "GOWORK": "off",
        })

    def run(self, args: list[str], cwd: str, nice: bool = True) -> str:
        cmd = ([shutil.which("nice") or "nice", "-n", "10"] if nice else []) + [self.go] + args
        proc = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise GoBuildError(f"go {' '.join(args[:2])} in {cwd} failed:\n{proc.stderr[-4000:]}")
        return proc.stdout

    def version(self) -> str:
        return self.run(["version"], cwd=self.cache_root, nice=False).strip()

    def module(self, path: str, version: str) -> ModuleInfo:
        """Download ``path@version`` into the module cache and describe it."""
        os.makedirs(self.cache_root, exist_ok=True)
        proc = subprocess.run([self.go, "mod", "download", "-json", f"{path}@{version}"], cwd=self.cache_root,
                              env=self.env, capture_output=True, text=True, check=False)
        try:
            info = json.loads(proc.stdout)
        except ValueError as exc:
            raise GoBuildError(f"{path}@{version}: {proc.stderr.strip()[-2000:]}") from exc
        if info.get("Error") or proc.returncode != 0:
            raise GoBuildError(f"{path}@{version}: {info.get('Error') or proc.stderr.strip()[-2000:]}")
        commit = (info.get("Origin") or {}).get("Hash", "")
        published = info.get("Time", "")
        if (not commit or not published) and info.get("Info"):
            with open(info["Info"], encoding="utf-8") as f:
                extra = json.load(f)
            commit = commit or (extra.get("Origin") or {}).get("Hash", "")
            published = published or extra.get("Time", "")
        return ModuleInfo(path, info["Version"], published, commit, info["GoMod"], info["Dir"])


def _stamp_ok(outdir: str, stamp: dict, names: list[str]) -> bool:
    path = os.path.join(outdir, ".stamp.json")
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        if json.load(f) != stamp:
            return False
    return all(os.path.exists(os.path.join(outdir, n)) for n in names)


def _write_stamp(outdir: str, stamp: dict) -> None:
    with open(os.path.join(outdir, ".stamp.json"), "w", encoding="utf-8") as f:
        json.dump(stamp, f, indent=1, sort_keys=True)


def _consumer(srcdir: str, gomod: str, imports: list[str]) -> None:
    os.makedirs(srcdir, exist_ok=True)
    gomod_path = os.path.join(srcdir, "go.mod")
    current = open(gomod_path, encoding="utf-8").read() if os.path.exists(gomod_path) else None
    # Keep a tidied go.mod/go.sum when the wanted requirements did not change.
    marker = os.path.join(srcdir, ".wanted.mod")
    wanted_before = open(marker, encoding="utf-8").read() if os.path.exists(marker) else None
    if current is None or wanted_before != gomod:
        with open(gomod_path, "w", encoding="utf-8") as f:
            f.write(gomod)
        with open(marker, "w", encoding="utf-8") as f:
            f.write(gomod)
        if os.path.exists(os.path.join(srcdir, "go.sum")):
            os.unlink(os.path.join(srcdir, "go.sum"))
    body = "//go:build tools\n\npackage tools\n\nimport (\n" + "".join(f'\t_ "{i}"\n' for i in imports) + ")\n"
    with open(os.path.join(srcdir, "tools.go"), "w", encoding="utf-8") as f:
        f.write(body)


def _build(go: Go, srcdir: str, gomod: str, outdir: str, stamp: dict, ldflags: str,
           targets: list[tuple[str, list[str]]], what: str) -> float:
    """Build ``targets`` ((output name, or "" for every command into the directory; packages)) in
    the consumer module ``srcdir`` into ``outdir``, then stamp it; returns the seconds it took."""
    _consumer(srcdir, gomod, list(dict.fromkeys(pkg for _out, pkgs in targets for pkg in pkgs)))
    t0 = time.monotonic()
    go.run(["mod", "tidy"], cwd=srcdir)
    tmp = outdir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    go.log(f"building {what}")
    for out, pkgs in targets:
        go.run(["build", "-trimpath", "-ldflags", ldflags, "-o", os.path.join(tmp, out)] + pkgs, cwd=srcdir)
    shutil.rmtree(outdir, ignore_errors=True)
    os.replace(tmp, outdir)
    _write_stamp(outdir, stamp)
    return round(time.monotonic() - t0, 1)


def _requiring(name: str, info: ModuleInfo, modules: list[str]) -> str:
    """go.mod of a consumer module that requires ``modules`` at ``info``'s version."""
    with open(info.gomod, encoding="utf-8") as f:
        godir = go_directive(f.read())
    if len(modules) == 1:
        return f"module quorum.lab/{name}-build\n\ngo {godir}\n\nrequire {modules[0]} {info.version}\n"
    requires = "\n".join(f"\t{mod} {info.version}" for mod in sorted(modules))
    return f"module quorum.lab/{name}-build\n\ngo {godir}\n\nrequire (\n{requires}\n)\n"


def build_kubernetes(go: Go, version: str, outdir: str) -> dict:
    """Build the Kubernetes commands at ``version`` into ``outdir``; returns build facts."""
    info = go.module("k8s.io/kubernetes", version)
    with open(info.gomod, encoding="utf-8") as f:
        upstream_gomod = f.read()
    ldflags = kubernetes_ldflags(version, info.time, info.commit)
    stamp = {"module": f"k8s.io/kubernetes@{version}", "ldflags": ldflags, "go": go.version(),
             "commands": list(KUBERNETES_COMMANDS)}
    with open(os.path.join(info.dir, "cmd/kubeadm/app/constants/constants.go"), encoding="utf-8") as f:
        pins = parse_kubeadm_pins(f.read())
    facts = {"version": version, "commit": info.commit, "build_date": info.time, "pins": dataclasses.asdict(pins)}
    if _stamp_ok(outdir, stamp, list(KUBERNETES_COMMANDS)):
        return facts
    pkgs = [f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMMANDS]
    facts["seconds"] = _build(go, os.path.join(go.cache_root, "src", f"kubernetes-{version}"),
                              kubernetes_consumer_gomod(version, upstream_gomod), outdir, stamp, ldflags, [("", pkgs)],
                              f"Kubernetes {version} ({', '.join(KUBERNETES_COMMANDS)}): the cold build takes a while")
    return facts


def pins_for(go: Go, version: str) -> KubeadmPins:
    info = go.module("k8s.io/kubernetes", version)
    with open(os.path.join(info.dir, "cmd/kubeadm/app/constants/constants.go"), encoding="utf-8") as f:
        return parse_kubeadm_pins(f.read())


ETCD_COMMANDS = {"etcd": "go.etcd.io/etcd/server/v3", "etcdctl": "go.etcd.io/etcd/etcdctl/v3",
                 "etcdutl": "go.etcd.io/etcd/etcdutl/v3"}


def build_etcd(go: Go, version: str, outdir: str) -> dict:
    """etcd, etcdctl and etcdutl at ``version`` (e.g. v3.6.6), stamped with the git SHA."""
    infos = {name: go.module(mod, version) for name, mod in ETCD_COMMANDS.items()}
    commit = infos["etcd"].commit or infos["etcdctl"].commit
    ldflags = f"-X go.etcd.io/etcd/api/v3/version.GitSHA={commit[:9] or 'unknown'}"
    stamp = {"version": version, "ldflags": ldflags, "go": go.version()}
    facts = {"version": version, "commit": commit, "build_date": infos["etcd"].time}
    if _stamp_ok(outdir, stamp, list(ETCD_COMMANDS)):
        return facts
    facts["seconds"] = _build(go, os.path.join(go.cache_root, "src", f"etcd-{version}"),
                              _requiring("etcd", infos["etcd"], list(ETCD_COMMANDS.values())), outdir, stamp, ldflags,
                              [(name, [mod]) for name, mod in sorted(ETCD_COMMANDS.items())], f"etcd {version}")
    return facts


def _build_command(go: Go, name: str, module: str, version: str, outdir: str, package: str, what: str,
                   ldflags: Callable[[ModuleInfo], str]) -> dict:
    """One command ``name`` (package ``package`` of ``module`` at ``version``) into ``outdir``,
    unless its stamp says it is there; ``ldflags`` stamps it from the module's facts."""
    info = go.module(module, version)
    flags = ldflags(info)
    stamp = {"version": version, "ldflags": flags, "go": go.version()}
    facts = {"version": version, "commit": info.commit, "build_date": info.time}
    if _stamp_ok(outdir, stamp, [name]):
        return facts
    facts["seconds"] = _build(go, os.path.join(go.cache_root, "src", f"{name}-{version}"),
                              _requiring(name, info, [module]), outdir, stamp, flags, [(name, [package])], what)
    return facts


def build_coredns(go: Go, version: str, outdir: str) -> dict:
    """CoreDNS at ``version`` (e.g. v1.13.1), stamped as its Makefile does."""
    module = "github.com/coredns/coredns"
    return _build_command(go, "coredns", module, version, outdir, module, f"CoreDNS {version}",
                          lambda info: f"-s -w -X {module}/coremain.GitCommit={info.commit[:7]}")


def build_kube_router(go: Go, version: str, outdir: str) -> dict:
    """kube-router at ``version`` (e.g. v2.1.0), stamped as its Makefile does."""
    module = "github.com/cloudnativelabs/kube-router/v2"
    return _build_command(go, "kube-router", module, version, outdir, f"{module}/cmd/kube-router",
                          f"kube-router {version}",
                          lambda info: (f"-s -w -X {module}/pkg/version.Version={version} "
                                        f"-X {module}/pkg/version.BuildDate={info.time}"))


def build_pause(go: Go, version: str, outdir: str) -> dict:
    """The tiny static pause binary from mirror_builder/pause, reporting ``version``."""
    src = os.path.join(HERE, "pause")
    source_hash = sha256_file(os.path.join(src, "main.go"))
    ldflags = f"-s -w -X main.version={version}"
    stamp = {"version": version, "ldflags": ldflags, "source": source_hash, "go": go.version()}
    facts = {"version": version, "source_sha256": source_hash}
    if _stamp_ok(outdir, stamp, ["pause"]):
        return facts
    workdir = os.path.join(go.cache_root, "src", "pause")
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(src, workdir)
    tmp = outdir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    go.run(["build", "-trimpath", "-ldflags", ldflags, "-o", os.path.join(tmp, "pause"), "."], cwd=workdir)
    shutil.rmtree(outdir, ignore_errors=True)
    os.replace(tmp, outdir)
    _write_stamp(outdir, stamp)
    return facts


def crictl_candidates(kubernetes_version: str) -> list[str]:
    """cri-tools releases to try, best first: the same minor, the next, the previous."""
    minor = parse_version(kubernetes_version)[1]
    return [f"v1.{minor}.0", f"v1.{minor + 1}.0", f"v1.{minor - 1}.0"]


def build_crictl(go: Go, kubernetes_version: str, bin_root: str) -> dict | None:
    """crictl from sigs.k8s.io/cri-tools, the first candidate the proxy and checksum database serve.

    Returns None (and logs why) when none is available: crictl is a debugging aid, not required.
    """
    info = None
    for version in crictl_candidates(kubernetes_version):
        try:
            info = go.module("sigs.k8s.io/cri-tools", version)
            break
        except GoBuildError as exc:
            go.log(f"crictl {version} not usable: {str(exc).strip().splitlines()[-1][:200]}")
    if info is None:
        return None
    version = info.version
    outdir = os.path.join(bin_root, f"crictl-{version}")
    ldflags = f"-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version={version}"
    stamp = {"version": version, "ldflags": ldflags, "go": go.version()}
    facts = {"version": version, "commit": info.commit, "build_date": info.time, "dir": outdir}
    if _stamp_ok(outdir, stamp, ["crictl"]):
        return facts
    module = "sigs.k8s.io/cri-tools"
    facts["seconds"] = _build(go, os.path.join(go.cache_root, "src", f"crictl-{version}"),
                              _requiring("crictl", info, [module]), outdir, stamp, ldflags,
                              [("crictl", [f"{module}/cmd/crictl"])], f"crictl {version}")
    return facts
