# The offline VM lab (issue 3): lab/lab is its CLI, docs/lab.md its guide.
LAB := lab/lab
LAB_TOPOLOGY ?= stacked

.PHONY: lab lab-down lab-status test-molecule

# From a fresh machine: host packages + venv, image + apt mirror (built or reused),
# the `stacked` topology with OpenBao, then site.yml when it exists.
lab:
	scripts/host-deps.sh
	$(LAB) build
	$(LAB) up $(LAB_TOPOLOGY)
	@inv="$(QUORUM_LAB_HOME)/inventory/$${QUORUM_LAB_INSTANCE:-default}.yml"; \
	if [ -f playbooks/site.yml ]; then \
	  $(LAB) exec -- ansible-playbook -i "$$inv" playbooks/site.yml || exit $$?; \
	else \
	  echo "make lab: VMs and OpenBao are up; playbooks/site.yml does not exist yet, so no cluster was deployed."; \
	fi; \
	echo "Inventory:      $$inv"; \
	echo "Shell in lab:   $(LAB) exec            (VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN exported)"; \
	echo "SSH to a VM:    $(LAB) ssh cp-1"; \
	echo "Run a playbook: $(LAB) exec -- ansible-playbook -i $$inv playbooks/site.yml"; \
	echo "Status / stop:  $(LAB) status   |   make lab-down"

lab-down:
	$(LAB) down

lab-status:
	$(LAB) status

# Molecule smoke scenario on 3 lab VMs (cold: builds image and mirror first).
test-molecule: venv
	scripts/molecule.sh smoke
