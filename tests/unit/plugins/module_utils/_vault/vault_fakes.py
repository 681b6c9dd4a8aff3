"""Fakes of the Vault boundary for unit tests (no network, no hvac)."""
from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultCasConflict


class FakeKV(object):
    """In-memory KV v2 with real check-and-set semantics; `before_write` simulates a concurrent writer."""

    def __init__(self):
        self.versions = {}  # path -> list of (data or None when deleted)
        self.writes = 0
        self.before_write = None

    def where(self, path):
        return "https://vault.test/v1/kv/data/" + path

    def read(self, path):
        versions = self.versions.get(path) or []
        if not versions or versions[-1] is None:
            return None
        return dict(versions[-1]), len(versions)

    def latest(self, path):
        versions = self.versions.get(path) or []
        return len(versions), bool(versions) and versions[-1] is not None

    def write(self, path, data, cas):
        if self.before_write:
            hook, self.before_write = self.before_write, None
            hook(self)
        versions = self.versions.setdefault(path, [])
        if cas != len(versions):
            raise VaultCasConflict("cas %d lost at %s" % (cas, path))
        versions.append(dict(data))
        self.writes += 1
        return len(versions)

    def put(self, path, data):
        self.versions.setdefault(path, []).append(dict(data))

    def delete_latest(self, path):
        self.versions[path][-1] = None


class FakeClient(object):
    """Records writes; reads answer from a dict of path -> response."""

    url = "https://vault.test"

    def __init__(self, responses=None, lists=None):
        self.responses = responses or {}
        self.lists = lists or {}
        self.writes = []
        self.deletes = []

    def read(self, path):
        return self.responses.get(path)

    def list(self, path):
        return list(self.lists.get(path, []))

    def write(self, path, data=None):
        self.writes.append((path, data))
        return {"data": {"certificate": "CERT", "private_key": "KEY", "csr": "CSR", "ca_chain": []}}

    def delete(self, path):
        self.deletes.append(path)
