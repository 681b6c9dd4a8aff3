# Frontends (keepalived + HAProxy): the Molecule scenario on the lab (2 frontends, 3 backends).
# Figures land in $(QUORUM_LAB_HOME)/results/frontend.json.
.PHONY: molecule-frontend
molecule-frontend: venv
	scripts/molecule.sh frontend
TEST_TARGETS += molecule-frontend
