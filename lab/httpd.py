"""The lab mirror's HTTP server: serves $QUORUM_LAB_HOME/mirror inside the lab namespace.

``python -m lab.httpd --directory DIR --port 80 --marker RUNDIR`` (the marker
lets ``lab down`` find a leftover server of its instance).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Logs only errors (apt fetches hundreds of files)."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        return

    def log_error(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab.httpd")
    parser.add_argument("--directory", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--marker", default="")
    args = parser.parse_args(argv)
    handler = functools.partial(QuietHandler, directory=args.directory)
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
