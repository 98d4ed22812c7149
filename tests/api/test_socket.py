"""Socket API: endpoints, send/recv and their flags, serializers, recv_into, poll,
options by name and attribute, close, timeouts.

Each test runs under pyzmq (the reference) and puremq via ``zmq_mod``/``mctx``.
"""

from __future__ import annotations

import errno
import pickle
import socket
import time
import uuid
import warnings
from typing import Any, Tuple

import pytest

from ._compare import assert_same_outcome

TIMEOUT_MS = 5000


def _inproc() -> str:
    return f"inproc://{uuid.uuid4().hex}"


def _pair(ctx: Any, zmq: Any, endpoint: str = "", kinds: Tuple[int, int] = (-1, -1)
          ) -> Tuple[Any, Any]:
    """(bound, connected) sockets, PAIR by default, with receive timeouts set."""
    bind_kind = zmq.PAIR if kinds[0] < 0 else kinds[0]
    connect_kind = zmq.PAIR if kinds[1] < 0 else kinds[1]
    bound = ctx.socket(bind_kind)
    connected = ctx.socket(connect_kind)
    for sock in (bound, connected):
        sock.rcvtimeo = TIMEOUT_MS
        sock.sndtimeo = TIMEOUT_MS
    bound.bind(endpoint or _inproc())
    connected.connect(bound.last_endpoint)
    return bound, connected


# -- bind / connect / unbind / disconnect ------------------------------------------------

def test_bind_and_connect_return_context_managers_that_undo_them(mctx: Any,
                                                                  zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PAIR)
    endpoint = _inproc()
    with sock.bind(endpoint) as inner:
        assert inner is sock
    with pytest.raises(zmq_mod.ZMQError) as info:
        sock.unbind(endpoint)  # already unbound by the with block
    assert info.value.errno == errno.ENOENT
    with sock.connect("tcp://127.0.0.1:9") as inner:
        assert inner is sock
    with pytest.raises(zmq_mod.ZMQError) as info:
        sock.disconnect("tcp://127.0.0.1:9")
    assert info.value.errno == errno.ENOENT


def test_bind_context_manager_with_a_wildcard_unbinds_the_real_endpoint(
        mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PAIR)
    with sock.bind("tcp://127.0.0.1:*"):
        endpoint = sock.last_endpoint.decode()
    with pytest.raises(zmq_mod.ZMQError) as info:
        sock.unbind(endpoint)
    assert info.value.errno == errno.ENOENT


def test_unbind_and_disconnect_of_unknown_endpoints_are_enoent(mctx: Any,
                                                               zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PAIR)
    for call in (lambda: sock.unbind("tcp://127.0.0.1:9"),
                 lambda: sock.disconnect("tcp://127.0.0.1:9"),
                 lambda: sock.unbind(_inproc()), lambda: sock.disconnect(_inproc())):
        with pytest.raises(zmq_mod.ZMQError) as info:
            call()
        assert info.value.errno == errno.ENOENT


def test_unbind_finds_endpoints_the_way_libzmq_does() -> None:
    """Bound endpoints are found by their resolved address (and a host name resolving to
    it), never by the wildcard that was asked for."""
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.PAIR)
        results = []
        try:
            for asked, other in (("tcp://127.0.0.1:*", None),
                                 ("tcp://localhost:*", None),
                                 ("tcp://*:*", None),
                                 ("tcp://127.0.0.1:*", "tcp://localhost:{port}")):
                sock.bind(asked)
                actual = sock.last_endpoint.decode()
                port = actual.rsplit(":", 1)[1]
                first = asked if other is None else other.format(port=port)
                for target in (first, actual):
                    try:
                        sock.unbind(target)
                        results.append("ok")
                    except zmq.ZMQError as exc:
                        results.append(int(exc.errno))
            return results
        finally:
            sock.close(linger=0)
            ctx.term()
    assert_same_outcome(run)


def test_disconnect_finds_a_numeric_endpoint_by_host_name() -> None:
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.PAIR)
        results = []
        try:
            sock.connect("tcp://127.0.0.1:9")
            sock.connect("tcp://localhost:19")
            for target in ("tcp://localhost:9", "tcp://127.0.0.1:19", "tcp://localhost:19"):
                try:
                    sock.disconnect(target)
                    results.append("ok")
                except zmq.ZMQError as exc:
                    results.append(int(exc.errno))
            return results
        finally:
            sock.close(linger=0)
            ctx.term()
    assert_same_outcome(run)


def test_bind_to_random_port_default_range(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PULL)
    server.rcvtimeo = TIMEOUT_MS
    port = server.bind_to_random_port("tcp://127.0.0.1")
    assert isinstance(port, int) and 0 < port < 65536
    assert server.last_endpoint == b"tcp://127.0.0.1:%d" % port
    client = mctx.socket(zmq_mod.PUSH)
    client.connect(f"tcp://127.0.0.1:{port}")
    client.send(b"found")
    assert server.recv() == b"found"


def test_bind_to_random_port_explicit_range(mctx: Any, zmq_mod: Any) -> None:
    ports = set()
    socks = []  # kept open: a socket dropped is closed, and its port may be drawn again
    for _ in range(3):
        sock = mctx.socket(zmq_mod.PAIR)
        socks.append(sock)
        port = sock.bind_to_random_port("tcp://127.0.0.1", min_port=41000, max_port=41200)
        assert 41000 <= port < 41200
        assert sock.last_endpoint.endswith(b":%d" % port)
        ports.add(port)
    assert len(ports) == 3


def test_bind_to_random_port_gives_up_with_zmq_bind_error(mctx: Any, zmq_mod: Any) -> None:
    taken = mctx.socket(zmq_mod.PAIR)
    port = taken.bind_to_random_port("tcp://127.0.0.1", min_port=41300, max_port=41400)
    other = mctx.socket(zmq_mod.PAIR)
    with pytest.raises(zmq_mod.ZMQBindError):
        other.bind_to_random_port("tcp://127.0.0.1", min_port=port, max_port=port + 1,
                                  max_tries=3)


# -- send / recv and their flags -----------------------------------------------------------

def test_noblock_and_dontwait_raise_again(mctx: Any, zmq_mod: Any) -> None:
    pull = mctx.socket(zmq_mod.PULL)
    pull.bind(_inproc())
    push = mctx.socket(zmq_mod.PUSH)  # no peer: nothing can be sent
    push.bind(_inproc())
    assert zmq_mod.NOBLOCK == zmq_mod.DONTWAIT
    for flag in (zmq_mod.NOBLOCK, zmq_mod.DONTWAIT):
        for call in (lambda: pull.recv(flag), lambda: pull.recv_multipart(flag),
                     lambda: pull.recv_string(flag), lambda: push.send(b"x", flag),
                     lambda: push.send_multipart([b"a", b"b"], flag),
                     lambda: push.send(b"x", flag | zmq_mod.SNDMORE)):
            with pytest.raises(zmq_mod.Again) as info:
                call()
            assert info.value.errno == zmq_mod.EAGAIN


def test_sndmore_and_rcvmore(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    connected.send(b"one", zmq_mod.SNDMORE)
    connected.send(b"two", zmq_mod.SNDMORE)
    connected.send(b"three")
    assert bound.recv() == b"one"
    assert bound.getsockopt(zmq_mod.RCVMORE) == 1
    assert bound.recv() == b"two"
    assert bound.rcvmore == 1
    assert bound.recv() == b"three"
    assert bound.get(zmq_mod.RCVMORE) == 0


@pytest.mark.cython_reference
def test_recv_copy_false_returns_frames(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    connected.send_multipart([b"head", b"tail"])
    head = bound.recv(copy=False)
    tail = bound.recv(copy=False)
    assert isinstance(head, zmq_mod.Frame) and isinstance(tail, zmq_mod.Frame)
    assert (head.bytes, head.more) == (b"head", True)
    assert (tail.bytes, tail.more) == (b"tail", False)


def test_send_accepts_buffers_and_frames_but_not_str(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    connected.send(bytearray(b"bytearray"))
    connected.send(memoryview(b"memoryview"))
    connected.send(zmq_mod.Frame(b"frame"))
    connected.send(b"big" * 40000, copy=False)
    assert [bound.recv() for _ in range(4)] == [b"bytearray", b"memoryview", b"frame",
                                                b"big" * 40000]
    for bad in ("text", 5, None):
        with pytest.raises(TypeError):
            connected.send(bad)
    with pytest.raises(TypeError):
        connected.send_multipart([b"ok", "text"])


@pytest.mark.cython_reference
def test_send_multipart_and_recv_multipart(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    connected.send_multipart([b"a", bytearray(b"b"), memoryview(b"c"), b""])
    assert bound.recv_multipart() == [b"a", b"b", b"c", b""]
    connected.send_multipart([b"x", b"y"], copy=False)
    frames = bound.recv_multipart(copy=False)
    assert [(f.bytes, f.more) for f in frames] == [(b"x", True), (b"y", False)]
    # SNDMORE parts then send_multipart, and send_multipart(SNDMORE) then send: one message
    connected.send(b"1", zmq_mod.SNDMORE)
    connected.send_multipart([b"2", b"3"])
    connected.send_multipart([b"4", b"5"], zmq_mod.SNDMORE)
    connected.send(b"6")
    assert bound.recv_multipart() == [b"1", b"2", b"3"]
    assert bound.recv_multipart() == [b"4", b"5", b"6"]
    # recv_multipart after a recv takes the rest of the message
    connected.send_multipart([b"p", b"q", b"r"])
    assert bound.recv() == b"p"
    assert bound.recv_multipart() == [b"q", b"r"]


def test_send_string_and_recv_string_with_encodings(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    connected.send_string("snowman \u2603")
    connected.send_string("caf\xe9", encoding="latin-1")
    connected.send_string("utf16", encoding="utf-16")
    assert bound.recv_string() == "snowman \u2603"
    raw = bound.recv()
    assert raw == b"caf\xe9"
    assert bound.recv_string(encoding="utf-16") == "utf16"
    with pytest.raises(TypeError):
        connected.send_string(b"bytes are not str")


def test_send_json_and_recv_json(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    document = {"a": [1, 2.5, None, True], "b": {"c": "\u2603"}}
    connected.send_json(document)
    assert bound.recv_json() == document
    connected.send_json([1, 2], separators=(",", ":"))
    assert bound.recv() == b"[1,2]"


def test_send_pyobj_and_recv_pyobj(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    value = {"set": {1, 2}, "tuple": (1, "x"), "bytes": b"\x00"}
    connected.send_pyobj(value)
    assert bound.recv_pyobj() == value
    connected.send_pyobj([1], protocol=2)
    assert pickle.loads(bound.recv()) == [1]


def test_send_serialized_and_recv_serialized(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)

    def serialize(msg: Any) -> Any:
        return [msg["kind"].encode(), repr(msg["n"]).encode()]

    def deserialize(parts: Any) -> Any:
        return {"kind": bytes(parts[0]).decode(), "n": int(bytes(parts[1]))}

    connected.send_serialized({"kind": "count", "n": 42}, serialize)
    assert bound.recv_serialized(deserialize) == {"kind": "count", "n": 42}
    connected.send_serialized({"kind": "zc", "n": 7}, serialize, copy=False)
    frames = bound.recv_serialized(lambda parts: parts, copy=False)
    assert all(isinstance(f, zmq_mod.Frame) for f in frames)
    assert deserialize(frames) == {"kind": "zc", "n": 7}


def test_recv_into_reports_the_full_size_when_truncated(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    connected.send(b"0123456789")
    buf = bytearray(4)
    assert bound.recv_into(buf) == 10
    assert buf == b"0123"
    connected.send(b"ab")
    buf = bytearray(b"xxxxx")
    assert bound.recv_into(buf) == 2
    assert buf == b"abxxx"
    connected.send(b"abcdef")
    buf = bytearray(b"xxxxxxx")
    assert bound.recv_into(buf, nbytes=3) == 6
    assert buf == b"abcxxxx"
    with pytest.raises(zmq_mod.Again):
        bound.recv_into(bytearray(4), flags=zmq_mod.NOBLOCK)


def test_recv_into_fills_a_typed_buffer(mctx: Any, zmq_mod: Any) -> None:
    import array
    bound, connected = _pair(mctx, zmq_mod)
    values = array.array("i", [1, 2, 3, 4])
    connected.send(values)
    target = array.array("i", [0] * 4)
    assert bound.recv_into(target) == values.itemsize * 4
    assert target == values


def test_send_and_recv_on_the_wrong_socket_type_are_enotsup(mctx: Any,
                                                            zmq_mod: Any) -> None:
    pull = mctx.socket(zmq_mod.PULL)
    push = mctx.socket(zmq_mod.PUSH)
    with pytest.raises(zmq_mod.ZMQError) as info:
        pull.send(b"x")
    assert info.value.errno == zmq_mod.ENOTSUP
    with pytest.raises(zmq_mod.ZMQError) as info:
        push.recv()
    assert info.value.errno == zmq_mod.ENOTSUP


def test_req_out_of_order_is_efsm(mctx: Any, zmq_mod: Any) -> None:
    req = mctx.socket(zmq_mod.REQ)
    with pytest.raises(zmq_mod.ZMQError) as info:
        req.recv()
    assert info.value.errno == zmq_mod.EFSM


# -- trackers --------------------------------------------------------------------------

def test_track_over_tcp_is_done_after_the_bytes_were_sent(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod, "tcp://127.0.0.1:*",
                             (zmq_mod.PULL, zmq_mod.PUSH))
    payload = bytearray(b"t" * 300000)
    tracker = connected.send(payload, copy=False, track=True)
    assert isinstance(tracker, zmq_mod.MessageTracker)
    tracker.wait(5)
    assert tracker.done
    assert bound.recv() == payload
    tracker = connected.send_multipart([payload, payload], copy=False, track=True)
    assert isinstance(tracker, zmq_mod.MessageTracker)
    tracker.wait(5)
    assert tracker.done
    assert bound.recv_multipart() == [payload, payload]


def test_tracker_stays_pending_until_a_peer_takes_the_message(mctx: Any,
                                                              zmq_mod: Any) -> None:
    push = mctx.socket(zmq_mod.PUSH)
    pull = mctx.socket(zmq_mod.PULL)
    pull.rcvtimeo = TIMEOUT_MS
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens on the port now
    push.connect(f"tcp://127.0.0.1:{port}")
    payload = bytearray(b"p" * 300000)
    tracker = push.send(payload, copy=False, track=True)
    time.sleep(0.2)
    assert not tracker.done
    with pytest.raises(zmq_mod.NotDone):
        tracker.wait(0.05)
    pull.bind(f"tcp://127.0.0.1:{port}")
    assert pull.recv() == payload
    tracker.wait(5)
    assert tracker.done


# -- poll ------------------------------------------------------------------------------

def test_socket_poll_timeout_and_flags(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _pair(mctx, zmq_mod)
    assert bound.poll(0) == 0
    began = time.monotonic()
    assert bound.poll(200) == 0
    assert 0.15 <= time.monotonic() - began < 2.0
    assert bound.poll(0, zmq_mod.POLLOUT) == zmq_mod.POLLOUT
    connected.send(b"x")
    assert bound.poll(TIMEOUT_MS) == zmq_mod.POLLIN
    assert bound.poll(0, zmq_mod.POLLIN | zmq_mod.POLLOUT) == zmq_mod.POLLIN | zmq_mod.POLLOUT
    assert bound.poll(0, zmq_mod.POLLOUT) == zmq_mod.POLLOUT
    bound.recv()
    assert bound.poll(0) == 0


def test_poll_on_a_closed_socket_fails_as_pyzmq() -> None:
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.PAIR)
        sock.close()
        try:
            sock.poll(0)
        finally:
            ctx.term()
    assert assert_same_outcome(run)[0] == "raise"


# -- options by name and by attribute ----------------------------------------------------

def test_get_set_and_their_aliases(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.DEALER)
    sock.set(zmq_mod.LINGER, 10)
    assert sock.get(zmq_mod.LINGER) == 10
    sock.setsockopt(zmq_mod.SNDHWM, 20)
    assert sock.getsockopt(zmq_mod.SNDHWM) == 20
    sock.setsockopt(zmq_mod.ROUTING_ID, b"rid")
    assert sock.getsockopt(zmq_mod.IDENTITY) == b"rid"
    assert zmq_mod.IDENTITY == zmq_mod.ROUTING_ID


def test_get_string_and_set_string(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.DEALER)
    sock.set_string(zmq_mod.IDENTITY, "h\xe9llo")
    assert sock.get_string(zmq_mod.IDENTITY) == "h\xe9llo"
    assert sock.get(zmq_mod.IDENTITY) == "h\xe9llo".encode("utf-8")
    sock.setsockopt_string(zmq_mod.IDENTITY, "caf\xe9", "latin-1")
    assert sock.get(zmq_mod.IDENTITY) == b"caf\xe9"
    assert sock.getsockopt_string(zmq_mod.IDENTITY, "latin-1") == "caf\xe9"
    with pytest.raises(TypeError):
        sock.set_string(zmq_mod.IDENTITY, b"bytes")
    with pytest.raises(TypeError):
        sock.get_string(zmq_mod.LINGER)
    with pytest.raises(TypeError):
        sock.setsockopt(zmq_mod.IDENTITY, "str is not bytes")
    with pytest.raises(TypeError):
        sock.setsockopt(zmq_mod.LINGER, "0")


def test_options_as_attributes(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.DEALER)
    sock.linger = 0
    assert sock.linger == 0 == sock.getsockopt(zmq_mod.LINGER)
    sock.IDENTITY = b"x"
    assert sock.identity == b"x" == sock.routing_id == sock.ROUTING_ID
    assert sock.hwm == 1000
    sock.hwm = 5
    assert (sock.sndhwm, sock.rcvhwm, sock.hwm) == (5, 5, 5)
    sock.RCVTIMEO = 123
    assert sock.rcvtimeo == 123
    with pytest.raises(AttributeError):
        sock.no_such_option = 1
    with pytest.raises(AttributeError):
        sock.no_such_option  # noqa: B018


def test_subscribe_and_unsubscribe_take_str_and_bytes(mctx: Any, zmq_mod: Any) -> None:
    pub = mctx.socket(zmq_mod.PUB)
    sub = mctx.socket(zmq_mod.SUB)
    endpoint = _inproc()
    pub.bind(endpoint)
    sub.connect(endpoint)
    sub.subscribe("a")
    sub.subscribe(b"b")
    sub.setsockopt(zmq_mod.SUBSCRIBE, b"c")
    sub.setsockopt_string(zmq_mod.SUBSCRIBE, "d")
    sub.subscribe("sync")
    sub.unsubscribe("b")
    sub.unsubscribe(b"c")
    # inproc subscriptions reach the PUB when sub processes them: sync on a marker
    deadline = time.monotonic() + 5
    while not sub.poll(10):
        assert time.monotonic() < deadline
        pub.send(b"sync")
    while sub.poll(50):
        sub.recv()
    for topic in (b"a1", b"b1", b"c1", b"d1", b"e1", b"a2"):
        pub.send(topic)
    got = []
    while sub.poll(200):
        got.append(sub.recv())
    assert got == [b"a1", b"d1", b"a2"]


# -- close, closed, fileno, type ------------------------------------------------------

def test_close_and_closed(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PUSH)
    assert not sock.closed
    sock.close(linger=0)
    assert sock.closed
    sock.close()  # closing twice is harmless
    for call in (lambda: sock.send(b"x"), lambda: sock.recv(), sock.fileno,
                 lambda: sock.bind(_inproc()), lambda: sock.getsockopt(zmq_mod.LINGER),
                 lambda: sock.setsockopt(zmq_mod.LINGER, 0),
                 lambda: sock.send_multipart([b"x"]), lambda: sock.recv_multipart()):
        with pytest.raises(zmq_mod.ZMQError) as info:
            call()
        assert info.value.errno == zmq_mod.ENOTSOCK


def test_socket_context_manager_closes(mctx: Any, zmq_mod: Any) -> None:
    with mctx.socket(zmq_mod.PUSH) as sock:
        assert not sock.closed
    assert sock.closed


def test_fileno_type_and_socket_type(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.DEALER)
    assert isinstance(sock.fileno(), int)
    assert sock.fileno() == sock.FD == sock.getsockopt(zmq_mod.FD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pyzmq 27 deprecates it
        assert sock.socket_type == zmq_mod.DEALER
    assert sock.type == zmq_mod.DEALER
    assert isinstance(sock.type, zmq_mod.SocketType)
    assert sock.getsockopt(zmq_mod.TYPE) == zmq_mod.DEALER


def test_rcvtimeo_raises_again_after_about_the_timeout(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PULL)
    sock.RCVTIMEO = 200
    sock.bind(_inproc())
    began = time.monotonic()
    with pytest.raises(zmq_mod.Again):
        sock.recv()
    assert 0.18 <= time.monotonic() - began < 1.5


def test_sndtimeo_raises_again_after_about_the_timeout(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PUSH)
    sock.SNDTIMEO = 200
    sock.bind(_inproc())
    began = time.monotonic()
    with pytest.raises(zmq_mod.Again):
        sock.send(b"nobody listens")
    assert 0.18 <= time.monotonic() - began < 1.5


def test_sndtimeo_with_a_full_pipe(mctx: Any, zmq_mod: Any) -> None:
    push = mctx.socket(zmq_mod.PUSH)
    pull = mctx.socket(zmq_mod.PULL)
    push.sndhwm = 1
    pull.rcvhwm = 1
    endpoint = _inproc()
    pull.bind(endpoint)
    push.connect(endpoint)
    push.sndtimeo = 100
    sent = 0
    with pytest.raises(zmq_mod.Again):
        for _ in range(100):
            push.send(b"fill")
            sent += 1
    assert 1 <= sent < 100


def test_close_linger_bounds_how_long_term_waits(zmq_mod: Any) -> None:
    """close(linger=ms) keeps an unsent message that long: term() waits for it, then
    gives up; close(linger=0) drops it at once."""
    for linger_ms, low, high in ((0, 0.0, 0.2), (300, 0.25, 2.0)):
        ctx = zmq_mod.Context()
        sock = ctx.socket(zmq_mod.PUSH)
        sock.connect("tcp://127.0.0.1:9")  # nobody listens: the message stays queued
        sock.send(b"unsendable")
        sock.close(linger=linger_ms)
        assert sock.closed
        began = time.monotonic()
        ctx.term()
        assert low <= time.monotonic() - began < high, linger_ms


def test_a_reply_sent_just_before_close_reaches_a_waiting_requester(mctx: Any,
                                                                    zmq_mod: Any) -> None:
    """Messages a peer sent before closing stay readable (inproc too): a REQ blocked in
    recv() gets the REP's last reply even though the REP closed right after sending."""
    import threading

    def serve_once(rep: Any) -> None:
        rep.recv()
        rep.send(b"last reply")
        rep.close()

    for _ in range(20):  # repeated: the close races with the requester's wait
        endpoint = _inproc()
        rep = mctx.socket(zmq_mod.REP)
        rep.bind(endpoint)
        req = mctx.socket(zmq_mod.REQ)
        req.rcvtimeo = TIMEOUT_MS
        req.connect(endpoint)
        server = threading.Thread(target=serve_once, args=(rep,), daemon=True)
        server.start()
        req.send(b"question")
        assert req.recv() == b"last reply"
        server.join(5)
        req.close()
