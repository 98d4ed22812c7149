"""A puremq PUB fanning out to libzmq SUBs through its shared log (routing/broadcast.py):
every message of every size and shape SHALL reach every subscriber whole and in order,
also while subscriptions change and the PUB moves between the log and its lanes."""

from __future__ import annotations

import time
from typing import Any, List, Sequence

import pytest
import zmq

from .._messages import mixed_messages
from .._io_thread import io_thread_held
from .harness import Net

WAIT_S = 10.0


def _subscribers(net: Net, pub: Any, transport: str, count: int,
                 options: Sequence[Any] = (("RCVHWM", 0),)) -> List[Any]:
    """``count`` libzmq SUBs subscribed to everything, connected to ``pub`` and known to
    receive (each got a marker sent after its subscription was in force)."""
    address = net.bind(pub, transport)
    subs = []
    for _ in range(count):
        sub = net.socket("lz", "SUB", options)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(address)
        subs.append(sub)
    waiting = list(subs)
    deadline = time.monotonic() + WAIT_S
    while waiting:
        assert time.monotonic() < deadline, "subscriptions did not reach the PUB"
        pub.send(b"sync")
        waiting = [sub for sub in waiting if not sub.poll(20)]
    pub.send(b"sync-end")
    for sub in subs:
        while sub.recv() != b"sync-end":
            pass
    return subs


def _receive(sub: Any, count: int) -> List[List[bytes]]:
    return [sub.recv_multipart() for _ in range(count)]


def _assert_all_in_order(got: Sequence[List[bytes]], expected: Sequence[List[bytes]]) -> None:
    assert len(got) == len(expected)
    for number, (mine, theirs) in enumerate(zip(got, expected)):
        assert mine == theirs, f"message {number} differs"


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_libzmq_subscribers_get_a_mixed_stream_whole_and_in_order(net: Net,
                                                                  transport: str) -> None:
    """3 libzmq SUBs subscribed to everything; the puremq PUB (no high-water mark, so
    nothing may be dropped) sends 3,000 messages: short and long frames through the
    shared log, frames over the zero-copy threshold and back through the lanes, multipart
    messages.  Each SUB SHALL receive all of them, in order."""
    pub = net.socket("pm", "PUB", [("SNDHWM", 0)])
    subs = _subscribers(net, pub, transport, 3)
    assert pub._engine.pattern._log_on, "the PUB does not use its shared log here"
    # large frames over the zero-copy threshold: the lanes carry those
    expected = mixed_messages(3000, seed=len(transport), large=(17_000, 70_000))
    for frames in expected:
        pub.send_multipart(frames)
    for sub in subs:
        _assert_all_in_order(_receive(sub, len(expected)), expected)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_subscription_changes_lose_and_reorder_nothing(net: Net, transport: str) -> None:
    """Two libzmq SUBs subscribed to everything; one of them subscribes to a topic as
    well (the PUB filters: its lanes take over from the log) and later cancels it (back to
    the log, the lanes maybe still holding messages), while messages keep flowing.  Both
    SHALL receive every message, once, in order."""
    pub = net.socket("pm", "PUB", [("SNDHWM", 0)])
    subs = _subscribers(net, pub, transport, 2)
    plain, changing = subs
    pattern = pub._engine.pattern
    expected: List[List[bytes]] = []
    got: List[List[List[bytes]]] = [[], []]

    def publish(count: int) -> None:
        for _ in range(count):
            frames = [b"t%06d" % len(expected) + b"." * 50]
            expected.append(frames)
            pub.send_multipart(frames)

    def catch_up() -> None:
        for sub, received in zip(subs, got):
            received.extend(_receive(sub, len(expected) - len(received)))

    def publish_until(log_on: bool) -> None:
        # in step with the subscribers, so that what the log or the lanes hold for them
        # is written out between the sends, whichever thread gets to run
        deadline = time.monotonic() + WAIT_S
        while pattern._log_on is not log_on:
            assert time.monotonic() < deadline, f"the PUB's log did not turn {log_on}"
            publish(10)
            catch_up()

    publish(500)
    changing.setsockopt(zmq.SUBSCRIBE, b"t")
    publish_until(False)
    publish(500)
    changing.setsockopt(zmq.UNSUBSCRIBE, b"t")
    publish(500)
    publish_until(True)
    publish(500)
    catch_up()
    for received in got:
        _assert_all_in_order(received, expected)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_subscriber_far_behind_when_the_log_is_left_loses_and_reorders_nothing(
        net: Net, transport: str) -> None:
    """A libzmq SUB that does not read (small buffers on both sides: the PUB's log holds
    what it has not taken, far more than one write's worth) subscribes to a topic as well,
    so the PUB leaves its log for the lanes.  Once it reads it SHALL receive every message,
    once, in order: first the rest of the log, then what the lane took."""
    pub = net.socket("pm", "PUB", [("SNDHWM", 0), ("SNDBUF", 4096)])
    (sub,) = _subscribers(net, pub, transport, 1, [("RCVHWM", 5), ("RCVBUF", 4096)])
    pattern = pub._engine.pattern
    expected: List[List[bytes]] = []

    def publish(count: int) -> None:
        for _ in range(count):
            # short: what the writer takes from the log at once (TAKE_MAX entries) is less
            # than one write batch, so its lane would be encoded right behind it
            frames = [b"t%06d" % len(expected)]
            expected.append(frames)
            pub.send_multipart(frames)

    publish(40000)
    sub.setsockopt(zmq.SUBSCRIBE, b"t")
    deadline = time.monotonic() + WAIT_S
    while pattern._log_on:
        assert time.monotonic() < deadline, "the PUB did not leave its log"
        publish(10)
    publish(500)
    _assert_all_in_order(_receive(sub, len(expected)), expected)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_subscribers_leaving_and_joining_lose_and_reorder_nothing_for_the_others(
        net: Net, transport: str) -> None:
    """Of three libzmq SUBs one disconnects while the PUB streams, and later a new one
    connects.  The two that stay SHALL receive every message, once, in order; the new one
    every message from its first on, in order; and the PUB SHALL be back on its shared
    log for the new set of subscribers."""
    pub = net.socket("pm", "PUB", [("SNDHWM", 0)])
    first, leaving, second = _subscribers(net, pub, transport, 3)
    pattern = pub._engine.pattern
    expected: List[List[bytes]] = []

    def publish(count: int) -> None:
        for _ in range(count):
            frames = [b"%06d" % len(expected) + b"." * 20]
            expected.append(frames)
            pub.send_multipart(frames)

    publish(1000)
    leaving.close(linger=0)
    deadline = time.monotonic() + WAIT_S
    while len(pattern.pipes) != 2 or not pattern._log_on:
        assert time.monotonic() < deadline, "the PUB did not go back to its log"
        publish(10)
    joining = net.socket("lz", "SUB", [("RCVHWM", 0)])
    joining.setsockopt(zmq.SUBSCRIBE, b"")
    joining.connect(pub.last_endpoint.decode())
    while not joining.poll(10):
        assert time.monotonic() < deadline, "the new subscriber gets nothing"
        publish(10)
    publish(1000)
    assert pattern._log_on and len(pattern._log.cursors) == 3
    for sub in (first, second):
        _assert_all_in_order(_receive(sub, len(expected)), expected)
    head = joining.recv_multipart()
    start = expected.index(head)
    _assert_all_in_order([head] + _receive(joining, len(expected) - start - 1),
                         expected[start:])


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_what_the_log_holds_is_written_before_a_lingering_close(net: Net,
                                                                 transport: str) -> None:
    """A PUB closed with LINGER right after a burst through its shared log SHALL still
    deliver the whole burst to every libzmq SUB (linger: pending messages are sent)."""
    pub = net.socket("pm", "PUB", [("SNDHWM", 0)])
    subs = _subscribers(net, pub, transport, 2)
    assert pub._engine.pattern._log_on
    expected = [[b"%06d" % number + b"." * 100] for number in range(2000)]
    for frames in expected:
        pub.send_multipart(frames)
    pub.close(linger=int(WAIT_S * 1000))
    for sub in subs:
        _assert_all_in_order(_receive(sub, len(expected)), expected)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_the_sending_thread_writes_out_a_lane_that_keeps_it_from_the_log(
        net: Net, transport: str) -> None:
    """A PUB back on the lanes (a frame too large for the log went through them) whose
    lane still holds a message the I/O thread has not written (here: it is kept busy)
    SHALL write that lane out in the sending thread at its next log-sized send and go back
    to the log, rather than wait for a moment the lane happens to be empty (a publisher
    that never pauses might not see one); the libzmq SUB gets everything in order."""
    pub = net.socket("pm", "PUB", [("SNDHWM", 0)])
    (sub,) = _subscribers(net, pub, transport, 1)
    pattern = pub._engine.pattern
    lane = pattern.pipes[0].outbound
    expected: List[List[bytes]] = []
    with io_thread_held(pattern.pipes[0].peer.reactor, WAIT_S):
        # a send after a pause is written at once by the sending thread (kick's direct
        # write); one that follows closely waits on the lane for the busy I/O thread
        while not lane.items:
            assert len(expected) < 200, "every large message was written directly"
            expected.append([b"large %d " % len(expected) + b"L" * 20_000])
            pub.send_multipart(expected[-1])
        assert not pattern._log_on
        expected.append([b"small"])
        pub.send_multipart(expected[-1])
        assert pattern._log_on
    _assert_all_in_order(_receive(sub, len(expected)), expected)
