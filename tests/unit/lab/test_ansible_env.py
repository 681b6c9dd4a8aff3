"""Lab runs of Ansible use Mitogen's strategy unless switched off."""

from lab import ansible_env


def test_mitogen_strategy_when_installed(monkeypatch, tmp_path):
    strategy = tmp_path / "plugins" / "strategy"
    strategy.mkdir(parents=True)
    monkeypatch.setattr(ansible_env, "mitogen_strategy_dir", lambda: strategy)
    assert ansible_env.ansible_env({}) == {"ANSIBLE_STRATEGY_PLUGINS": str(strategy), "ANSIBLE_STRATEGY": "mitogen_linear"}


def test_switched_off_or_overridden_or_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(ansible_env, "mitogen_strategy_dir", lambda: tmp_path)
    assert ansible_env.ansible_env({"QUORUM_LAB_MITOGEN": "0"}) == {}
    assert ansible_env.ansible_env({"ANSIBLE_STRATEGY": "free"}) == {}
    monkeypatch.setattr(ansible_env, "mitogen_strategy_dir", lambda: None)
    assert ansible_env.ansible_env({}) == {}


def test_the_venv_carries_mitogen():
    # requirements.txt pins it; the unit tests run in that venv
    found = ansible_env.mitogen_strategy_dir()
    assert found is not None and (found / "mitogen_linear.py").is_file()


def test_lab_cli_unpins_itself_and_its_children():
    import os

    from lab import cli

    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})
        cli.unpin()
        assert os.sched_getaffinity(0) >= before
    finally:
        os.sched_setaffinity(0, before)
