#!/usr/bin/env bash
# ansible-test sanity from a temporary ansible_collections/quorum/k8s tree, no Docker.
# ansible-test bootstraps pip in its per-test virtualenvs by downloading get-pip from
# an Ansible CI host, unreachable offline: we seed its cache with pip's wheel from PyPI
# and a small installer that runs that wheel instead.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
home=${QUORUM_LAB_HOME:-/var/lib/quorum-lab}
venv="$home/venv"
pip_version=24.2
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
if [ ! -f "$cache/pip-$pip_version-py3-none-any.whl" ]; then
  "$venv/bin/pip" download -q --no-deps -d "$cache" "pip==$pip_version"
fi
cat > "$cache/get_pip_${pip_version//./_}.py" <<PY
import sys
sys.path.insert(0, "$cache/pip-$pip_version-py3-none-any.whl")
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "$cache/pip-$pip_version-py3-none-any.whl"] + args))
PY
# A private copy per run: helpers and CI may run sanity side by side.
mkdir -p "$home/sanity"
work=$(mktemp -d "$home/sanity/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/ansible_collections/quorum/k8s"
mkdir -p "$tree"
# Exactly the files git would ship: tracked plus untracked-but-not-ignored.
(cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^\.collections/' |
  while IFS= read -r -d '' f; do if [ -f "$f" ]; then printf '%s\0' "$f"; fi; done |
  xargs -0 cp --parents -t "$tree")
cd "$tree"
git init -q && git add -A >/dev/null
export PATH="$venv/bin:$PATH"
ansible-test sanity --python 3.11 --requirements --color no "$@"
