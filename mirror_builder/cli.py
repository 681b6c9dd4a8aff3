"""Command line: ``python3 -m mirror_builder {build,verify,version,path}`` (run from the collection root)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

from mirror_builder import build as build_mod
from mirror_builder import debian, images, mirror, toolchain
from mirror_builder import verify as verify_mod
from mirror_builder.config import DEFAULT_HOME, KUBERNETES_VERSION, UPGRADE_FROM_VERSION, Settings, SettingsError

DESCRIPTION = """\
Build the artifact mirror of quorum.k8s for an offline or air-gapped site: Kubernetes
(kubeadm, kubelet, kubectl, control-plane binaries), etcd, CoreDNS and crictl compiled from
the Go module proxy, their container images as OCI archives, all laid out like the upstream
download sites with a .sha256 beside every file and manifest.json at the top. Run it on a
connected Linux amd64 machine, then copy HOME/mirror across the air gap (docs/offline.md)."""

EPILOG = f"""\
environment (each flag wins over its variable):
  QUORUM_LAB_HOME                 --home
  QUORUM_KUBERNETES_VERSION       --kubernetes-version
  QUORUM_ARTIFACTS_UPGRADE_FROM   --upgrade-from (1 or yes: the pin, {UPGRADE_FROM_VERSION}; or a version)
  QUORUM_ARTIFACTS_DEBIAN_MIRROR  --debian-mirror
  QUORUM_ARTIFACTS_DEBIAN_SUITE   --debian-suite
  GOPROXY                         the Go module proxy (default https://proxy.golang.org)
  QUORUM_GO                       a go binary to use (Go >= {'.'.join(map(str, toolchain.MIN_GO))}; without one on PATH
                                  Go {toolchain.FALLBACK_GO} is fetched from the proxy and checked)

examples:
  python3 -m mirror_builder build --home /srv/quorum --dry-run   what would be built, nothing contacted
  python3 -m mirror_builder build --home /srv/quorum             last line: /srv/quorum/mirror/manifest.json
  python3 -m mirror_builder build --home /srv/quorum --upgrade-from   also {UPGRADE_FROM_VERSION}, to upgrade from
  python3 -m mirror_builder verify --home /srv/quorum            every hash, version, image and archive
"""

# What a cold build needs beyond Python (docs/offline.md, "Building the mirror for a site").
TOOLS = ("dpkg-deb", "gpgv")
COLD_BUILD_GIB = 9


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python3 -m mirror_builder", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=fmt)
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("--home", metavar="DIR",
                      help=f"where the caches (DIR/cache/artifacts, ~8 GiB) and the mirror (DIR/mirror) go "
                      f"(default: $QUORUM_LAB_HOME or {DEFAULT_HOME})")
    version = argparse.ArgumentParser(add_help=False)
    version.add_argument("--kubernetes-version", metavar="V",
                         help=f"the release to build, e.g. v1.35.6 (default: the collection's pin, {KUBERNETES_VERSION})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_build = sub.add_parser("build", parents=[home, version], formatter_class=fmt,
                             help="build the mirror, or reuse it when it is up to date; prints manifest.json's path last",
                             description="Build the mirror under HOME/mirror, or reuse it when its manifest.json\n"
                             "was built by this recipe for this version (and carries the --upgrade-from release when\n"
                             "asked for). Prints manifest.json's path last.")
    p_build.add_argument("--debian-mirror", metavar="URL",
                         help="Debian mirror for the images' userland (iptables, busybox) (default: the one in this "
                         "machine's apt sources, else http://deb.debian.org/debian)")
    p_build.add_argument("--debian-suite", metavar="SUITE", help="Debian suite of that userland (default: trixie)")
    p_build.add_argument("--upgrade-from", metavar="V", nargs="?", const="1",
                         help="also build release V, the one an upgrade to the main release starts from: older, "
                         f"at most one minor (default V: the collection's pin, {UPGRADE_FROM_VERSION}; or "
                         "QUORUM_ARTIFACTS_UPGRADE_FROM=1 or =V). Costs a second Kubernetes build; a mirror that "
                         "has it stays up to date for builds without it")
    p_build.add_argument("--force", action="store_true", help="publish the mirror files again even when up to date")
    p_build.add_argument("--dry-run", action="store_true",
                         help="say what would be built, where, with which Go and Debian mirror, and whether the "
                         "tools are there; contacts nothing, writes nothing (exit 1 when something is missing)")
    p_verify = sub.add_parser("verify", parents=[home], help="check hashes, versions, static linking and images of a built mirror")
    p_verify.add_argument("--manifest", metavar="FILE", help="manifest.json to check (default: HOME/mirror/manifest.json)")
    sub.add_parser("version", parents=[version], help="print the Kubernetes version that would be built")
    sub.add_parser("path", parents=[home], help="print the path of manifest.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(getattr(args, "kubernetes_version", None), home=getattr(args, "home", None),
                                     debian_mirror=getattr(args, "debian_mirror", None),
                                     debian_suite=getattr(args, "debian_suite", None),
                                     # only a build reads QUORUM_ARTIFACTS_UPGRADE_FROM
                                     upgrade_from=args.upgrade_from if args.command == "build" else "")
    except SettingsError as exc:
        print(f"mirror build refused: {exc}", file=sys.stderr)
        return 2
    manifest = os.path.join(settings.mirror_dir, "manifest.json")
    if args.command == "version":
        print(settings.kubernetes_version)
        return 0
    if args.command == "path":
        print(manifest)
        return 0
    if args.command == "build" and args.dry_run:
        return dry_run(settings, manifest)
    if args.command == "build":
        try:
            path = build_mod.build(settings, force=args.force)
        except Exception as exc:  # one clear line for make, the traceback is noise here
            print(f"mirror build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(path)
        return 0
    manifest = args.manifest or manifest
    if not os.path.isfile(manifest):
        print(f"no manifest.json at {manifest}: build the mirror first, or name it with --manifest", file=sys.stderr)
        return 1
    result = verify_mod.verify(manifest)
    for check in result["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        detail = f"  ({check['detail']})" if check["detail"] and not check["ok"] else ""
        print(f"{mark} {check['name']}{detail}")
    print(json.dumps({"ok": result["ok"], "failed": sum(not c["ok"] for c in result["checks"])}))
    return 0 if result["ok"] else 1


def dry_run(settings: Settings, manifest: str) -> int:
    """The plan of a build, from local facts only."""
    key = build_mod.cache_key(settings)
    if mirror.is_warm(settings.mirror_dir, mirror.load_manifest(manifest), key, settings.releases):
        state = f"up to date (key {key}): a build only checks it"
    elif os.path.exists(manifest):
        state = "built by another version or recipe, or without a release asked for: a build publishes it again"
    else:
        state = "absent: a build makes it"
    go = toolchain.local_go(settings.cache_dir)
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not os.path.isfile(debian.KEYRING):
        missing.append(f"{debian.KEYRING} (package debian-archive-keyring)")
    existing = settings.home
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    free_gib = shutil.disk_usage(existing).free / (1 << 30)
    packages = " ".join(images.NETWORK_DEBS + images.TEST_IMAGE_DEBS)
    lines = [
        ("kubernetes", settings.kubernetes_version + (f" and {settings.upgrade_from} (to upgrade from)"
                                                      if settings.upgrade_from else "")),
        ("mirror", f"{settings.mirror_dir} ({state})"),
        ("caches", settings.cache_dir),
        ("go", f"{go}" if go else f"none >= {'.'.join(map(str, toolchain.MIN_GO))} here: Go {toolchain.FALLBACK_GO} "
         "would be fetched from the proxy"),
        ("go proxy", toolchain.proxy()),
        ("debian", f"{settings.debian_mirror or debian.configured_mirror()} {settings.debian_suite} ({packages} "
         "and their dependencies)"),
        ("tools", "missing: " + ", ".join(missing) if missing else "dpkg-deb, gpgv and the Debian keyring are there"),
        ("disk", f"{free_gib:.1f} GiB free under {existing} (a cold build needs about {COLD_BUILD_GIB} GiB)"),
    ]
    for name, value in lines:
        print(f"{name:11} {value}")
    return 1 if missing else 0
