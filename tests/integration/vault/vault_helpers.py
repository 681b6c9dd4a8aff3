"""Shared helpers of the Vault integration tests: inventories, ansible-playbook runs, recaps."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HOSTS = {
    "frontend": {"fe1": "10.1.0.2"},
    "control_plane": {"cp1": "10.1.0.3", "cp2": "10.1.0.7", "fe1": "10.1.0.2"},  # fe1: frontend and control plane
    "etcd": {"etcd1": "10.1.0.4"},
    "worker": {"w1": "10.1.0.5", "w2": "10.1.0.8"},
    "meta_worker": {"mw1": "10.1.0.6"},
}


def write_inventory(path, bao, cluster="it", drop=(), local=(), extra_vars=None):
    """A YAML inventory of the lab-like groups; `local` hosts get the local connection."""
    children = {}
    for group, hosts in HOSTS.items():
        members = {}
        for name, addr in hosts.items():
            if name in drop:
                continue
            hv = {"ansible_host": addr}
            if name in local:
                hv.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
            members[name] = hv
        children[group] = {"hosts": members}
    allvars = {"quorum_cluster_name": cluster, "quorum_vault_addr": bao.addr, "quorum_vault_ca_cert": bao.ca_cert}
    allvars.update(extra_vars or {})
    with open(path, "w") as f:
        yaml.safe_dump({"all": {"vars": allvars, "children": children}}, f)
    return str(path)


def run_playbook(bao, inventory, playbook, *args, token=None, check=True, env=None):
    """Run ansible-playbook from the checkout (its ansible.cfg); returns (rc, combined output)."""
    full_env = bao.env(token)
    full_env["ANSIBLE_CONFIG"] = os.path.join(REPO, "ansible.cfg")
    full_env["ANSIBLE_NOCOLOR"] = "1"
    full_env["ANSIBLE_FORCE_COLOR"] = "0"
    full_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + full_env.get("PATH", "")
    full_env.update(env or {})
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook] + list(args)
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (rc %s):\n%s" % (" ".join(cmd), proc.returncode, proc.stdout[-6000:]))
    return proc.returncode, proc.stdout


def start_playbook(bao, inventory, playbook, *args):
    env = bao.env()
    env.update(ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook] + list(args)
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def recap(output):
    """PLAY RECAP counts by host: {host: {ok, changed, unreachable, failed}}."""
    tail = output[output.rindex("PLAY RECAP"):]
    return {m.group(1): dict(ok=int(m.group(2)), changed=int(m.group(3)), unreachable=int(m.group(4)),
                             failed=int(m.group(5))) for m in _RECAP.finditer(tail)}


def playbook_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)
