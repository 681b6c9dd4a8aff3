"""molecule/_cluster/failover.yml run for real by ansible-playbook, against fakes (no VM):

- every host is localhost (connection local); each frontend's interpreter is a wrapper that names
  the host, so a fake `ip -j addr show to VIP` answers "holder" only on the frontend in a state file;
- a fake `lab/lab kill|start` prints what the real one prints; killing the holder makes the fake
  API server drop every connection for 3 s, then moves the VIP to the other frontend;
- the fake API server on 127.0.0.1 speaks TLS and accepts the kubeconfig's client certificate;
- a fake kubectl lists Ready nodes; a stand-in collection provides quorum.k8s.etcd_info (the last member leads).

It proves the task files' wiring: includes, facts, kill -> measure -> restart -> healthy order,
the probe's figures, the results file and the assertions.
"""

import base64
import datetime
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def make_pki(d):
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def build(subject, key, issuer, issuer_key, serial, ext):
        b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer)).public_key(key.public_key())
             .serial_number(serial).not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(hours=1)))
        for e, critical in ext:
            b = b.add_extension(e, critical=critical)
        return b.sign(issuer_key, hashes.SHA256())

    def pem(obj):
        if hasattr(obj, "private_bytes"):
            return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return obj.public_bytes(serialization.Encoding.PEM)

    ca_key, srv_key, cli_key = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(3))
    ca = build("ca", ca_key, "ca", ca_key, 1, [(x509.BasicConstraints(ca=True, path_length=None), True)])
    srv_extensions = [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
                      (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)]
    srv = build("api", srv_key, "ca", ca_key, 2, srv_extensions)
    cli = build("admin", cli_key, "ca", ca_key, 3, [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)])
    for fname, obj in (("ca.crt", ca), ("srv.crt", srv), ("srv.key", srv_key), ("cli.crt", cli), ("cli.key", cli_key)):
        (d / fname).write_bytes(pem(obj))


def start_api(state):
    """TLS server on 127.0.0.1 (client certificate optional, so /readyz without one works too)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, code, body=b"{}"):
            if (state / "down").exists():  # the VIP has no holder: nothing answers
                self.close_connection = True
                return
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            self._answer(200, b"ok")

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            (state / "writes").open("a").write(self.path + "\n")
            self._answer(201)

        def do_DELETE(self):  # noqa: N802
            self._answer(200)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(state / "srv.crt", state / "srv.key")
    ctx.load_verify_locations(state / "ca.crt")
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def script(path, text):
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def mock(tmp_path):
    if not (VENV_BIN / "ansible-playbook").exists():
        pytest.skip("ansible-playbook not beside this interpreter")
    state, bindir, proj, home = (tmp_path / n for n in ("state", "bin", "proj", "home"))
    for d in (state, bindir, proj / "lab", proj / "playbooks", proj / "molecule" / "mock", home / "results" / "work",
              home / "run" / "mock" / "vault", tmp_path / "coll" / "ansible_collections" / "quorum" / "k8s" / "plugins" / "modules"):
        d.mkdir(parents=True)
    (proj / "molecule" / "_cluster").symlink_to(REPO / "molecule" / "_cluster")
    (proj / "ansible.cfg").write_text("[defaults]\nhost_key_checking = False\n")
    (home / "run" / "mock" / "vault" / "init.json").write_text('{"root_token": "unused"}')
    make_pki(state)
    server = start_api(state)
    port = server.server_address[1]

    def b64(name):
        return base64.b64encode((state / name).read_bytes()).decode()

    (state / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n  - name: lab\n    cluster:\n"
        f"      server: https://127.0.0.1:{port}\n      certificate-authority-data: {b64('ca.crt')}\n"
        f"users:\n  - name: admin@lab\n    user:\n      client-certificate-data: {b64('cli.crt')}\n"
        f"      client-key-data: {b64('cli.key')}\n")
    (state / "holder").write_text("fe-1\n")
    script(bindir / "ip", f"""#!/bin/sh
if [ "$(cat {state}/holder)" = "$MOCK_HOST" ]; then
  # iproute2 6.x prints an empty object for each address of the interface that does not match
  echo '[{{"ifindex":2,"ifname":"eth0","addr_info":[{{}},{{"family":"inet","local":"10.231.0.250","prefixlen":32}}]}}]'
else echo '[]'; fi
""")
    script(proj / "lab" / "lab", f"""#!/bin/sh
echo "$*" >> {state}/lab.log
t=$({sys.executable} -c 'import time; print(time.time())')
case "$1" in
  kill)
    if [ "$2" = "$(cat {state}/holder)" ]; then
      touch {state}/down
      (sleep 3; if [ "$2" = fe-1 ]; then echo fe-2; else echo fe-1; fi > {state}/holder; rm -f {state}/down) >/dev/null 2>&1 &
    fi
    echo "{{\\"t\\": $t, \\"pid\\": 4242}}";;
  start) echo "{{\\"t\\": $t, \\"pid\\": 4343, \\"ssh_seconds\\": 1.5}}";;
esac
""")
    nodes = ",".join('{"metadata": {"name": "%s"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}' % n
                     for n in ("cp-1", "cp-2", "cp-3", "worker-1", "meta-1"))
    script(bindir / "kubectl", "#!/bin/sh\necho '{\"items\": [%s]}'\n" % nodes)
    for host in ("fe-1", "fe-2"):
        script(bindir / f"py-{host}", f"#!/bin/sh\nexport MOCK_HOST={host}\nexec {sys.executable} \"$@\"\n")
    (proj / "playbooks" / "kubeconfig.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n"
        f"        src: {state}/kubeconfig\n        dest: \"{{{{ kubeconfig_path }}}}\"\n        mode: \"0600\"\n")
    coll = tmp_path / "coll" / "ansible_collections" / "quorum" / "k8s"
    (coll / "galaxy.yml").write_text("namespace: quorum\nname: k8s\nversion: 0.0.1\n")
    # the real filters and lookups (node_address, etcd_cluster_members, cluster_setting) over the real module_utils
    for part in ("filter", "lookup", "module_utils"):
        (coll / "plugins" / part).symlink_to(REPO / "plugins" / part)
    (coll / "plugins" / "modules" / "etcd_info.py").write_text(
        "from ansible.module_utils.basic import AnsibleModule\n"
        "m = AnsibleModule(argument_spec=dict(endpoints=dict(type='list'), ca_cert=dict(), client_cert=dict(),\n"
        "                  client_key=dict(), wait_healthy=dict(type='int')))\n"
        "names = {'https://127.0.0.%d:2379' % (30 + i): 'etcd-%d' % i for i in (1, 2, 3)}\n"
        "mem = [dict(name=names.get(e, 'cp-%d' % (i + 1)), healthy=True, is_learner=False,\n"
        "            is_leader=i == len(m.params['endpoints']) - 1) for i, e in enumerate(m.params['endpoints'])]\n"
        "m.exit_json(changed=False, members=mem, voters=len(mem), healthy_voters=len(mem), learners=0, reachable=True)\n")
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become_method": "su",
                 "quorum_api_vip": "10.231.0.250", "quorum_etcd_topology": "external", "quorum_apiserver_port": port,
                 "quorum_vault_addr": "https://127.0.0.1:1", "quorum_vault_ca_cert": "/dev/null"},
        "children": {
            "frontend": {"hosts": {h: {"ansible_python_interpreter": str(bindir / f"py-{h}")} for h in ("fe-1", "fe-2")}},
            "etcd": {"hosts": {f"etcd-{i}": {"ansible_host": f"127.0.0.{30 + i}"} for i in (1, 2, 3)}},
            "control_plane": {"hosts": {f"cp-{i}": {"ansible_host": "127.0.0.1"} for i in (1, 2, 3)}},
            "worker": {"hosts": {"worker-1": {}}}, "meta_worker": {"hosts": {"meta-1": {}}}}}}
    (tmp_path / "inv.yml").write_text(json.dumps(inventory))
    (proj / "molecule" / "mock" / "verify.yml").write_text(f"""
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    cs_name: cluster_mock
    cs_home: {home}
    cs_instance: mock
    cs_project: {proj}
    cs_inventory: {tmp_path}/inv.yml
    cs_work: {home}/results/work
    cs_kubeconfig: {home}/results/work/admin.conf
    cs_kubectl_mirror: {bindir}/kubectl
    cs_kubectl_bin: {home}/results/work/kubectl
    cs_kubectl: {bindir}/kubectl --kubeconfig {home}/results/work/admin.conf
    cs_scenario: "{{{{ playbook_dir }}}}"
    cs_failover_window: 4
    cs_failover_settle: 3
    cs_failover_check_services: false
  tasks:
    - name: Failover
      ansible.builtin.include_tasks: ../_cluster/failover.yml
""")
    env = dict(os.environ, PATH=f"{bindir}:{VENV_BIN}:{os.environ['PATH']}", ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "coll"),
               ANSIBLE_CONFIG=str(proj / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    yield {"tmp": tmp_path, "state": state, "home": home, "proj": proj, "env": env}
    server.shutdown()
    server.server_close()


def test_failover_tasks_against_fakes(mock):
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(mock["tmp"] / "inv.yml"),
                           str(mock["proj"] / "molecule" / "mock" / "verify.yml")],
                          env=mock["env"], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    figures = json.loads((mock["home"] / "results" / "cluster_mock-failover.json").read_text())
    holder = figures["vip_holder_killed"]
    assert holder["killed"] == "fe-1" and holder["new_holder"] == "fe-2"
    assert 2.5 <= holder["answers_again_seconds"] <= 15, holder  # the fake outage lasts 3 s
    assert holder["failed_requests"] > 0 and holder["recovered"]
    assert holder["restart"]["ssh_seconds"] == 1.5
    cp = figures["control_plane_killed"]
    assert cp["killed"] == "cp-3" and cp["failed_requests"] == 0 and cp["window_seconds"] == 4
    etcd = figures["etcd_member_killed"]
    assert etcd["killed"] == "etcd-3" and etcd["write"]["ok"] and etcd["write"]["status"] == 201
    assert figures["baseline"]["failed_requests"] == 0
    assert (mock["state"] / "lab.log").read_text().splitlines() == [
        "kill fe-1", "start fe-1 --wait-ssh", "kill cp-3", "start cp-3 --wait-ssh", "kill etcd-3", "start etcd-3 --wait-ssh"]
    assert "/api/v1/namespaces/default/configmaps" in (mock["state"] / "writes").read_text()
    # the probe left no credential behind: only its output in the work directory
    assert sorted(p.name for p in (mock["home"] / "results" / "work").iterdir()) == ["admin.conf", "failover-probe.jsonl", "failover-stop", "kubectl"]
