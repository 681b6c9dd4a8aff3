# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What remove_node.yml does to a running cluster, decided from its live state (pure logic).

The inventory part of the checks (names, majority, last control plane and frontend) is
_preflight.check_removal; this part reads what the cluster says: the Node objects and etcd's
members with their health.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

KUBERNETES_GROUPS = ("control_plane", "meta_worker", "worker")


def _ready(node):
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def removal_plan(names, groups, nodes, etcd_members, etcd_group):
    """Return {nodes, not_ready, etcd_members, errors}.

    names: hosts to remove; groups: Ansible's groups; nodes: the items of `kubectl get nodes -o json`;
    etcd_members: etcd_info's members (name, is_learner, healthy); etcd_group: the group whose hosts
    are etcd members (control_plane when stacked, etcd when external).
    """
    by_name = dict(((n.get("metadata") or {}).get("name"), n) for n in nodes)
    member_names = set(m.get("name") for m in etcd_members)
    kube_hosts = set(h for g in KUBERNETES_GROUPS for h in groups.get(g) or [])
    etcd_hosts = set(groups.get(etcd_group) or [])
    plan = {"nodes": [], "not_ready": [], "etcd_members": [], "errors": []}
    for name in names:
        if name in by_name:
            plan["nodes"].append(name)
            if not _ready(by_name[name]):
                plan["not_ready"].append(name)
        if name in etcd_hosts and name in member_names:
            plan["etcd_members"].append(name)
        if (name in kube_hosts or name in etcd_hosts) and name not in by_name and name not in member_names:
            plan["errors"].append("remove_node: host %s is not in the cluster (no Node and no etcd member of that name); "
                                  "nothing to remove there: take it out of the inventory" % name)
    voters = [m for m in etcd_members if not m.get("is_learner") and m.get("name") not in plan["etcd_members"]]
    healthy = [m for m in voters if m.get("healthy")]
    if plan["etcd_members"] and len(healthy) * 2 <= len(voters):
        sick = sorted(m.get("name") or m.get("id", "?") for m in voters if not m.get("healthy"))
        facts = (", ".join(plan["etcd_members"]), len(healthy), len(voters), ", ".join(sick) or "none")
        plan["errors"].append(
            "remove_node: removing %s would leave etcd %d healthy of %d voting members (unhealthy: %s), no quorum; "
            "repair or remove the unhealthy members first" % facts)
    return plan
