"""Command line: ``python -m lab.artifacts {build,verify,version,path}``."""

from __future__ import annotations

import argparse
import json
import os
import sys

from lab.artifacts import build as build_mod
from lab.artifacts import verify as verify_mod
from lab.artifacts.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.artifacts",
                                     description="Offline Kubernetes artifacts for quorum.k8s")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build or reuse the mirror; prints manifest.json's path last")
    p_build.add_argument("--kubernetes-version", help="e.g. v1.35.8 (default: QUORUM_KUBERNETES_VERSION or the pin)")
    p_build.add_argument("--force", action="store_true", help="rebuild the mirror files even when warm")
    p_verify = sub.add_parser("verify", help="check hashes, versions and images of a built mirror")
    p_verify.add_argument("--manifest", help="manifest.json (default: the mirror's)")
    sub.add_parser("version", help="print the Kubernetes version that would be built")
    sub.add_parser("path", help="print the manifest.json path")
    args = parser.parse_args(argv)

    settings = Settings.from_env(getattr(args, "kubernetes_version", None))
    manifest = os.path.join(settings.mirror_dir, "manifest.json")
    if args.command == "version":
        print(settings.kubernetes_version)
        return 0
    if args.command == "path":
        print(manifest)
        return 0
    if args.command == "build":
        try:
            path = build_mod.build(settings, force=args.force)
        except Exception as exc:  # one clear line for make, the traceback is noise here
            print(f"artifacts build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(path)
        return 0
    result = verify_mod.verify(args.manifest or manifest)
    for check in result["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        detail = f"  ({check['detail']})" if check["detail"] and not check["ok"] else ""
        print(f"{mark} {check['name']}{detail}")
    print(json.dumps({"ok": result["ok"], "failed": sum(not c["ok"] for c in result["checks"])}))
    return 0 if result["ok"] else 1
