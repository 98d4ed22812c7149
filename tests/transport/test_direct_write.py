"""A lone message written in the sending thread (StreamConnection.kick): framed as one
object and sent with one call; what the kernel does not take is left to the I/O thread,
ahead of every later message."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, List, Tuple, Union

import pytest

import puremq

from .._io_thread import io_thread_held
from ..hostile._wire import GREETING, RawPeer, last_endpoint, message, ready

WAIT_S = 10.0


class ShortFirstSend:
    """A connection's socket whose first send takes only ``first`` bytes (an int) or
    raises EAGAIN ("eagain"), as a kernel with little room would; it notes who sent what."""

    def __init__(self, sock: socket.socket, first: Union[int, str]) -> None:
        self._sock = sock
        self._first = first
        self.calls: List[Tuple[threading.Thread, bytes]] = []

    def send(self, data: Any, *flags: int) -> int:
        self.calls.append((threading.current_thread(), bytes(data)))
        if len(self.calls) == 1:
            if self._first == "eagain":
                raise BlockingIOError()
            return self._sock.send(bytes(data)[:self._first])
        return self._sock.send(data, *flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _handshaken_push(ctx: Any) -> Tuple[Any, RawPeer, Any, Any]:
    """A PUSH and its raw PULL peer, handshaken and past a first message; the PUSH's
    engine and the connection's StreamConnection."""
    push = ctx.socket(puremq.PUSH)
    push.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(push))
    peer.send(GREETING + ready(b"PULL"))
    peer.expect_ready()
    push.send(b"hello")  # waits for the pipe; the connection is then handshaken
    assert peer.read_message() == [b"hello"]
    engine = push._engine
    return push, peer, engine, engine.pattern.pipes[0].peer.current_stream


@pytest.mark.parametrize("first", [3, "eagain"])
@pytest.mark.parametrize("frames", [[b"A" * 100], [b"", b"B" * 300]],
                         ids=["single", "multipart"])
def test_what_the_kernel_does_not_take_of_a_direct_write_goes_out_first(
        ctx: Any, first: Union[int, str], frames: List[bytes]) -> None:
    """A lone message after a pause SHALL be sent by the sending thread in one call, as
    one framed object; the part the kernel refuses SHALL be written by the I/O thread
    before any message sent after it."""
    push, peer, engine, stream = _handshaken_push(ctx)
    wrapped = ShortFirstSend(stream.sock, first)
    # the I/O thread must not write before the test says so
    with io_thread_held(stream.reactor, WAIT_S):
        stream.sock = wrapped
        engine.last_kick = float("-inf")  # a pause before this message
        push.send_multipart(frames)
        push.send(b"next")
        assert len(wrapped.calls) == 1
        sender, sent = wrapped.calls[0]
        assert sender is threading.current_thread()
        assert sent == message(*frames)
    assert peer.read_message() == frames
    assert peer.read_message() == [b"next"]
    peer.close()


@pytest.mark.parametrize("first", [3, "eagain"])
def test_a_lone_message_the_io_thread_writes_is_one_send_and_its_rest_goes_out_first(
        ctx: Any, first: Union[int, str]) -> None:
    """A lone small message written by the I/O thread (a sender in a stream of messages)
    SHALL be sent in one call, as one framed object; the part the kernel refuses SHALL be
    written before any message sent after it."""
    push, peer, engine, stream = _handshaken_push(ctx)
    wrapped = ShortFirstSend(stream.sock, first)
    with io_thread_held(stream.reactor, WAIT_S):
        stream.sock = wrapped
        engine.last_kick = float("inf")  # no pause before it: the I/O thread writes it
        push.send(b"A" * 100)
        assert wrapped.calls == []
    deadline = time.monotonic() + WAIT_S
    while not wrapped.calls:  # (the I/O thread's write has nothing to wait on here)
        assert time.monotonic() < deadline, "the I/O thread wrote nothing"
        time.sleep(0.005)
    sender, sent = wrapped.calls[0]
    assert sender is not threading.current_thread()
    assert sent == message(b"A" * 100)
    push.send(b"next")
    assert peer.read_message() == [b"A" * 100]
    assert peer.read_message() == [b"next"]
    peer.close()
