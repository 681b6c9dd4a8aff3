from __future__ import annotations

import re

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError, VaultNotFound
from ansible_collections.quorum.k8s.plugins.module_utils._vault.kv import ensure_secret

from vault_fakes import FakeKV

TOKEN = {"type": "bootstrap_token"}


def test_generates_when_missing_and_reads_after():
    kv = FakeKV()
    first = ensure_secret(kv, "cp/token", TOKEN)
    assert first["created"] and first["changed"] and first["version"] == 1
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", first["secret"]["value"])
    second = ensure_secret(kv, "cp/token", TOKEN)
    assert not second["changed"] and not second["created"]
    assert second["secret"] == first["secret"] and kv.writes == 1


def test_missing_without_generate_names_the_path():
    with pytest.raises(VaultNotFound, match="https://vault.test/v1/kv/data/nope"):
        ensure_secret(FakeKV(), "nope")


def test_check_mode_writes_nothing():
    kv = FakeKV()
    result = ensure_secret(kv, "x", TOKEN, check_mode=True)
    assert result["changed"] and result["created"] and kv.writes == 0 and kv.read("x") is None


def test_losing_a_create_race_returns_the_winners_value():
    kv = FakeKV()
    kv.before_write = lambda k: k.put("x", {"value": "winner"})
    result = ensure_secret(kv, "x", {"type": "random"})
    assert result["secret"] == {"value": "winner"}
    assert not result["created"] and not result["changed"] and result["version"] == 1


def test_rotation_writes_a_new_version_with_cas():
    kv = FakeKV()
    kv.put("x", {"value": "old"})
    result = ensure_secret(kv, "x", {"type": "random", "length": 10}, rotate=True)
    assert result["rotated"] and result["version"] == 2 and result["secret"]["value"] != "old"
    assert len(result["secret"]["value"]) == 10


def test_rotation_losing_to_a_concurrent_rotation_keeps_theirs():
    kv = FakeKV()
    kv.put("x", {"value": "old"})
    kv.before_write = lambda k: k.put("x", {"value": "theirs"})
    result = ensure_secret(kv, "x", {"type": "random"}, rotate=True)
    assert result["secret"] == {"value": "theirs"} and kv.read("x") == ({"value": "theirs"}, 2)


def test_rotate_needs_generate():
    with pytest.raises(VaultConfigError):
        ensure_secret(FakeKV(), "x", rotate=True)


def test_deleted_latest_version_is_recreated_with_cas_of_latest():
    kv = FakeKV()
    kv.put("x", {"value": "old"})
    kv.delete_latest("x")
    result = ensure_secret(kv, "x", TOKEN)
    assert result["created"] and result["version"] == 2


def test_diff_carries_no_values():
    kv = FakeKV()
    result = ensure_secret(kv, "x", {"type": "random"})
    text = repr(result["diff"])
    assert result["secret"]["value"] not in text
    assert result["diff"]["after"] == {"path": "x", "exists": True, "version": 1, "keys": ["value"]}
    assert result["diff"]["before"] == {"path": "x", "exists": False}


class _Client(object):
    url = "https://vault.test"

    def __init__(self, reads=None, write_error=None):
        self.reads = reads or {}
        self.write_error = write_error
        self.written = []

    def read(self, path):
        answer = self.reads.get(path)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def write(self, path, data):
        if self.write_error:
            raise self.write_error
        self.written.append((path, data))
        return {"data": {"version": 3}}


def test_kv2_paths_and_cas_body():
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.kv import KV2
    client = _Client()
    assert KV2(client, "/q/c/kv/").write("a/b", {"value": "v"}, 2) == 3
    assert client.written == [("q/c/kv/data/a/b", {"data": {"value": "v"}, "options": {"cas": 2}})]


def test_kv2_lost_cas_is_a_conflict():
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultCasConflict, VaultRequestError
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.kv import KV2
    client = _Client(write_error=VaultRequestError("check-and-set parameter did not match the current version"))
    with pytest.raises(VaultCasConflict):
        KV2(client, "kv").write("x", {}, 0)


def test_kv2_read_and_latest():
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultPermissionDenied
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.kv import KV2
    client = _Client(reads={
        "kv/data/x": {"data": {"data": {"value": "v"}, "metadata": {"version": 2}}},
        "kv/data/gone": {"data": {"data": None, "metadata": {"version": 1, "deletion_time": "t"}}},
        "kv/metadata/gone": {"data": {"current_version": 1, "versions": {"1": {"deletion_time": "t"}}}},
        "kv/metadata/x": {"data": {"current_version": 2, "versions": {"2": {"deletion_time": ""}}}},
        "kv/metadata/secret": VaultPermissionDenied("no metadata access"),
    })
    kv = KV2(client, "kv")
    assert kv.read("x") == ({"value": "v"}, 2)
    assert kv.read("gone") is None and kv.read("never") is None
    assert kv.latest("gone") == (1, False)
    assert kv.latest("x") == (2, True)
    assert kv.latest("never") == (0, False)
    assert kv.latest("secret") == (0, False)
