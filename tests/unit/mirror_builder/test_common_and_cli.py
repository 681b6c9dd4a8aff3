"""What the builder shares with the lab (common.py), its one pinned version, and its command line."""

import hashlib
import os
import re

import pytest

from lab import config as lab_config
from mirror_builder import cli, common, config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULTS = os.path.join(REPO, "plugins", "module_utils", "_defaults.py")


def test_one_pinned_version_for_the_builder_and_the_lab():
    with open(DEFAULTS, encoding="utf-8") as f:
        pinned = re.search(r'^KUBERNETES_VERSION = "v?([0-9.]+)"', f.read(), re.M).group(1)
    assert config.KUBERNETES_VERSION == "v" + pinned
    assert lab_config.DEFAULT_KUBERNETES_VERSION == pinned


def test_pinned_version_is_read_from_the_file_given(tmp_path):
    other = tmp_path / "_defaults.py"
    other.write_text('KUBERNETES_VERSION = "v1.36.1"\n')
    assert common.pinned_kubernetes_version(other) == "1.36.1"


def test_hashes_and_atomic_writes(tmp_path):
    target = tmp_path / "a" / "b.txt"
    common.write_atomic(str(target), "payload", mode=0o600)
    assert target.read_text() == "payload" and oct(target.stat().st_mode & 0o777) == "0o600"
    assert common.sha256_file(target) == hashlib.sha256(b"payload").hexdigest()
    assert os.listdir(target.parent) == ["b.txt"]
    # the lab's cache keys (image, apt mirror) must not move: key order does not count, values do
    assert common.stable_hash({"b": 1, "a": [2]}) == common.stable_hash({"a": [2], "b": 1})
    assert common.stable_hash({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()[:16]
    assert len(common.stable_hash({"a": 1}, 24)) == 24


def test_log_lines_name_their_tool(capsys):
    common.logger("mirror")("hello")
    assert re.fullmatch(r"mirror \[ +\d+\.\ds\] hello\n", capsys.readouterr().err)


def test_settings_from_flags_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(tmp_path / "env"))
    monkeypatch.setenv("QUORUM_KUBERNETES_VERSION", "v1.35.6")
    s = config.Settings.from_env()
    assert (s.home, s.kubernetes_version) == (str(tmp_path / "env"), "v1.35.6")
    s = config.Settings.from_env("1.35.7", home=str(tmp_path / "flag"), debian_mirror="http://m.example/debian")
    assert (s.home, s.kubernetes_version, s.debian_mirror) == (str(tmp_path / "flag"), "v1.35.7", "http://m.example/debian")
    assert s.mirror_dir == str(tmp_path / "flag" / "mirror")


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["build", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--home", "--kubernetes-version", "--debian-mirror", "--debian-suite", "--force", "--dry-run",
                 "--upgrade-from", "QUORUM_ARTIFACTS_UPGRADE_FROM"):
        assert flag in out


def test_dry_run_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli.toolchain, "local_go", lambda cache: None)
    monkeypatch.setattr(cli.shutil, "which", lambda tool: None if tool == "gpgv" else "/usr/bin/" + tool)
    home = tmp_path / "site"
    assert cli.main(["build", "--dry-run", "--home", str(home), "--kubernetes-version", "v1.35.6"]) == 1
    out = capsys.readouterr().out
    assert "v1.35.6" in out and f"{home}/mirror (absent" in out
    assert "would be fetched" in out and "missing: gpgv" in out
    assert not home.exists()


def test_path_and_version(tmp_path, capsys):
    assert cli.main(["path", "--home", str(tmp_path)]) == 0
    assert cli.main(["version", "--kubernetes-version", "1.35.6"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "mirror" / "manifest.json"), "v1.35.6"]


def test_verify_without_a_mirror_says_so(tmp_path, capsys):
    assert cli.main(["verify", "--home", str(tmp_path)]) == 1
    assert "no manifest.json" in capsys.readouterr().err


def test_dry_run_tells_a_warm_mirror_from_a_stale_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli.toolchain, "local_go", lambda cache: "/usr/bin/go")
    monkeypatch.delenv("QUORUM_ARTIFACTS_UPGRADE_FROM", raising=False)
    settings = config.Settings.from_env(home=str(tmp_path))
    (tmp_path / "mirror" / "images").mkdir(parents=True)
    (tmp_path / "mirror" / "images" / "index.json").write_text("[]")
    manifest = tmp_path / "mirror" / "manifest.json"
    manifest.write_text('{"key": "%s", "releases": {"%s": {}}, "artifacts": []}'
                        % (cli.build_mod.cache_key(settings), config.KUBERNETES_VERSION))
    cli.main(["build", "--dry-run", "--home", str(tmp_path)])
    assert "(up to date (key" in capsys.readouterr().out
    cli.main(["build", "--dry-run", "--home", str(tmp_path), "--kubernetes-version", "v1.35.6"])
    assert "another version or recipe" in capsys.readouterr().out
    cli.main(["build", "--dry-run", "--home", str(tmp_path), "--upgrade-from"])
    out = capsys.readouterr().out
    assert f"and {config.UPGRADE_FROM_VERSION} (to upgrade from)" in out and "without a release asked for" in out


def test_upgrade_from_pin_is_read_from_the_file_given(tmp_path):
    other = tmp_path / "_defaults.py"
    other.write_text('KUBERNETES_VERSION = "1.36.1"\nUPGRADE_FROM_VERSION = "v1.35.9"\n')
    assert common.pinned_upgrade_from_version(other) == "1.35.9"
    with open(DEFAULTS, encoding="utf-8") as f:
        pinned = re.search(r'^UPGRADE_FROM_VERSION = "v?([0-9.]+)"', f.read(), re.M).group(1)
    assert config.UPGRADE_FROM_VERSION == "v" + pinned
    config.check_upgrade_pair(config.KUBERNETES_VERSION, config.UPGRADE_FROM_VERSION)  # the pins make a pair


def test_upgrade_from_is_opt_in_flag_then_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("QUORUM_ARTIFACTS_UPGRADE_FROM", raising=False)
    home = str(tmp_path)
    assert config.Settings.from_env(home=home).releases == (config.KUBERNETES_VERSION,)
    for word in ("1", "yes", "YES", "true"):
        monkeypatch.setenv("QUORUM_ARTIFACTS_UPGRADE_FROM", word)
        assert config.Settings.from_env(home=home).upgrade_from == config.UPGRADE_FROM_VERSION
    monkeypatch.setenv("QUORUM_ARTIFACTS_UPGRADE_FROM", "1.34.11")
    s = config.Settings.from_env(home=home)
    assert s.releases == (config.KUBERNETES_VERSION, "v1.34.11")
    assert config.Settings.from_env(home=home, upgrade_from="v1.34.10").upgrade_from == "v1.34.10"
    for off in ("", "0", "no"):
        monkeypatch.setenv("QUORUM_ARTIFACTS_UPGRADE_FROM", off)
        assert config.Settings.from_env(home=home).upgrade_from is None


@pytest.mark.parametrize("main, old, message", [
    ("v1.35.8", "v1.35.8", "is not older than the release built, v1.35.8"),
    ("v1.35.8", "v1.36.0", "is not older"),
    ("v1.35.8", "v1.33.9", "more than one minor older than v1.35.8"),
    ("v1.35.8", "v0.35.8", "more than one minor older"),
    ("v1.35.8", "1.34", "not a release version"),
])
def test_refused_upgrade_pairs(main, old, message):
    with pytest.raises(config.SettingsError, match=message):
        config.Settings(home="/x", kubernetes_version=main, upgrade_from=old)


def test_allowed_upgrade_pairs():
    assert config.Settings(home="/x", kubernetes_version="v1.35.8", upgrade_from="v1.34.12").releases == \
        ("v1.35.8", "v1.34.12")
    assert config.Settings(home="/x", kubernetes_version="v1.35.8", upgrade_from="v1.35.6").upgrade_from == "v1.35.6"
    assert sorted(["v1.35.8", "v1.10.0", "v1.9.3"], key=config.version_key) == ["v1.9.3", "v1.10.0", "v1.35.8"]


def test_cli_refuses_a_bad_pair_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("QUORUM_ARTIFACTS_UPGRADE_FROM", raising=False)
    assert cli.main(["build", "--home", str(tmp_path), "--upgrade-from", "v1.33.9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mirror build refused: the upgrade-from release v1.33.9") and err.count("\n") == 1
    assert not (tmp_path / "cache").exists()
    # verify and path do not read the variable
    monkeypatch.setenv("QUORUM_ARTIFACTS_UPGRADE_FROM", "v1.2.3")
    assert cli.main(["path", "--home", str(tmp_path)]) == 0
