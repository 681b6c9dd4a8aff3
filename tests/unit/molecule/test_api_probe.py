"""molecule/_cluster/files/api_probe.py: kubeconfig credential, retry accounting, failover figures,
and a real mutual-TLS exchange with a fake API server on loopback."""

import base64
import datetime
import http.server
import importlib.util
import json
import os
import ssl
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("api_probe", REPO / "molecule" / "_cluster" / "files" / "api_probe.py")
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)


def rec(t, ok=True, first_ok=None, d=0.1, kind="readyz"):
    first_ok = ok if first_ok is None else first_ok
    return {"t": t, "end": t + d, "kind": kind, "ok": ok, "first_ok": first_ok, "attempts": 1 if first_ok else 2,
            "status": 200 if ok else None, "error": None if first_ok else "timeout"}


# ---------------------------------------------------------------- figures

def test_summary_vip_holder_killed():
    # event at 100: requests fail (even after the retry) until the VIP moves at about 103
    records = [rec(99.5), rec(99.9)]
    records += [rec(100 + i * 0.5, ok=False, d=1.0) for i in range(6)]  # 100 .. 102.5
    records += [rec(103 + i * 0.5) for i in range(6)]
    s = probe.summarize(records, since=100.0)
    assert s["requests"] == 12  # the two before the event are not counted
    assert s["failed_requests"] == 6 and s["first_attempt_failures"] == 6
    assert s["answers_again_seconds"] == 3.1
    assert s["stable_after_seconds"] == 3.1
    assert s["recovered"] is True
    assert s["max_gap_seconds"] == 3.1
    assert s["per_kind"]["readyz"] == {"requests": 12, "failed": 6, "first_attempt_failures": 6}


def test_summary_control_plane_killed_retry_hides_the_blip():
    records = [rec(200 + i * 0.5) for i in range(4)]
    records.append(rec(202.0, ok=True, first_ok=False, d=5.5))  # first attempt hit the dead backend
    records += [rec(202.5 + i * 0.5, kind="list") for i in range(10)]
    s = probe.summarize(records, since=200.0)
    assert s["failed_requests"] == 0 and s["first_attempt_failures"] == 1
    assert s["recovered"] is True
    assert s["per_kind"]["list"]["requests"] == 10
    assert s["errors"] == ["timeout"]


def test_summary_not_recovered_yet():
    records = [rec(10, ok=False), rec(10.5, ok=False), rec(11), rec(11.5)]
    s = probe.summarize(records, since=10.0)
    assert s["recovered"] is False  # only 2 good after the last failure (3 needed)
    assert probe.summarize(records + [rec(12)], since=10.0)["recovered"] is True


def test_summary_until_and_no_success():
    records = [rec(10, ok=False), rec(11, ok=False), rec(30)]
    s = probe.summarize(records, since=10.0, until=20.0)
    assert s["requests"] == 2 and s["answers_again_seconds"] is None and s["stable_after_seconds"] is None
    assert s["max_gap_seconds"] == 1.1  # from the event to the end of the last request seen in the window
    assert s["recovered"] is False


def test_summary_ignores_skipped_lines_and_no_failures():
    records = [{"t": 5.0, "skipped": "list"}, rec(5.0), rec(5.5), rec(6.0)]
    s = probe.summarize(records, since=5.0)
    assert s["requests"] == 3 and s["stable_after_seconds"] == 0.0 and s["recovered"] is True


def test_request_retries_once():
    answers = iter([(False, None, "ConnectionRefusedError"), (True, 200, None)])
    calls = []

    def do(ctx, host, port, method, path, timeout):
        calls.append((method, path, timeout))
        return next(answers)

    r = probe.request(None, "10.231.0.250", 6443, "list", 7.0, retry_delay=0, do=do)
    assert r["ok"] and not r["first_ok"] and r["attempts"] == 2 and r["error"] == "ConnectionRefusedError"
    assert calls == [("GET", "/api/v1/namespaces/kube-system/pods?limit=1", 7.0)] * 2
    r = probe.request(None, "h", 1, "readyz", 1.0, retry_delay=0, do=lambda *a: (False, None, "timeout"))
    assert not r["ok"] and r["attempts"] == 2


def test_load_records_skips_a_torn_last_line(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps(rec(1)) + "\n" + '{"t": 2, "ki')
    assert len(probe.load_records(f)) == 1
    assert probe.load_records(tmp_path / "missing") == []


# ---------------------------------------------------------------- credential

def test_parse_kubeconfig():
    text = ("clusters:\n  - name: lab\n    cluster:\n      server: https://10.231.0.250:6443\n"
            "      certificate-authority-data: Q0E=\nusers:\n  - name: a@lab\n    user:\n"
            "      client-certificate-data: 'Q0VSVA=='\n      client-key-data: \"S0VZ\"\n")
    conf = probe.parse_kubeconfig(text)
    assert conf == {"server": "https://10.231.0.250:6443", "certificate-authority-data": "Q0E=",
                    "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}
    with pytest.raises(ValueError, match="client-key-data"):
        probe.parse_kubeconfig(text.replace("client-key-data", "token"))
    assert probe.host_port("https://10.231.0.250:6443") == ("10.231.0.250", 6443)
    assert probe.host_port("https://x:6443", vip="10.0.0.9", port=443) == ("10.0.0.9", 443)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate (cryptography from the venv)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test-ca")).issuer_name(name("test-ca"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))

    def leaf(cn, serial, usage, san=None):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject).public_key(key.public_key())
             .serial_number(serial).not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(hours=1))
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), pem_key(key)

    d = tmp_path_factory.mktemp("pki")
    srv_crt, srv_key = leaf("apiserver", 2, ExtendedKeyUsageOID.SERVER_AUTH, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cli_crt, cli_key = leaf("quorum-admin:test", 3, ExtendedKeyUsageOID.CLIENT_AUTH)
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    for fname, data in (("ca.crt", ca_pem), ("srv.crt", srv_crt), ("srv.key", srv_key)):
        (d / fname).write_bytes(data)
    return {"dir": d, "ca": ca_pem, "client_crt": cli_crt, "client_key": cli_key}


@pytest.fixture
def api_server(pki):
    """A fake API server on 127.0.0.1 that requires a client certificate and records what it saw."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, code, body=b"{}"):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's naming
            seen.append(("GET", self.path, self.connection.getpeercert()["subject"][0][0][1]))
            self._answer(200, b"ok" if self.path == "/readyz" else b'{"items": []}')

        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(("POST", self.path, body["metadata"]["name"]))
            self._answer(201)

        def do_DELETE(self):  # noqa: N802
            seen.append(("DELETE", self.path, None))
            self._answer(200)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["dir"] / "srv.crt", pki["dir"] / "srv.key")
    ctx.load_verify_locations(pki["dir"] / "ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def write_kubeconfig(path, pki, port):
    def b64(data):
        return base64.b64encode(data).decode()

    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n  - name: lab\n    cluster:\n"
        f"      server: https://127.0.0.1:{port}\n      certificate-authority-data: {b64(pki['ca'])}\n"
        "users:\n  - name: admin@lab\n    user:\n"
        f"      client-certificate-data: {b64(pki['client_crt'])}\n      client-key-data: {b64(pki['client_key'])}\n")
    os.chmod(path, 0o600)


def test_tls_context_leaves_no_key_on_disk(tmp_path, pki, monkeypatch):
    write_kubeconfig(tmp_path / "admin.conf", pki, 1)
    made = []
    real = probe.tempfile.mkdtemp

    def spy(**kwargs):
        d = real(dir=tmp_path, **kwargs)
        made.append((d, oct(os.stat(d).st_mode & 0o777)))
        return d

    monkeypatch.setattr(probe.tempfile, "mkdtemp", spy)
    ctx, server = probe.tls_context(tmp_path / "admin.conf")
    assert server == "https://127.0.0.1:1"
    assert made and made[0][1] == "0o700"
    assert not os.path.exists(made[0][0])


def test_watch_and_write_against_a_mutual_tls_server(tmp_path, pki, api_server):
    port, seen = api_server
    write_kubeconfig(tmp_path / "admin.conf", pki, port)
    out, stop = tmp_path / "probe.jsonl", tmp_path / "stop"
    t0 = probe.time.time()

    def stop_after_five_records():
        # by count, not by a fixed time: a loaded machine makes each TLS request slower
        deadline = time.time() + 60
        while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 5):
            time.sleep(0.05)
        stop.touch()

    timer = threading.Thread(target=stop_after_five_records)
    timer.start()
    assert probe.main(["watch", "--kubeconfig", str(tmp_path / "admin.conf"), "--out", str(out),
                       "--stop-file", str(stop), "--period", "0.1", "--timeout", "5"]) == 0
    records = probe.load_records(out)
    assert len(records) >= 5
    assert {r["kind"] for r in records} == {"readyz", "list"}
    s = probe.summarize(records, since=t0)
    assert s["failed_requests"] == 0 and s["recovered"]
    assert ("GET", "/readyz", "quorum-admin:test") in seen
    assert ("GET", "/api/v1/namespaces/kube-system/pods?limit=1", "quorum-admin:test") in seen

    assert probe.main(["write", "--kubeconfig", str(tmp_path / "admin.conf"), "--name", "quorum-failover-1"]) == 0
    assert ("POST", "/api/v1/namespaces/default/configmaps", "quorum-failover-1") in seen
    assert ("DELETE", "/api/v1/namespaces/default/configmaps/quorum-failover-1", None) in seen


def test_watch_counts_failures_when_nothing_answers(tmp_path, pki):
    import socket
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_kubeconfig(tmp_path / "admin.conf", pki, port)
    stop = tmp_path / "stop"
    threading.Timer(0.5, stop.touch).start()
    probe.main(["watch", "--kubeconfig", str(tmp_path / "admin.conf"), "--out", str(tmp_path / "p.jsonl"),
                "--stop-file", str(stop), "--period", "0.1", "--timeout", "1"])
    records = probe.load_records(tmp_path / "p.jsonl")
    assert records and all(not r["ok"] and r["attempts"] == 2 for r in records)
