"""PUB at its high-water mark: the sending thread writes a full pipe out before dropping.

libzmq's I/O thread drains a PUB's pipes in parallel with the sender, so a PUB whose
subscribers keep up loses nothing; under one GIL puremq's I/O thread may not run for
milliseconds, so the sending thread writes a full pipe out itself (when the kernel has room)
before it resorts to dropping.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import puremq

from ..hostile._wire import GREETING, RawPeer, command, last_endpoint, ready, tcp_address

WAIT_MS = 10000


def _pub_with_raw_subscriber(ctx: Any) -> "tuple[Any, RawPeer]":
    """A PUB (SNDHWM 20) and a raw SUB subscribed to everything, with 1 MiB of kernel
    receive buffer, once a message has gone through."""
    pub = ctx.socket(puremq.PUB)
    pub.sndhwm = 20
    pub.bind("tcp://127.0.0.1:*")
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    raw.settimeout(WAIT_MS / 1000)
    raw.connect(tcp_address(last_endpoint(pub)))
    peer = RawPeer(raw)
    peer.send(GREETING + ready(b"SUB") + command(b"SUBSCRIBE", b""))
    peer.expect_ready()
    pub.send(b"first")  # may be dropped: the SUBSCRIBE may not have been applied yet
    while True:
        try:
            if peer.read_message(timeout=0.05) == [b"first"]:
                return pub, peer
        except (AssertionError, socket.timeout):  # nothing yet
            pub.send(b"first")


def test_pub_does_not_drop_while_the_kernel_takes_the_bytes(ctx: Any) -> None:
    """A PUB SHALL drop a message only when a subscriber's pipe is full and cannot be
    written out: a burst of 50x SNDHWM that fits in the subscriber's kernel buffers (it
    reads only afterwards) arrives whole."""
    pub, peer = _pub_with_raw_subscriber(ctx)
    count = 50 * pub.sndhwm
    for number in range(count):
        pub.send(b"%06d" % number + b"." * 100)
    received = [peer.read_message()[0][:6] for _ in range(count)]
    assert received == [b"%06d" % number for number in range(count)]
    peer.close()


def test_pub_at_sndhwm_does_not_take_segments_being_written_for_a_full_kernel(
        ctx: Any) -> None:
    """A PUB SHALL drop at SNDHWM only when the subscriber's kernel buffer is known to be
    full: segments the I/O thread has taken to write (it may be preempted in the middle of
    its send) are written out, not a reason to drop."""
    pub, peer = _pub_with_raw_subscriber(ctx)
    stream = pub._engine.pattern.pipes[0].peer.current_stream
    # the I/O thread is kept busy elsewhere, and the connection left as it looks while
    # that thread writes: a segment taken, the kernel not (known to be) full
    io_thread_parked = threading.Event()
    release_io_thread = threading.Event()

    def park() -> None:
        io_thread_parked.set()
        release_io_thread.wait(WAIT_MS / 1000)
    stream.reactor.post(park)
    try:
        assert io_thread_parked.wait(WAIT_MS / 1000)
        with stream.io_lock:
            stream.out_segments = [b""]
        count = 3 * pub.sndhwm
        for number in range(count):
            pub.send(b"%06d" % number)
    finally:
        release_io_thread.set()
    received = [peer.read_message()[0] for _ in range(count)]
    assert received == [b"%06d" % number for number in range(count)]
    peer.close()


def test_pub_never_blocks_on_a_subscriber_that_stopped_reading(ctx: Any) -> None:
    """A PUB SHALL NOT block: a subscriber that reads nothing costs it dropped messages, not
    a stalled send, however much is sent."""
    pub = ctx.socket(puremq.PUB)
    pub.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(pub))
    peer.send(GREETING + ready(b"SUB") + command(b"SUBSCRIBE", b""))
    peer.expect_ready()
    sent = threading.Event()

    def publish() -> None:
        payload = b"x" * 1024
        for _ in range(40000):  # 40 MiB: far beyond what kernel buffers hold
            pub.send(payload)
        sent.set()

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    publisher.join(WAIT_MS / 1000)
    assert sent.is_set(), "PUB.send blocked on a subscriber that does not read"
    peer.close()
