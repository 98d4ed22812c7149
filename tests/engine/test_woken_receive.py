"""How a blocking receive is woken (SocketEngine._wait, wake, _arm).

An owner that blocks in recv or send waits on a lock that a producer releases; the socket's
fd (an eventfd) is written only for owners that wait on it (EVENTS, Poller, event loops).
So the producer keeps the GIL through the wake-up, and the woken owner takes the message
with no eventfd read or write on the way: one GIL hand-over per wake-up, as with libzmq.
What must hold: the message is returned, a wait that timed out leaves the fd its wake-ups,
a release nobody took is taken back before the next wait, and the context's termination
reaches a blocked owner.
"""

from __future__ import annotations

import select
import threading
import time
import uuid
from typing import Any, Iterator, List, Tuple

import pytest

import puremq
from puremq.engine import socket_engine

WAIT_S = 10.0


class RecordingSignaler:
    """The socket's signaler (its fd), noting every call made on it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: List[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if name in ("set", "clear", "wait", "wait_with"):
            def recorded(*args: Any) -> Any:
                self.calls.append(name)
                return attr(*args)
            return recorded
        return attr


@pytest.fixture
def pull_push() -> Iterator[Tuple[Any, Any, Any]]:
    ctx = puremq.Context()
    pull, push = ctx.socket(puremq.PULL), ctx.socket(puremq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = int(WAIT_S * 1000)
    name = f"inproc://{uuid.uuid4().hex}"
    pull.bind(name)
    push.connect(name)
    yield ctx, pull, push
    pull.close(0)
    push.close(0)
    ctx.term()


def _until_blocked(engine: Any, thread: threading.Thread) -> None:
    """Until ``thread`` blocks in the engine's wait (it marks the socket armed so)."""
    deadline = time.monotonic() + WAIT_S
    while engine.armed != socket_engine._WAITING:
        assert thread.is_alive(), "the receiver returned without waiting"
        assert time.monotonic() < deadline, "the receiver never blocked"
        time.sleep(0.001)


def _blocked_receive_of(pull: Any, push: Any, data: bytes) -> List[Any]:
    """What a receive on ``pull`` returns when ``data`` is sent once it has blocked."""
    results: List[Any] = []
    receiver = threading.Thread(target=lambda: results.append(pull.recv()))
    receiver.start()
    _until_blocked(pull._engine, receiver)
    push.send(data)
    receiver.join(WAIT_S)
    assert not receiver.is_alive()
    return results


def _readable(fd: int) -> bool:
    waiter = select.poll()
    waiter.register(fd, select.POLLIN)
    return bool(waiter.poll(0))


def test_a_blocked_receive_is_woken_without_the_fd(pull_push: Any) -> None:
    """A receive blocked on an inproc peer is released by the sender directly: the message
    is returned, and neither thread wrote, read or polled the socket's fd on the way."""
    _, pull, push = pull_push
    engine = pull._engine
    recorder = RecordingSignaler(engine.signaler)
    engine.signaler = recorder
    assert _blocked_receive_of(pull, push, b"first") == [b"first"]
    assert recorder.calls == [], "the wake-up went through the fd"
    assert not _readable(pull.FD)
    # a second blocking receive waits again (nothing stale releases it early)
    assert _blocked_receive_of(pull, push, b"second") == [b"second"]


def test_after_a_timed_out_wait_wake_ups_go_to_the_fd_again(pull_push: Any) -> None:
    """A receive that timed out leaves the socket armed for its fd: a message that comes
    later makes the fd readable (an event loop that read EVENTS is told), and EVENTS
    reports it."""
    _, pull, push = pull_push
    pull.rcvtimeo = 20
    with pytest.raises(puremq.Again):
        pull.recv()
    assert not _readable(pull.FD)
    push.send(b"later")
    assert _readable(pull.FD)
    assert pull.get(puremq.EVENTS) & puremq.POLLIN
    assert pull.recv() == b"later"


def test_a_wake_up_released_after_a_timeout_is_taken_back_by_the_next_arm(
        pull_push: Any) -> None:
    """A producer that releases the owner just as its wait times out: the release is taken
    back by the owner's next arm, so the following wait blocks until the next message."""
    _, pull, push = pull_push
    engine = pull._engine
    engine._arm()
    engine.armed = socket_engine._WAITING  # as _wait leaves it while the owner blocks
    engine.wake()  # the producer's release, which the timed-out owner never took
    assert engine.wakeup_pending and not engine._wakeup.locked()
    engine._arm()
    # held again: a producer can release it once more (a second release of a released
    # lock would raise in the producer's thread)
    assert engine._wakeup.locked() and not engine.wakeup_pending
    assert _blocked_receive_of(pull, push, b"next") == [b"next"]


def test_termination_wakes_a_blocked_receive_with_eterm() -> None:
    """A receive blocked when the context is terminated raises ETERM, even with a message
    queued meanwhile (its wake-up was lost here on purpose): the termination releases
    the blocked owner, which checks the context before it looks for a message."""
    ctx = puremq.Context()
    pull, push = ctx.socket(puremq.PULL), ctx.socket(puremq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
        sock.rcvtimeo = int(3 * WAIT_S * 1000)
    name = f"inproc://{uuid.uuid4().hex}"
    pull.bind(name)
    push.connect(name)
    engine = pull._engine
    results: List[Any] = []

    def receive() -> None:
        try:
            results.append(pull.recv())
        except puremq.ZMQError as exc:
            results.append(exc.errno)
        pull.close(0)

    receiver = threading.Thread(target=receive)
    receiver.start()
    _until_blocked(engine, receiver)
    pattern = pull._pattern
    pipe = pattern.pipes[0]
    # the message is queued as usual, but its wake-up is lost
    pipe.inbound.on_items = lambda: pattern.fq.ring.append(pipe)
    push.send(b"late")
    assert pattern.fq.has_messages()
    assert receiver.is_alive()
    terminator = threading.Thread(target=ctx.term)
    terminator.start()
    receiver.join(WAIT_S)
    assert not receiver.is_alive(), "the termination did not wake the blocked receive"
    push.close(0)  # (closed only now: its pipe's detach would reach the receiver first)
    terminator.join(WAIT_S)
    assert not receiver.is_alive() and not terminator.is_alive()
    assert results == [puremq.ETERM]
