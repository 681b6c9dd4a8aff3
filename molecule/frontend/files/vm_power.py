#!/usr/bin/env python
"""Kill a lab VM hard and start it again on the same disk (molecule scenario 'frontend').

  kill NAME --save F    SIGKILL the VM's qemu (only a qemu of this lab instance), keep its argv in F;
                        prints {"t": kill time (wall clock), "pid": ...}
  start NAME --save F   run the saved argv again inside the lab namespace (same overlay disk),
                        record the new pid in the lab's state file; prints {"t", "pid"}
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time


def lab_run_dir():
    home = os.environ.get("QUORUM_LAB_HOME") or "/var/lib/quorum-lab"
    instance = os.environ.get("QUORUM_LAB_INSTANCE") or "default"
    return os.path.join(home, "run", instance)


def load_state(run_dir):
    with open(os.path.join(run_dir, "state.json")) as f:
        return json.load(f)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode() for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def cmd_kill(args):
    run_dir = lab_run_dir()
    pid = int(load_state(run_dir)["vms"][args.name]["pid"])
    argv = cmdline(pid)
    if not argv or not os.path.basename(argv[0]).startswith("qemu-system") or run_dir + "/" not in "\0".join(argv):
        sys.exit("vm_power: pid %d is not a qemu of this lab (%s)" % (pid, run_dir))
    with open(args.save, "w") as f:
        json.dump(argv, f)
    t = time.time()
    os.kill(pid, signal.SIGKILL)
    print(json.dumps({"t": t, "pid": pid}))


def cmd_start(args):
    run_dir = lab_run_dir()
    state = load_state(run_dir)
    with open(args.save) as f:
        argv = json.load(f)
    pidfile = argv[argv.index("-pidfile") + 1]
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    t = time.time()
    subprocess.run(["ip", "netns", "exec", state["netns"], "nice", "-n", "5", *argv], check=True)
    with open(pidfile) as f:
        pid = int(f.read().strip())
    state["vms"][args.name]["pid"] = pid
    tmp = os.path.join(run_dir, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, os.path.join(run_dir, "state.json"))
    print(json.dumps({"t": t, "pid": pid}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["kill", "start"])
    p.add_argument("name")
    p.add_argument("--save", required=True)
    args = p.parse_args()
    (cmd_kill if args.action == "kill" else cmd_start)(args)


if __name__ == "__main__":
    main()
