"""A real etcd cluster on 127.0.0.1 with peer and client TLS, for the etcd module tests.

Certificates are made with `cryptography` in a temporary directory; each test gets a
fresh 3-member cluster on free ports. The etcd binary comes from Debian's etcd-server
(scripts/host-packages.txt) or $ETCD_BIN; the tests are skipped when it is missing.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ETCD = os.environ.get("ETCD_BIN") or shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = os.environ.get("ETCDCTL_BIN") or shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCDUTL = os.environ.get("ETCDUTL_BIN") or shutil.which("etcdutl")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_pem(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


class Pki:
    """A CA, one certificate usable as server, peer and client for 127.0.0.1, and a stranger CA."""

    def __init__(self, directory):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        self.dir = directory
        now = datetime.datetime.now(datetime.timezone.utc)

        def key():
            return ec.generate_private_key(ec.SECP256R1())

        def key_pem(k):
            return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())

        def ca(cn):
            k = key()
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + datetime.timedelta(days=1))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .sign(k, hashes.SHA256()))
            return k, cert

        def leaf(cn, ca_key, ca_cert):
            k = key()
            cert = (x509.CertificateBuilder()
                    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                    .issuer_name(ca_cert.subject).public_key(k.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + datetime.timedelta(days=1))
                    .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                   critical=False)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                          ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                    .sign(ca_key, hashes.SHA256()))
            return k, cert

        ca_key, ca_cert = ca("quorum-test-etcd-ca")
        node_key, node_cert = leaf("etcd-member", ca_key, ca_cert)
        other_key, other_ca = ca("stranger-ca")
        stranger_key, stranger_cert = leaf("stranger", other_key, other_ca)
        pem = serialization.Encoding.PEM
        self.ca = os.path.join(directory, "ca.crt")
        self.cert = os.path.join(directory, "member.crt")
        self.key = os.path.join(directory, "member.key")
        self.other_ca = os.path.join(directory, "other-ca.crt")
        self.stranger_cert = os.path.join(directory, "stranger.crt")
        self.stranger_key = os.path.join(directory, "stranger.key")
        _write_pem(self.ca, ca_cert.public_bytes(pem))
        _write_pem(self.cert, node_cert.public_bytes(pem))
        _write_pem(self.key, key_pem(node_key), 0o600)
        _write_pem(self.other_ca, other_ca.public_bytes(pem))
        _write_pem(self.stranger_cert, stranger_cert.public_bytes(pem))
        _write_pem(self.stranger_key, key_pem(stranger_key), 0o600)

    def conn(self, endpoints):
        """The connection options of the etcd modules."""
        return {"endpoints": list(endpoints), "ca_cert": self.ca, "client_cert": self.cert, "client_key": self.key}


class Member:
    def __init__(self, base, pki, name):
        self.name = name
        self.pki = pki
        self.client_port = _free_port()
        self.peer_port = _free_port()
        self.data_dir = os.path.join(base, name)
        self.log = os.path.join(base, name + ".log")
        self.proc = None

    @property
    def client_url(self):
        return "https://127.0.0.1:%d" % self.client_port

    @property
    def peer_url(self):
        return "https://127.0.0.1:%d" % self.peer_port

    def start(self, initial_cluster, state="new", token="quorum-test"):
        tls = ["--cert-file", self.pki.cert, "--key-file", self.pki.key, "--trusted-ca-file", self.pki.ca,
               "--client-cert-auth", "--peer-cert-file", self.pki.cert, "--peer-key-file", self.pki.key,
               "--peer-trusted-ca-file", self.pki.ca, "--peer-client-cert-auth"]
        cmd = ["nice", ETCD, "--name", self.name, "--data-dir", self.data_dir,
               "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
               "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
               "--initial-cluster", initial_cluster, "--initial-cluster-state", state,
               "--initial-cluster-token", token, "--heartbeat-interval", "100", "--election-timeout", "1000",
               "--logger", "zap", "--log-outputs", "stderr"] + tls
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


class Cluster:
    def __init__(self, base, pki, size=3):
        self.base = base
        self.pki = pki
        self.members = [Member(base, pki, "m%d" % (i + 1)) for i in range(size)]
        self.spares = []

    @property
    def initial_cluster(self):
        return ",".join("%s=%s" % (m.name, m.peer_url) for m in self.members)

    def start(self):
        for m in self.members:
            m.start(self.initial_cluster)
        self.wait_healthy()
        return self

    def spare(self, name):
        m = Member(self.base, self.pki, name)
        self.spares.append(m)
        return m

    def endpoints(self, *names):
        return [m.client_url for m in self.members if not names or m.name in names]

    def client(self, endpoints=None):
        from ansible_collections.quorum.k8s.plugins.module_utils._etcd.client import EtcdClient
        return EtcdClient(endpoints or self.endpoints(), ca_cert=self.pki.ca, client_cert=self.pki.cert,
                          client_key=self.pki.key, timeout=3)

    def kill(self, name, timeout=30):
        """Kill one member and wait until the others agree on a leader among themselves.

        Killing the leader starts an election: until it ends (election timeout 1 s, more on a
        loaded host) the survivors report no leader, which the modules rightly call unhealthy.
        """
        from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import EtcdAPIError, EtcdConnectionError
        dead = next(m for m in self.members if m.name == name)
        dead.kill()
        live = [m for m in self.members if m is not dead]
        client = self.client([m.client_url for m in live])

        def settled():
            try:
                st = [client.status(m.client_url) for m in live]
            except (EtcdConnectionError, EtcdAPIError):  # a member mid-election may not answer
                return False
            ids = set(s["member_id"] for s in st)
            return all(s["leader"] in ids for s in st)

        wait_for(settled, timeout, 0.2)

    def wait_healthy(self, timeout=60):
        from ansible_collections.quorum.k8s.plugins.module_utils._etcd.member import wait_healthy
        return wait_healthy(self.client(), timeout, 2)

    def stop(self):
        for m in self.members + self.spares:
            m.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    if not os.access(ETCD, os.X_OK):
        pytest.skip("etcd binary not installed (Debian etcd-server, or set ETCD_BIN)")
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def cluster(tmp_path, pki):
    c = Cluster(str(tmp_path), pki)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def run_module(module, args, check=False, diff=False):
    """Run a quorum.k8s module for real with ad-hoc ansible on localhost; return its result dict."""
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m", "quorum.k8s." + module,
           "-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("QUORUM_TEST_PYTHON", sys.executable))
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible output is not JSON:\n%s\n%s" % (proc.stdout, proc.stderr))
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def module():
    return run_module


@pytest.fixture
def new_cluster(tmp_path, pki):
    """Start more clusters inside one test (restores); all are stopped at the end."""
    made = []

    def make(size=3, subdir="extra"):
        c = Cluster(os.path.join(str(tmp_path), subdir), pki, size)
        os.makedirs(c.base, exist_ok=True)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


def wait_for(predicate, timeout=60, interval=1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("condition not met within %ss" % timeout)
        time.sleep(interval)


@pytest.fixture
def etcd_kit():
    """Helpers for tests that drive etcd tools directly (no import of this conftest by name)."""
    import types
    from ansible_collections.quorum.k8s.plugins.module_utils._etcd.member import wait_healthy
    return types.SimpleNamespace(Member=Member, etcdctl=ETCDCTL, etcdutl=ETCDUTL, wait_healthy=wait_healthy)
