"""The I/O thread's sweep: one timer that visits every member each interval, and none at
all once no member is left."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List

import pytest

from puremq.engine.reactor import Reactor
from puremq.engine.sweep import Sweep
from tests.hostile._wire import wait_until

INTERVAL = 0.01


class Member:
    """Stays for ``visits`` sweeps, then leaves."""

    def __init__(self, sweep: Sweep, visits: int) -> None:
        self.sweep = sweep
        self.left = visits
        self.seen: List[threading.Thread] = []

    def sweep_check(self, now: float) -> None:
        self.seen.append(threading.current_thread())
        self.left -= 1
        if self.left <= 0:
            self.sweep.discard(self)


@pytest.fixture
def reactor() -> Iterator[Reactor]:
    reactor = Reactor(name="test-io")
    yield reactor
    reactor.stop()


def _pending_timers(reactor: Reactor) -> int:
    done = threading.Event()
    count: List[int] = []

    def look() -> None:
        count.append(sum(1 for entry in reactor._timers if not entry[2].cancelled))
        done.set()
    reactor.post(look)
    assert done.wait(5.0)
    return count[0]


def test_every_member_is_visited_in_the_io_thread_until_it_leaves(reactor: Reactor) -> None:
    """Each member SHALL be visited once per interval, in the I/O thread, until it leaves."""
    sweep = reactor.sweep(INTERVAL)
    short, long = Member(sweep, 2), Member(sweep, 6)
    sweep.add(short)
    sweep.add(long)
    wait_until(lambda: not sweep.members, "both members left")
    assert len(short.seen) == 2 and len(long.seen) == 6
    assert set(short.seen + long.seen) == {reactor.thread}


def test_no_timer_is_left_once_no_member_is(reactor: Reactor) -> None:
    """With no member left the sweep SHALL stop (no timer keeps the I/O thread waking),
    and a member that joins afterwards SHALL start it again."""
    sweep = reactor.sweep(INTERVAL)
    first = Member(sweep, 1)
    sweep.add(first)
    wait_until(lambda: first.seen, "the first member was visited")
    time.sleep(3 * INTERVAL)  # the subject: time passing with no member
    assert _pending_timers(reactor) == 0
    second = Member(sweep, 1)
    sweep.add(second)
    wait_until(lambda: second.seen, "the second member was visited")


def test_one_sweep_per_interval_per_reactor(reactor: Reactor) -> None:
    """Asking the reactor for a sweep of the same interval SHALL give the same one, so that
    its members share a timer."""
    assert reactor.sweep(INTERVAL) is reactor.sweep(INTERVAL)
    assert reactor.sweep(INTERVAL) is not reactor.sweep(2 * INTERVAL)


def test_a_member_that_fails_does_not_end_the_sweep(reactor: Reactor) -> None:
    """A member whose check raises (a bug, which the I/O thread logs) SHALL NOT stop the
    sweep: the other members are still visited at the next sweeps."""
    sweep = reactor.sweep(INTERVAL)

    class Failing(Member):
        def sweep_check(self, now: float) -> None:
            super().sweep_check(now)
            raise RuntimeError("a bug in a member")
    sweep.add(Failing(sweep, 1))
    steady = Member(sweep, 4)
    sweep.add(steady)
    wait_until(lambda: len(steady.seen) == 4, "the other member was visited four times")
