"""The cluster defaults are stated once (CLUSTER_DEFAULTS): docs/inventory.md shows them, no role,
playbook or scenario restates one with ``| default(...)``."""

import os
import re

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._defaults import CLUSTER_DEFAULTS
from ansible_collections.quorum.k8s.plugins.module_utils._preflight import CLUSTER_REQUIRED

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
DOC = os.path.join(REPO, "docs", "inventory.md")
# a cluster-wide variable, maybe read as hostvars[h]['quorum_x'], then "| default("
RESTATED = re.compile(r"""quorum_[a-z_]+['"\]]*\s*\\?\|\s*default\(""")  # "\|" in Markdown tables


def documented_defaults():
    """{variable: default column} of every table row naming a quorum_* variable (first row wins)."""
    rows = {}
    with open(DOC) as f:
        for line in f:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]  # "\|" is a pipe inside a cell
            match = re.match(r"^`(quorum_[a-z_]+)`$", cells[0]) if len(cells) > 2 else None
            if match:
                rows.setdefault(match.group(1), cells[2])
    return rows


@pytest.mark.parametrize("name", sorted(CLUSTER_DEFAULTS))
def test_every_default_is_documented_as_applied(name):
    value, shown = CLUSTER_DEFAULTS[name], documented_defaults().get(name)
    if value is None:  # unset means the module's own fallback; the doc says which
        assert shown not in (None, "required")
    else:
        assert shown == "`%s`" % value


@pytest.mark.parametrize("name", CLUSTER_REQUIRED)
def test_required_variables_are_documented_as_required(name):
    assert documented_defaults().get(name) == "required"


def test_no_cluster_default_restated():
    found = []
    walks = [(REPO, [], ["site.yml"])]
    for top in ("roles", "playbooks", "molecule", "plugins"):
        walks.extend(os.walk(os.path.join(REPO, top)))
    for root, _dirs, files in walks:
        for name in files:
            if not name.endswith((".yml", ".yaml", ".j2", ".py", ".md")):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if RESTATED.search(line):
                        found.append("%s:%d: %s" % (os.path.relpath(path, REPO), number, line.strip()))
    assert found == [], "use lookup('quorum.k8s.cluster_setting', NAME) or quorum.k8s.node_address:\n" + "\n".join(found)


def test_the_guard_sees_a_restated_default():
    assert RESTATED.search("port: \"{{ quorum_api_port | default(6443) }}\"")
    assert RESTATED.search("{{ hostvars[h]['quorum_etcd_topology'] | default('stacked') }}")
    assert RESTATED.search("| `x` | `{{ quorum_vault_prefix \\| default('quorum') }}` |")
    assert not RESTATED.search("{{ lookup('quorum.k8s.cluster_setting', 'quorum_api_port') }}")
