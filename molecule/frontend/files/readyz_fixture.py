#!/usr/bin/env python
"""Test fixture standing in for a kube-apiserver (molecule scenario 'frontend').

HTTPS on ADDRESS:6443:
  GET /readyz   200 "ok" while ready, 503 otherwise (what HAProxy checks)
  GET /whoami   this host's name (which backend a request through the VIP reached)
  GET /watch    one line every 0.5 s for ?seconds=N (a long watch-like connection)
HTTP on ADDRESS:8080 (the switch the test flips):
  GET /ready/on, /ready/off, /ready   set or show the readiness
  GET /ready/off-for/IP, /ready/on-for/IP   not ready (or ready again) for health checks from IP
                                       alone: a frontend that lost every API server while the others did not
Only the Python standard library: the guests have python3, nothing else.
"""
import argparse
import http.server
import socket
import ssl
import threading
import time
import urllib.parse

STATE = {"ready": True, "unready_for": set()}
HOSTNAME = socket.gethostname()


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # quiet: the probe sends many requests
        pass

    def _reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server API)
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/readyz":
            ready = STATE["ready"] and self.client_address[0] not in STATE["unready_for"]
            self._reply(200 if ready else 503, "ok" if ready else "not ready")
        elif url.path == "/whoami":
            self._reply(200, HOSTNAME)
        elif url.path == "/watch":
            seconds = float(urllib.parse.parse_qs(url.query).get("seconds", ["30"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            end = time.monotonic() + seconds
            n = 0
            while time.monotonic() < end:
                self.wfile.write(("%s %d\n" % (HOSTNAME, n)).encode())
                self.wfile.flush()
                n += 1
                time.sleep(0.5)
        else:
            self._reply(404, "not found")


class Switch(Api):
    def do_GET(self):  # noqa: N802
        if self.path == "/ready/on":
            STATE["ready"] = True
        elif self.path == "/ready/off":
            STATE["ready"] = False
        elif self.path.startswith("/ready/off-for/"):
            STATE["unready_for"].add(self.path.rsplit("/", 1)[1])
        elif self.path.startswith("/ready/on-for/"):
            STATE["unready_for"].discard(self.path.rsplit("/", 1)[1])
        elif self.path != "/ready":
            self._reply(404, "not found")
            return
        self._reply(200, "ready" if STATE["ready"] else "not-ready")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=6443)
    parser.add_argument("--switch-port", type=int, default=8080)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    http.server.ThreadingHTTPServer.daemon_threads = True
    api = http.server.ThreadingHTTPServer((args.address, args.port), Api)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    # The TLS handshake runs in each request thread, not in accept().
    api.socket = ctx.wrap_socket(api.socket, server_side=True, do_handshake_on_connect=False)
    switch = http.server.ThreadingHTTPServer((args.address, args.switch_port), Switch)
    threading.Thread(target=switch.serve_forever, daemon=True).start()
    api.serve_forever()


if __name__ == "__main__":
    main()
