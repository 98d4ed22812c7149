"""Who reads a socket's only connection: the owner thread or the I/O thread.

An owner that waits in recv reads its sole tcp/ipc peer itself; the I/O thread takes
reading back when the owner stops reading for a while.  An owner that finds the I/O
thread's messages already queued at every call (a DEALER that sends its requests before
it reads any reply) never waits, so the first such message comes with an offer: the
owner's next call takes reading over, unless the socket is polled (its owner then waits on
the socket's fd, and the I/O thread must read)."""

from __future__ import annotations

import socket
import threading
from typing import Any, Iterator, Tuple

import pytest

import puremq
from puremq.engine.reactor import READ
from tests.hostile._wire import RawPeer, command, last_endpoint, message, wait_until

WAIT_MS = 10000


@pytest.fixture
def context() -> Iterator[Any]:
    ctx = puremq.Context()
    yield ctx
    ctx.destroy(linger=0)


def _dealer_and_peer(context: Any) -> Tuple[Any, RawPeer, Any]:
    """A puremq DEALER bound on tcp, a raw DEALER peer through the handshake, and the
    DEALER's connection to it."""
    sock = context.socket(puremq.DEALER)
    sock.rcvtimeo = WAIT_MS
    sock.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(sock))
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer.handshake(b"DEALER")
    engine = sock._engine
    wait_until(lambda: engine.pattern.pipes or engine.pattern.commands, "the pipe is there")
    engine.pattern.process_commands()  # (the owner's: attach the pipe)
    stream = engine.pattern.pipes[0].peer.current_stream
    return sock, peer, stream


def _queued_by_the_io_thread(sock: Any, count: int) -> None:
    inbound = sock._engine.pattern.pipes[0].inbound
    wait_until(lambda: len(inbound.items) >= count, "the I/O thread queued the messages")


def _io_thread_reads(stream: Any) -> bool:
    return bool(stream.reactor._handlers[stream.fd][1] & READ)


def test_an_owner_that_finds_messages_queued_takes_reading_over(context: Any) -> None:
    """When the I/O thread has queued a message from the only peer of a socket whose owner
    does not wait, the owner's next call SHALL take reading of that connection over (the
    I/O thread stops reading it), and what follows SHALL arrive in order."""
    sock, peer, stream = _dealer_and_peer(context)
    with peer:
        assert _io_thread_reads(stream) and not stream.app_reading
        peer.send(message(b"first"))
        _queued_by_the_io_thread(sock, 1)
        assert sock.recv() == b"first"
        assert stream.app_reading and sock._engine._reader is stream
        assert not _io_thread_reads(stream)
        peer.send(message(b"second") + message(b"third"))
        assert [sock.recv(), sock.recv()] == [b"second", b"third"]


def test_a_polled_socket_leaves_reading_with_the_io_thread(context: Any) -> None:
    """A socket that has been polled SHALL leave reading to the I/O thread when it finds
    messages queued: its owner waits on the socket's fd, which only the I/O thread's
    deliveries signal."""
    sock, peer, stream = _dealer_and_peer(context)
    with peer:
        assert not sock.poll(0)
        peer.send(message(b"first"))
        assert sock.poll(WAIT_MS) == puremq.POLLIN
        assert sock.recv(puremq.NOBLOCK) == b"first"
        assert not stream.app_reading and _io_thread_reads(stream)
        peer.send(message(b"second"))
        assert sock.poll(WAIT_MS) == puremq.POLLIN
        assert sock.recv(puremq.NOBLOCK) == b"second"


def test_reading_goes_back_and_forth_as_the_owner_stops_and_comes_back(
        context: Any) -> None:
    """An owner that stops reading SHALL lose reading to the I/O thread (a PING is
    answered), and SHALL take it over again at its first call after a message came."""
    sock, peer, stream = _dealer_and_peer(context)
    with peer:
        peer.send(message(b"first"))
        assert sock.recv() == b"first"
        assert stream.app_reading
        wait_until(lambda: not stream.app_reading, "the I/O thread took reading back")
        peer.send(command(b"PING", b"\x00\x00" + b"away"))
        assert peer.read_command(timeout=5.0) == (b"PONG", b"away")
        peer.send(message(b"second"))
        _queued_by_the_io_thread(sock, 1)
        assert sock.recv() == b"second"
        assert stream.app_reading and not _io_thread_reads(stream)


@pytest.mark.parametrize("kind", [puremq.PUB, puremq.XPUB], ids=["PUB", "XPUB"])
def test_a_publisher_leaves_reading_its_subscriber_with_the_io_thread(
        context: Any, kind: int) -> None:
    """A PUB or XPUB SHALL leave reading its only subscriber to the I/O thread, whatever
    it calls: subscriptions change what it sends as soon as they arrive, and an owner that
    only sends would leave them in the kernel until the I/O thread took reading back."""
    pub = context.socket(kind)
    pub.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(pub))
    with peer:
        peer.handshake(b"SUB")
        peer.send(message(b"\x01a"))
        engine = pub._engine
        wait_until(lambda: engine.pattern.pipes or engine.pattern.commands, "the pipe is there")
        engine.pattern.process_commands()
        stream = engine.pattern.pipes[0].peer.current_stream
        _publish_until_received(pub, peer, b"a: one")
        peer.send(message(b"\x01b"))
        _publish_until_received(pub, peer, b"b: two")
        assert not stream.app_reading and _io_thread_reads(stream)


def _publish_until_received(pub: Any, peer: RawPeer, body: bytes) -> None:
    """Publish ``body`` until the subscriber gets it (its subscription has arrived)."""
    for _ in range(200):
        pub.send(body)
        try:
            got = peer.read_message(timeout=0.05)
        except (AssertionError, OSError):
            continue
        assert got == [body]
        return
    raise AssertionError(f"{body!r} never reached the subscriber")


def test_an_xpub_waiting_for_a_subscription_leaves_reading_with_the_io_thread(
        context: Any) -> None:
    """An XPUB whose thread waits in recv for a subscription SHALL leave reading its only
    subscriber to the I/O thread, and so SHALL a forwarding loop (a proxy) waiting on it:
    the subscriptions that come after it change what it sends, whatever its thread does
    next."""
    xpub = context.socket(puremq.XPUB)
    xpub.rcvtimeo = WAIT_MS
    xpub.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(xpub))
    with peer:
        peer.handshake(b"SUB")
        engine = xpub._engine
        wait_until(lambda: engine.pattern.pipes or engine.pattern.commands, "the pipe is there")
        engine.pattern.process_commands()
        stream = engine.pattern.pipes[0].peer.current_stream
        later = threading.Timer(0.02, lambda: peer.send(message(b"\x01a")))
        later.start()
        assert xpub.recv() == b"\x01a"  # waited
        later.join()
        assert not stream.app_reading and _io_thread_reads(stream)
        assert engine.read_sole_peer() is None  # (a proxy then waits with poll_events)
        assert not stream.app_reading


def test_a_forwarding_loop_decides_alone_when_it_reads_its_source(context: Any) -> None:
    """A source a forwarding loop takes from (proxy.relay marks it ``relaying``) SHALL
    leave reading with the I/O thread when the loop runs its commands: the loop hands a
    source whose messages it cannot forward yet to the I/O thread on purpose, so that they
    queue up to RCVHWM, and reads it itself only when it waits for it."""
    sock, peer, stream = _dealer_and_peer(context)
    with peer:
        sock._engine.relaying = True
        peer.send(message(b"first"))
        _queued_by_the_io_thread(sock, 1)
        sock._engine.pattern.process_commands()  # (what the loop does at each burst)
        assert not stream.app_reading and _io_thread_reads(stream)
        sock._engine.relaying = False
        assert sock.recv() == b"first"
