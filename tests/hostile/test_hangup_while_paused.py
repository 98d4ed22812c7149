"""A peer that hangs up while its connection's reading is paused at the high-water mark.

epoll reports a hang-up (or a reset) whatever a descriptor's interest, for as long as it
lasts; a connection that is not reading then must leave the poller, or the I/O thread
spins on it until the application drains the pipe.  What the peer sent before it hung up
is still delivered, in order, and then the connection is closed.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import Any, Iterator, List

import pytest

import puremq

from ._wire import GREETING, WAIT, RawPeer, message, ready, wait_until

BODY = b"x" * 100
#: how many messages a burst holds: past RCVHWM, and well within the kernel's buffers
BURST = 400
#: a poller that spins goes round tens of thousands of times in this window
WINDOW_S = 0.3
MAX_POLLS = 50


def _connect(pull: Any, transport: str) -> RawPeer:
    endpoint = pull.getsockopt_string(puremq.LAST_ENDPOINT)
    if transport == "tcp":
        host, port = endpoint[len("tcp://"):].rsplit(":", 1)
        return RawPeer(socket.create_connection((host, int(port)), timeout=WAIT))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(WAIT)
    sock.connect(endpoint[len("ipc://"):])
    return RawPeer(sock)


class PollCounter:
    """Counts the I/O thread's trips through its poller."""

    def __init__(self, reactor: Any) -> None:
        self.count = 0
        poller = reactor._poller
        original = poller.poll

        def counting(timeout: Any) -> Any:
            self.count += 1
            return original(timeout)
        poller.poll = counting


@pytest.fixture
def paused(ctx: Any, request: Any, ipc_dir: str) -> Iterator[Any]:
    """A PULL (RCVHWM 10) whose raw PUSH peer has filled it: reading is paused, and a
    second burst waits in the kernel behind the first."""
    transport = request.param
    pull = ctx.socket(puremq.PULL)
    pull.rcvhwm = 10
    pull.rcvtimeo = int(WAIT * 1000)
    pull.bind("tcp://127.0.0.1:*" if transport == "tcp"
              else f"ipc://{os.path.join(ipc_dir, 'paused')}")
    peer = _connect(pull, transport)
    peer.send(GREETING + ready(b"PUSH"))
    peer.expect_ready()
    peer.send(message(b"first"))
    assert pull.recv() == b"first"
    stream = pull._engine.pattern.pipes[0].peer.current_stream
    peer.send(message(BODY) * BURST)
    wait_until(lambda: stream.read_paused, "reading paused at the high-water mark")
    peer.send(message(BODY) * BURST)  # stays in the kernel's buffers meanwhile
    yield pull, peer, stream
    peer.close()


def _hang_up_and_count_polls(peer: RawPeer, stream: Any, reset: bool) -> None:
    """The peer closes (with a reset: SO_LINGER 0); once the poller has seen it, the I/O
    thread must not go round again and again."""
    counter = PollCounter(stream.reactor)
    at_close = counter.count
    if reset:
        peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.sock.close()
    wait_until(lambda: counter.count > at_close, "the poller reported the hang-up")
    before = counter.count
    time.sleep(WINDOW_S)  # (a window to count in, not a wait for anything)
    assert counter.count - before < MAX_POLLS


@pytest.mark.parametrize("paused", ["tcp"], indirect=True)
def test_a_reset_while_reading_is_paused_does_not_spin_and_the_queue_is_kept(
        paused: Any) -> None:
    """A reset of a connection whose reading is paused SHALL NOT keep the I/O thread
    polling; the messages already queued SHALL still be received, and the connection SHALL
    then close."""
    pull, peer, stream = paused
    _hang_up_and_count_polls(peer, stream, reset=True)
    received: List[bytes] = []
    while not stream.closed:
        try:
            received.append(pull.recv(puremq.DONTWAIT))
        except puremq.Again:
            wait_until(lambda: stream.closed or pull.poll(0), "the connection closed")
    assert len(received) >= BURST and set(received) == {BODY}


@pytest.mark.parametrize("paused", ["ipc"], indirect=True)
def test_what_a_peer_sent_before_it_closed_is_received_after_reading_resumes(
        paused: Any) -> None:
    """A peer's orderly close while reading is paused SHALL NOT keep the I/O thread
    polling; everything it sent before SHALL be received, in order, once the application
    drains the pipe, and the connection SHALL then close."""
    pull, peer, stream = paused
    _hang_up_and_count_polls(peer, stream, reset=False)
    received = [pull.recv() for _ in range(2 * BURST)]
    assert received == [BODY] * (2 * BURST)
    wait_until(lambda: stream.closed, "the connection closed")
    assert not pull.poll(0)
