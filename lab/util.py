"""Small helpers: logging, running commands, locks, processes, console logs. Hashing and atomic
writes are in mirror_builder/common.py, shared with the mirror builder."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator, Sequence

from lab.config import LabError
from mirror_builder.common import logger

log = logger("lab")


def run(
    cmd: Sequence[str],
    *,
    check: bool = True,
    capture: bool = False,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    quiet: bool = False,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise LabError with its output tail."""
    proc = subprocess.run(
        list(cmd),
        check=False,
        text=True,
        input=input_text,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE if (capture or quiet) else None,
        stderr=subprocess.PIPE if (capture or quiet) else None,
    )
    if check and proc.returncode != 0:
        tail = ((proc.stderr or "") + (proc.stdout or "")).strip().splitlines()[-15:]
        raise LabError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n" + "\n".join(tail))
    return proc


@contextlib.contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """Exclusive flock on ``path`` (waits, saying so once); released when the block ends or the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another lab process that is building {what}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise LabError(f"{path}: not valid JSON ({exc}); remove it or run 'lab down'") from exc


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def pid_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError:
        return f"(no console log at {path})"
    return "\n".join(clean_console(data.decode(errors="replace"))[-lines:])


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bM")


def clean_console(text: str) -> list[str]:
    """Console lines without colour codes; systemd's spinner lines collapsed to the last one."""
    out: list[str] = []
    for raw in text.replace("\r", "\n").splitlines():
        line = _ANSI.sub("", raw).rstrip()
        if not line:
            continue
        spinner = "start running (" in line or "tart running (" in line
        if spinner and out and ("start running (" in out[-1] or "tart running (" in out[-1]):
            out[-1] = line
        else:
            out.append(line)
    return out


def put_file(root: Path, rel: str, text: str, mode: int = 0o644) -> None:
    """Write ``text`` at ``rel`` inside a guest root directory (parents made), with ``mode``."""
    dest = root / rel.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    os.chmod(dest, mode)
