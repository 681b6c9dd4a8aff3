#!/usr/bin/env bash
# make molecule S=<scenario> [A="converge"]: run a Molecule scenario inside the lab.
#   scripts/molecule.sh SCENARIO [MOLECULE_COMMAND [ARGS...]]   (default command: test)
# Each scenario gets its own lab instance (namespace quorum-lab-<scenario>), so scenarios of
# different areas can run side by side. Molecule runs inside that namespace with the venv on
# PATH; create/destroy (molecule/_shared) call lab/lab. After `test` the namespace is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:?usage: scripts/molecule.sh SCENARIO [COMMAND [ARGS...]]}"
shift
command=("${@:-test}")
[ -f "molecule/${scenario}/molecule.yml" ] || { echo "molecule.sh: no scenario molecule/${scenario}" >&2; exit 2; }

export QUORUM_LAB_HOME="${QUORUM_LAB_HOME:-/var/lib/quorum-lab}"
venv="${QUORUM_LAB_HOME}/venv"
[ -x "${venv}/bin/molecule" ] || scripts/venv.sh
export PATH="${venv}/bin:${PATH}"
export QUORUM_LAB_INSTANCE="${QUORUM_LAB_INSTANCE:-${scenario//_/-}}"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
export PY_COLORS="${PY_COLORS:-0}"

topology="$(python - "molecule/${scenario}/molecule.yml" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1])) or {}
print(((data.get("provisioner") or {}).get("env") or {}).get("QUORUM_LAB_TOPOLOGY", ""))
PY
)"
[ -n "$topology" ] || { echo "molecule.sh: molecule/${scenario}/molecule.yml sets no provisioner.env.QUORUM_LAB_TOPOLOGY" >&2; exit 2; }

lab/lab build >/dev/null                   # image + apt mirror need the registries: outside the namespace
# the OpenStack root needs the Debian mirror too; inside the namespace its build cannot always tell
# where it is (where /proc/1/ns/net is not readable) and finds no way out
[ "$topology" != openstack ] || lab/lab openstack build >/dev/null
lab/lab inventory "$topology" >/dev/null   # Molecule links it before `create` runs
ns="$(lab/lab netns)"
eval "$(lab/lab env --ansible)"           # Mitogen's strategy unless QUORUM_LAB_MITOGEN=0 (lab/ansible_env.py)

status=0
start=$(date +%s)
# nsenter, not `ip netns exec`: that remounts /sys, and `lab start` of an nspawn node needs its cgroups
nsenter --net="/run/netns/$ns" -- molecule -c molecule/_shared/base.yml "${command[0]}" -s "$scenario" "${command[@]:1}" || status=$?
end=$(date +%s)
if [ "${command[0]}" = test ]; then
  lab/lab down >/dev/null 2>&1 || true   # the namespace too (destroy kept it: Molecule ran inside)
fi
mkdir -p "${QUORUM_LAB_HOME}/results"
printf '{"scenario": "%s", "command": "%s", "seconds": %d, "exit": %d}\n' \
  "$scenario" "${command[0]}" "$((end - start))" "$status" > "${QUORUM_LAB_HOME}/results/molecule-${scenario}-run.json"
echo "molecule ${command[0]} ${scenario}: exit ${status} in $((end - start)) s" >&2
exit "$status"
