"""The built tarball installs offline into an empty collections path and works from there."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)


def run(tmp_path, *argv):
    cfg = tmp_path / "ansible.cfg"
    if not cfg.exists():
        cfg.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "colls"),
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    return proc


def test_tarball_installs_offline_and_works(tmp_path):
    build = run(tmp_path, "ansible-galaxy", "collection", "build", REPO, "--output-path", str(tmp_path))
    assert build.returncode == 0, build.stderr
    tarball = tmp_path / "quorum-k8s-0.1.0.tar.gz"
    assert tarball.exists()
    names = subprocess.run(["tar", "tzf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    assert not [n for n in names if n.startswith(("lab/", "molecule/", ".ci/", "tests/integration/"))]

    install = run(tmp_path, "ansible-galaxy", "collection", "install", "--offline", "-p", str(tmp_path / "colls"),
                  str(tarball))
    assert install.returncode == 0, install.stdout + install.stderr
    coll = tmp_path / "colls" / "ansible_collections" / "quorum" / "k8s"
    assert (coll / "MANIFEST.json").exists()
    # the mirror builder ships and runs from the installed collection, for the collection's pin
    built = subprocess.run([sys.executable, "-m", "mirror_builder", "version"], cwd=str(coll), capture_output=True,
                           text=True, timeout=60, check=False)
    assert built.returncode == 0 and built.stdout.startswith("v1."), built.stdout + built.stderr

    listing = run(tmp_path, "ansible-doc", "-t", "filter", "-l", "quorum.k8s")
    assert listing.returncode == 0 and "quorum.k8s.preflight_report" in listing.stdout, listing.stderr

    modules = run(tmp_path, "ansible-doc", "-l", "quorum.k8s")
    assert modules.returncode == 0, modules.stderr
    for name in ("vault_secret", "etcd_member", "kubeadm_token"):
        assert "quorum.k8s." + name in modules.stdout, modules.stdout

    inv = tmp_path / "inventory"
    subprocess.run(["cp", "-r", os.path.join(REPO, "inventories", "stacked"), str(inv)], check=True)
    play = run(tmp_path, "ansible-playbook", "-i", str(inv), "quorum.k8s.preflight")
    assert play.returncode == 0, play.stdout + play.stderr
    assert "failed=0" in play.stdout
