"""Zero-copy, as the seed promises it: a 16 MiB buffer sent with ``copy=False`` is never
copied in Python and stays referenced until its MessageTracker is done; ``recv(copy=False)``
hands out the very buffer the engine received into.

The sending side is observed from a raw TCP peer that reads at its own pace (a libzmq peer
would read everything at once in its I/O thread); the receiving side is fed by libzmq.
"""

from __future__ import annotations

import gc
import socket
import weakref
from typing import Any, Iterator

import pytest

import puremq
from puremq.frame import RECEIVE_BODY_TYPE

from ..hostile._wire import RawListener, RawPeer

try:
    import tracemalloc
except ImportError:  # PyPy has no tracemalloc: the behavioural tests below still run there
    tracemalloc = None  # type: ignore[assignment]

zmq = pytest.importorskip("zmq")

SIZE = 16 * 1024 * 1024
SMALL_BUFFER = 64 * 1024
WAIT_S = 10.0


class Payload(bytearray):
    """A bytearray that can be weakly referenced (to see when puremq lets go of it)."""


@pytest.fixture
def ctx() -> Iterator[Any]:
    context = puremq.Context()
    yield context
    context.destroy(linger=0)


def _slow_reader(ctx: Any) -> "tuple[Any, RawPeer]":
    """A puremq PUSH connected to a raw PULL peer whose kernel buffers are small, so that
    most of a 16 MiB message stays in puremq's hands until the peer reads it."""
    listener = RawListener()
    listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
    push = ctx.socket(puremq.PUSH)
    push.sndbuf = SMALL_BUFFER
    push.sndtimeo = int(WAIT_S * 1000)
    push.connect(listener.endpoint)
    peer = listener.accept()
    listener.close()
    peer.handshake(b"PULL")
    return push, peer


def _read_long_frame_header(peer: RawPeer) -> int:
    header = peer.recv_exact(9)
    assert header[0] == 0x02, "a single-part message in one long frame"
    return int.from_bytes(header[1:], "big")


def _read_into(sock: socket.socket, view: memoryview) -> None:
    """Fill ``view`` from ``sock`` without allocating (so tracemalloc sees only puremq)."""
    sock.settimeout(WAIT_S)
    filled = 0
    while filled < len(view):
        count = sock.recv_into(view[filled:])
        if count == 0:
            raise AssertionError("the connection closed mid-message")
        filled += count


def _receive_exactly(peer: RawPeer, size: int) -> bytearray:
    """The next ``size`` bytes from ``peer`` (what it already buffered first)."""
    out = bytearray(size)
    buffered = peer._buffer[:size]
    out[:len(buffered)] = buffered
    peer._buffer = peer._buffer[len(buffered):]
    _read_into(peer.sock, memoryview(out)[len(buffered):])
    return out


def test_zero_copy_send_transmits_the_callers_buffer_itself(ctx: Any) -> None:
    """send(buffer, copy=False) SHALL NOT copy the payload: bytes changed in the buffer after
    send() returned, and before the kernel took them, are what the peer receives."""
    push, peer = _slow_reader(ctx)
    payload = Payload(SIZE)
    tracker = push.send(payload, copy=False, track=True)
    assert _read_long_frame_header(peer) == SIZE
    payload[-1] = 0xAB  # far beyond what small kernel buffers can already hold
    received = _receive_exactly(peer, SIZE)
    assert received[-1] == 0xAB
    assert received[:-1] == bytes(SIZE - 1)
    tracker.wait(WAIT_S)
    peer.close()


def test_zero_copy_send_keeps_the_buffer_alive_until_the_tracker_is_done(ctx: Any) -> None:
    """track=True on a zero-copy send SHALL give a tracker that is done only once the kernel
    has every byte, and puremq SHALL keep the buffer alive until then."""
    push, peer = _slow_reader(ctx)
    payload = Payload(SIZE)
    alive = weakref.ref(payload)
    tracker = push.send(payload, copy=False, track=True)
    del payload
    assert _read_long_frame_header(peer) == SIZE
    with pytest.raises(puremq.NotDone):
        tracker.wait(0.2)
    assert not tracker.done
    gc.collect()
    assert alive() is not None, "the buffer was released before the kernel had it"
    _receive_exactly(peer, SIZE)
    tracker.wait(WAIT_S)
    assert tracker.done
    gc.collect()
    assert alive() is None, "the buffer is still referenced after the send completed"
    peer.close()


@pytest.mark.skipif(tracemalloc is None, reason="tracemalloc is CPython's")
def test_zero_copy_send_of_a_16_mib_numpy_array_allocates_nothing_near_its_size(
        ctx: Any) -> None:
    """send(array, copy=False) of a 16 MiB numpy array SHALL make no copy of its payload in
    Python (tracemalloc's peak over the whole transfer stays far below the array's size)."""
    numpy = pytest.importorskip("numpy")
    push, peer = _slow_reader(ctx)
    array = numpy.arange(SIZE // 8, dtype=numpy.int64)
    landing = bytearray(SIZE)
    view = memoryview(landing)
    header = bytearray(9)
    gc.collect()
    tracemalloc.start()
    try:
        tracker = push.send(array, copy=False, track=True)
        _read_into(peer.sock, memoryview(header))
        _read_into(peer.sock, view)
        tracker.wait(WAIT_S)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert int.from_bytes(header[1:], "big") == SIZE
    assert landing == array.tobytes()
    assert peak < SIZE // 8, f"{peak} bytes allocated while sending {SIZE}"
    peer.close()


def _libzmq_sender_to(ctx: Any, body_type: Any = None) -> "tuple[Any, Any, Any]":
    libzmq_ctx = zmq.Context()
    pull = ctx.socket(puremq.PULL)
    if body_type is not None:
        # before the peer connects: a connection takes the engine's body_type when it is made
        pull._engine.body_type = body_type
    pull.rcvtimeo = int(WAIT_S * 1000)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = libzmq_ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(f"tcp://127.0.0.1:{port}")
    return libzmq_ctx, push, pull


def test_zero_copy_recv_hands_out_the_buffer_the_engine_received_into(ctx: Any) -> None:
    """recv(copy=False) SHALL return a Frame whose buffer is the received bytes, not a copy:
    a change to the buffer the engine read the body into shows through the Frame."""
    made = []

    def recording_body_type(size: int) -> bytearray:
        buffer = RECEIVE_BODY_TYPE(size)
        made.append(buffer)
        return buffer

    libzmq_ctx, push, pull = _libzmq_sender_to(ctx, recording_body_type)
    try:
        push.send(b"\x01" * SIZE, copy=False)
        frame = pull.recv(copy=False)
        assert isinstance(frame, puremq.Frame)
        assert len(frame) == SIZE and frame.bytes == b"\x01" * SIZE
        assert made, "the body was not received into a buffer of its own"
        made[-1][0] = 0x5A
        made[-1][SIZE - 1] = 0xA5
        assert frame.buffer[0] == 0x5A and frame.buffer[SIZE - 1] == 0xA5
    finally:
        push.close()
        libzmq_ctx.term()


@pytest.mark.skipif(tracemalloc is None, reason="tracemalloc is CPython's")
def test_zero_copy_recv_of_16_mib_allocates_the_message_once(ctx: Any) -> None:
    """recv(copy=False) of a 16 MiB message SHALL hold it once in memory (no second copy
    for the Frame), and numpy.frombuffer on the Frame SHALL cost nothing."""
    numpy = pytest.importorskip("numpy")
    libzmq_ctx, push, pull = _libzmq_sender_to(ctx)
    try:
        push.send(b"warm-up")
        assert pull.recv() == b"warm-up"
        payload = numpy.arange(SIZE // 8, dtype=numpy.int64)
        gc.collect()
        tracemalloc.start()
        try:
            push.send(payload, copy=False)
            frame = pull.recv(copy=False)
            peak = tracemalloc.get_traced_memory()[1]
            before = tracemalloc.get_traced_memory()[0]
            received = numpy.frombuffer(frame, dtype=numpy.int64)
            frombuffer_cost = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert numpy.array_equal(received, payload)
        assert peak < SIZE * 5 // 4, f"peak {peak} bytes to receive {SIZE}"
        assert frombuffer_cost < 4096
    finally:
        push.close()
        libzmq_ctx.term()
