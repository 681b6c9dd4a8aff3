"""Machine-wide boot slots: at most N VMs boot at once, across every lab instance.

Booting a TCG guest keeps a host core busy; when several labs boot at the same time
on a small machine, guests crawl until systemd's own job timeouts fail their boot.
A slot is an flock on $QUORUM_LAB_HOME/locks/boot-slot-K, held from QEMU's start until
the VM answers SSH; the kernel releases it if the holder dies, so a killed run never
leaks a slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path


def slot_count(env: dict[str, str] | None = None) -> int:
    """$QUORUM_LAB_BOOT_SLOTS, else one more than the host's cores; 0 means no limit."""
    env = os.environ if env is None else env
    raw = env.get("QUORUM_LAB_BOOT_SLOTS")
    if raw not in (None, ""):
        try:
            return max(0, int(raw))
        except ValueError:
            pass
    return (os.cpu_count() or 1) + 1


class SlotCancelled(Exception):
    """The wait for a slot was cancelled (the lab run is being torn down)."""


class BootSlots:
    def __init__(self, directory: Path, count: int, poll: float = 1.0) -> None:
        self.directory = directory
        self.count = count
        self.poll = poll

    @contextlib.contextmanager
    def acquire(self, on_wait: object = None, stop: threading.Event | None = None) -> Iterator[int | None]:
        """Hold one slot for the duration of the block (yields its number, None when unlimited).
        Gives up with SlotCancelled when ``stop`` is set while waiting."""
        if self.count <= 0:
            yield None
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        waited = False
        while True:
            for index in range(self.count):
                fd = os.open(self.directory / f"boot-slot-{index}", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield index
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            if not waited and callable(on_wait):
                on_wait()
                waited = True
            if stop is not None and stop.wait(self.poll):
                raise SlotCancelled("cancelled while waiting for a boot slot")
            if stop is None:
                time.sleep(self.poll)
