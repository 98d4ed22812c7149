"""A PULL, DEALER or PAIR reading its only peer in its own thread takes plain messages
straight out of the bytes it read (zmtp.inbox).  Whatever the stream holds and wherever the
reads cut it, every message SHALL arrive whole and in order, commands SHALL still be
answered, and polling, multipart receives, zero-copy receives, closing and terminating
SHALL behave as with any other received message."""

from __future__ import annotations

import random
import socket
import threading
import time
from typing import Any, Iterator, List, Tuple

import pytest

import puremq
from puremq.engine.stream import APP_READ_RECLAIM
from tests.hostile._wire import RawPeer, command, last_endpoint, message

WAIT_MS = 10000
#: (puremq socket type, the type the raw peer announces)
PLAIN_TYPES = [(puremq.PULL, b"PUSH"), (puremq.DEALER, b"DEALER"), (puremq.PAIR, b"PAIR")]


@pytest.fixture
def context() -> Iterator[Any]:
    ctx = puremq.Context()
    yield ctx
    ctx.destroy(linger=0)


def _pair(context: Any, kind: int, peer_type: bytes,
          topics: Tuple[bytes, ...] = ()) -> Tuple[Any, RawPeer]:
    """A puremq socket bound on tcp and a raw peer through the handshake (a SUB's
    subscriptions, which follow it, are left unread)."""
    sock = context.socket(kind)
    sock.rcvtimeo = WAIT_MS
    for topic in topics:
        sock.subscribe(topic)
    sock.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(sock))
    # pieces go out as written (Nagle would hold them for the peer's delayed ACKs)
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer.handshake(peer_type)
    return sock, peer


def _messages(count: int, seed: int) -> List[List[bytes]]:
    """Mostly short single frames, with long frames, multipart messages and empty frames."""
    rng = random.Random(seed)
    out: List[List[bytes]] = []
    for number in range(count):
        tag = b"%06d:" % number
        pick = rng.random()
        if pick < 0.7:
            out.append([tag + b"s" * rng.randrange(0, 120)])
        elif pick < 0.8:
            out.append([tag + b"L" * rng.randrange(250, 3000)])
        elif pick < 0.85:
            out.append([tag + b"H" * rng.randrange(60_000, 200_000)])
        elif pick < 0.95:
            out.append([tag, b"", b"p" * rng.randrange(0, 400)])
        else:
            out.append([b""] if rng.random() < 0.5 else [tag])
    return out


def _send_in_pieces(peer: RawPeer, stream: bytes, seed: int) -> None:
    rng = random.Random(seed)
    pos = 0
    while pos < len(stream):
        size = rng.choice((1, 2, 7, 100, 1500, 9000, 70_000))
        peer.send(stream[pos:pos + size])
        pos += size


def _recv_whole(sock: Any, how: int) -> List[bytes]:
    """One whole message, taken in one of the ways an application may take it."""
    if how == 0:
        frames = [sock.recv()]
        while sock.rcvmore:
            frames.append(sock.recv())
        return frames
    if how == 1:
        return sock.recv_multipart()
    frames = [bytes(sock.recv(copy=False))]
    while sock.rcvmore:
        frames.append(bytes(sock.recv(copy=False)))
    return frames


def _receive_while_writing(sock: Any, peer: RawPeer, stream: bytes, count: int,
                           seed: int) -> List[List[bytes]]:
    """``count`` messages received, taken in turn by each way _recv_whole knows, while
    another thread writes ``stream`` in pieces."""
    writer = threading.Thread(target=_send_in_pieces, args=(peer, stream, seed))
    writer.start()
    try:
        return [_recv_whole(sock, number % 3) for number in range(count)]
    finally:
        writer.join(WAIT_MS / 1000)


@pytest.mark.parametrize("kind, peer_type", PLAIN_TYPES, ids=["PULL", "DEALER", "PAIR"])
def test_a_mixed_stream_cut_anywhere_arrives_whole_and_in_order(context: Any, kind: int,
                                                                peer_type: bytes) -> None:
    """Short and long frames, multipart messages and PINGs, written in pieces of 1 byte to
    70 kB while the socket reads: every message SHALL arrive whole and in order, taken by
    recv, recv_multipart or recv(copy=False) in turn, and every PING SHALL get its PONG."""
    sock, peer = _pair(context, kind, peer_type)
    with peer:
        expected = _messages(3000, seed=kind)
        pings = 0
        pieces = []
        for number, frames in enumerate(expected):
            pieces.append(message(*frames))
            if number % 500 == 250:
                pieces.append(command(b"PING", b"\x00\x00" + b"ctx%d" % pings))
                pings += 1
        stream = b"".join(pieces)
        got = _receive_while_writing(sock, peer, stream, len(expected), seed=kind)
        assert got == expected
        for number in range(pings):
            assert peer.read_command() == (b"PONG", b"ctx%d" % number)


def test_polling_between_messages_sees_the_rest(context: Any) -> None:
    """After a recv that left messages in the bytes read, poll and EVENTS SHALL report
    POLLIN, and the following messages SHALL arrive in order, however they are taken."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        peer.send(b"".join(message(b"%d" % n) for n in range(100)))
        assert sock.recv() == b"0"
        poller = puremq.Poller()
        poller.register(sock, puremq.POLLIN)
        for number in range(1, 100):
            assert dict(poller.poll(WAIT_MS)) == {sock: puremq.POLLIN}
            assert sock.get(puremq.EVENTS) & puremq.POLLIN
            assert _recv_whole(sock, number % 3) == [b"%d" % number]
        assert poller.poll(0) == []
        with pytest.raises(puremq.Again):
            sock.recv(puremq.NOBLOCK)


def test_reading_stays_with_the_owner_while_it_holds_a_cut_frame(context: Any) -> None:
    """A read that ends inside a frame leaves the frame's start with the receiving thread.
    Left unread for longer than the I/O thread waits before it takes reading back, the
    stream SHALL still continue where that frame began once the rest arrives."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        cut = message(b"C" * 1000)
        peer.send(b"".join(message(b"%d" % n) for n in range(10)) + cut[:7])
        assert sock.recv() == b"0"
        peer.send(cut[7:] + message(b"after"))
        time.sleep(5 * APP_READ_RECLAIM)  # the subject: longer than the reclaim delay
        got = [sock.recv() for _ in range(11)]
        assert got == [b"%d" % n for n in range(1, 10)] + [b"C" * 1000, b"after"]


def test_frames_received_without_copy_carry_the_peer_properties(context: Any) -> None:
    """recv(copy=False) of a message taken from the bytes read SHALL give a Frame with the
    connection's metadata, like any other."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        peer.send(message(b"one") + message(b"two"))
        assert sock.recv() == b"one"
        frame = sock.recv(copy=False)
        assert frame.bytes == b"two"
        assert frame.get("Socket-Type") == "PUSH"
        assert frame.get("Peer-Address") == "127.0.0.1"


def test_term_while_messages_wait_in_the_bytes_read_ends_in_eterm(context: Any) -> None:
    """Once the context terminates, recv on its socket SHALL not wait: it gives at most
    messages already received, in order, and then fails with ETERM."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        peer.send(b"".join(message(b"%d" % n) for n in range(50)))
        assert sock.recv() == b"0"
        terminator = threading.Thread(target=context.term)
        terminator.start()
        deadline = time.monotonic() + WAIT_MS / 1000
        while not context._engine.terminated and time.monotonic() < deadline:
            time.sleep(0.001)
        got = []
        with pytest.raises(puremq.ContextTerminated):
            for _ in range(50):
                got.append(sock.recv())
        assert got == [b"%d" % n for n in range(1, len(got) + 1)]
        sock.close(linger=0)
        terminator.join(WAIT_MS / 1000)
        assert not terminator.is_alive()


@pytest.mark.parametrize("how", ["close", "disconnect"])
def test_closing_or_disconnecting_drops_what_waits_in_the_bytes_read(context: Any,
                                                                    how: str) -> None:
    """close (and disconnect, which discards what a connection still holds, as libzmq
    does) SHALL succeed with messages waiting in the bytes read; after a disconnect
    nothing from that connection is received."""
    sock = context.socket(puremq.PULL)
    sock.rcvtimeo = WAIT_MS
    server = context.socket(puremq.PUSH)
    server.bind("tcp://127.0.0.1:*")
    sock.connect(server.last_endpoint)
    for number in range(50):
        server.send(b"%d" % number)
    assert sock.recv() == b"0"
    if how == "close":
        sock.close(linger=0)
        assert sock.closed
        return
    sock.disconnect(server.last_endpoint)
    with pytest.raises(puremq.Again):
        sock.recv(puremq.NOBLOCK)


def test_messages_queued_before_the_owner_reads_stay_ahead_of_its_inbox(context: Any) -> None:
    """Messages the I/O thread queued just before the owner thread took reading over SHALL
    be received before anything the owner reads itself (white-box: the race window between
    an empty look at the queue and the owner's read is forced open)."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        peer.send(message(b"0") + message(b"1") + message(b"2"))
        assert sock.poll(WAIT_MS) == puremq.POLLIN  # the I/O thread reads for now
        pipe = sock._pattern.pipes[0]
        deadline = time.monotonic() + WAIT_MS / 1000
        while len(pipe.inbound.items) < 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert len(pipe.inbound.items) == 3
        peer.send(message(b"3"))
        stream = pipe.peer.current_stream
        stream.app_read(1.0, sock._engine.inbox)
        assert sock._engine.inbox.data is None
        assert [sock.recv() for _ in range(4)] == [b"0", b"1", b"2", b"3"]


def test_sub_subscribed_to_everything_gets_a_cut_stream_whole(context: Any) -> None:
    """A SUB subscribed to everything passes every message on: a stream written in pieces
    SHALL arrive whole and in order."""
    sock, peer = _pair(context, puremq.SUB, b"PUB", (b"",))
    with peer:
        expected = _messages(2000, seed=11)
        stream = b"".join(message(*frames) for frames in expected)
        got = _receive_while_writing(sock, peer, stream, len(expected), seed=11)
        assert got == expected


def test_sub_filters_what_it_read_once_it_stops_taking_everything(context: Any) -> None:
    """Messages a SUB read while subscribed to everything and has not handed out yet SHALL
    be filtered by its subscriptions as they are when they are received (libzmq's SUB
    filters at recv)."""
    sock, peer = _pair(context, puremq.SUB, b"PUB", (b"", b"a"))
    with peer:
        data = b"".join(message(b"a%d" % n) + message(b"b%d" % n) for n in range(20))
        # sent once recv waits (so that this thread reads the connection itself), not before
        sender = threading.Timer(0.05, peer.send, args=(data,))
        sender.start()
        assert sock.recv() == b"a0"
        sender.join()
        assert sock.recv() == b"b0"
        sock.unsubscribe(b"")
        assert [sock.recv() for _ in range(19)] == [b"a%d" % n for n in range(1, 20)]
        with pytest.raises(puremq.Again):
            sock.recv(puremq.NOBLOCK)


@pytest.mark.parametrize("kind, peer_type", PLAIN_TYPES, ids=["PULL", "DEALER", "PAIR"])
def test_a_blocking_recv_waits_for_the_rest_of_a_multipart_message(context: Any, kind: int,
                                                                  peer_type: bytes) -> None:
    """A blocking recv SHALL wait for a message whose first part was read with the message
    before it (the inbox stops there), not fail with EAGAIN."""
    sock, peer = _pair(context, kind, peer_type)
    with peer:
        peer.send(message(b"warm-up"))
        assert sock.recv() == b"warm-up"  # this thread reads the connection from now on
        peer.send(message(b"single") + short_more(b"first part"))
        assert sock.recv() == b"single"
        timer = threading.Timer(0.2, peer.send, args=(message(b"last part"),))
        timer.start()
        try:
            assert sock.recv() == b"first part"
            assert sock.rcvmore
            assert sock.recv() == b"last part"
        finally:
            timer.join()


def short_more(body: bytes) -> bytes:
    """A short frame with MORE set: the first part of a multipart message."""
    return bytes((0x01, len(body))) + body


@pytest.mark.parametrize("kind,peer_type", PLAIN_TYPES)
def test_pings_are_answered_after_the_owner_took_every_message_read(
        context: Any, kind: int, peer_type: bytes) -> None:
    """Once recv has handed out every message of the bytes it read, and the owner does
    not call recv again, the peer's PING SHALL still get its PONG (the I/O thread takes
    reading back: nothing read waits for the owner)."""
    sock, peer = _pair(context, kind, peer_type)
    with peer:
        peer.send(message(b"only"))
        assert sock.recv() == b"only"
        peer.send(command(b"PING", b"\x00\x00" + b"idle"))
        assert peer.read_command(timeout=5.0) == (b"PONG", b"idle")


def test_the_owner_holding_unread_messages_sets_no_timer_meanwhile(
        context: Any, monkeypatch: Any) -> None:
    """While the owner holds messages it read but has not received, the I/O thread SHALL
    not poll for the chance to take reading back; once the owner has received them it
    SHALL take reading back (a PING is answered)."""
    from puremq.engine import stream as stream_module
    calls = []
    original = stream_module.StreamConnection._reclaim_due

    def counted(self: Any, now: float) -> Any:
        calls.append(now)
        return original(self, now)
    monkeypatch.setattr(stream_module.StreamConnection, "_reclaim_due", counted)
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        peer.send(message(b"first") + message(b"second"))
        assert sock.recv() == b"first"
        time.sleep(20 * stream_module.APP_READ_RECLAIM)  # the subject: time passing
        assert len(calls) <= 1
        assert sock.recv() == b"second"
        peer.send(command(b"PING", b"\x00\x00" + b"late"))
        assert peer.read_command(timeout=5.0) == (b"PONG", b"late")


def _ping(context: bytes) -> bytes:
    return command(b"PING", b"\x00\x00" + context)


@pytest.mark.parametrize("kind,peer_type", PLAIN_TYPES)
def test_pings_are_answered_while_the_owner_holds_messages_not_received_yet(
        context: Any, kind: int, peer_type: bytes) -> None:
    """While messages of a read wait in the receiving thread's hands and the application
    does not call recv, a peer's PING SHALL get its PONG (libzmq answers: its messages
    wait in a pipe); the messages SHALL then arrive in order, those sent after the PING
    included."""
    sock, peer = _pair(context, kind, peer_type)
    with peer:
        peer.send(message(b"first") + message(b"second"))
        assert sock.recv() == b"first"
        peer.send(_ping(b"one") + message(b"third") + _ping(b"two") + message(b"fourth"))
        assert peer.read_command(timeout=5.0) == (b"PONG", b"one")
        assert peer.read_command(timeout=5.0) == (b"PONG", b"two")
        assert [sock.recv() for _ in range(3)] == [b"second", b"third", b"fourth"]
        peer.send(message(b"fifth"))
        assert sock.recv() == b"fifth"


def test_a_ping_behind_a_frame_cut_by_the_read_is_answered(context: Any) -> None:
    """The owner's bytes end inside a frame whose rest arrives later, with a PING and a
    message behind it: the PING SHALL be answered and every message SHALL arrive whole,
    in order."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        cut = message(b"C" * 1000)
        peer.send(b"".join(message(b"%d" % n) for n in range(5)) + cut[:7])
        assert sock.recv() == b"0"
        time.sleep(0.1)  # the subject: the I/O thread starts reading behind the held bytes
        peer.send(cut[7:] + _ping(b"late") + message(b"after"))
        assert peer.read_command(timeout=5.0) == (b"PONG", b"late")
        got = [sock.recv() for _ in range(6)]
        assert got == [b"%d" % n for n in range(1, 5)] + [b"C" * 1000, b"after"]


def test_reading_behind_the_owner_stops_at_a_bound_and_loses_nothing(context: Any) -> None:
    """What arrives behind the bytes the owner holds is kept only up to a bound (then the
    connection is left unread, as at a full high-water mark); every message SHALL still
    arrive, in order."""
    from puremq.engine.stream import READ_BEHIND_MAX
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        peer.send(message(b"first") + message(b"second"))
        assert sock.recv() == b"first"
        count = 3 * READ_BEHIND_MAX // 1000
        flood = b"".join(message(b"%06d" % n + b"f" * 994) for n in range(count))
        sender = threading.Thread(target=peer.send, args=(flood,))
        sender.start()
        time.sleep(0.2)  # the subject: the owner leaves its bytes unreceived meanwhile
        assert sock.recv() == b"second"
        for n in range(count):
            assert sock.recv()[:6] == b"%06d" % n
        sender.join(WAIT_MS / 1000)
        assert not sender.is_alive()


def test_a_connection_its_owner_read_30_ms_ago_stays_the_owners_to_read(
        context: Any) -> None:
    """A connection the owner thread reads itself SHALL stay the owner's when the I/O
    thread looks 30 ms after the owner's last read: an owner that goes round many sockets
    (1,000 DEALERs taking turns) comes back to each within that, and handing each back
    and forth put the I/O thread, and the GIL, on every message."""
    sock, peer = _pair(context, puremq.PULL, b"PUSH")
    with peer:
        later = threading.Timer(0.01, lambda: peer.send(message(b"one")))
        later.start()
        assert sock.recv() == b"one"  # waited: the owner read the connection itself
        later.join()
        stream = sock._engine.pattern.pipes[0].peer.current_stream
        assert stream.app_reading and not stream.inbox_held
        looked = threading.Event()

        def reclaim_30_ms_after_the_read() -> None:
            now = time.monotonic()
            stream._app_read_at = now - 0.03
            stream.sweep_check(now)
            looked.set()
        stream.reactor.post(reclaim_30_ms_after_the_read)
        assert looked.wait(WAIT_MS / 1000)
        assert stream.app_reading
        peer.send(message(b"two"))
        assert sock.recv() == b"two"


@pytest.mark.parametrize("kind,peer_type", [(puremq.DEALER, b"DEALER"), (puremq.REQ, b"REP")],
                         ids=["DEALER", "REQ"])
def test_a_message_that_arrives_alone_is_received_like_any_other(
        context: Any, kind: int, peer_type: bytes, monkeypatch: Any) -> None:
    """A read that is exactly one message (a reply, as they usually come) is handed out
    without the inbox: it SHALL arrive as it was sent, with the connection's metadata on
    its Frame, and what comes after it SHALL arrive too, in order."""
    from puremq.engine import stream as stream_module
    taken_whole = []
    whole_message = stream_module.whole_message

    def recorded(data: bytes, alone: int) -> Any:
        body = whole_message(data, alone)
        taken_whole.append(body)
        return body
    monkeypatch.setattr(stream_module, "whole_message", recorded)
    sock, peer = _pair(context, kind, peer_type)
    with peer:
        for number in range(3):
            sock.send(b"request %d" % number)
            assert peer.read_message()[-1] == b"request %d" % number
            reply = b"reply %d" % number
            waiter = threading.Timer(0.02, lambda: peer.send(
                (bytes((0x01, 0)) if kind == puremq.REQ else b"") + message(reply)))
            waiter.start()
            frame = sock.recv(copy=False)  # waits: the owner reads the reply itself
            waiter.join()
            assert frame.bytes == reply
            assert frame.get("Socket-Type") == peer_type.decode()
            assert sock._engine.inbox.data is None and sock._engine.inbox.alone is None
        assert taken_whole.count(None) < len(taken_whole)  # (the path under test was taken)
        if kind == puremq.DEALER:
            peer.send(message(b"next") + message(b"and next"))
            assert [sock.recv(), sock.recv()] == [b"next", b"and next"]
