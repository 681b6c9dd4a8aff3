# Vault area: its tests alone (both also run within `make unit` / `make integration`).
.PHONY: unit-vault integration-vault
unit-vault: venv
	$(PYTEST) -q tests/unit/plugins/module_utils/_vault tests/unit/plugins/modules/test_vault_modules.py

# A real OpenBao (TLS, raft) on 127.0.0.1 from the venv's bao binary.
integration-vault: venv
	$(PYTEST) -q tests/integration/vault
