#!/usr/bin/env bash
# Install the controller's host prerequisites (Debian packages, then the virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t pkgs < <(grep -v '^\s*\(#\|$\)' scripts/host-packages.txt)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian's etcd-server starts a system etcd on 2379; the tests run their own instances.
if [ -d /run/systemd/system ] && systemctl list-unit-files etcd.service >/dev/null 2>&1; then
  systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi
scripts/venv.sh
