"""A libzmq sender streaming to a puremq PULL, DEALER or PAIR that reads its only peer in
its own thread (and so parses plain messages straight out of the bytes read, zmtp.inbox):
messages of every size and shape SHALL arrive whole and in order, whichever way the
application takes them."""

from __future__ import annotations

import threading
from typing import Any, List

import pytest

from .._messages import mixed_messages
from .harness import Net

#: (libzmq sender type, puremq receiver type)
PAIRS = [("PUSH", "PULL"), ("DEALER", "DEALER"), ("PAIR", "PAIR")]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("sender, receiver", PAIRS, ids=[r for _, r in PAIRS])
def test_libzmq_stream_of_mixed_messages_arrives_in_order(net: Net, sender: str,
                                                          receiver: str,
                                                          transport: str) -> None:
    """5,000 messages, three quarters short single frames, the rest long frames, frames of
    100-400 kB and multipart messages with an empty frame, sent by libzmq as fast as it can;
    received in turn with recv, recv_multipart and recv(copy=False)."""
    pm = net.socket("pm", receiver)
    lz = net.socket("lz", sender)
    lz.connect(net.bind(pm, transport))
    expected = mixed_messages(5000, seed=5000)
    errors: List[BaseException] = []

    def send_all() -> None:
        try:
            for frames in expected:
                lz.send_multipart(frames)
        except BaseException as exc:  # reported by the receiver's assertion
            errors.append(exc)

    writer = threading.Thread(target=send_all)
    writer.start()
    got: List[List[bytes]] = []
    try:
        for number in range(len(expected)):
            how = number % 3
            if how == 1:
                got.append(pm.recv_multipart())
                continue
            frames: List[Any] = [pm.recv(copy=how == 0)]
            while pm.rcvmore:
                frames.append(pm.recv(copy=how == 0))
            got.append([bytes(frame) for frame in frames])
    finally:
        writer.join(30)
    assert not errors
    assert len(got) == len(expected)
    for number, (mine, theirs) in enumerate(zip(got, expected)):
        assert mine == theirs, f"message {number} differs"


@pytest.mark.parametrize("burst", [1, 20])
def test_libzmq_heartbeats_are_answered_while_messages_wait_unreceived(net: Net,
                                                                     burst: int) -> None:
    """A libzmq PUSH with ZMQ_HEARTBEAT_TIMEOUT sends a burst (of one: nothing is left
    unreceived); the puremq PULL receives one message and then none for several timeouts.
    The connection SHALL stay up (libzmq reports no DISCONNECTED: every PING got its
    PONG), and every message SHALL arrive."""
    import time

    import zmq
    pm = net.socket("pm", "PULL")
    lz = net.socket("lz", "PUSH", [("HEARTBEAT_IVL", 50), ("HEARTBEAT_TIMEOUT", 250)])
    monitor = lz.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    try:
        lz.connect(net.bind(pm, "tcp"))

        def send_burst() -> None:
            for number in range(burst):
                lz.send(b"%02d" % number)
        # sent once recv waits, so that it reads the connection itself (zmtp.inbox)
        sender = threading.Timer(0.2, send_burst)
        sender.start()
        assert pm.recv() == b"00"
        sender.join()
        time.sleep(1.0)  # the subject: the application does not receive meanwhile
        assert not monitor.poll(0), "libzmq dropped the connection (a PING unanswered)"
        lz.send(b"after")
        assert [pm.recv() for _ in range(burst)] == [b"%02d" % n for n in range(1, burst)] + [
            b"after"]
    finally:
        lz.disable_monitor()
        monitor.close(linger=0)
