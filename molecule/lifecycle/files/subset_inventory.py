#!/usr/bin/env python
"""Write an inventory that keeps the lab's variables and only the hosts named per group.

  subset_inventory.py LAB_INVENTORY OUT 'frontend=fe-1,fe-2' 'control_plane=cp-1,cp-2,cp-3' ...

Groups of the inventory contract not named are left empty. The lifecycle scenario grows and
shrinks its cluster by writing such inventories, as an operator edits theirs. A group keeps its
variables; the lab's jump through the frontends (the host firewall) keeps only the frontends
named, because the nodes take SSH from the cluster's frontends only.
"""
import re
import sys

import yaml

CONTRACT = ("frontend", "control_plane", "etcd", "meta_worker", "worker")


def jump_through(value, frontends):
    """The lab's ProxyCommand ("ssh ... root@IP || ssh ... root@IP") with only ``frontends``."""
    match = re.match(r"^-o '?ProxyCommand=(.*?)'?$", value) if isinstance(value, str) else None
    if not match:
        return value
    tries = [t for t in match.group(1).split(" || ") if t.rsplit("root@", 1)[-1] in frontends]
    return "-o '%s'" % ("ProxyCommand=" + " || ".join(tries))


def main(argv):
    source, out, specs = argv[1], argv[2], argv[3:]
    with open(source) as handle:
        inv = yaml.safe_load(handle)
    wanted = dict((g, []) for g in CONTRACT)
    for spec in specs:
        group, dummy, hosts = spec.partition("=")
        if group not in wanted:
            raise SystemExit("unknown group %r (use %s)" % (group, ", ".join(CONTRACT)))
        wanted[group] = [h for h in hosts.split(",") if h]
    lab = inv["all"]["children"]["lab"]
    known = {}
    for group in (lab.get("children") or {}).values():
        known.update(((group or {}).get("hosts") or {}))
    children = {}
    for group, hosts in wanted.items():
        missing = [h for h in hosts if h not in known]
        if missing:
            raise SystemExit("hosts %s are not in %s" % (", ".join(missing), source))
        children[group] = {"hosts": dict((h, known[h]) for h in hosts)} if hosts else {}
        group_vars = ((lab.get("children") or {}).get(group) or {}).get("vars")
        if hosts and group_vars:
            frontends = [known[h]["ansible_host"] for h in wanted["frontend"]]
            children[group]["vars"] = dict((k, jump_through(v, frontends)) for k, v in group_vars.items())
    lab["children"] = children
    with open(out, "w") as handle:
        handle.write("# Written by molecule/lifecycle (a step's inventory); do not edit.\n---\n")
        yaml.safe_dump(inv, handle, default_flow_style=False, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv)
