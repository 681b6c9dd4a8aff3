"""Seconds spent in each play of ansible-playbook logs written with the profile_tasks callback.

Usage: run_phases.py LOG [LOG...]  ->  JSON {log basename: {play name: seconds}}
profile_tasks prints, under every task banner, a line such as
"Thursday 03 December 2026  23:20:01 +0000 (0:00:01.234)       0:00:05.123 ****": a play lasts from
its first such line to the first line of the next play (or the log's last line).
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
    marks = []  # (play, time)
    play = None
    for line in lines:
        match = PLAY.match(line)
        if match:
            play = match.group(1)
            continue
        match = STAMP.match(line)
        if match and play is not None:
            marks.append((play, datetime.strptime(re.sub(r"\s+", " ", match.group(1)), "%d %B %Y %H:%M:%S")))
    out = {}
    for i, (name, start) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else start
        out[name] = round(out.get(name, 0.0) + (end - start).total_seconds(), 1)
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
