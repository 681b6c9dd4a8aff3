"""How playbooks use the roles: the Vault connection once per play, secrets handed over by name, the
etcd role's internals inside the role behind entry points that all have an argument spec."""
from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import CONNECTION_ARGUMENT_SPEC

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = sorted(glob.glob(os.path.join(REPO, "playbooks", "*.yml")))
ROLE_TASKS = sorted(glob.glob(os.path.join(REPO, "roles", "*", "tasks", "*.yml")))
VAULT_MODULES = ("quorum.k8s.vault_layout", "quorum.k8s.vault_secret", "quorum.k8s.vault_pki_cert")
CONNECTION = "{{ lookup('quorum.k8s.vault_connection') }}"
# What reaches Vault from a play: a Vault module, or a role (entry point) that calls one.
VAULT_USERS = re.compile(r"quorum\.k8s\.vault(_layout|_secret|_pki_cert|_cert)?\b|name: quorum\.k8s\.(etcd|control_plane)\s+"
                         r"tasks_from: certificates")


def load(path):
    with open(path) as f:
        return yaml.safe_load(f) or []


def tasks_in(node):
    """Every task dict under a list of tasks/blocks (block, rescue, always)."""
    for task in node or []:
        yield task
        for key in ("block", "rescue", "always"):
            if key in task:
                yield from tasks_in(task[key])


def plays():
    for path in PLAYBOOKS:
        for play in load(path):
            if "hosts" in play:
                yield os.path.basename(path), play


@pytest.mark.parametrize("path", PLAYBOOKS + ROLE_TASKS, ids=lambda p: os.path.relpath(p, REPO))
def test_no_task_states_a_vault_connection(path):
    for task in tasks_in(load(path) if "tasks" in path else
                         [t for play in load(path) for k in ("pre_tasks", "tasks", "post_tasks") for t in play.get(k) or []]):
        for module in VAULT_MODULES:
            if module in task:
                stated = set(task[module]) & set(CONNECTION_ARGUMENT_SPEC)
                assert not stated, "%s: task %r states %s; the play's module_defaults do" % (path, task.get("name"), stated)


@pytest.mark.parametrize("name, play", list(plays()), ids=lambda v: v if isinstance(v, str) else v.get("name"))
def test_every_play_that_reaches_vault_sets_the_connection_once(name, play):
    text = yaml.safe_dump(play, width=1000)
    if VAULT_USERS.search(text):
        assert (play.get("module_defaults") or {}).get("group/quorum.k8s.vault") == CONNECTION, (name, play["name"])


def test_the_connection_is_written_nowhere_else():
    found = []
    for path in glob.glob(os.path.join(REPO, "roles", "**", "*"), recursive=True) + PLAYBOOKS:
        if os.path.isfile(path):
            with open(path) as f:
                found += [path for line in f if "auth_method:" in line]
    assert len(found) <= 1, found


def test_secrets_are_handed_over_by_name():
    for path in PLAYBOOKS + ROLE_TASKS:
        with open(path) as f:
            assert not re.search(r"\.results\[\d+\]", f.read()), path


def test_no_role_uses_another_roles_vault_settings():
    settings = re.compile(r"\bvault_(addr|ca_cert|auth_method|approle_mount|role_id|secret_id|token|prefix|cluster)\b")
    for path in glob.glob(os.path.join(REPO, "roles", "*", "**", "*.yml"), recursive=True) + PLAYBOOKS:
        if os.sep + os.path.join("roles", "vault") + os.sep in path:
            continue
        with open(path) as f:
            assert not settings.search(f.read()), path


ETCD_PLAYBOOKS = [p for p in PLAYBOOKS if os.path.basename(p).startswith("etcd")]


@pytest.mark.parametrize("path", ETCD_PLAYBOOKS, ids=os.path.basename)
def test_etcd_playbooks_hold_none_of_the_roles_internals(path):
    with open(path) as f:
        text = "".join(line for line in f if not line.lstrip().startswith("#"))
    assert "__etcd_" not in text
    assert not re.search(r"\betcd_\w+\s*\|\s*default\(", text), "a default of the etcd role restated"
    assert "vault_cert_certificates" not in text and "etcdctl" not in text


def test_every_entry_point_a_playbook_calls_has_an_argument_spec():
    called = {}
    for name, play in plays():
        for key in ("pre_tasks", "tasks", "post_tasks"):
            for task in tasks_in(play.get(key)):
                for action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                    if action in task and task[action]["name"].startswith("quorum.k8s."):
                        role = task[action]["name"].split(".")[-1]
                        called.setdefault(role, set()).add(task[action].get("tasks_from", "main"))
        for role in play.get("roles") or []:
            called.setdefault((role["role"] if isinstance(role, dict) else role).split(".")[-1], set()).add("main")
    assert "certificates" in called["etcd"]
    for role, entry_points in called.items():
        specs = load(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml"))["argument_specs"]
        assert entry_points <= set(specs), (role, entry_points - set(specs))


def test_every_etcd_entry_point_has_a_spec_with_the_roles_variables():
    specs = load(os.path.join(REPO, "roles", "etcd", "meta", "argument_specs.yml"))["argument_specs"]
    defaults = load(os.path.join(REPO, "roles", "etcd", "defaults", "main.yml"))
    assert set(specs) == {"main", "certificates", "check_replace", "members", "verify", "backup", "backup_timer",
                          "restore", "restore_check", "renew", "tools", "absent", "running"}
    general = set(d for d in defaults if not d.startswith(("etcd_restore_", "etcd_renew_")))
    for name, spec in specs.items():
        assert os.path.isfile(os.path.join(REPO, "roles", "etcd", "tasks", name + ".yml")), name
        assert general <= set(spec["options"]), (name, general - set(spec["options"]))
    for option, spec in specs["restore"]["options"].items():
        if option in defaults and "{{" not in str(defaults[option]):
            assert spec["default"] == defaults[option], option
