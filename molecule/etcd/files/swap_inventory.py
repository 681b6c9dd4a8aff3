"""Write a copy of the lab inventory where the spare replaces a dead etcd member (scenario 'etcd').

  python3 swap_inventory.py SRC DST --dead etcd-3 --spare spare-1
The dead host moves to group etcd_dead (so the verify can still name it), the spare joins etcd.
"""
import argparse
import sys

import yaml


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--dead", required=True)
    p.add_argument("--spare", required=True)
    args = p.parse_args()
    with open(args.src) as f:
        inv = yaml.safe_load(f)
    groups = inv["all"]["children"]["lab"]["children"]
    etcd = groups["etcd"]["hosts"]
    spares = groups.get("etcd_spare", {}).get("hosts") or {}
    if args.dead not in etcd or args.spare not in spares:
        sys.exit("swap_inventory: %s must be in group etcd and %s in etcd_spare" % (args.dead, args.spare))
    groups["etcd_dead"] = {"hosts": {args.dead: etcd.pop(args.dead)}}
    etcd[args.spare] = spares.pop(args.spare)
    if not spares:
        groups["etcd_spare"] = {}
    with open(args.dst, "w") as f:
        f.write("# Written by molecule/etcd/files/swap_inventory.py from %s\n" % args.src)
        yaml.safe_dump(inv, f, default_flow_style=False, sort_keys=False)


if __name__ == "__main__":
    main()
