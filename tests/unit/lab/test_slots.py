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


def test_waiting_is_cancelled_by_stop(tmp_path):
    import pytest

    from lab.slots import SlotCancelled

    slots = BootSlots(tmp_path, 1, poll=0.02)
    stop = threading.Event()
    errors = []

    def waiter():
        try:
            with slots.acquire(stop=stop):
                pass
        except SlotCancelled as exc:
            errors.append(exc)

    with slots.acquire():
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.1)
        stop.set()
        t.join(2)
    assert not t.is_alive() and len(errors) == 1
    with pytest.raises(SlotCancelled):
        with slots.acquire() as _held, BootSlots(tmp_path, 1, poll=0.01).acquire(stop=stop):
            pass
