"""`lab up large --workers N`: the count lives in the state file, and `lab inventory`, `status`,
`ssh`, `kill` and `start` of that instance use it (no node is booted here)."""

import json
import types

import pytest
import yaml

from lab import cli, config, lifecycle, power, state


@pytest.fixture
def paths(tmp_path, monkeypatch):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(tmp_path))
    monkeypatch.setenv("QUORUM_LAB_INSTANCE", "bench")
    monkeypatch.setattr(lifecycle, "log", lambda *a: None)
    return config.Paths(tmp_path, "bench")


@pytest.fixture
def fake_boot(paths, monkeypatch):
    """Everything `lab up` does to the host replaced; records which nodes boot_all was given."""
    booted = {}
    machine = types.SimpleNamespace(NAME="nspawn", accel=lambda p, img: "native", prepare=lambda img, st: None)
    monkeypatch.setattr(lifecycle.backend, "for_topology", lambda topo: machine)
    monkeypatch.setattr(lifecycle, "check_host", lambda m: None)
    monkeypatch.setattr(lifecycle, "find_leftovers", lambda p: [])
    monkeypatch.setattr(lifecycle.net, "exists", lambda ns: False)
    monkeypatch.setattr(lifecycle.net, "ensure", lambda ns: None)
    monkeypatch.setattr(lifecycle, "build_assets", lambda p: types.SimpleNamespace(key="img"))
    monkeypatch.setattr(lifecycle, "ensure_ssh_key", lambda p: "ssh-ed25519 AAAA test")
    monkeypatch.setattr(lifecycle.vault, "ensure_ca", lambda p: None)
    monkeypatch.setattr(lifecycle, "start_mirror", lambda p, ns: 11)
    monkeypatch.setattr(lifecycle, "start_vault", lambda p, ns, st: st.update(vault_pid=12))
    monkeypatch.setenv("QUORUM_LAB_SKIP_RESOURCE_CHECK", "1")

    def boot_all(paths_, ns, node_list, st, img, accel, pubkey, timeout, hard_max):
        booted["nodes"] = [n.name for n in node_list]
        for i, node in enumerate(node_list):
            st["vms"][node.name] = {"pid": 100000 + i, "ip": node.ip, "memory_mib": node.size.memory_mib,
                                    "cpus": node.size.cpus, "backend": "nspawn"}
        return {n.name: 1.0 for n in node_list}

    monkeypatch.setattr(lifecycle, "boot_all", boot_all)
    return booted


def inventory_workers(path):
    inv = yaml.safe_load(open(path))
    return list(inv["all"]["children"]["lab"]["children"]["worker"]["hosts"])


def test_up_records_the_worker_count(paths, fake_boot):
    st = lifecycle.up(paths, "large", workers=4)
    assert st["workers"] == 4 and state.load(paths)["workers"] == 4
    assert fake_boot["nodes"] == ["fe-1", "fe-2", "cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3", "worker-4"]
    assert inventory_workers(paths.inventory) == ["worker-1", "worker-2", "worker-3", "worker-4"]
    figures = json.loads((paths.results / "lab-up-large-bench.json").read_text())
    assert figures["workers"] == 4 and figures["vms"] == 9


def test_up_of_a_topology_of_fixed_size_records_no_count(paths, fake_boot):
    st = lifecycle.up(paths, "stacked")
    assert "workers" not in st and "workers" not in state.load(paths)


@pytest.fixture
def running_large(paths, fake_boot, monkeypatch):
    lifecycle.up(paths, "large", workers=4)
    monkeypatch.setattr(lifecycle, "running", lambda p, st: True)
    waited = []
    monkeypatch.setattr(lifecycle, "wait_ssh", lambda p, ns, node, pid, t, h, via=None: waited.append(node.name) or 1.0)
    return waited


def test_up_again_keeps_the_running_count(paths, running_large):
    lifecycle.up(paths, "large")
    assert running_large[-4:] == ["worker-1", "worker-2", "worker-3", "worker-4"] and len(running_large) == 9
    lifecycle.up(paths, "large", workers=4)
    assert len(running_large) == 18


def test_up_refuses_another_count_while_it_runs(paths, running_large):
    with pytest.raises(config.LabError, match="runs large with 4 workers, not 6: run 'lab down' first"):
        lifecycle.up(paths, "large", workers=6)
    assert running_large == []


def test_status_reports_the_count(paths, running_large, capsys):
    report, _healthy = lifecycle.status(paths)
    assert report["workers"] == 4 and report["topology"] == "large"
    cli._print_status(report)
    assert "topology large (4 workers)" in capsys.readouterr().out


def test_cli_inventory_follows_the_running_lab(paths, running_large, capsys):
    paths.inventory.unlink()
    assert cli.main(["inventory", "large"]) == 0
    assert capsys.readouterr().out.strip() == str(paths.inventory)
    assert inventory_workers(paths.inventory) == ["worker-1", "worker-2", "worker-3", "worker-4"]
    assert cli.main(["inventory", "large", "--workers", "4"]) == 0
    assert cli.main(["inventory", "large", "--workers", "7"]) == 1
    assert "runs large with 4 workers, not 7" in capsys.readouterr().err
    assert inventory_workers(paths.inventory) == ["worker-1", "worker-2", "worker-3", "worker-4"]


def test_cli_inventory_without_a_lab(paths, capsys):
    assert cli.main(["inventory", "large", "--workers", "6"]) == 0
    assert inventory_workers(paths.inventory) == [f"worker-{i}" for i in range(1, 7)]
    assert cli.main(["inventory", "large"]) == 0
    assert inventory_workers(paths.inventory) == ["worker-1", "worker-2", "worker-3"]
    # another instance's lab is not this one's
    st = {"topology": "large", "workers": 9}
    assert cli.inventory_workers("large", None, st, "bench") == 9
    assert cli.inventory_workers("large", None, {"topology": "stacked"}, "bench") == 3
    assert cli.inventory_workers("stacked", None, st, "bench") is None


@pytest.mark.parametrize("argv, message", [
    (["up", "stacked", "--workers", "2"], "topology 'stacked' has a fixed size: --workers is for large"),
    (["inventory", "lifecycle", "--workers", "2"], "topology 'lifecycle' has a fixed size"),
    (["up", "large", "--workers", "0"], "--workers 0: topology 'large' takes 1 to 150 workers"),
    (["up", "large", "--workers", "151"], "--workers 151: topology 'large' takes 1 to 150 workers"),
    (["inventory", "large", "--workers", "-3"], "--workers -3: topology 'large' takes 1 to 150 workers"),
])
def test_cli_refuses_bad_worker_counts_before_anything_starts(paths, argv, message, monkeypatch, capsys):
    monkeypatch.setattr(lifecycle, "check_host", lambda m: pytest.fail("nothing may start"))
    assert cli.main(argv) == 1
    assert message in capsys.readouterr().err
    assert not paths.inventory.exists() and not paths.run.exists()


def test_cli_without_workers_is_unchanged_for_other_topologies():
    args = cli._parser().parse_args(["up", "stacked"])
    assert (args.topology, args.workers) == ("stacked", None)
    args = cli._parser().parse_args(["-i", "bench", "up", "large", "--workers", "50"])
    assert (args.instance, args.topology, args.workers) == ("bench", "large", 50)


def test_ssh_and_start_find_a_worker_beyond_the_default_count(paths, running_large, monkeypatch):
    st = state.load(paths)
    node = power.node_of(st, "worker-4")  # the default count (3) has no worker-4
    assert node.ip == "10.231.0.103"
    seen = {}
    monkeypatch.setattr(cli.os, "execvp", lambda prog, argv: seen.update(argv=argv))
    monkeypatch.setattr(cli.net, "inside", lambda ns: True)
    cli.main(["ssh", "worker-4", "--", "true"])
    argv = seen["argv"]
    assert argv[-2:] == ["root@10.231.0.103", "true"]
    proxy = next(a for a in argv if a.startswith("ProxyCommand="))
    assert "root@10.231.0.11" in proxy and "root@10.231.0.12" in proxy
