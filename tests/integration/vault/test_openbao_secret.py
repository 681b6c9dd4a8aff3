"""quorum.k8s.vault_secret against a real OpenBao: generate, idempotent read, check mode, rotation,
concurrent writers converging, -vvv without values, and clear errors."""
from __future__ import annotations

import base64
import re
import threading

import hvac
import pytest
from cryptography.hazmat.primitives import serialization

from vault_helpers import playbook_file, recap, run_playbook, start_playbook, write_inventory

MOUNT = "quorum-it-secrets/kv"


@pytest.fixture(scope="module")
def root(openbao):
    client = hvac.Client(url=openbao.addr, token=openbao.root_token, verify=openbao.ca_cert)
    if MOUNT + "/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path=MOUNT, options={"version": "2"})
    return client


@pytest.fixture(scope="module")
def inventory(openbao, tmp_path_factory):
    return write_inventory(tmp_path_factory.mktemp("inv") / "hosts.yml", openbao, "secrets")


def read(root, path):
    answer = root.secrets.kv.v2.read_secret_version(path=path, mount_point=MOUNT, raise_on_deleted_version=True)
    return answer["data"]["data"], answer["data"]["metadata"]["version"]


GENERATE = """
- name: Generate, read again, rotate
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/quorum.k8s.vault:
      mount: %(mount)s
  tasks:
    - name: Check mode reports a creation and writes nothing
      quorum.k8s.vault_secret:
        path: gen/token
        generate: {type: bootstrap_token}
      check_mode: true
      register: checked
    - name: Generate every type
      quorum.k8s.vault_secret:
        path: "gen/{{ item.type }}"
        generate: "{{ item }}"
      loop:
        - {type: bootstrap_token}
        - {type: random, length: 12, alphabet: "xyz"}
        - {type: base64_key}
        - {type: rsa, bits: 2048}
        - {type: ecdsa, curve: secp384r1}
      register: generated
      no_log: true
    - name: Read them again
      quorum.k8s.vault_secret:
        path: "gen/{{ item.item.type }}"
        generate: "{{ item.item }}"
      loop: "{{ generated.results }}"
      register: again
      no_log: true
    - name: Read without generate
      quorum.k8s.vault_secret:
        path: gen/base64_key
      register: plain
      no_log: true
    - name: Rotate the random string
      quorum.k8s.vault_secret:
        path: gen/random
        generate: {type: random, length: 12, alphabet: "xyz"}
        rotate: true
      register: rotated
      no_log: true
    - name: Check what the module returned
      ansible.builtin.assert:
        that:
          - checked is changed and checked.created
          - generated.results | map(attribute='created') | unique == [true]
          - generated is changed
          - again is not changed
          - again.results | map(attribute='secret') | list == generated.results | map(attribute='secret') | list
          - plain.secret == generated.results[2].secret
          - rotated is changed and rotated.rotated and rotated.version == 2
          - rotated.secret.value != generated.results[1].secret.value
          - generated.results[3].secret.private_key is search('BEGIN PRIVATE KEY')
        quiet: true
      no_log: true
"""


def test_generate_read_rotate(openbao, root, inventory, tmp_path):
    book = playbook_file(tmp_path, "gen.yml", GENERATE % dict(mount=MOUNT))
    rc, out = run_playbook(openbao, inventory, book, "-vvv")
    assert recap(out)["localhost"]["failed"] == 0
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, "gen/token")  # check mode wrote nothing
    token, dummy = read(root, "gen/bootstrap_token")
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token["value"])
    random, version = read(root, "gen/random")
    assert version == 2 and re.fullmatch(r"[xyz]{12}", random["value"])
    key, dummy = read(root, "gen/base64_key")
    assert len(base64.b64decode(key["value"])) == 32
    rsa_pair, dummy = read(root, "gen/rsa")
    private = serialization.load_pem_private_key(rsa_pair["private_key"].encode(), None)
    assert private.key_size == 2048
    public = serialization.load_pem_public_key(rsa_pair["public_key"].encode())
    assert public.public_numbers() == private.public_key().public_numbers()
    ec_pair, dummy = read(root, "gen/ecdsa")
    assert serialization.load_pem_private_key(ec_pair["private_key"].encode(), None).curve.name == "secp384r1"
    # -vvv printed none of the values
    for value in (token["value"], key["value"], random["value"], "".join(rsa_pair["private_key"].splitlines()[1:3])):
        assert value not in out


RACE = """
- name: One of two racing writers
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Ensure the shared secret
      quorum.k8s.vault_secret:
        mount: %(mount)s
        path: race/shared
        generate: {type: random, length: 40}
      register: mine
      no_log: true
    - name: Read what is stored with community.hashi_vault
      community.hashi_vault.vault_kv2_get:
        engine_mount_point: %(mount)s
        path: race/shared
      register: stored
      no_log: true
    - name: The value returned is the value stored
      ansible.builtin.assert:
        that: mine.secret.value == stored.secret.value
        quiet: true
      no_log: true
"""


def test_two_ansible_runs_converge(openbao, root, inventory, tmp_path):
    book = playbook_file(tmp_path, "race.yml", RACE % dict(mount=MOUNT))
    procs = [start_playbook(openbao, inventory, book) for dummy in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    for proc, out in zip(procs, outs):
        assert proc.returncode == 0, out[-3000:]
    data, version = read(root, "race/shared")
    assert version == 1  # one write won; the other run re-read it
    assert len(data["value"]) == 40


def test_threads_converge_on_one_value(openbao, root):
    import sys
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", ".collections"))
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import VaultClient
    from ansible_collections.quorum.k8s.plugins.module_utils._vault.kv import KV2, ensure_secret

    results, errors = [], []
    barrier = threading.Barrier(8)

    def worker():
        client = VaultClient.from_params(dict(url=openbao.addr, ca_cert=openbao.ca_cert, token=openbao.root_token))
        barrier.wait()
        try:
            results.append(ensure_secret(KV2(client, MOUNT), "race/threads", generate={"type": "base64_key"}))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for dummy in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len({r["secret"]["value"] for r in results}) == 1
    assert sum(1 for r in results if r["created"]) == 1
    assert read(root, "race/threads") == (results[0]["secret"], 1)


ERRORS = """
- name: Errors are one clear message
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Unreachable address
      quorum.k8s.vault_secret:
        url: https://127.0.0.1:%(closed)d
        mount: %(mount)s
        path: x
      ignore_errors: true
      register: unreachable
    - name: Bad token
      quorum.k8s.vault_secret:
        token: not-a-token
        mount: %(mount)s
        path: x
      ignore_errors: true
      register: badtoken
    - name: Missing mount
      quorum.k8s.vault_secret:
        mount: no/such/mount
        path: x
      ignore_errors: true
      register: nomount
    - name: Missing secret without generate
      quorum.k8s.vault_secret:
        mount: %(mount)s
        path: does/not/exist
      ignore_errors: true
      register: nosecret
    - name: Wrong CA bundle
      quorum.k8s.vault_secret:
        ca_cert: /etc/ssl/certs/ca-certificates.crt
        mount: %(mount)s
        path: x
      ignore_errors: true
      register: badca
    - name: Show the messages
      ansible.builtin.debug:
        msg: "{{ item.msg }}"
      loop: ["{{ unreachable }}", "{{ badtoken }}", "{{ nomount }}", "{{ nosecret }}", "{{ badca }}"]
      loop_control:
        label: MSG
"""


def test_errors_are_one_message_without_traceback(openbao, root, inventory, tmp_path):
    from _openbao import free_port
    book = playbook_file(tmp_path, "errors.yml", ERRORS % dict(mount=MOUNT, closed=free_port()))
    rc, out = run_playbook(openbao, inventory, book, check=False)
    assert rc == 0, out[-3000:]
    assert "Traceback" not in out
    assert re.search(r"Vault at https://127\.0\.0\.1:\d+ is unreachable", out)
    assert "token is invalid or expired" in out
    assert "nothing is mounted at %s/v1/no/such/mount/data/x" % openbao.addr in out
    assert "no secret at %s/v1/%s/data/does/not/exist" % (openbao.addr, MOUNT) in out
    assert "TLS verification failed for Vault at %s" % openbao.addr in out


def test_sealed_server_is_named(openbao, inventory, tmp_path):
    text = (ERRORS.split("    - name: Bad token", maxsplit=1)[0] % dict(mount=MOUNT, closed=0)).replace(
        "url: https://127.0.0.1:0", "url: %s" % openbao.addr)
    book = playbook_file(tmp_path, "sealed.yml", text)
    openbao.seal()
    try:
        rc, out = run_playbook(openbao, inventory, book, "-v", check=False)
    finally:
        openbao.unseal()
    assert "Vault at %s is sealed" % openbao.addr in out
    assert "Traceback" not in out
