"""Lane and Pipe (puremq.routing.pipe): the bounded one-way queue and its wake-up protocol.

The protocol promises one ``on_items`` call per idle->busy transition, one ``on_space``
call when a producer that stopped at the high-water mark may go on, and never a lost
wake-up when producer and consumer race (checked with real threads at the end).
"""

from __future__ import annotations

import threading

import pytest

from puremq.routing.pipe import Lane, Pipe, inproc_capacity, inproc_pair, low_water_mark


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def _lane(hwm: int = 0):
    lane = Lane(hwm)
    items, space = Counter(), Counter()
    lane.on_items = items
    lane.on_space = space
    return lane, items, space


# -- on_items: one wake-up per idle->busy transition ------------------------------------

def test_first_push_wakes_the_consumer_once():
    lane, items, _ = _lane()
    lane.push(["a"])
    lane.push(["b"])
    lane.push(["c"])
    assert items.calls == 1
    assert list(lane.items) == [["a"], ["b"], ["c"]]
    assert lane.signaled


def test_consumer_going_idle_rearms_the_wake_up():
    lane, items, _ = _lane()
    lane.push(["a"])
    assert lane.items.popleft() == ["a"]
    assert lane.idle() is True
    assert not lane.signaled
    lane.push(["b"])
    assert items.calls == 2


def test_idle_with_items_left_keeps_the_signal_and_says_busy():
    """A message pushed between the consumer's last take and idle() is not stranded."""
    lane, items, _ = _lane()
    lane.push(["a"])
    lane.items.popleft()
    # The producer appends while the consumer has not yet declared itself idle; it sees
    # ``signaled`` still set and does not wake anyone.
    lane.push(["b"])
    assert items.calls == 1
    assert lane.idle() is False
    assert lane.signaled  # the consumer keeps the lane and must look again
    lane.push(["c"])
    assert items.calls == 1
    assert list(lane.items) == [["b"], ["c"]]


def test_idle_on_an_empty_lane_that_never_was_signaled():
    lane, items, _ = _lane()
    assert lane.idle() is True
    assert items.calls == 0


# -- high-water mark ----------------------------------------------------------------------

@pytest.mark.parametrize("hwm, lwm", [(1, 1), (2, 1), (3, 2), (1000, 500), (1001, 501)])
def test_low_water_mark_is_half_the_high_water_mark_rounded_up(hwm, lwm):
    assert low_water_mark(hwm) == lwm
    assert Lane(hwm).lwm == lwm


def test_zero_hwm_is_unlimited():
    lane, _, _ = _lane(0)
    for i in range(10000):
        lane.push([i])
    assert not lane.full()
    assert lane.lwm == 0
    assert lane.wait_for_space() is True
    assert not lane.waiting


def test_full_at_exactly_the_high_water_mark():
    lane, _, _ = _lane(3)
    lane.push([1])
    lane.push([2])
    assert not lane.full()
    lane.push([3])
    assert lane.full()


def test_set_hwm_changes_both_marks():
    lane, _, _ = _lane(3)
    for i in range(3):
        lane.push([i])
    assert lane.full()
    lane.set_hwm(10)
    assert (lane.hwm, lane.lwm) == (10, 5)
    assert not lane.full()
    lane.set_hwm(0)
    assert (lane.hwm, lane.lwm) == (0, 0)
    assert not lane.full()


def test_wait_for_space_when_there_is_room_does_not_wait():
    lane, _, _ = _lane(2)
    lane.push([1])
    assert lane.wait_for_space() is True
    assert lane.waiting is False


def test_wait_for_space_when_full_marks_the_producer_waiting():
    lane, _, space = _lane(2)
    lane.push([1])
    lane.push([2])
    assert lane.wait_for_space() is False
    assert lane.waiting is True
    assert space.calls == 0


def test_took_wakes_the_producer_only_at_the_low_water_mark():
    lane, _, space = _lane(4)  # lwm 2
    for i in range(4):
        lane.push([i])
    assert lane.wait_for_space() is False
    lane.items.popleft()
    lane.took()  # 3 left > lwm
    assert space.calls == 0
    assert lane.waiting
    lane.items.popleft()
    lane.took()  # 2 left == lwm
    assert space.calls == 1
    assert not lane.waiting
    lane.items.popleft()
    lane.took()  # nobody waits any more: no second wake-up
    assert space.calls == 1


def test_took_without_a_waiting_producer_is_silent():
    lane, _, space = _lane(2)
    lane.push([1])
    lane.items.popleft()
    lane.took()
    assert space.calls == 0


# -- conflate -----------------------------------------------------------------------------

def test_conflate_keeps_only_the_newest_message():
    lane, items, _ = _lane()
    lane.conflate = True
    for i in range(5):
        lane.push([i])
    assert list(lane.items) == [[4]]
    assert items.calls == 1


# -- Pipe and inproc pairs ----------------------------------------------------------------------

def test_pipe_defaults_and_writable():
    pipe = Pipe(Lane(1), Lane(1), "tcp://127.0.0.1:5555")
    assert pipe.routing_id is None
    assert pipe.properties == {}
    assert pipe.endpoint == "tcp://127.0.0.1:5555"
    assert not pipe.attached and not pipe.terminated
    assert pipe.writable()
    pipe.outbound.push([b"x"])
    assert not pipe.writable()
    pipe.outbound.items.clear()
    pipe.terminated = True
    assert not pipe.writable()
    assert "terminated" in repr(pipe)


def test_inproc_pair_joins_lanes_crosswise():
    a, b = inproc_pair(3, 5)
    assert a.outbound is b.inbound
    assert b.outbound is a.inbound
    assert a.peer is b and b.peer is a
    assert a.outbound.hwm == 3
    assert b.outbound.hwm == 5
    a.outbound.push([b"from a"])
    assert b.inbound.items.popleft() == [b"from a"]


@pytest.mark.parametrize("snd, rcv, capacity", [
    (1000, 1000, 2000), (1, 1, 2), (5, 0, 0), (0, 5, 0), (0, 0, 0), (7, 3, 10)])
def test_inproc_capacity_is_sndhwm_plus_rcvhwm_and_zero_means_unlimited(snd, rcv, capacity):
    assert inproc_capacity(snd, rcv) == capacity


# -- the protocol under real concurrency ----------------------------------------------------------

@pytest.mark.parametrize("hwm, count", [(1, 2000), (7, 20000), (0, 20000)])
def test_no_lost_wake_up_between_two_threads(hwm, count):
    """A producer and a consumer thread that only ever block on the protocol's wake-ups
    move every message in order; a lost wake-up would stall one of them (and time out)."""
    lane = Lane(hwm)
    have_items = threading.Event()
    have_space = threading.Event()
    lane.on_items = have_items.set
    lane.on_space = have_space.set
    received = []
    failures = []

    def producer():
        for i in range(count):
            while lane.full():
                if lane.wait_for_space():
                    break
                if not have_space.wait(10):
                    failures.append(f"producer stalled at {i}")
                    return
                have_space.clear()
            lane.push(i)

    def consumer():
        items = lane.items
        while len(received) < count:
            while items:
                received.append(items.popleft())
                lane.took()
            if len(received) == count:
                return
            if lane.idle():
                if not have_items.wait(10):
                    failures.append(f"consumer stalled after {len(received)}")
                    return
                have_items.clear()

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert received == list(range(count))
