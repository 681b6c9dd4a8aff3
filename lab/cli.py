"""Command-line interface: ``lab up|down|status|kill|start|exec|ssh|build|inventory|netns|topologies``."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from typing import Any

from lab import ansible_env, backend, config, image, lifecycle, mirror, net, openstack, power, state, topology, vault


_WORKERS_HELP = ", ".join(
    f"{name}: 1 to {topology.max_workers(name)} workers (default {default})"
    for name, (_kind, default) in topology.VARIABLE_WORKERS.items()
) + "; refused for the other topologies"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lab",
        description="The quorum.k8s offline VM lab. Instance: $QUORUM_LAB_INSTANCE (default 'default'); "
        "home: $QUORUM_LAB_HOME (default /var/lib/quorum-lab).",
    )
    p.add_argument("-i", "--instance", help="lab instance (own namespace and VMs); default $QUORUM_LAB_INSTANCE or 'default'")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build or reuse the image and mirror, boot a topology, start OpenBao")
    up.add_argument("topology", choices=sorted(topology.TOPOLOGIES))
    up.add_argument("--boot-timeout", type=float, help="seconds to wait for SSH on every VM")
    up.add_argument("--workers", type=int, metavar="N", help=_WORKERS_HELP)
    sub.add_parser("down", help="stop everything of the instance, remove taps and namespace")
    st = sub.add_parser("status", help="what runs (exit 0 only when the lab is up and healthy)")
    st.add_argument("--json", action="store_true")
    kl = sub.add_parser("kill", help="SIGKILL one VM's QEMU (a power cut); prints JSON {t, pid}")
    kl.add_argument("name")
    sta = sub.add_parser("start", help="boot a killed VM again on its own disk; prints JSON {t, pid}")
    sta.add_argument("name")
    sta.add_argument("--wait-ssh", action="store_true", help="return once the VM answers SSH")
    sta.add_argument("--boot-timeout", type=float, help="seconds to wait for SSH (with --wait-ssh)")
    ex = sub.add_parser("exec", help="run a command inside the namespace, VAULT_* exported")
    ex.add_argument("command", nargs=argparse.REMAINDER)
    ssh = sub.add_parser("ssh", help="SSH to a VM as root")
    ssh.add_argument("name")
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    bld = sub.add_parser("build", help="build or reuse the guest image and the apt mirror")
    bld.add_argument("--force", action="store_true")
    inv = sub.add_parser("inventory", help="write the inventory of a topology (no boot) and print its path")
    inv.add_argument("topology", choices=sorted(topology.TOPOLOGIES))
    inv.add_argument("--workers", type=int, metavar="N",
                     help=_WORKERS_HELP + "; default: the running lab's count, else the topology's default")
    sub.add_parser("netns", help="create the instance's namespace and bridge (idempotent)")
    sub.add_parser("topologies", help="list the topologies")
    ops = sub.add_parser("openstack", help="the lab's OpenStack in the instance's namespace (lab/openstack.py)")
    ops.add_argument("action", choices=("build", "up", "down", "status"))
    ops.add_argument("--json", action="store_true", help="status as JSON")
    envp = sub.add_parser("env", help="print shell exports for Vault and Ansible (source it inside 'lab exec')")
    envp.add_argument("--ansible", action="store_true", help="only Ansible's (the Mitogen strategy, unless QUORUM_LAB_MITOGEN=0)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.instance:
        config.check_instance(args.instance)
        os.environ["QUORUM_LAB_INSTANCE"] = args.instance
    unpin()
    try:
        return _dispatch(args)
    except config.LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


def unpin() -> None:
    """Let this process and its children (QEMU, OpenBao, the mirror) use every CPU.

    Mitogen pins Ansible's workers to one CPU, and a `lab up` or `lab start` run from a task
    inherits that: every VM then shares one core (seen: 3 VMs at 31 % each, the host half idle).
    """
    try:
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    except OSError:  # a cpuset narrower than the machine: keep what we were given
        pass


def _exec_env(paths: config.Paths) -> dict[str, str]:
    env = dict(os.environ)
    env.update(vault.client_env(paths))
    env.update(ansible_env.ansible_env(env))
    # facts live as long as the lab's nodes: a fact cache that outlived a 'lab down' described
    # machines that no longer exist (seen: a VM's eth0 given to a container whose link is host0)
    env.setdefault("ANSIBLE_CACHE_PLUGIN_CONNECTION", str(paths.run / "facts"))
    env["QUORUM_LAB_INSTANCE"] = paths.instance
    env["QUORUM_LAB_HOME"] = str(paths.home)
    env["QUORUM_LAB_INVENTORY"] = str(paths.inventory)
    if openstack.clouds_yaml(paths).is_file():  # openstacksdk and openstack.cloud read it
        env["OS_CLIENT_CONFIG_FILE"] = str(openstack.clouds_yaml(paths))
    return env


def _dispatch(args: argparse.Namespace) -> int:
    paths = config.paths()
    ns = config.netns_name(paths.instance)
    if args.cmd == "up":
        st = lifecycle.up(paths, args.topology, boot_timeout=args.boot_timeout, workers=args.workers)
        print(f"inventory: {paths.inventory}")
        for name, vm in st["vms"].items():
            print(f"  {name:10} {vm['ip']}")
        print(f"mirror: {config.MIRROR_URL}/  vault: {config.VAULT_ADDR} (CA {paths.ca_cert})")
        print(f"inside the lab: {_self()} exec -- CMD   |   {_self()} ssh NAME")
        return 0
    if args.cmd == "down":
        lifecycle.down(paths)
        return 0
    if args.cmd == "status":
        report, healthy = lifecycle.status(paths)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            _print_status(report)
        return 0 if healthy else 3
    if args.cmd == "kill":
        print(json.dumps(power.kill(paths, args.name)), flush=True)
        return 0
    if args.cmd == "start":
        print(json.dumps(power.start(paths, args.name, wait_ssh=args.wait_ssh, boot_timeout=args.boot_timeout)), flush=True)
        return 0
    if args.cmd == "exec":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            command = [os.environ.get("SHELL", "/bin/bash")]
        if not net.exists(ns):
            raise config.LabError(f"namespace {ns} does not exist: run 'lab up TOPOLOGY' (or 'lab netns') first")
        env = _exec_env(paths)
        argv = command if net.inside(ns) else net.ns_cmd(ns, command)
        os.execvpe(argv[0], argv, env)
    if args.cmd == "ssh":
        st = state.load(paths) or {}
        vm = st.get("vms", {}).get(args.name)
        if not vm:
            raise config.LabError(f"no VM {args.name!r} in lab {paths.instance!r}: {', '.join(st.get('vms', {})) or 'none running'}")
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        # with the host firewall on, a node takes SSH from the frontends only
        firewall = backend.of(st).INVENTORY_VARS.get("quorum_firewall", False)
        via = topology.jump_hosts(topology.state_nodes(st), power.node_of(st, args.name)) if firewall else None
        argv = lifecycle.ssh_argv(paths, vm["ip"], command, via)
        if command == []:
            argv.insert(1, "-t")
        argv = argv if net.inside(ns) else net.ns_cmd(ns, argv)
        os.execvp(argv[0], argv)
    if args.cmd == "build":
        img = image.ensure(paths, force=args.force)
        repo = mirror.ensure(paths, force=args.force)
        print(img.directory)
        print(repo)
        return 0
    if args.cmd == "inventory":
        workers = inventory_workers(args.topology, args.workers, state.load(paths), paths.instance)
        path = lifecycle.write_inventory(paths, args.topology, topology.nodes(args.topology, workers=workers),
                                         topology.backend(args.topology))
        print(path)
        return 0
    if args.cmd == "netns":
        if os.geteuid() != 0:
            raise config.LabError("the lab needs root (network namespaces)")
        net.ensure(ns)
        print(ns)
        return 0
    if args.cmd == "topologies":
        for name, (etcd, kinds, desc) in topology.TOPOLOGIES.items():
            vms = sum(kind[1] for kind in kinds)
            count = f"{vms}+N" if name in topology.VARIABLE_WORKERS else str(vms)
            print(f"{name:9} {count} VMs, etcd {etcd:8} {desc}")
        return 0
    if args.cmd == "openstack":
        return _openstack(paths, args.action, args.json)
    if args.cmd == "env":
        exports = {} if args.ansible else vault.client_env(paths)
        exports.update(ansible_env.ansible_env())
        for key, value in exports.items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    raise config.LabError(f"unknown command {args.cmd}")


def _openstack(paths: config.Paths, action: str, as_json: bool) -> int:
    if action == "build":
        print(openstack.build(paths))
        return 0
    if action == "up":
        print(json.dumps(openstack.up(paths)))
        return 0
    if action == "down":
        openstack.down(paths)
        return 0
    report, healthy = openstack.status(paths)
    print(json.dumps(report, indent=2) if as_json else f"openstack of {paths.instance}: {'up' if healthy else 'down'} "
          f"(pid {report['pid']}, http://{report['ip']}:5000/v3, clouds.yaml {report['clouds_yaml']})")
    return 0 if healthy else 3


def inventory_workers(topo: str, workers: int | None, st: dict[str, Any] | None, instance: str) -> int | None:
    """The worker count `lab inventory` writes: ``workers``, else the count the instance's lab was
    booted with when it runs ``topo``; refused when it differs from that (the inventory is the lab's)."""
    booted = st.get("workers") if st and st.get("topology") == topo else None
    if workers is not None and booted is not None and workers != booted:
        raise config.LabError(f"lab instance {instance!r} runs {topo} with {booted} workers, not {workers}: "
                              f"its inventory follows the lab ('lab down' first, or another instance)")
    return topology.worker_count(topo, booted if workers is None else workers)


def _self() -> str:
    return os.environ.get("QUORUM_LAB_CLI", "lab/lab")


def _print_status(report: dict[str, object]) -> None:
    print(f"instance {report['instance']}: {report.get('status', 'down')}  (namespace {report['netns']}"
          f"{'' if report['netns_exists'] else ', absent'})")
    if report.get("topology"):
        workers = f" ({report['workers']} workers)" if report.get("workers") is not None else ""
        print(f"topology {report['topology']}{workers}, accel {report.get('accel')}, image {report.get('image')}")
    for name, vm in (report.get("vms") or {}).items():  # type: ignore[union-attr]
        alive = "running" if vm["alive"] else "DEAD"
        print(f"  {name:10} {vm['ip']:14} pid {vm['pid']:<8} {alive:8} rss {vm['rss_mib']} MiB / {vm['memory_mib']} MiB")
    if report.get("vault"):
        v = report["vault"]
        print(f"vault  {v['addr']} initialized={v['initialized']} sealed={v['sealed']} (CA {v['ca_cert']})")  # type: ignore[index]
    if report.get("mirror"):
        m = report["mirror"]
        print(f"mirror {m['url']}/ {'running' if m['alive'] else 'DOWN'}")  # type: ignore[index]
    if report.get("leftover_pids"):
        print(f"leftover processes: {report['leftover_pids']} (lab down removes them)")
