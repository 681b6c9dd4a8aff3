"""make bench: how the cost of a run grows with the number of workers (issue 22, docs/performance.md).

For each N of a series, on the lab's `large` topology (systemd-nspawn: 2 frontends, 3 control
planes with stacked etcd, workers) in its own lab instance (default `bench`):

  1. lab up large --workers N+1 (the extra worker is there for scale.yml);
  2. an inventory of the first N workers (start.yml) and one of all N+1 (added.yml), written from
     the lab's inventory by molecule/lifecycle/files/subset_inventory.py, as the lifecycle scenario does;
  3. timed (wall), each run as an operator runs it (ansible-playbook -i INVENTORY PLAYBOOK inside the
     lab's namespace with the lab's OpenBao in VAULT_*, through `lab exec`):
     site.yml from booted nodes; site.yml again (nothing to do: its changed count);
     scale.yml adding worker-(N+1); remove_node.yml removing it again;
  4. after site.yml: the host's memory in use (MemTotal - MemAvailable), every node's memory from its
     cgroup (usage, RSS, working set), each node's CPU over a short idle window; the disk of one node of
     each kind;
  5. lab down.

Every record (one per N, with the N, the git commit and the time) is appended to
$QUORUM_LAB_HOME/results/bench.json; the plot bench.png (time against N per operation, memory
against N) is drawn beside it, and a linear fit per operation (seconds per worker, intercept) is
printed and stored. --plot-only redraws both from bench.json.

The default series ends at the largest N this machine holds: MemAvailable and the free disk under
$QUORUM_LAB_HOME against a per-node figure, the one the last run measured (bench.json
"memory_model"), else a stated guess. Standard library only, plus matplotlib for the plot.
Ctrl-C stops the running step (only the processes this script started), takes the instance down
and exits 130.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lab import config, topology  # noqa: E402

TOPOLOGY = "large"
OPERATIONS = ("site", "rerun", "scale", "remove")
LABELS = {
    "site": "site.yml from booted nodes",
    "rerun": "site.yml again (nothing to do)",
    "scale": "scale.yml adding one worker",
    "remove": "remove_node.yml removing one worker",
}
# The default series: these N up to the largest this machine holds, then that one.
LADDER = (1, 5, 10, 20, 30, 40, 50, 75, 100, 125, 150)
# Before any run has measured them (bench.json has no memory_model yet): deliberately high guesses.
GUESS_MODEL = {
    "per_worker_mib": 450,  # a joined worker's working set, page cache it still uses included
    "fixed_mib": 4608,  # 3 control planes, 2 frontends, OpenBao and the mirror server
    "per_node_disk_mib": 1500,  # a worker's root directory after site.yml (image copy, containerd content)
    "fixed_disk_mib": 10000,  # the 2 frontends' and 3 control planes' root directories
    "source": "guess (no run has measured them yet)",
}
RESERVE_MIB = 3072  # the controller: ansible-playbook and its forks (20, ansible.cfg), ssh, the host itself
# The lab's kubelets neither collect images nor evict pods for the host's disk (lab/nspawn.py), so
# the series only keeps a twentieth of it free for the host, at least this much.
DISK_RESERVE_MIB = 4096
DISK_RESERVE_SHARE = 0.05
RECAP = re.compile(r"(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")
CGROUP_FS = Path("/sys/fs/cgroup")


# ---------------------------------------------------------------- pure parts (tests/unit/lab/test_bench.py)

def parse_series(text: str, most: int) -> list[int]:
    """"1 5 10" (or commas) -> [1, 5, 10], each a worker count 1..``most``, duplicates dropped."""
    series: list[int] = []
    for word in text.replace(",", " ").split():
        try:
            n = int(word)
        except ValueError:
            raise SystemExit(f"bench: workers series: {word!r} is not a number of workers") from None
        if not 1 <= n <= most:
            raise SystemExit(f"bench: workers series: {n}: N must be 1 to {most} (the topology takes "
                             f"{most + 1} workers, one of them for scale.yml)")
        if n not in series:
            series.append(n)
    if not series:
        raise SystemExit("bench: the workers series names no worker count")
    return series


def default_series(largest: int, ladder: Iterable[int] = LADDER) -> list[int]:
    """The ladder's counts up to ``largest``, then ``largest`` itself."""
    series = [n for n in ladder if n <= largest]
    if largest >= 1 and (not series or series[-1] != largest):
        series.append(largest)
    return series


def memory_model(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-node figures from the newest record that measured them (else GUESS_MODEL): a joined
    worker's working set (the median of the cluster's workers), the fixed part (frontends, control
    planes, OpenBao and mirror: what the host used for them), a node's disk."""
    for record in reversed(records):
        groups = ((record.get("memory_mib") or {}).get("by_group") or {})
        worker = (groups.get("worker") or {}).get("median_working_set")
        if not worker:
            continue
        fixed = sum((groups.get(g) or {}).get("sum_working_set", 0) for g in ("frontend", "control_plane"))
        fixed += (record.get("memory_mib") or {}).get("lab_services", 0) or 0
        disk = record.get("disk_mib") or {}
        worker_disk = disk.get("worker-1") or GUESS_MODEL["per_node_disk_mib"]
        fixed_disk = (2 * disk["fe-1"] + 3 * disk["cp-1"]) if disk.get("fe-1") and disk.get("cp-1") else GUESS_MODEL["fixed_disk_mib"]
        return {"per_worker_mib": round(worker), "fixed_mib": round(fixed), "per_node_disk_mib": round(worker_disk),
                "fixed_disk_mib": round(fixed_disk),
                "source": f"measured at N={record['workers']}, commit {record.get('commit', '?')[:12]}, {record.get('when')}"}
    return dict(GUESS_MODEL)


def disk_reserve_mib(total_mib: int, floor_mib: int = DISK_RESERVE_MIB) -> int:
    """Disk kept free under $QUORUM_LAB_HOME: a twentieth of the filesystem, at least ``floor_mib``."""
    return max(floor_mib, math.ceil(total_mib * DISK_RESERVE_SHARE))


def largest_n(mem_available_mib: int, disk_free_mib: int, model: dict[str, Any], most: int,
              reserve_mib: int = RESERVE_MIB, disk_reserve_mib: int = DISK_RESERVE_MIB) -> tuple[int, str]:
    """The largest N whose cluster (N + 1 workers booted, the fixed nodes) fits in the memory and disk
    this machine has, at most ``most``; and why it stops there."""
    by_memory = math.floor((mem_available_mib - reserve_mib - model["fixed_mib"]) / model["per_worker_mib"]) - 1
    by_disk = math.floor((disk_free_mib - disk_reserve_mib - model["fixed_disk_mib"]) / model["per_node_disk_mib"]) - 1
    limits = {
        "memory": (by_memory, f"memory: {mem_available_mib} MiB available - {reserve_mib} reserved for the controller "
                              f"- {model['fixed_mib']} for frontends, control planes and lab services, "
                              f"{model['per_worker_mib']} MiB per worker ({model['source']}), one worker for scale.yml"),
        "disk": (by_disk, f"disk: {disk_free_mib} MiB free under $QUORUM_LAB_HOME - {disk_reserve_mib} kept free "
                          f"(the host's share) "
                          f"- {model['fixed_disk_mib']} for frontends and control planes, {model['per_node_disk_mib']} MiB "
                          f"per worker, one worker for scale.yml"),
        "topology": (most, f"topology: {TOPOLOGY} takes {most + 1} workers, one of them for scale.yml"),
    }
    kind = min(limits, key=lambda k: limits[k][0])
    value, why = limits[kind]
    return max(0, value), f"{kind} ({why})"


def parse_recap(text: str) -> dict[str, Any]:
    """The PLAY RECAP of an ansible-playbook log: per host and summed (ok, changed, unreachable, failed, skipped)."""
    hosts: dict[str, dict[str, int]] = {}
    for name, *counts in RECAP.findall(text):
        hosts[name] = dict(zip(("ok", "changed", "unreachable", "failed", "skipped"), map(int, counts)))
    total = {key: sum(h[key] for h in hosts.values()) for key in ("ok", "changed", "unreachable", "failed", "skipped")}
    return {"hosts": hosts, **total}


def summarise(values: dict[str, dict[str, float]], groups: dict[str, str], key: str) -> dict[str, dict[str, float]]:
    """Per inventory group: median, max and sum of each node's ``key``."""
    out: dict[str, dict[str, float]] = {}
    for group in sorted(set(groups.values())):
        figures = [values[name][key] for name, g in groups.items() if g == group and name in values and key in values[name]]
        if figures:
            out[group] = {f"median_{key}": round(statistics.median(figures), 1), f"max_{key}": round(max(figures), 1),
                          f"sum_{key}": round(sum(figures), 1), "nodes": len(figures)}
    return out


def linear_fit(points: list[tuple[float, float]]) -> dict[str, Any] | None:
    """Least squares y = slope * x + intercept; None with fewer than two distinct x."""
    xs = [x for x, y in points]
    ys = [y for x, y in points]
    if len(set(xs)) < 2:
        return None
    n = len(points)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in points)
    r2 = 1.0 - ss_res / ss_tot if ss_tot else 1.0
    return {"slope_seconds_per_worker": round(slope, 3), "intercept_seconds": round(intercept, 1), "r2": round(r2, 3),
            "points": [[x, y] for x, y in sorted(points)]}


def newest_commit(records: list[dict[str, Any]]) -> str | None:
    return records[-1].get("commit") if records else None


def of_commit(record: dict[str, Any], commit: str) -> bool:
    """Whether ``record`` was measured at ``commit``: a hash or its prefix, or several, comma-separated
    (a series whose later N ran after a commit that does not change the earlier figures)."""
    return any(part and str(record.get("commit") or "").startswith(part.strip()) for part in commit.split(","))


def latest_per_n(records: list[dict[str, Any]], operation: str, commit: str | None) -> dict[int, dict[str, Any]]:
    """For each N, the newest record of ``commit`` (see of_commit) that measured ``operation``."""
    chosen: dict[int, dict[str, Any]] = {}
    for record in records:
        if commit is not None and not of_commit(record, commit):
            continue
        if (record.get("seconds") or {}).get(operation) is None:
            continue
        chosen[int(record["workers"])] = record
    return dict(sorted(chosen.items()))


def fits(records: list[dict[str, Any]], commit: str | None) -> dict[str, Any]:
    """The linear fit of each operation's wall time against N, over the newest record per N of ``commit``."""
    out: dict[str, Any] = {}
    for op in OPERATIONS:
        points = [(float(n), float(r["seconds"][op])) for n, r in latest_per_n(records, op, commit).items()]
        out[op] = linear_fit(points)
    return {"commit": commit, "operations": out}


def merge(data: dict[str, Any] | None, record: dict[str, Any] | None = None) -> dict[str, Any]:
    """bench.json with ``record`` appended; the fits and the memory model worked out again."""
    data = dict(data or {})
    runs = list(data.get("runs") or [])
    if record is not None:
        runs.append(record)
    data["runs"] = runs
    data["fit"] = fits(runs, newest_commit(runs))
    data["memory_model"] = memory_model(runs)
    return data


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"runs": []}
    except json.JSONDecodeError as exc:
        raise SystemExit(f"bench: {path} is not JSON ({exc}): move it away, nothing was changed") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs", []), list):
        raise SystemExit(f"bench: {path} is not a bench.json (no list 'runs'): move it away")
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def table(data: dict[str, Any], commit: str | None) -> str:
    """The newest figures per N of ``commit``, one line each, and the fits."""
    by_n: dict[int, dict[str, Any]] = {}
    for op in OPERATIONS:
        for n, record in latest_per_n(data.get("runs") or [], op, commit).items():
            by_n.setdefault(n, {})[op] = record
    lines = [f"commit {commit or '?'}",
             f"{'N':>4} {'site s':>8} {'rerun s':>8} {'changed':>7} {'scale s':>8} {'remove s':>8} {'nodes MiB':>10}"]
    for n, ops in sorted(by_n.items()):
        def sec(op: str) -> str:
            return f"{ops[op]['seconds'][op]:8.1f}" if op in ops else f"{'-':>8}"
        rerun = ops.get("rerun")
        changed = str((rerun or {}).get("changed", {}).get("rerun", "-")) if rerun else "-"
        mem = ((ops.get("site") or {}).get("memory_mib") or {}).get("nodes_working_set_total")
        lines.append(f"{n:>4} {sec('site')} {sec('rerun')} {changed:>7} {sec('scale')} {sec('remove')} "
                     f"{(str(round(mem)) if mem is not None else '-'):>10}")
    for op, fit in ((data.get("fit") or {}).get("operations") or {}).items():
        if fit:
            lines.append(f"fit {op:7} {fit['slope_seconds_per_worker']:8.3f} s per worker + {fit['intercept_seconds']:.1f} s "
                         f"(r2 {fit['r2']}, {len(fit['points'])} points)")
        else:
            lines.append(f"fit {op:7} needs two or more N")
    return "\n".join(lines)


def plot(data: dict[str, Any], out: Path, commit: str | None = None) -> Path:
    """bench.png: wall time against N per operation (points and their fit), memory against N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = data.get("runs") or []
    commit = commit or newest_commit(runs)
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    for op in OPERATIONS:
        chosen = latest_per_n(runs, op, commit)
        if not chosen:
            continue
        xs = list(chosen)
        ys = [chosen[n]["seconds"][op] for n in xs]
        (line,) = ax_t.plot(xs, ys, "o-", label=LABELS[op])
        fit = linear_fit([(float(x), float(y)) for x, y in zip(xs, ys)])
        if fit:
            ends = [min(xs), max(xs)]
            ax_t.plot(ends, [fit["slope_seconds_per_worker"] * x + fit["intercept_seconds"] for x in ends], "--",
                      color=line.get_color(), alpha=0.6,
                      label=f"  fit: {fit['slope_seconds_per_worker']:.2f} s/worker + {fit['intercept_seconds']:.0f} s")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_t, ax_m):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_t.set_xlabel("workers (N)")
    ax_t.set_ylabel("wall time (s)")
    ax_t.set_title(f"quorum.k8s on the lab's `{TOPOLOGY}` topology (commit {(commit or '?')[:12]})")
    ax_t.grid(True, alpha=0.3)
    ax_t.set_ylim(bottom=0)
    ax_t.legend(fontsize=8)
    site = latest_per_n(runs, "site", commit)
    mem_x = [n for n, r in site.items() if (r.get("memory_mib") or {}).get("nodes_working_set_total") is not None]
    if mem_x:
        ax_m.plot(mem_x, [site[n]["memory_mib"]["nodes_working_set_total"] for n in mem_x], "o-",
                  label="nodes' working set (cgroups)")
        host = [n for n in mem_x if site[n]["memory_mib"].get("host_used_after_site") is not None]
        ax_m.plot(host, [site[n]["memory_mib"]["host_used_after_site"] for n in host], "s--",
                  label="host in use (MemTotal - MemAvailable)")
    ax_m.set_xlabel("workers (N)")
    ax_m.set_ylabel("MiB after site.yml")
    ax_m.set_title("memory")
    ax_m.grid(True, alpha=0.3)
    ax_m.set_ylim(bottom=0)
    ax_m.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ---------------------------------------------------------------- the host: memory, cgroups, disk

def meminfo(path: Path = Path("/proc/meminfo")) -> dict[str, int]:
    """MiB of each /proc/meminfo field."""
    out = {}
    for line in path.read_text().splitlines():
        key, unused_sep, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0]) // 1024
    return out


def host_used_mib(path: Path = Path("/proc/meminfo")) -> int:
    info = meminfo(path)
    return info["MemTotal"] - info["MemAvailable"]


def node_memory(instance: str, name: str, root: Path = CGROUP_FS) -> dict[str, float] | None:
    """A node's memory from its cgroup (the lab places node NAME of instance I in /quorum-lab-I/NAME,
    lab/nspawn.py): usage (page cache included), RSS, and the working set (usage less inactive
    file pages, as kubelet counts it), in MiB. cgroup v1 (this host) or v2."""
    rel = f"quorum-lab-{instance}/{name}"
    v1 = root / "memory" / rel
    v2 = root / rel
    try:
        if (v1 / "memory.usage_in_bytes").exists():
            usage = int((v1 / "memory.usage_in_bytes").read_text())
            stat = _stat(v1 / "memory.stat")
            rss, inactive = stat.get("total_rss", 0), stat.get("total_inactive_file", 0)
        elif (v2 / "memory.current").exists():
            usage = int((v2 / "memory.current").read_text())
            stat = _stat(v2 / "memory.stat")
            rss, inactive = stat.get("anon", 0), stat.get("inactive_file", 0)
        else:
            return None
    except (OSError, ValueError):
        return None
    mib = 1 << 20
    return {"usage": round(usage / mib, 1), "rss": round(rss / mib, 1), "working_set": round(max(0, usage - inactive) / mib, 1)}


def node_cpu_ns(instance: str, name: str, root: Path = CGROUP_FS) -> int | None:
    """CPU time a node has used (ns), from its cgroup (v1 cpuacct, or v2 cpu.stat)."""
    rel = f"quorum-lab-{instance}/{name}"
    try:
        v1 = root / "cpuacct" / rel / "cpuacct.usage"
        if v1.exists():
            return int(v1.read_text())
        v2 = root / rel / "cpu.stat"
        if v2.exists():
            return _stat(v2).get("usage_usec", 0) * 1000
    except (OSError, ValueError):
        return None
    return None


def _stat(path: Path) -> dict[str, int]:
    out = {}
    for line in path.read_text().splitlines():
        key, unused_sep, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


def idle_cpu_percent(instance: str, names: list[str], seconds: float, root: Path = CGROUP_FS,
                     sleep: Any = time.sleep, clock: Any = time.monotonic) -> dict[str, float]:
    """Each node's CPU over ``seconds`` of rest, in % of one core."""
    before = {n: node_cpu_ns(instance, n, root) for n in names}
    t0 = clock()
    sleep(seconds)
    elapsed = max(clock() - t0, 1e-9)
    out = {}
    for n in names:
        after = node_cpu_ns(instance, n, root)
        if before[n] is not None and after is not None:
            out[n] = round(100.0 * (after - before[n]) / 1e9 / elapsed, 1)
    return out


def disk_mib(path: Path) -> int | None:
    """du of a directory, in MiB (one filesystem)."""
    proc = subprocess.run(["du", "-sx", "--block-size=1M", str(path)], capture_output=True, text=True, check=False)
    try:
        return int(proc.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def ansible_settings(env: dict[str, str]) -> dict[str, Any]:
    """The strategy (`lab exec` picks Mitogen's, lab/ansible_env.py), forks and connection timeout the
    playbooks run with."""
    import configparser

    from lab import ansible_env

    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "ansible.cfg")
    forks = env.get("ANSIBLE_FORKS") or cfg.get("defaults", "forks", fallback="5")
    strategy = env.get("ANSIBLE_STRATEGY") or ansible_env.ansible_env(env).get("ANSIBLE_STRATEGY", "linear")
    timeout = env.get("ANSIBLE_TIMEOUT") or cfg.get("defaults", "timeout", fallback="10")
    return {"forks": int(forks), "strategy": strategy, "timeout": int(timeout)}


def git_commit() -> tuple[str, bool]:
    """HEAD and whether tracked files differ from it."""
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False)
    return (head.stdout.strip() or "unknown"), bool(dirty.stdout.strip())


# ---------------------------------------------------------------- running things (only our own children)

class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the running step was stopped."""


def default_sigint() -> None:
    """In the child before exec: Ctrl-C's default action. A shell starts a background job with SIGINT
    ignored, and the step would then outlast SIGINT's whole grace time."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Runner:
    """Runs one command at a time in a session of its own, its output to a log; on Ctrl-C or SIGTERM
    it stops that session's processes (SIGINT, then SIGTERM, then SIGKILL) and raises Interrupted."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.child: subprocess.Popen[bytes] | None = None

    def run(self, argv: list[str], log: Path, *, extra_env: dict[str, str] | None = None) -> tuple[int, float]:
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**self.env, **(extra_env or {})}
        with log.open("wb") as out:
            out.write(("$ " + " ".join(argv) + "\n").encode())
            out.flush()
            t0 = time.monotonic()
            self.child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                          env=env, cwd=REPO, start_new_session=True,
                                          preexec_fn=default_sigint)  # pylint: disable=subprocess-popen-preexec-fn
            try:
                rc = self.child.wait()
            except KeyboardInterrupt:
                self.stop()
                raise Interrupted(" ".join(argv[:6])) from None
            finally:
                seconds = time.monotonic() - t0
                self.child = None
        return rc, round(seconds, 1)

    def stop(self) -> None:
        child = self.child
        if child is None or child.poll() is not None:
            return
        for sig, grace in ((signal.SIGINT, 30.0), (signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)  # the session this script started for the step
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if child.poll() is not None:
                    return
                with contextlib.suppress(KeyboardInterrupt):
                    time.sleep(0.2)


@contextlib.contextmanager
def no_interrupts(message: str) -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored while the block runs (the lab's clean-up)."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: print(f"bench: {message}", file=sys.stderr))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def log(message: str) -> None:
    print(f"bench {time.strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home = config.lab_home()
        self.instance = args.instance
        self.paths = config.Paths(self.home, self.instance)
        self.lab = str(REPO / "lab" / "lab")
        venv_bin = self.home / "venv" / "bin"
        path = os.environ.get("PATH", "")
        if venv_bin.is_dir():
            path = f"{venv_bin}:{path}"
        self.env = {**os.environ, "PATH": path, "QUORUM_LAB_HOME": str(self.home), "QUORUM_LAB_INSTANCE": self.instance}
        self.python = str(venv_bin / "python") if (venv_bin / "python").exists() else sys.executable
        self.runner = Runner(self.env)
        self.work = args.results / "bench-work"
        self.interrupted = False

    def ansible_env(self) -> dict[str, str]:
        """As molecule/_cluster/site.yml runs a playbook; `lab exec` adds VAULT_* and Mitogen's strategy."""
        return {
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles,ansible.posix.timer",
            "ANSIBLE_FORCE_COLOR": "0",
            # ssh's control sockets are named after the address: every lab instance has the same ones
            "ANSIBLE_SSH_CONTROL_PATH_DIR": f"/tmp/quorum-ansible-cp-{self.instance}",
            # From N = 30 the first task of a run starts 20 connections at once through the jump hosts
            # on 2 cores that the idle cluster already loads; ansible.cfg's 60 s lost workers there.
            "ANSIBLE_TIMEOUT": "180",
        }

    def playbook(self, name: str, inventory: Path, playbook: str, log_dir: Path, *extra: str) -> dict[str, Any]:
        argv = [self.lab, "-i", self.instance, "exec", "--", "ansible-playbook", "-i", str(inventory), *extra, playbook]
        log_file = log_dir / f"{name}.log"
        log(f"{name}: {playbook} {' '.join(extra)}".rstrip())
        rc, seconds = self.runner.run(argv, log_file, extra_env=self.ansible_env())
        recap = parse_recap(log_file.read_text(errors="replace"))
        log(f"{name}: rc {rc} in {seconds} s, changed {recap['changed']}")
        return {"rc": rc, "seconds": seconds, "changed": recap["changed"], "failed": recap["failed"],
                "unreachable": recap["unreachable"], "log": str(log_file)}

    def write_inventories(self, n: int, log_dir: Path) -> dict[str, Path]:
        subset = REPO / "molecule" / "lifecycle" / "files" / "subset_inventory.py"
        fixed = ["frontend=fe-1,fe-2", "control_plane=cp-1,cp-2,cp-3"]
        out = {}
        for key, count in (("start", n), ("added", n + 1)):
            dest = log_dir / f"{key}.yml"
            workers = ",".join(f"worker-{i}" for i in range(1, count + 1))
            subprocess.run([self.python, str(subset), str(self.paths.inventory), str(dest), *fixed, f"worker={workers}"],
                           check=True, env=self.env)
            out[key] = dest
        return out

    def fits_now(self, n: int, data: dict[str, Any]) -> tuple[bool, str]:
        largest, why = machine_limit(self.args, data)
        return n <= largest, f"N={n} does not fit now: the largest is {largest}, limited by {why}"

    def one(self, n: int, commit: str, dirty: bool) -> dict[str, Any]:
        """The measurements at N workers; the lab instance is down again at the end. Interrupted
        (Ctrl-C, SIGTERM): what was measured so far, ``failed`` saying so, and self.interrupted set."""
        log_dir = self.work / f"N{n}"
        if log_dir.exists():
            shutil.rmtree(log_dir)
        log_dir.mkdir(parents=True)
        info = meminfo()
        load1 = None
        with contextlib.suppress(OSError):
            load1 = round(os.getloadavg()[0], 1)
        record: dict[str, Any] = {
            "workers": n, "commit": commit, "dirty": dirty, "topology": TOPOLOGY, "instance": self.instance,
            "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "host": {"cpus": os.cpu_count(), "memory_total_mib": info["MemTotal"], "memory_available_mib": info["MemAvailable"],
                     "load1_before": load1},
            "ansible": ansible_settings({**self.env, **self.ansible_env()}),
            "seconds": {}, "changed": {}, "failed": None, "logs": str(log_dir),
            "memory_mib": {"host_used_before_up": info["MemTotal"] - info["MemAvailable"]},
        }
        step = "lab up"
        try:
            # the lab's own check counts every node at its VM size (1536 MiB a worker), which nspawn
            # nodes never take: this script checks memory and disk with measured figures instead
            rc, seconds = self.runner.run([self.lab, "-i", self.instance, "up", TOPOLOGY, "--workers", str(n + 1)],
                                          log_dir / "lab-up.log", extra_env={"QUORUM_LAB_SKIP_RESOURCE_CHECK": "1"})
            record["seconds"]["lab_up"] = seconds
            if rc != 0:
                record["failed"] = f"lab up (rc {rc}, {log_dir / 'lab-up.log'})"
                return record
            record["memory_mib"]["host_used_after_boot"] = host_used_mib()
            inv = self.write_inventories(n, log_dir)
            names = [f"fe-{i}" for i in (1, 2)] + [f"cp-{i}" for i in (1, 2, 3)] + [f"worker-{i}" for i in range(1, n + 2)]
            groups = {name: ("worker" if name.startswith("worker-") else "frontend" if name.startswith("fe-") else "control_plane")
                      for name in names}
            spare = f"worker-{n + 1}"

            for op, inventory, playbook, extra in (
                ("site", inv["start"], "site.yml", ()),
                ("rerun", inv["start"], "site.yml", ()),
                ("scale", inv["added"], "playbooks/scale.yml", ()),
                ("remove", inv["added"], "playbooks/remove_node.yml", ("-e", f"remove_node={spare}")),
            ):
                step = op
                result = self.playbook(op, inventory, playbook, log_dir, *extra)
                record["changed"][op] = result["changed"]
                if result["rc"] != 0:
                    record["failed"] = f"{op} (rc {result['rc']}, {result['log']})"
                    return record
                record["seconds"][op] = result["seconds"]
                if op == "site":
                    step = "memory after site.yml"
                    self.measure_after_site(record, names, groups, spare)
            return record
        except (Interrupted, KeyboardInterrupt):
            record["failed"] = f"interrupted during {step}"
            self.interrupted = True
            return record
        except Exception as exc:  # noqa: BLE001 - recorded, the lab taken down, the series stopped
            record["failed"] = f"{step}: {type(exc).__name__}: {exc}"
            return record
        finally:
            with no_interrupts("Ctrl-C ignored: taking the lab instance down"):
                log(f"lab -i {self.instance} down")
                rc, seconds = self.runner.run([self.lab, "-i", self.instance, "down"], log_dir / "lab-down.log")
                record["seconds"]["lab_down"] = seconds
                if rc != 0:
                    log(f"lab down failed (rc {rc}): see {log_dir / 'lab-down.log'}")

    def measure_after_site(self, record: dict[str, Any], names: list[str], groups: dict[str, str], spare: str) -> None:
        memory = record["memory_mib"]
        memory["host_used_after_site"] = host_used_mib()
        nodes = {name: node_memory(self.instance, name) for name in names}
        memory["nodes"] = {k: v for k, v in nodes.items() if v is not None}
        in_cluster = {k: v for k, v in memory["nodes"].items() if k != spare}
        cluster_groups = {k: g for k, g in groups.items() if k != spare}
        memory["by_group"] = {g: {**summarise(in_cluster, cluster_groups, "working_set").get(g, {}),
                                  **summarise(in_cluster, cluster_groups, "usage").get(g, {})}
                              for g in sorted(set(cluster_groups.values()))}
        memory["nodes_working_set_total"] = round(sum(v["working_set"] for v in in_cluster.values()), 1)
        memory["booted_not_joined"] = memory["nodes"].get(spare)  # worker-(N+1): an idle node outside the cluster
        # OpenBao and the mirror server: what the lab's processes hold beside the nodes (RSS)
        memory["lab_services"] = self.services_rss_mib()
        if self.args.idle_seconds > 0:
            cpu = idle_cpu_percent(self.instance, names, self.args.idle_seconds)
            record["cpu_idle_percent"] = {"seconds": self.args.idle_seconds, "nodes": cpu,
                                          "by_group": summarise({k: {"cpu": v} for k, v in cpu.items() if k != spare},
                                                                cluster_groups, "cpu"),
                                          "booted_not_joined": cpu.get(spare)}
        record["disk_mib"] = {name: disk_mib(self.paths.vm_dir(name) / "root") for name in ("fe-1", "cp-1", "worker-1")}

    def services_rss_mib(self) -> float | None:
        try:
            st = json.loads(self.paths.state_file.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        total = 0
        for pid in (st.get("vault_pid"), st.get("mirror_pid")):
            with contextlib.suppress(OSError, ValueError, TypeError):
                for line in Path(f"/proc/{int(pid)}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return round(total / 1024, 1)


# ---------------------------------------------------------------- main

def machine_limit(args: argparse.Namespace, data: dict[str, Any]) -> tuple[int, str]:
    """The largest N this machine holds now (memory available, disk free) and what limits it."""
    home = config.lab_home()
    home.mkdir(parents=True, exist_ok=True)
    disk = shutil.disk_usage(home)
    reserve = args.disk_reserve_mib if args.disk_reserve_mib is not None else disk_reserve_mib(disk.total >> 20)
    return largest_n(meminfo()["MemAvailable"], disk.free >> 20, memory_model(data.get("runs") or []),
                     topology.max_workers(TOPOLOGY) - 1, args.reserve_mib, reserve)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n", maxsplit=1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", default=os.environ.get("BENCH_WORKERS", ""),
                   help="the series of N, e.g. \"1 5 10 20\" (default $BENCH_WORKERS, else up to the largest N this machine holds)")
    p.add_argument("--instance", default=os.environ.get("BENCH_INSTANCE", "bench"), help="the lab instance (default bench)")
    p.add_argument("--results", type=Path, default=None, help="directory of bench.json and bench.png ($QUORUM_LAB_HOME/results)")
    p.add_argument("--idle-seconds", type=float, default=float(os.environ.get("BENCH_IDLE_SECONDS", "20")),
                   help="window of the idle CPU figure after site.yml (0: none)")
    p.add_argument("--reserve-mib", type=int, default=int(os.environ.get("BENCH_RESERVE_MIB", str(RESERVE_MIB))),
                   help="memory left to the controller when choosing the largest N")
    p.add_argument("--disk-reserve-mib", type=int,
                   default=int(os.environ["BENCH_DISK_RESERVE_MIB"]) if os.environ.get("BENCH_DISK_RESERVE_MIB") else None,
                   help="disk kept free under $QUORUM_LAB_HOME (default: a twentieth of its filesystem)")
    p.add_argument("--plan", action="store_true", help="print the series and why it ends there; run nothing")
    p.add_argument("--plot-only", action="store_true", help="redraw bench.png and print the fits from bench.json")
    p.add_argument("--commit", help="with --plot-only: the commit whose figures to draw, or several, comma-separated "
                                    "(hashes or prefixes; default: the newest record's)")
    args = p.parse_args(argv)
    if args.results is None:
        args.results = config.lab_home() / "results"
    config.check_instance(args.instance)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    json_path = args.results / "bench.json"
    png = args.results / "bench.png"
    data = merge(load(json_path))
    if args.plot_only:
        commit = args.commit or newest_commit(data["runs"])
        if not data["runs"]:
            raise SystemExit(f"bench: no figures in {json_path} yet: run make bench")
        data["fit"] = fits(data["runs"], commit)
        save(json_path, data)
        print(table(data, commit))
        print(f"plot: {plot(data, png, commit)}")
        return 0

    most = topology.max_workers(TOPOLOGY) - 1
    home = config.lab_home()
    largest, why = machine_limit(args, data)
    series = parse_series(args.workers, most) if args.workers.strip() else default_series(largest)
    plan = {"series": series, "largest": largest, "limited_by": why, "from": "BENCH_WORKERS" if args.workers.strip() else "default"}
    print(f"series {' '.join(map(str, series)) or '(none)'}; the largest N this machine holds now: {largest}, limited by {why}")
    if args.plan:
        return 0
    if not series:
        print("bench: nothing to run: not even N=1 fits (see above)", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("bench: the lab needs root", file=sys.stderr)
        return 1
    paths = config.Paths(home, args.instance)
    if paths.state_file.exists():
        print(f"bench: lab instance {args.instance!r} is up ({paths.state_file}): take it down first "
              f"(lab/lab -i {args.instance} down) or choose another with --instance", file=sys.stderr)
        return 1
    commit, dirty = git_commit()
    bench = Bench(args)
    data["series"] = {**plan, "commit": commit, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    save(json_path, data)
    status = 0

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        for n in series:
            ok, reason = bench.fits_now(n, data)
            if not ok:
                log(f"stopping the series: {reason}")
                data["series"]["stopped"] = reason
                break
            log(f"N={n}: lab up {TOPOLOGY} --workers {n + 1} (instance {args.instance})")
            record = bench.one(n, commit, dirty)
            data = merge(data, record)
            save(json_path, data)
            if bench.interrupted:
                log(f"interrupted at N={n} ({record['failed']}); the lab instance is down")
                data["series"]["stopped"] = f"N={n}: {record['failed']}"
                status = 130
                break
            if record["failed"]:
                log(f"N={n} failed: {record['failed']}; stopping the series")
                data["series"]["stopped"] = f"N={n} failed: {record['failed']}"
                status = 1
                break
            log(f"N={n}: " + ", ".join(f"{op} {record['seconds'][op]} s" for op in OPERATIONS)
                + f", re-run changed {record['changed']['rerun']}")
    except KeyboardInterrupt:
        status = 130
    finally:
        save(json_path, data)
        if data["runs"]:
            print(table(data, newest_commit(data["runs"])))
            with contextlib.suppress(Exception):
                print(f"plot: {plot(data, png)}")
        print(f"figures: {json_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
