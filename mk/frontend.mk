# Frontends (keepalived + HAProxy): the Molecule scenario on the lab (2 frontends, 3 backends).
# Figures land in $(QUORUM_LAB_HOME)/results/frontend.json.
.PHONY: molecule-frontend
molecule-frontend: venv
	scripts/molecule.sh frontend
# Too slow for CI on software-emulated VMs: part of make test-e2e.
E2E_TARGETS += molecule-frontend
