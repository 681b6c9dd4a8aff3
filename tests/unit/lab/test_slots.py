"""Machine-wide boot slots (flock)."""

import threading
import time

from lab.slots import BootSlots, slot_count


def test_slot_count():
    assert slot_count({"QUORUM_LAB_BOOT_SLOTS": "5"}) == 5
    assert slot_count({"QUORUM_LAB_BOOT_SLOTS": "0"}) == 0
    assert slot_count({}) >= 2


def test_third_boot_waits_for_a_free_slot(tmp_path):
    slots = BootSlots(tmp_path, 2, poll=0.02)
    got = []
    waited = []

    def third():
        with slots.acquire(on_wait=lambda: waited.append(True)) as index:
            got.append((index, time.monotonic()))

    with slots.acquire() as a, slots.acquire() as b:
        assert {a, b} == {0, 1}
        t = threading.Thread(target=third)
        t.start()
        time.sleep(0.2)
        assert got == [] and waited == [True]
        released = time.monotonic()
    t.join(2)
    assert got and got[0][0] in (0, 1) and got[0][1] >= released


def test_unlimited(tmp_path):
    with BootSlots(tmp_path, 0).acquire() as index:
        assert index is None
    assert not any(tmp_path.iterdir())
