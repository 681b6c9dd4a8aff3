"""The lab's OpenStack: a real cloud inside the instance's network namespace, reachable only there.

Debian bookworm's packages (the suite whose OpenStack was checked: keystone 22, glance 25,
placement 8, nova 26, neutron 21), MariaDB and RabbitMQ in one systemd-nspawn container at
``IP``. Nova runs the fake virt driver on three fake compute hosts (so a server group's hard
anti-affinity holds three servers) and neutron-server ML2 with a Linux bridge agent per host (ML2
binds a port only to a host whose agent is alive). Servers are scheduled, get ports and go ACTIVE;
nothing boots and no packet leaves the container.

Built in two steps, each cached under $QUORUM_LAB_HOME/openstack/<recipe hash>/:
- ``base``: the root directory from mmdebstrap (needs the Debian mirror: the host's namespace);
- ``configured``: the base after one boot that ran guest/openstack/setup (databases, endpoints,
  compute hosts, the flavors, image and external network the tests expect), then powered off.
Each ``up`` copies the configured root into the instance's run directory and boots it there (so
``lab down`` ends it like any node). Credentials: configured/credentials.json (0600); ``up`` writes
clouds.yaml (0600) into the run directory and ``lab exec`` points OS_CLIENT_CONFIG_FILE at it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lab import config, image, net, nspawn
from lab.topology import Node
from lab.util import file_lock, log, pid_alive, pid_cmdline, put_file, run, tail
from mirror_builder.common import sha256_file, stable_hash, write_atomic

# Bump when the steps below change in a way the recipe does not show.
BUILDER_VERSION = 1
NAME = "openstack"
IP = "10.231.0.5"  # below every topology's node addresses (lab/topology.py KINDS)
SUITE = "bookworm"
COMPUTE_HOSTS = ("compute-1", "compute-2", "compute-3")
CLOUD = "quorum-lab"  # the member project the playbooks use
ADMIN_CLOUD = "quorum-lab-admin"
GUEST = image.GUEST_DIR / "openstack"

PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "iproute2", "procps", "sudo",
    "mariadb-server", "rabbitmq-server", "python3-pymysql", "python3-openstackclient",
    "keystone", "glance-api", "placement-api",
    # nova-compute (the package) pulls in a hypervisor: python3-nova's entry point runs instead
    "nova-api", "nova-conductor", "nova-scheduler",
    "neutron-server", "neutron-linuxbridge-agent", "bridge-utils",
)
SECRETS = ("DB_PASSWORD", "RABBIT_PASSWORD", "SERVICE_PASSWORD", "ADMIN_PASSWORD", "QUORUM_PASSWORD")
# uwsgi apps start 8 processes of 32 threads each by default: 2 of 4 hold the lab's load
UWSGI_INIS = ("keystone/keystone-uwsgi.ini", "placement/placement-api-uwsgi.ini", "nova/nova-api-uwsgi.ini",
              "neutron/neutron-api-uwsgi.ini", "glance/glance-api-uwsgi.ini")
SETUP_TIMEOUT = 1800.0
READY_TIMEOUT = 600.0


def node() -> Node:
    return Node(name=NAME, group="openstack", size_role="openstack", ip=IP, mac="", tap="", size=config.Size(0, 0, 0))


def recipe() -> dict[str, object]:
    """What the configured root depends on (its cache key)."""
    return {
        **base_recipe(), "ip": IP,
        "compute_hosts": list(COMPUTE_HOSTS),
        "guest_files": {p.name: sha256_file(p) for p in sorted(GUEST.iterdir()) if p.is_file()},
    }


def base_recipe() -> dict[str, object]:
    """What the base root depends on (the guest files go in at configuration: changing one does not
    cost a new mmdebstrap)."""
    return {"builder": BUILDER_VERSION, "suite": SUITE, "packages": sorted(PACKAGES)}


def cache_dir(paths: config.Paths) -> Path:
    return paths.home / "openstack" / stable_hash(recipe())


def base_dir(paths: config.Paths) -> Path:
    return paths.home / "openstack" / f"base-{stable_hash(base_recipe())}"


def clouds_yaml(paths: config.Paths) -> Path:
    return paths.run / NAME / "clouds.yaml"


def pid_file(paths: config.Paths) -> Path:
    return paths.run / NAME / "pid"


# ---------------------------------------------------------------- build

def build(paths: config.Paths) -> Path:
    """The base root (mmdebstrap), built once per recipe in the host's network namespace."""
    base = base_dir(paths)
    if (base / "etc" / "os-release").exists():
        return base
    if not net.in_host_netns():
        # the lab's namespace has no way out: build where the Debian mirror is reachable
        repo_root = str(Path(__file__).resolve().parent.parent)
        run(["nsenter", "--net=/proc/1/ns/net", "--", "env", f"PYTHONPATH={repo_root}", sys.executable, "-m", "lab",
             "openstack", "build"])
        if not (base / "etc" / "os-release").exists():
            raise config.LabError(f"the OpenStack root is still missing at {base} after its build")
        return base
    with file_lock(base.parent / ".build.lock", "the lab's OpenStack root"):
        if (base / "etc" / "os-release").exists():
            return base
        t0 = time.monotonic()
        work = base.with_name(f".{base.name}-build")
        if work.exists():
            shutil.rmtree(work)
        work.parent.mkdir(parents=True, exist_ok=True)
        mirror = image.debian_mirror()
        build_log = base.with_name(f"{base.name}.log")
        log(f"building the lab's OpenStack root: Debian {SUITE} from {mirror} (a few minutes)")
        security = mirror.rsplit("/", 1)[0] + "/debian-security"
        cmd = ["nice", "mmdebstrap", "--mode=root", "--variant=minbase", "--format=directory",
               "--include=" + ",".join(PACKAGES), "--aptopt=Acquire::Retries \"3\"",
               "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*",
               "--dpkgopt=path-exclude=/usr/share/locale/*", SUITE, str(work),
               f"deb {mirror} {SUITE} main", f"deb {mirror} {SUITE}-updates main", f"deb {security} {SUITE}-security main"]
        with build_log.open("w") as fh:
            rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False).returncode
        if rc != 0:
            raise config.LabError(f"the OpenStack root's build failed (mmdebstrap exit {rc}):\n" + tail(build_log, 30))
        _prepare_base(work)
        work.rename(base)
        log(f"lab OpenStack root built in {time.monotonic() - t0:.0f} s at {base}")
    return base


def _prepare_base(root: Path) -> None:
    """Fewer uwsgi processes; nothing unconfigured starts at boot (the setup enables each service)."""
    for rel in UWSGI_INIS:
        ini = root / "etc" / rel
        if ini.is_file():
            text = ini.read_text()
            text = "\n".join("processes = 2" if line.startswith("processes =") else
                             "threads = 4" if line.startswith("threads =") else line for line in text.splitlines())
            ini.write_text(text + "\n")
    run(["chroot", str(root), "systemctl", "disable", "keystone", "glance-api", "nova-api", "nova-api-metadata",
         "nova-conductor", "nova-scheduler", "e2scrub_reap.service"], quiet=True, check=False)
    run(["chroot", str(root), "systemctl", "mask", "getty@tty1.service", "systemd-timesyncd.service",
         "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer", "iscsid.service",
         "open-iscsi.service", "systemd-remount-fs.service"], quiet=True, check=False)
    (root / "etc/machine-id").write_text("")


def _install_guest(root: Path) -> None:
    """The lab's files (guest/openstack): setup, units, network."""
    def put(rel: str, text: str, mode: int = 0o644) -> None:
        put_file(root, rel, text, mode)

    def guest(name: str) -> str:
        return (GUEST / name).read_text()

    put("usr/local/sbin/lab-openstack-setup", guest("setup"), 0o755)
    put("usr/local/lib/lab-nova-compute", guest("lab-nova-compute"))  # run by python3: no shebang
    for unit in ("lab-openstack-setup.service", "lab-nova-compute@.service", "lab-neutron-agent@.service"):
        put(f"etc/systemd/system/{unit}", guest(unit))
    put("etc/systemd/network/20-lab-pub0.netdev", guest("lab-pub0.netdev"))
    put("etc/systemd/network/20-lab-pub0.network", guest("lab-pub0.network"))
    put("etc/systemd/network/10-lab-host0.network", nspawn.network_file(node()))
    put("etc/hostname", NAME + "\n")
    put("etc/hosts", f"127.0.0.1 localhost\n{IP} {NAME}\n")
    put("etc/resolv.conf", "")  # no DNS in the lab
    put("etc/lab-openstack/lab.env", f"IP={IP}\nCOMPUTE_HOSTS=\"{' '.join(COMPUTE_HOSTS)}\"\n")
    (root / "var/lib/lab-openstack").mkdir(parents=True, exist_ok=True)
    run(["chroot", str(root), "systemctl", "enable", "systemd-networkd.service", "lab-openstack-setup.service"], quiet=True)


def configure(paths: config.Paths, ns: str) -> Path:
    """The configured root: the base booted once in ``ns`` to run the setup, then powered off."""
    cache = cache_dir(paths)
    done = cache / "configured"
    if (done / "var/lib/lab-openstack/configured").exists() and (cache / "credentials.json").is_file():
        return done
    base = build(paths)
    with file_lock(cache.parent / ".configure.lock", "the lab's OpenStack configuration"):
        if (done / "var/lib/lab-openstack/configured").exists() and (cache / "credentials.json").is_file():
            return done
        t0 = time.monotonic()
        log("configuring the lab's OpenStack (its first boot: databases, endpoints, compute hosts)")
        creds = {key: secrets.token_hex(16) for key in SECRETS}
        root = _copy_root(paths, base)
        _install_guest(root)
        env_file = root / "etc/lab-openstack/secrets.env"
        write_atomic(env_file, "".join(f"{k}={v}\n" for k, v in creds.items()), mode=0o600)
        pid = _launch(paths, ns, root)
        deadline = time.monotonic() + SETUP_TIMEOUT
        while not (root / "var/lib/lab-openstack/configured").exists():
            if not pid_alive(pid) or time.monotonic() > deadline or _setup_failed(pid):
                console = paths.vm_dir(NAME) / "console.log"
                _stop(pid)
                raise config.LabError(f"the lab's OpenStack setup failed; console ({console}):\n" + tail(console, 40))
            time.sleep(2)
        _stop(pid, poweroff=True)
        if done.exists():
            shutil.rmtree(done)
        done.parent.mkdir(parents=True, exist_ok=True)
        root.rename(done)
        write_atomic(cache / "credentials.json", json.dumps(creds), mode=0o600)
        write_atomic(cache / "configure.json", json.dumps({"configure_seconds": round(time.monotonic() - t0, 1)}) + "\n")
        _prune(cache)
        log(f"lab OpenStack configured in {time.monotonic() - t0:.0f} s")
    return done


def _prune(keep: Path) -> None:
    """Configured roots of older recipes (1.7 GB each) go once a new one is made; bases stay."""
    for entry in keep.parent.iterdir():
        if entry != keep and entry.is_dir() and not entry.name.startswith(("base-", ".")):
            shutil.rmtree(entry, ignore_errors=True)
            log(f"removed the lab OpenStack's configured root of an older recipe: {entry}")


def _setup_failed(pid: int) -> bool:
    """True once the setup unit inside the container has failed."""
    init = nspawn.power_cut_pid(pid)
    if not init:
        return False
    proc = subprocess.run(["nsenter", "-t", str(init), "-a", "--", "systemctl", "is-failed", "--quiet",
                           "lab-openstack-setup.service"], capture_output=True, check=False)
    return proc.returncode == 0


def _copy_root(paths: config.Paths, source: Path) -> Path:
    node_dir = paths.vm_dir(NAME)
    root = node_dir / "root"
    if root.exists():
        shutil.rmtree(root)
    node_dir.mkdir(parents=True, exist_ok=True)
    run(["cp", "-a", "--reflink=auto", f"{source}/.", str(root)], quiet=True)
    return root


def _launch(paths: config.Paths, ns: str, root: Path) -> int:
    console = paths.vm_dir(NAME) / "console.log"
    console.unlink(missing_ok=True)
    argv = nspawn.command(node(), root=root, ns=ns)
    pid = nspawn.launch(argv, nspawn.ensure_cgroups(paths.instance, NAME), console)
    write_atomic(pid_file(paths), f"{pid}\n")
    return pid


def _stop(pid: int, *, poweroff: bool = False, timeout: float = 120.0) -> None:
    """Power off (nspawn's SIGTERM asks the container's systemd to shut down) or cut the power."""
    if not pid_alive(pid) or os.path.basename((pid_cmdline(pid) or [""])[0]) != nspawn.NSPAWN:
        return
    if not poweroff:
        init = nspawn.power_cut_pid(pid)
        if init:
            os.kill(init, 9)
    os.kill(pid, 15)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    if pid_alive(pid):
        os.kill(pid, 9)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


# ---------------------------------------------------------------- up / down / status

def running_pid(paths: config.Paths) -> int | None:
    try:
        pid = int(pid_file(paths).read_text())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and nspawn.owns(pid_cmdline(pid), paths, NAME) else None


def up(paths: config.Paths) -> dict[str, Any]:
    """Boot the cloud in the instance's namespace (built and configured first when the cache lacks it)."""
    ns = config.netns_name(paths.instance)
    if os.geteuid() != 0:
        raise config.LabError("the lab needs root (network namespaces)")
    net.ensure(ns)
    pid = running_pid(paths)
    if pid and ready(pid):
        write_clouds_yaml(paths)
        return {"pid": pid, "ip": IP, "clouds_yaml": str(clouds_yaml(paths)), "already_up": True}
    if pid:
        _stop(pid)
    cold = not (cache_dir(paths) / "credentials.json").is_file()
    t0 = time.monotonic()
    configured = configure(paths, ns)
    t_boot = time.monotonic()
    pid = _launch(paths, ns, _copy_root(paths, configured))
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready(pid):
        if not pid_alive(pid) or time.monotonic() > deadline:
            console = paths.vm_dir(NAME) / "console.log"
            _stop(pid)
            raise config.LabError(f"the lab's OpenStack did not become ready; console ({console}):\n" + tail(console, 40))
        time.sleep(3)
    write_clouds_yaml(paths)
    figures = {"cold": cold, "start_seconds": round(time.monotonic() - t0, 1),
               "boot_to_ready_seconds": round(time.monotonic() - t_boot, 1),
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    paths.results.mkdir(parents=True, exist_ok=True)
    write_atomic(paths.results / f"openstack-up-{'cold' if cold else 'warm'}.json", json.dumps(figures, indent=2) + "\n")
    log(f"lab OpenStack up at http://{IP}:5000/v3 in {figures['start_seconds']} s ({'cold' if cold else 'warm'}); "
        f"clouds.yaml {clouds_yaml(paths)}")
    return {"pid": pid, "ip": IP, "clouds_yaml": str(clouds_yaml(paths)), **figures}


def ready(pid: int) -> bool:
    """Every API answers, every compute host is up and every agent alive (checked inside the container)."""
    init = nspawn.power_cut_pid(pid)
    if not init:
        return False
    check = (
        ". /etc/lab-openstack/secrets.env; . /etc/lab-openstack/lab.env; "
        "export OS_AUTH_URL=http://$IP:5000/v3 OS_IDENTITY_API_VERSION=3 OS_USERNAME=admin "
        "OS_PASSWORD=$ADMIN_PASSWORD OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default; "
        "want=$(echo $COMPUTE_HOSTS | wc -w); "
        # a client asking an API that has just started can wait for ever (seen: 6 min): bounded
        "os() { timeout -k 5 30 openstack \"$@\"; }; "
        "[ $(os compute service list --service nova-compute -f value -c State | grep -c '^up$') -ge $want ] && "
        "[ $(os network agent list -f value -c Alive | grep -c True) -ge $want ] && "
        "os image list -f value -c Name | grep -qx debian-lab"
    )
    try:
        proc = subprocess.run(["nsenter", "-t", str(init), "-a", "--", "sh", "-c", check], capture_output=True,
                              check=False, timeout=150)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def credentials(paths: config.Paths) -> dict[str, str]:
    try:
        return json.loads((cache_dir(paths) / "credentials.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise config.LabError(f"the lab's OpenStack is not configured yet (no credentials in {cache_dir(paths)})") from exc


def write_clouds_yaml(paths: config.Paths) -> Path:
    """clouds.yaml (0600): the member project the playbooks use, and the admin the tests check with."""
    creds = credentials(paths)

    def cloud(name: str, user: str, project: str, password: str) -> str:
        return (f"  {name}:\n"
                f"    auth:\n      auth_url: http://{IP}:5000/v3\n      username: {user}\n      password: {password}\n"
                f"      project_name: {project}\n      user_domain_name: Default\n      project_domain_name: Default\n"
                "    region_name: RegionOne\n    interface: public\n    identity_api_version: 3\n")

    text = ("# written by the quorum.k8s lab (lab/openstack.py): its OpenStack, reachable inside the lab's namespace only\n"
            "clouds:\n" + cloud(CLOUD, "quorum", "quorum", creds["QUORUM_PASSWORD"])
            + cloud(ADMIN_CLOUD, "admin", "admin", creds["ADMIN_PASSWORD"]))
    path = clouds_yaml(paths)
    write_atomic(path, text, mode=0o600)
    return path


def down(paths: config.Paths) -> None:
    pid = running_pid(paths)
    if pid:
        _stop(pid)
    shutil.rmtree(paths.vm_dir(NAME), ignore_errors=True)
    shutil.rmtree(paths.run / NAME, ignore_errors=True)
    log(f"lab OpenStack of {paths.instance!r} down")


def status(paths: config.Paths) -> tuple[dict[str, Any], bool]:
    pid = running_pid(paths)
    healthy = bool(pid) and ready(pid)
    report = {"instance": paths.instance, "ip": IP, "pid": pid, "healthy": healthy,
              "clouds_yaml": str(clouds_yaml(paths)) if clouds_yaml(paths).is_file() else None,
              "cache": str(cache_dir(paths))}
    return report, healthy
