#!/usr/bin/env bash
# Create or reuse the controller virtualenv under $QUORUM_LAB_HOME, keyed by the
# requirement files' hash so a change to the pins rebuilds it and nothing else does.
set -euo pipefail
cd "$(dirname "$0")/.."
home=${QUORUM_LAB_HOME:-/var/lib/quorum-lab}
venv="$home/venv"
key=$(cat requirements.txt requirements-test.txt | sha256sum | cut -c1-16)
if [ -f "$venv/.quorum-key" ] && [ "$(cat "$venv/.quorum-key")" = "$key" ]; then
  exit 0
fi
echo "venv: creating $venv (requirements $key)" >&2
mkdir -p "$home"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r requirements-test.txt
echo "$key" > "$venv/.quorum-key"
