"""Stopping the I/O thread: its waker is closed once, by the last of stop() and the thread."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest

from puremq.engine import signaler
from puremq.engine.reactor import Reactor

WAIT_S = 5.0


@pytest.fixture
def pipe_waker(monkeypatch: Any) -> None:
    # PyPy has no eventfd: a pipe, where a write after the reader is closed raises EPIPE
    monkeypatch.setattr(signaler, "_HAS_EVENTFD", False)


def test_stop_survives_the_thread_exiting_before_its_last_wake(pipe_waker: None,
                                                              monkeypatch: Any) -> None:
    """stop() SHALL NOT write to a waker the I/O thread closed: the thread may run the halt
    and leave before stop() writes the waker once more (CI saw BrokenPipeError there, and
    a closed fd's number may already belong to someone else)."""
    writes_after_close = []
    set_waker = signaler.Signaler.set

    def recording_set(self: Any) -> None:
        if self.closed:
            writes_after_close.append(self)
        set_waker(self)
    monkeypatch.setattr(signaler.Signaler, "set", recording_set)
    reactor = Reactor(name="test-io")
    posted = reactor.post

    def post_then_let_the_thread_leave(callback: Callable[[], None]) -> None:
        posted(callback)
        reactor.thread.join(WAIT_S)
    reactor.post = post_then_let_the_thread_leave  # type: ignore[method-assign]
    reactor.stop()
    assert not reactor.thread.is_alive()
    assert reactor._waker.closed
    assert writes_after_close == []


def test_stop_from_inside_the_io_thread_closes_the_waker_on_the_way_out() -> None:
    """stop() called by the I/O thread itself SHALL end the thread and close its waker."""
    reactor = Reactor(name="test-io")
    reactor.post(reactor.stop)
    reactor.thread.join(WAIT_S)
    assert not reactor.thread.is_alive()
    assert reactor._waker.closed


def test_a_stop_that_times_out_leaves_the_waker_to_the_thread(pipe_waker: None) -> None:
    """When stop() gives up waiting, the waker SHALL stay open while the thread runs, and the
    thread SHALL close it when it leaves."""
    reactor = Reactor(name="test-io")
    release = threading.Event()
    reactor.post(lambda: release.wait(WAIT_S))
    reactor.stop(timeout=0.05)
    assert reactor.thread.is_alive()
    assert not reactor._waker.closed
    release.set()
    reactor.thread.join(WAIT_S)
    assert not reactor.thread.is_alive()
    assert reactor._waker.closed


def test_a_second_stop_is_harmless() -> None:
    """stop() SHALL be callable again once the thread has ended."""
    reactor = Reactor(name="test-io")
    reactor.stop()
    reactor.stop()
    assert reactor._waker.closed


def test_waking_a_pipe_whose_reader_is_gone_is_not_an_error(pipe_waker: None) -> None:
    """set() SHALL be quiet when nobody is left to wake (the reading end closed: EPIPE)."""
    import os
    waker = signaler.Signaler()
    os.close(waker._read_fd)
    try:
        waker.set()
    finally:
        os.close(waker._write_fd)
        waker.closed = True
