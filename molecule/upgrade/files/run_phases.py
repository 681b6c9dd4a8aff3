"""Seconds spent in each play of ansible-playbook logs written with the profile_tasks callback.

Usage: run_phases.py LOG [LOG...]  ->  JSON {log basename: {play name: [seconds of each batch]}}
profile_tasks prints, under every task banner, a line such as
"Thursday 03 December 2026  23:20:01 +0000 (0:00:01.234)       0:00:05.123 ****": a play (each batch
of a serial play prints its banner again) lasts from its first such line to the first line of the
next banner's play (or the log's last such line).
"""
from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime

STAMP = re.compile(r"^\w+ (\d{2} \w+ \d{4}\s+\d{2}:\d{2}:\d{2}) [+-]\d{4} \(")
PLAY = re.compile(r"^PLAY \[(.*)\]")


def phases(lines):
    batches = []  # [play name, first time, last time] per banner
    for line in lines:
        match = PLAY.match(line)
        if match:
            batches.append([match.group(1), None, None])
            continue
        match = STAMP.match(line)
        if match and batches:
            when = datetime.strptime(re.sub(r"\s+", " ", match.group(1)), "%d %B %Y %H:%M:%S")
            batches[-1][1] = batches[-1][1] or when
            batches[-1][2] = when
    timed = [b for b in batches if b[1] is not None]
    out = {}
    for i, (name, start, last) in enumerate(timed):
        end = timed[i + 1][1] if i + 1 < len(timed) else last
        out.setdefault(name, []).append(round((end - start).total_seconds(), 1))
    return out


def main(paths):
    result = {}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            result[os.path.basename(path)] = phases(handle.read().splitlines())
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
