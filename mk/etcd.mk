# etcd (issue 7): the etcd_member/etcd_info modules, roles/etcd, the etcd playbooks.
#   make test-etcd       unit tests + integration tests against a real 3-member TLS etcd on 127.0.0.1
#                        (Debian etcd-server; both also run in `make unit` / `make integration`)
#   make molecule-etcd   the Molecule scenario etcd on the lab (3 etcd VMs + 1 spare)
.PHONY: test-etcd molecule-etcd

test-etcd: venv
	$(PYTEST) -q tests/unit/plugins/module_utils/_etcd tests/unit/plugins/modules/test_etcd_member.py \
	  tests/unit/plugins/filter/test_etcd_filters.py tests/integration/etcd

molecule-etcd: venv
	scripts/molecule.sh etcd
