# OpenStack provisioning (issue 20, docs/openstack.md): molecule/openstack on the lab's OpenStack
# (lab/openstack.py, topology `openstack`), part of make test.
.PHONY: test-openstack
test-openstack: venv
	scripts/molecule.sh openstack

TEST_TARGETS += test-openstack
