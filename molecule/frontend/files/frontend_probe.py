#!/usr/bin/env python
"""Measurements for the molecule scenario 'frontend' (runs on the controller, inside the lab namespace).

  probe   --out F --stop-file S      request https://VIP:PORT/whoami every --period s until S exists;
                                      one JSON line per request: t (wall clock), ok, backend or error
  mark    --out F NAME                append a marker {t, mark} to F
  drain   --backend-ip IP --name N    switch a fixture backend off, measure until the VIP stops reaching it
  sample  --count N                   which backends answer through the VIP
  stream  --seconds N --out F         one long connection (/watch); JSON result with gaps and end reason
  outage  --probe F --since T         first failure after T, last success before it, first success after it

All times are the controller's wall clock (time.time()), so events and requests share one clock.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time
import urllib.request

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE  # the fixture's certificate is self-signed


def request(host, port, path, connect_timeout=0.25, read_timeout=3.0):
    """One HTTPS GET on a fresh connection; returns (status, body)."""
    raw = socket.create_connection((host, port), timeout=connect_timeout)
    try:
        raw.settimeout(read_timeout)
        conn = CTX.wrap_socket(raw, server_hostname=host)
        conn.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        data = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        conn.close()
    finally:
        raw.close()
    head, _sep, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body.decode(errors="replace").strip()


def whoami(vip, port):
    t = time.time()
    try:
        status, body = request(vip, port, "/whoami")
        ok = status == 200
        return {"t": t, "d": round(time.time() - t, 4), "ok": ok, "backend": body if ok else None,
                "error": None if ok else "status %d" % status}
    except (OSError, ssl.SSLError, ValueError, IndexError) as exc:
        return {"t": t, "d": round(time.time() - t, 4), "ok": False, "backend": None, "error": type(exc).__name__}


def cmd_probe(args):
    with open(args.out, "a", buffering=1) as out:
        while not os.path.exists(args.stop_file):
            start = time.monotonic()
            out.write(json.dumps(whoami(args.vip, args.port)) + "\n")
            time.sleep(max(0.0, args.period - (time.monotonic() - start)))
    return 0


def cmd_mark(args):
    row = {"t": time.time(), "mark": args.name}
    with open(args.out, "a", buffering=1) as out:
        out.write(json.dumps(row) + "\n")
    print(json.dumps(row))
    return 0


def switch(ip, state):
    with urllib.request.urlopen("http://%s:8080/ready/%s" % (ip, state), timeout=5) as resp:
        return resp.read().decode().strip()


def cmd_sample(args):
    seen = {}
    failures = 0
    for _request in range(args.count):
        r = whoami(args.vip, args.port)
        if r["ok"]:
            seen[r["backend"]] = seen.get(r["backend"], 0) + 1
        else:
            failures += 1
        time.sleep(args.period)
    print(json.dumps({"backends": seen, "failures": failures, "requests": args.count}))
    return 0


def cmd_drain(args):
    """Switch one backend to not-ready; time until requests through the VIP stop reaching it."""
    t_switch = time.time()
    switch(args.backend_ip, "off")
    last_hit = None
    quiet_since = None
    requests = 0
    deadline = t_switch + args.timeout
    while time.time() < deadline:
        r = whoami(args.vip, args.port)
        requests += 1
        if r["ok"] and r["backend"] == args.name:
            last_hit = r["t"]
            quiet_since = None
        elif r["ok"]:
            quiet_since = quiet_since or r["t"]
            if time.time() - quiet_since >= args.quiet:
                break
        time.sleep(args.period)
    drained = quiet_since is not None and time.time() - quiet_since >= args.quiet
    # Back to ready: time until it receives traffic again (rise).
    t_on = time.time()
    switch(args.backend_ip, "on")
    back = None
    while time.time() < t_on + args.timeout:
        r = whoami(args.vip, args.port)
        if r["ok"] and r["backend"] == args.name:
            back = r["t"]
            break
        time.sleep(args.period)
    print(json.dumps({
        "backend": args.name,
        "drained": drained,
        "requests": requests,
        "seconds_to_last_request": round(last_hit - t_switch, 3) if last_hit else 0.0,
        "seconds_until_back_after_ready": round(back - t_on, 3) if back else None,
    }))
    return 0


def cmd_stream(args):
    """One connection through the VIP reading /watch lines; reports gaps and how it ended."""
    t0 = time.time()
    lines, gaps, last, reason = 0, [], None, "completed"
    backend = None
    try:
        raw = socket.create_connection((args.vip, args.port), timeout=5)
        raw.settimeout(5)
        conn = CTX.wrap_socket(raw, server_hostname=args.vip)
        conn.sendall(("GET /watch?seconds=%s HTTP/1.0\r\nHost: x\r\n\r\n" % args.seconds).encode())
        buf = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                now = time.time()
                if line.strip() and not line.startswith(b"HTTP/") and b":" not in line:
                    lines += 1
                    backend = line.split()[0].decode()
                    if last is not None:
                        gaps.append(now - last)
                    last = now
        conn.close()
    except (OSError, ssl.SSLError) as exc:
        reason = "error: %s" % type(exc).__name__
    duration = time.time() - t0
    result = {"t_start": t0, "t_end": time.time(), "seconds": round(duration, 3), "lines": lines,
              "backend": backend, "max_gap_seconds": round(max(gaps), 3) if gaps else None, "end": reason,
              "expected_lines": int(args.seconds / 0.5)}
    with open(args.out, "w") as out:
        json.dump(result, out)
    print(json.dumps(result))
    return 0


def cmd_outage(args):
    """From a probe log: the outage that starts after --since."""
    rows = []
    with open(args.probe) as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # the probe is writing this line right now
            if "ok" in row:
                rows.append(row)
    before = [r for r in rows if r["t"] < args.since and r["ok"]]
    after = [r for r in rows if r["t"] >= args.since]
    first_fail = next((r for r in after if not r["ok"]), None)
    result = {"since": args.since, "failed_requests": 0, "outage_seconds": 0.0}
    if first_fail is None:
        # Settled once requests keep succeeding for a while after --since.
        result["recovered"] = any(r["ok"] and r["t"] > args.since + 5 for r in after)
        result["note"] = "no failed request: any outage was shorter than one probe period"
        print(json.dumps(result))
        return 0
    last_ok = max([r["t"] + r["d"] for r in rows if r["ok"] and r["t"] < first_fail["t"]] or [args.since])
    recovered = next((r for r in after if r["t"] > first_fail["t"] and r["ok"]), None)
    failed = [r for r in after if not r["ok"] and (recovered is None or r["t"] < recovered["t"])]
    result.update({
        "failed_requests": len(failed),
        "errors": sorted({r["error"] for r in failed}),
        "recovered": recovered is not None,
        "backend_after": recovered["backend"] if recovered else None,
        # From the last answered request before the event to the first answered one after it:
        # an upper bound of what a client saw.
        "outage_seconds": round(recovered["t"] + recovered["d"] - last_ok, 3) if recovered else None,
        # From the event itself (when its time is known on this clock, e.g. a VM killed from here).
        "seconds_from_event": round(recovered["t"] + recovered["d"] - args.since, 3) if recovered and args.event_time else None,
        "first_failure_after_since": round(first_fail["t"] - args.since, 3),
        "requests_before": len(before),
    })
    print(json.dumps(result))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vip", default="10.231.0.250")
    p.add_argument("--port", type=int, default=6443)
    p.add_argument("--period", type=float, default=0.05)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("probe")
    s.add_argument("--out", required=True)
    s.add_argument("--stop-file", required=True)
    s = sub.add_parser("mark")
    s.add_argument("--out", required=True)
    s.add_argument("name")
    s = sub.add_parser("sample")
    s.add_argument("--count", type=int, default=30)
    s = sub.add_parser("drain")
    s.add_argument("--backend-ip", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--quiet", type=float, default=5.0, help="seconds without a hit that count as drained")
    s.add_argument("--timeout", type=float, default=60.0)
    s = sub.add_parser("stream")
    s.add_argument("--seconds", type=float, default=20)
    s.add_argument("--out", required=True)
    s = sub.add_parser("outage")
    s.add_argument("--probe", required=True)
    s.add_argument("--since", type=float, required=True)
    s.add_argument("--event-time", action="store_true", help="--since is the exact event time")
    args = p.parse_args(argv)
    return {"probe": cmd_probe, "mark": cmd_mark, "sample": cmd_sample, "drain": cmd_drain,
            "stream": cmd_stream, "outage": cmd_outage}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
