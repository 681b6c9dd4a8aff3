# Frontends (keepalived + HAProxy): the Molecule scenarios on the lab.
# frontend: 2 frontends, 3 backends -> $(QUORUM_LAB_HOME)/results/frontend.json
# frontend3: 3 frontends, 2 backends (priorities of more than two) -> results/frontend3.json
.PHONY: molecule-frontend molecule-frontend3
molecule-frontend: venv
	scripts/molecule.sh frontend
molecule-frontend3: venv
	scripts/molecule.sh frontend3
# Too slow for CI on software-emulated VMs: part of make test-e2e.
E2E_TARGETS += molecule-frontend molecule-frontend3
