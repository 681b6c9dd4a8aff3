"""scripts/bench.py (make bench): its pure parts. No lab is booted and no playbook runs here."""

import importlib.util
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(SPEC)
sys.modules["bench"] = bench
SPEC.loader.exec_module(bench)

MODEL = {"per_worker_mib": 400, "fixed_mib": 4000, "per_node_disk_mib": 1000, "fixed_disk_mib": 6000, "source": "test"}


# ---------------------------------------------------------------- the series

def test_series_from_the_environment():
    assert bench.parse_series("1 5 10 20", 149) == [1, 5, 10, 20]
    assert bench.parse_series("1,5, 5 2", 149) == [1, 5, 2]


@pytest.mark.parametrize("text, message", [
    ("1 0", "0: N must be 1 to 149"),
    ("150", "150: N must be 1 to 149 (the topology takes 150 workers, one of them for scale.yml)"),
    ("1 many", "'many' is not a number"),
    ("  ", "names no worker count"),
])
def test_bad_series_are_refused(text, message):
    with pytest.raises(SystemExit, match=re.escape(message)):
        bench.parse_series(text, 149)


@pytest.mark.parametrize("largest, series", [
    (0, []),
    (1, [1]),
    (3, [1, 3]),
    (5, [1, 5]),
    (37, [1, 5, 10, 20, 30, 37]),
    (50, [1, 5, 10, 20, 30, 40, 50]),
    (149, [1, 5, 10, 20, 30, 40, 50, 75, 100, 125, 149]),
])
def test_default_series_ends_at_the_largest_n(largest, series):
    assert bench.default_series(largest) == series


def test_largest_n_by_memory():
    # (24000 - 3072 - 4000) / 400 = 42.3 -> 42 workers booted, one of them for scale.yml
    n, why = bench.largest_n(24000, 10**6, MODEL, 149)
    assert n == 41
    assert why.startswith("memory (memory: 24000 MiB available - 3072 reserved") and "400 MiB per worker (test)" in why


def test_largest_n_by_disk_and_by_topology():
    # (50000 - 10000 - 6000) / 1000 = 34 nodes' worth of workers, one for scale.yml
    n, why = bench.largest_n(10**6, 50000, MODEL, 149, disk_reserve_mib=10000)
    assert (n, why.split(" ")[0]) == (33, "disk")
    n, why = bench.largest_n(10**7, 10**7, MODEL, 149)
    assert (n, why.split(" ")[0]) == (149, "topology")


def test_largest_n_never_below_zero():
    n, why = bench.largest_n(2000, 10**6, MODEL, 149)
    assert n == 0 and why.startswith("memory")
    assert bench.default_series(n) == []


def test_disk_reserve_keeps_a_twentieth_free():
    assert bench.disk_reserve_mib(252 * 1024) == 12903
    assert bench.disk_reserve_mib(1000) == bench.DISK_RESERVE_MIB


def record(n, commit="c1", site=100.0, rerun=20.0, scale=30.0, remove=15.0, worker_ws=300.0, when="2026-12-04T10:00:00Z", **extra):
    seconds = {"lab_up": 10.0, "site": site, "rerun": rerun, "scale": scale, "remove": remove, "lab_down": 3.0}
    return {
        "workers": n, "commit": commit, "dirty": False, "when": when,
        "seconds": {k: v for k, v in seconds.items() if v is not None},
        "changed": {"site": 400, "rerun": 0, "scale": 50, "remove": 12},
        "failed": None,
        "memory_mib": {
            "host_used_after_site": 5000 + 350 * n,
            "nodes_working_set_total": 3500 + worker_ws * n,
            "lab_services": 200,
            "by_group": {
                "frontend": {"median_working_set": 60, "sum_working_set": 120, "nodes": 2},
                "control_plane": {"median_working_set": 900, "sum_working_set": 2700, "nodes": 3},
                "worker": {"median_working_set": worker_ws, "sum_working_set": worker_ws * n, "nodes": n},
            },
        },
        "disk_mib": {"fe-1": 700, "cp-1": 1400, "worker-1": 900},
        **extra,
    }


def test_memory_model_from_the_newest_measured_record():
    assert bench.memory_model([])["source"].startswith("guess")
    runs = [record(1, worker_ws=250), record(5, worker_ws=310, commit="c2"), {"workers": 10, "failed": "lab up"}]
    model = bench.memory_model(runs)
    assert model["per_worker_mib"] == 310
    assert model["fixed_mib"] == 120 + 2700 + 200
    assert model["per_node_disk_mib"] == 900 and model["fixed_disk_mib"] == 2 * 700 + 3 * 1400
    assert model["source"].startswith("measured at N=5, commit c2")


def test_series_choice_follows_the_measured_model():
    # the guess first, then a run's figures: the same machine holds more
    guessed, unused_why = bench.largest_n(22000, 10**6, bench.memory_model([]), 149)
    measured, unused_why2 = bench.largest_n(22000, 10**6, bench.memory_model([record(5, worker_ws=250)]), 149)
    assert guessed == (22000 - 3072 - 4608) // 450 - 1
    assert measured == (22000 - 3072 - 3020) // 250 - 1
    assert bench.default_series(measured)[-1] == measured and measured > guessed


# ---------------------------------------------------------------- ansible's recap

RECAP = """
PLAY RECAP *********************************************************************
cp-1                       : ok=212  changed=3    unreachable=0    failed=0    skipped=40   rescued=0    ignored=0
fe-1                       : ok=80   changed=0    unreachable=0    failed=0    skipped=12   rescued=0    ignored=0
worker-12                  : ok=90   changed=1    unreachable=1    failed=2    skipped=9    rescued=0    ignored=0

Playbook run took 0 days, 0 hours, 1 minutes, 52 seconds
"""


def test_parse_recap():
    recap = bench.parse_recap(RECAP)
    assert recap["changed"] == 4 and recap["failed"] == 2 and recap["unreachable"] == 1 and recap["ok"] == 382
    assert recap["hosts"]["worker-12"] == {"ok": 90, "changed": 1, "unreachable": 1, "failed": 2, "skipped": 9}
    assert bench.parse_recap("no recap")["changed"] == 0


def test_summarise_per_group():
    values = {"a": {"ws": 10.0}, "b": {"ws": 30.0}, "c": {"ws": 20.0}, "d": {"ws": 99.0}}
    groups = {"a": "worker", "b": "worker", "c": "worker", "d": "frontend"}
    out = bench.summarise(values, groups, "ws")
    assert out["worker"] == {"median_ws": 20.0, "max_ws": 30.0, "sum_ws": 60.0, "nodes": 3}
    assert out["frontend"]["nodes"] == 1


# ---------------------------------------------------------------- fit and bench.json

def test_linear_fit():
    fit = bench.linear_fit([(1, 12.0), (5, 20.0), (10, 30.0)])
    assert fit["slope_seconds_per_worker"] == pytest.approx(2.0, abs=0.01)
    assert fit["intercept_seconds"] == pytest.approx(10.0, abs=0.2)
    assert fit["r2"] == pytest.approx(1.0, abs=0.01)
    assert fit["points"] == [[1, 12.0], [5, 20.0], [10, 30.0]]
    assert bench.linear_fit([(5, 1.0)]) is None
    assert bench.linear_fit([(5, 1.0), (5, 2.0)]) is None


def test_merge_appends_and_fits_the_newest_commit():
    data = bench.merge(None)
    assert data["runs"] == [] and data["fit"]["operations"]["site"] is None
    data = bench.merge(data, record(1, commit="old", site=500.0))
    data = bench.merge(data, record(1, commit="new", site=110.0, rerun=21.0))
    data = bench.merge(data, record(10, commit="new", site=200.0, rerun=30.0))
    assert [r["commit"] for r in data["runs"]] == ["old", "new", "new"]
    fit = data["fit"]
    assert fit["commit"] == "new"
    assert fit["operations"]["site"]["slope_seconds_per_worker"] == pytest.approx(10.0)
    assert fit["operations"]["site"]["intercept_seconds"] == pytest.approx(100.0)
    assert fit["operations"]["rerun"]["slope_seconds_per_worker"] == pytest.approx(1.0)
    assert data["memory_model"]["source"].startswith("measured at N=10, commit new")


def test_the_newest_record_of_an_n_wins_and_a_failed_operation_is_left_out():
    runs = [record(5, site=300.0), record(5, site=150.0, scale=None, failed="scale (rc 2)"), record(1, site=100.0)]
    site = bench.latest_per_n(runs, "site", "c1")
    assert {n: r["seconds"]["site"] for n, r in site.items()} == {1: 100.0, 5: 150.0}
    scale = bench.latest_per_n(runs, "scale", "c1")
    assert {n: r["seconds"]["scale"] for n, r in scale.items()} == {1: 30.0, 5: 30.0}
    assert scale[5]["seconds"]["site"] == 300.0  # the older, complete record
    assert bench.latest_per_n(runs, "site", "other") == {}


def test_bench_json_load_and_save(tmp_path):
    path = tmp_path / "results" / "bench.json"
    assert bench.load(path) == {"runs": []}
    data = bench.merge(bench.load(path), record(3))
    bench.save(path, data)
    again = bench.load(path)
    assert again["runs"][0]["workers"] == 3 and again["runs"][0]["commit"] == "c1"
    assert not list(path.parent.glob("*.tmp"))
    path.write_text("{not json")
    with pytest.raises(SystemExit, match="is not JSON"):
        bench.load(path)
    path.write_text('{"runs": 3}')
    with pytest.raises(SystemExit, match="no list 'runs'"):
        bench.load(path)


def fixture_data():
    data = None
    for n, site, rerun, scale, remove in ((1, 110.0, 25.0, 40.0, 20.0), (5, 140.0, 30.0, 45.0, 22.0),
                                          (10, 180.0, 36.0, 52.0, 25.0), (20, 260.0, 48.0, 66.0, 30.0)):
        data = bench.merge(data, record(n, site=site, rerun=rerun, scale=scale, remove=remove))
    return data


def test_plot_from_a_fixture(tmp_path):
    out = bench.plot(fixture_data(), tmp_path / "out" / "bench.png")
    head = out.read_bytes()[:8]
    assert head == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_table_lists_each_n_and_the_fits():
    text = bench.table(fixture_data(), "c1")
    lines = text.splitlines()
    assert lines[0] == "commit c1"
    assert lines[2].split() == ["1", "110.0", "25.0", "0", "40.0", "20.0", "3800"]
    assert any(line.startswith("fit site") and "s per worker" in line for line in lines)


def test_plot_only_redraws_and_stores_the_fits(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(tmp_path))
    results = tmp_path / "results"
    data = fixture_data()
    data.pop("fit")
    bench.save(results / "bench.json", data)
    assert bench.main(["--plot-only"]) == 0
    out = capsys.readouterr().out
    assert "fit site" in out and f"plot: {results / 'bench.png'}" in out
    stored = json.loads((results / "bench.json").read_text())
    assert stored["fit"]["operations"]["site"]["slope_seconds_per_worker"] == pytest.approx(1600 / 202, abs=0.001)
    assert (results / "bench.png").stat().st_size > 10_000
    assert not (results / "bench-work").exists()


def test_plot_only_without_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(tmp_path))
    with pytest.raises(SystemExit, match="no figures"):
        bench.main(["--plot-only"])


def test_plan_runs_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(tmp_path))
    monkeypatch.setattr(bench.Bench, "one", lambda *a: pytest.fail("--plan must not run anything"))
    assert bench.main(["--plan", "--workers", "1 5"]) == 0
    assert capsys.readouterr().out.startswith("series 1 5; the largest N this machine holds now:")
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------- the host's figures (fake cgroup trees)

def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_node_memory_from_cgroup_v1(tmp_path):
    node = tmp_path / "memory" / "quorum-lab-bench" / "worker-3"
    write(node / "memory.usage_in_bytes", str(300 << 20))
    write(node / "memory.stat", f"cache 1\nrss 2\ntotal_rss {120 << 20}\ntotal_inactive_file {100 << 20}\n")
    assert bench.node_memory("bench", "worker-3", tmp_path) == {"usage": 300.0, "rss": 120.0, "working_set": 200.0}
    assert bench.node_memory("bench", "worker-4", tmp_path) is None
    assert bench.node_memory("other", "worker-3", tmp_path) is None


def test_node_memory_from_cgroup_v2(tmp_path):
    node = tmp_path / "quorum-lab-bench" / "cp-1"
    write(node / "memory.current", str(1024 << 20))
    write(node / "memory.stat", f"anon {700 << 20}\nfile {300 << 20}\ninactive_file {24 << 20}\n")
    assert bench.node_memory("bench", "cp-1", tmp_path) == {"usage": 1024.0, "rss": 700.0, "working_set": 1000.0}


def test_idle_cpu_from_cgroups(tmp_path):
    v1 = tmp_path / "cpuacct" / "quorum-lab-bench" / "fe-1" / "cpuacct.usage"
    v2 = tmp_path / "quorum-lab-bench" / "cp-1" / "cpu.stat"
    write(v1, "1000000000")
    write(v2, "usage_usec 5000000\nuser_usec 1\n")
    ticks = iter([100.0, 110.0])

    def sleep(seconds):
        assert seconds == 10
        write(v1, str(1_000_000_000 + 500_000_000))  # 0.5 s of CPU in 10 s
        write(v2, "usage_usec 7000000\n")  # 2 s in 10 s

    cpu = bench.idle_cpu_percent("bench", ["fe-1", "cp-1", "worker-1"], 10, tmp_path, sleep=sleep, clock=lambda: next(ticks))
    assert cpu == {"fe-1": 5.0, "cp-1": 20.0}


def test_meminfo(tmp_path):
    f = tmp_path / "meminfo"
    f.write_text("MemTotal:       24684544 kB\nMemFree: 100 kB\nMemAvailable:   20971520 kB\nHugePages_Total: 0\n")
    assert bench.meminfo(f)["MemAvailable"] == 20480
    assert bench.host_used_mib(f) == 24106 - 20480


# ---------------------------------------------------------------- only its own processes, stopped on Ctrl-C

def test_runner_logs_and_times_a_command(tmp_path):
    runner = bench.Runner({"PATH": "/usr/bin:/bin"})
    rc, seconds = runner.run(["sh", "-c", "echo hello; exit 3"], tmp_path / "x.log")
    assert rc == 3 and seconds >= 0
    assert (tmp_path / "x.log").read_text() == "$ sh -c echo hello; exit 3\nhello\n"
    assert runner.child is None


def test_runner_stops_the_session_it_started():
    runner = bench.Runner({})
    runner.child = subprocess.Popen(["sleep", "30"], start_new_session=True, preexec_fn=bench.default_sigint)
    runner.stop()
    assert runner.child.returncode == -signal.SIGINT
    runner.stop()  # nothing running: nothing to do


# ---------------------------------------------------------------- one N, with a fake lab and fake playbooks

class FakeRunner:
    """Answers `lab up` by writing the lab's inventory, `lab exec -- ansible-playbook` with a log
    ending in a PLAY RECAP, `lab down` with nothing; fails or interrupts the step asked."""

    def __init__(self, paths, fail=None, interrupt=None):
        self.paths, self.fail, self.interrupt, self.calls = paths, fail, interrupt, []

    def run(self, argv, log, *, extra_env=None):
        from lab import lifecycle, topology

        log.parent.mkdir(parents=True, exist_ok=True)
        cmd = argv[3]  # lab/lab -i INSTANCE CMD ...
        if cmd == "exec":
            playbook = argv[-1]
            rerun = sum(1 for c in self.calls if c[0] == "site.yml")
            step = {"site.yml": "rerun" if rerun else "site", "playbooks/scale.yml": "scale",
                    "playbooks/remove_node.yml": "remove"}[playbook]
            self.calls.append((playbook, argv, dict(extra_env or {})))
            if step == self.interrupt:
                raise bench.Interrupted(step)
            changed = 0 if step == "rerun" else 7
            log.write_text(f"PLAY RECAP ***\ncp-1 : ok=10 changed={changed} unreachable=0 failed=0 skipped=1\n")
            return (2 if step == self.fail else 0), 12.5
        self.calls.append((cmd, argv, dict(extra_env or {})))
        if cmd == "up":
            n = int(argv[argv.index("--workers") + 1])
            lifecycle.write_inventory(self.paths, "large", topology.nodes("large", env={}, workers=n), "nspawn")
            return (1 if self.fail == "lab up" else 0), 4.0
        return 0, 1.0


@pytest.fixture
def one(tmp_path, monkeypatch):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(tmp_path))
    args = bench.parse_args(["--instance", "bench-unit", "--idle-seconds", "0"])

    def make(**kwargs):
        b = bench.Bench(args)
        b.python = sys.executable
        b.runner = FakeRunner(b.paths, **kwargs)
        return b

    return make


def test_one_n_measures_each_operation_and_takes_the_lab_down(one, tmp_path):
    b = one()
    rec = b.one(3, "abc", False)
    assert rec["failed"] is None and not b.interrupted
    assert rec["workers"] == 3 and rec["commit"] == "abc" and rec["topology"] == "large"
    assert rec["seconds"] == {"lab_up": 4.0, "site": 12.5, "rerun": 12.5, "scale": 12.5, "remove": 12.5, "lab_down": 1.0}
    assert rec["changed"] == {"site": 7, "rerun": 0, "scale": 7, "remove": 7}
    assert "host_used_after_site" in rec["memory_mib"] and rec["ansible"]["forks"] >= 1
    calls = b.runner.calls
    assert [c[0] for c in calls] == ["up", "site.yml", "site.yml", "playbooks/scale.yml", "playbooks/remove_node.yml", "down"]
    up = calls[0]
    assert up[1][1:] == ["-i", "bench-unit", "up", "large", "--workers", "4"]
    assert up[2] == {"QUORUM_LAB_SKIP_RESOURCE_CHECK": "1"}
    work = tmp_path / "results" / "bench-work" / "N3"
    site = calls[1]
    assert site[1][1:7] == ["-i", "bench-unit", "exec", "--", "ansible-playbook", "-i"]
    assert site[1][7] == str(work / "start.yml")
    assert site[2]["ANSIBLE_CONFIG"] == str(REPO / "ansible.cfg")
    assert site[2]["ANSIBLE_SSH_CONTROL_PATH_DIR"] == "/tmp/quorum-ansible-cp-bench-unit"
    assert site[2]["ANSIBLE_TIMEOUT"] == "180" and rec["ansible"]["timeout"] == 180
    remove = calls[4][1]
    assert remove[7] == str(work / "added.yml") and remove[8:10] == ["-e", "remove_node=worker-4"]
    # the inventories: the first N workers, then all N+1, the frontends' jump kept
    import yaml

    start = yaml.safe_load((work / "start.yml").read_text())["all"]["children"]["lab"]["children"]
    added = yaml.safe_load((work / "added.yml").read_text())["all"]["children"]["lab"]["children"]
    assert list(start["worker"]["hosts"]) == ["worker-1", "worker-2", "worker-3"]
    assert list(added["worker"]["hosts"]) == ["worker-1", "worker-2", "worker-3", "worker-4"]
    assert added["worker"]["hosts"]["worker-4"]["ansible_host"] == "10.231.0.103"
    assert list(start["frontend"]["hosts"]) == ["fe-1", "fe-2"] and len(start["control_plane"]["hosts"]) == 3


@pytest.mark.parametrize("fail, done", [
    ("lab up", []),
    ("site", []),
    ("scale", ["site", "rerun"]),
])
def test_a_failed_step_is_recorded_and_the_lab_still_taken_down(one, fail, done):
    b = one(fail=fail)
    rec = b.one(2, "abc", False)
    assert rec["failed"].startswith(fail) and not b.interrupted
    assert [op for op in bench.OPERATIONS if op in rec["seconds"]] == done
    assert b.runner.calls[-1][0] == "down"


def test_an_interrupted_step_is_recorded_and_the_lab_taken_down(one):
    b = one(interrupt="rerun")
    rec = b.one(2, "abc", False)
    assert b.interrupted and rec["failed"] == "interrupted during rerun"
    assert "site" in rec["seconds"] and "rerun" not in rec["seconds"]
    assert b.runner.calls[-1][0] == "down"


def test_figures_of_several_commits_by_prefix():
    runs = [record(1, commit="aaaa1111", site=100.0), record(1, commit="bbbb2222", site=90.0),
            record(30, commit="cccc3333", site=400.0), record(20, commit="dddd4444", site=300.0)]
    assert bench.of_commit(runs[0], "aaaa") and not bench.of_commit(runs[0], "bbbb")
    chosen = bench.latest_per_n(runs, "site", "bbbb2222, cccc")
    assert {n: r["seconds"]["site"] for n, r in chosen.items()} == {1: 90.0, 30: 400.0}
    assert bench.fits(runs, "bbbb,cccc")["operations"]["site"]["points"] == [[1.0, 90.0], [30.0, 400.0]]
