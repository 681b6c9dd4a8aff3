#!/usr/bin/env python
"""Client of the Kubernetes API through the VIP, for the failover checks of the cluster scenarios.

Runs on the controller inside the lab namespace; Python standard library only. The credential is
the admin client certificate of a kubeconfig written by playbooks/kubeconfig.yml: its embedded
CA, certificate and key are written to a private temporary directory (0700, files 0600), loaded
into the TLS context and deleted at once.

  watch     --kubeconfig K --out F --stop-file S   every --period s start one request (alternately
            GET /readyz and GET /api/v1/namespaces/kube-system/pods?limit=1) on a fresh connection,
            each bounded by --timeout, with one retry; one JSON line per request in F until S exists
  summary   --probe F --since T [--until U]        figures of the requests started in [T, U]
  write     --kubeconfig K --name N                create a ConfigMap through the VIP (retried until
            --deadline), then delete it; JSON {ok, seconds, attempts, status, error, first_attempt}
  mark                                             print {"t": now}

All times are the controller's wall clock (time.time()), the clock `lab/lab kill` reports in.
"""
import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import ssl
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

PATHS = {
    "readyz": "/readyz",
    "list": "/api/v1/namespaces/kube-system/pods?limit=1",
}
KUBECONFIG_KEYS = ("server", "certificate-authority-data", "client-certificate-data", "client-key-data")


# ---------------------------------------------------------------- credential

def parse_kubeconfig(text):
    """server and the three base64 blobs of the first cluster and user (the layout of
    playbooks/templates/kubeconfig.yml.j2: one `key: value` a line, values unquoted or quoted)."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^\s*(?:-\s+)?([a-z-]+):\s*['\"]?([^'\"\s]+)['\"]?\s*$", line)
        if match and match.group(1) in KUBECONFIG_KEYS and match.group(1) not in found:
            found[match.group(1)] = match.group(2)
    missing = [k for k in KUBECONFIG_KEYS if k not in found]
    if missing:
        raise ValueError("kubeconfig lacks %s (a client-certificate kubeconfig from playbooks/kubeconfig.yml is needed)"
                         % ", ".join(missing))
    return found


def tls_context(kubeconfig_path):
    """(TLS context with the kubeconfig's CA and client certificate, server URL). The PEM files
    exist only while the context loads them, in a 0700 directory of their own."""
    with open(kubeconfig_path) as fh:
        conf = parse_kubeconfig(fh.read())
    workdir = tempfile.mkdtemp(prefix="api-probe-")  # mkdtemp: mode 0700
    try:
        files = {}
        for key, name in (("certificate-authority-data", "ca.crt"), ("client-certificate-data", "client.crt"),
                          ("client-key-data", "client.key")):
            path = os.path.join(workdir, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(base64.b64decode(conf[key]))
            files[name] = path
        ctx = ssl.create_default_context(cafile=files["ca.crt"])
        ctx.load_cert_chain(files["client.crt"], files["client.key"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return ctx, conf["server"]


# ---------------------------------------------------------------- one request

def attempt(ctx, host, port, method, path, timeout, body=None):
    """One HTTPS request on a fresh connection: (ok, status or None, error or None)."""
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=timeout)
    try:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        ok = 200 <= resp.status < 300
        return ok, resp.status, None if ok else "HTTP %d" % resp.status
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return False, None, "%s: %s" % (type(exc).__name__, exc)
    finally:
        conn.close()


def request(ctx, host, port, kind, timeout, retry_delay=0.2, clock=time.time, do=attempt):
    """A request of `kind` with one retry: the record `watch` writes."""
    t = clock()
    ok, status, error = do(ctx, host, port, "GET", PATHS[kind], timeout)
    first_ok, first_error = ok, error
    attempts = 1
    if not ok:
        time.sleep(retry_delay)
        attempts = 2
        ok, status, error = do(ctx, host, port, "GET", PATHS[kind], timeout)
    end = clock()
    return {"t": round(t, 4), "end": round(end, 4), "kind": kind, "ok": ok, "first_ok": first_ok,
            "attempts": attempts, "status": status, "error": error or first_error}


# ---------------------------------------------------------------- figures

def summarize(records, since, until=None, stable=3):
    """Figures of the requests started in [since, until] (all times relative to `since`):
    answers_again_seconds: end of the first successful request (a request started after an event
        that stops the API can only succeed once it answers again);
    stable_after_seconds: end of the first success after the last failed first attempt (0 when no
        first attempt failed); recovered: at least `stable` first-attempt successes after that;
    failed_requests: failed even after the one retry (the goal is 0); first_attempt_failures;
    max_gap_seconds: the longest time without a successful answer (from `since`)."""
    window = sorted((r for r in records if "kind" in r and r["t"] >= since and (until is None or r["t"] <= until)),
                    key=lambda r: r["t"])
    oks = sorted(r["end"] for r in window if r["ok"])
    bad_first = [i for i, r in enumerate(window) if not r["first_ok"]]
    tail = window[bad_first[-1] + 1:] if bad_first else window  # every first attempt there succeeded
    gaps = [b - a for a, b in zip([since] + oks, oks)]
    last_seen = max([r["end"] for r in window] + [since])
    horizon = last_seen if until is None else min(until, last_seen)
    gaps.append(max(0.0, horizon - (oks[-1] if oks else since)))
    per_kind = {}
    for r in window:
        k = per_kind.setdefault(r["kind"], {"requests": 0, "failed": 0, "first_attempt_failures": 0})
        k["requests"] += 1
        k["failed"] += 0 if r["ok"] else 1
        k["first_attempt_failures"] += 0 if r["first_ok"] else 1
    return {
        "requests": len(window),
        "failed_requests": sum(1 for r in window if not r["ok"]),
        "first_attempt_failures": len(bad_first),
        "answers_again_seconds": round(oks[0] - since, 2) if oks else None,
        "stable_after_seconds": (0.0 if not bad_first else round(min(r["end"] for r in tail) - since, 2) if tail else None),
        "recovered": len(tail) >= stable,
        "max_gap_seconds": round(max(gaps), 2),
        "errors": sorted({r["error"] for r in window if r["error"]})[:10],
        "per_kind": per_kind,
    }


def load_records(path):
    out = []
    with contextlib.suppress(FileNotFoundError):
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if line:
                    with contextlib.suppress(ValueError):
                        out.append(json.loads(line))
    return out


# ---------------------------------------------------------------- commands

def host_port(server, vip=None, port=None):
    parts = urlsplit(server)
    return vip or parts.hostname, int(port or parts.port or 443)


def cmd_watch(args):
    ctx, server = tls_context(args.kubeconfig)
    host, port = host_port(server, args.vip, args.port)
    lock = threading.Lock()
    inflight = threading.BoundedSemaphore(args.max_inflight)
    kinds = ["readyz", "list"]
    tick = 0
    threads = []
    with open(args.out, "a", buffering=1) as out:
        def one(kind):
            try:
                rec = request(ctx, host, port, kind, args.timeout)
                with lock:
                    out.write(json.dumps(rec) + "\n")
            finally:
                inflight.release()

        next_t = time.monotonic()
        while not os.path.exists(args.stop_file):
            kind = kinds[tick % len(kinds)]
            tick += 1
            if inflight.acquire(blocking=False):
                thread = threading.Thread(target=one, args=(kind,), daemon=True)
                thread.start()
                threads = [t for t in threads if t.is_alive()] + [thread]
            else:  # every slot hangs: say so instead of piling up connections
                with lock:
                    out.write(json.dumps({"t": round(time.time(), 4), "skipped": kind}) + "\n")
            next_t += args.period
            time.sleep(max(0.0, next_t - time.monotonic()))
        # let the requests in flight finish (each is bounded by 2 x timeout)
        deadline = time.monotonic() + 2 * args.timeout + 1
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    return 0


def cmd_summary(args):
    records = load_records(args.probe)
    result = summarize(records, args.since, args.until, args.stable)
    result["skipped"] = sum(1 for r in records if "skipped" in r and r["t"] >= args.since
                            and (args.until is None or r["t"] <= args.until))
    print(json.dumps(result))
    return 0


def cmd_write(args):
    ctx, server = tls_context(args.kubeconfig)
    host, port = host_port(server, args.vip, args.port)
    path = "/api/v1/namespaces/%s/configmaps" % args.namespace
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": args.name, "labels": {"quorum.k8s/purpose": "failover-check"}},
                       "data": {"written": str(time.time())}})
    t0 = time.time()
    attempts, ok, status, error, first = 0, False, None, None, None
    while True:
        attempts += 1
        ok, status, error = attempt(ctx, host, port, "POST", path, args.timeout, body=body)
        if first is None:
            first = {"status": status, "error": error, "seconds": round(time.time() - t0, 2)}
        if ok or status == 409 and attempts > 1:  # 409 after a retry: an earlier attempt was stored
            ok = True
            break
        if time.time() - t0 > args.deadline:
            break
        time.sleep(1)
    seconds = round(time.time() - t0, 2)
    if ok:  # best effort: leave nothing behind
        attempt(ctx, host, port, "DELETE", "%s/%s" % (path, args.name), args.timeout)
    print(json.dumps({"ok": ok, "seconds": seconds, "attempts": attempts, "status": status, "error": error,
                      "first_attempt": first}))
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("watch", "write"):
        s = sub.add_parser(name)
        s.add_argument("--kubeconfig", required=True)
        s.add_argument("--vip", help="address to connect to (default: the kubeconfig's server)")
        s.add_argument("--port", type=int)
        s.add_argument("--timeout", type=float, default=10.0, help="seconds per attempt")
    w = sub.choices["watch"]
    w.add_argument("--out", required=True)
    w.add_argument("--stop-file", required=True)
    w.add_argument("--period", type=float, default=0.25, help="seconds between request starts")
    w.add_argument("--max-inflight", type=int, default=32)
    wr = sub.choices["write"]
    wr.add_argument("--name", required=True)
    wr.add_argument("--namespace", default="default")
    wr.add_argument("--deadline", type=float, default=120.0, help="seconds to keep retrying")
    s = sub.add_parser("summary")
    s.add_argument("--probe", required=True)
    s.add_argument("--since", type=float, required=True)
    s.add_argument("--until", type=float)
    s.add_argument("--stable", type=int, default=3)
    sub.add_parser("mark")
    args = p.parse_args(argv)
    if args.cmd == "mark":
        print(json.dumps({"t": time.time()}))
        return 0
    return {"watch": cmd_watch, "summary": cmd_summary, "write": cmd_write}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
