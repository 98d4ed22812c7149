"""Context: the process singleton, socket(), term(), destroy(), io_threads, default options.

Each test runs under pyzmq (the reference) and puremq via the ``zmq_mod`` fixture.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict

import pytest

from ._compare import assert_same_outcome


def _in_thread(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_instance_is_a_singleton(zmq_mod: Any) -> None:
    first = zmq_mod.Context.instance()
    try:
        assert zmq_mod.Context.instance() is first
        assert isinstance(first, zmq_mod.Context)
    finally:
        first.term()


def test_instance_after_term_is_a_new_context(zmq_mod: Any) -> None:
    first = zmq_mod.Context.instance()
    first.term()
    second = zmq_mod.Context.instance()
    try:
        assert second is not first
        assert not second.closed
        assert zmq_mod.Context.instance() is second
        sock = second.socket(zmq_mod.PAIR)
        sock.close()
    finally:
        second.term()


def test_socket_has_the_requested_type(mctx: Any, zmq_mod: Any) -> None:
    for kind in (zmq_mod.PAIR, zmq_mod.PUB, zmq_mod.SUB, zmq_mod.REQ, zmq_mod.REP,
                 zmq_mod.DEALER, zmq_mod.ROUTER, zmq_mod.PULL, zmq_mod.PUSH, zmq_mod.XPUB,
                 zmq_mod.XSUB):
        sock = mctx.socket(kind)
        try:
            assert sock.type == kind
            assert sock.context is mctx
        finally:
            sock.close()


def test_socket_on_a_closed_context_fails_as_pyzmq() -> None:
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        ctx.term()
        ctx.socket(zmq.PUSH)
    assert assert_same_outcome(run)[0] == "raise"


def test_socket_of_unknown_type_fails_as_pyzmq() -> None:
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        try:
            ctx.socket(999)
        finally:
            ctx.term()
    assert assert_same_outcome(run)[0] == "raise"


def test_term_blocks_until_every_socket_is_closed(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    sock = ctx.socket(zmq_mod.PULL)
    sock.bind("inproc://term-blocks")
    done = threading.Event()
    terminator = _in_thread(lambda: (ctx.term(), done.set()))
    try:
        assert not done.wait(0.3), "term() returned while a socket was still open"
    finally:
        sock.close()
    assert done.wait(5), "term() did not return after the last socket closed"
    terminator.join(5)
    assert ctx.closed


def test_term_makes_a_blocked_recv_raise_context_terminated(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    sock = ctx.socket(zmq_mod.PULL)
    sock.bind("inproc://term-recv")
    result: Dict[str, Any] = {}
    started = threading.Event()

    def blocked() -> None:
        started.set()
        try:
            sock.recv()
        except zmq_mod.ContextTerminated as exc:
            result["errno"] = exc.errno
        except Exception as exc:  # noqa: BLE001
            result["other"] = exc
        finally:
            sock.close()

    worker = _in_thread(blocked)
    started.wait(5)
    time.sleep(0.05)  # let recv() reach its wait; correctness does not depend on it
    ctx.term()
    worker.join(5)
    assert not worker.is_alive()
    assert result == {"errno": zmq_mod.ETERM}


def test_term_makes_a_blocked_poll_raise_context_terminated(zmq_mod: Any) -> None:
    """zmq_poll on a socket whose context terminates fails with ETERM at once."""
    ctx = zmq_mod.Context()
    sock = ctx.socket(zmq_mod.PULL)
    sock.bind("inproc://term-poll")
    result: Dict[str, Any] = {}
    started = threading.Event()

    def blocked() -> None:
        poller = zmq_mod.Poller()
        poller.register(sock, zmq_mod.POLLIN)
        started.set()
        try:
            result["events"] = poller.poll(10000)
        except zmq_mod.ContextTerminated:
            result["terminated"] = True
        finally:
            sock.close()

    worker = _in_thread(blocked)
    started.wait(5)
    time.sleep(0.05)
    began = time.monotonic()
    ctx.term()
    worker.join(5)
    assert result == {"terminated": True}
    assert time.monotonic() - began < 2.0


def test_operations_after_term_began_raise_context_terminated(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    sock = ctx.socket(zmq_mod.PULL)
    terminator = _in_thread(ctx.term)
    time.sleep(0.1)
    try:
        for call in (sock.recv, lambda: sock.recv(zmq_mod.NOBLOCK),
                     lambda: sock.bind("inproc://after-term"),
                     lambda: sock.connect("inproc://after-term")):
            with pytest.raises(zmq_mod.ContextTerminated):
                call()
    finally:
        sock.close()
        terminator.join(5)
    assert ctx.closed


def test_destroy_closes_every_socket(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    socks = [ctx.socket(zmq_mod.PUSH) for _ in range(3)]
    socks[0].bind("tcp://127.0.0.1:*")
    socks[1].connect("tcp://127.0.0.1:9")
    socks[1].send(b"never delivered")
    began = time.monotonic()
    ctx.destroy(linger=0)
    assert time.monotonic() - began < 2.0
    assert ctx.closed
    assert all(sock.closed for sock in socks)


def test_destroy_closes_a_socket_collected_but_not_finalized_yet() -> None:
    """destroy() SHALL close every socket of the context and return, including one whose
    object the garbage collector found unreachable but whose __del__ has not run yet (PyPy
    runs finalizers later; destroy then hung in term() waiting for that socket)."""
    import puremq
    ctx = puremq.Context()
    sock = ctx.socket(puremq.PULL)
    engine = sock._engine
    ctx._sockets.discard(sock)  # what the collector does to the weak set first
    destroyer = _in_thread(lambda: ctx.destroy(linger=0))
    destroyer.join(5)
    assert not destroyer.is_alive(), "destroy() is waiting for a socket nobody closes"
    assert ctx.closed and engine.closed


def test_destroy_linger_keeps_unsent_messages_that_long(zmq_mod: Any) -> None:
    """destroy(linger=300) with a message queued for an absent peer waits ~300 ms."""
    ctx = zmq_mod.Context()
    sock = ctx.socket(zmq_mod.PUSH)
    sock.connect("tcp://127.0.0.1:9")
    sock.send(b"pending")
    began = time.monotonic()
    ctx.destroy(linger=300)
    elapsed = time.monotonic() - began
    assert sock.closed and ctx.closed
    assert 0.25 <= elapsed < 2.0, elapsed


def test_context_manager_destroys_on_exit(zmq_mod: Any) -> None:
    with zmq_mod.Context() as ctx:
        sock = ctx.socket(zmq_mod.PUSH)
        sock.linger = 0
        sock.connect("tcp://127.0.0.1:9")
        sock.send(b"dropped at exit")
    assert ctx.closed
    assert sock.closed


def test_io_threads(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context(io_threads=2)
    try:
        assert ctx.io_threads == 2
        assert ctx.get(zmq_mod.IO_THREADS) == 2
        ctx.io_threads = 3
        assert ctx.get(zmq_mod.IO_THREADS) == 3
        # several tcp sockets spread over the I/O threads still talk
        pulls = [ctx.socket(zmq_mod.PULL) for _ in range(3)]
        pushes = [ctx.socket(zmq_mod.PUSH) for _ in range(3)]
        for pull, push in zip(pulls, pushes):
            pull.rcvtimeo = 5000
            pull.bind("tcp://127.0.0.1:*")
            push.connect(pull.last_endpoint)
        for index, push in enumerate(pushes):
            push.send(b"%d" % index)
        assert [pull.recv() for pull in pulls] == [b"0", b"1", b"2"]
    finally:
        ctx.destroy(linger=0)


def test_context_option_defaults_match(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    try:
        assert ctx.get(zmq_mod.IO_THREADS) == 1
        assert ctx.max_sockets == 1023
    finally:
        ctx.term()


def test_default_socket_options_apply_to_new_sockets(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    try:
        before = ctx.socket(zmq_mod.PUSH)
        ctx.linger = 0
        ctx.setsockopt(zmq_mod.SNDHWM, 7)
        ctx.rcvhwm = 9
        after = ctx.socket(zmq_mod.PUSH)
        assert (after.linger, after.sndhwm, after.rcvhwm) == (0, 7, 9)
        assert (before.linger, before.sndhwm, before.rcvhwm) == (-1, 1000, 1000)
        assert ctx.linger == 0
        assert ctx.getsockopt(zmq_mod.SNDHWM) == 7
    finally:
        ctx.destroy(linger=0)


def test_default_subscribe_applies_to_sub_sockets_only(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    try:
        ctx.setsockopt(zmq_mod.SUBSCRIBE, b"x")
        pub = ctx.socket(zmq_mod.PUB)  # PUB has no SUBSCRIBE: silently not applied
        sub = ctx.socket(zmq_mod.SUB)
        sub.rcvtimeo = 5000
        pub.bind("inproc://ctx-default-sub")
        sub.connect("inproc://ctx-default-sub")
        # a late joiner may miss the first messages: publish until one arrives
        deadline = time.monotonic() + 5
        while not sub.poll(10):
            assert time.monotonic() < deadline
            pub.send(b"y-skipped")
            pub.send(b"x-wanted")
        assert sub.recv() == b"x-wanted"
    finally:
        ctx.destroy(linger=0)


def test_unknown_context_attribute_is_attribute_error(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    try:
        with pytest.raises(AttributeError):
            ctx.no_such_option = 1
        with pytest.raises(AttributeError):
            ctx.no_such_option  # noqa: B018
    finally:
        ctx.term()


def test_bad_context_option_is_einval(zmq_mod: Any) -> None:
    ctx = zmq_mod.Context()
    try:
        with pytest.raises(zmq_mod.ZMQError) as info:
            ctx.set(9999, 1)
        assert info.value.errno == zmq_mod.EINVAL
    finally:
        ctx.term()
