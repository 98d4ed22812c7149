"""A send that answers a receive is written by the sending thread itself
(StreamConnection.kick), whatever the clock says about the socket's last send."""

from __future__ import annotations

import pytest

import puremq
from puremq.engine import stream as stream_module

from .._io_thread import io_thread_held
from .harness import Net

WAIT_S = 10.0


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_reply_is_written_by_the_replying_thread(net: Net, transport: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A send that follows a receive SHALL be written at once by the thread that sends it,
    however soon it follows the socket's previous send (here: by the clock, every send
    is part of a stream): a REP's replies reach the libzmq REQ while the I/O thread is
    held busy.  On a fast machine a round trip is shorter than the gap that tells a
    stream from single messages, and replies left to the I/O thread cost a wake-up."""
    monkeypatch.setattr(stream_module, "DIRECT_WRITE_GAP", 1e9)
    rep = net.socket("pm", "REP", [("RCVTIMEO", int(WAIT_S * 1000))])
    req = net.socket("lz", "REQ", [("RCVTIMEO", int(WAIT_S * 1000))])
    req.connect(net.bind(rep, transport))
    req.send(b"hello")
    assert rep.recv() == b"hello"
    rep.send(b"hi")
    assert req.recv() == b"hi"
    with io_thread_held(rep._engine.pattern.pipes[0].peer.reactor, WAIT_S):
        for number in range(3):
            req.send(b"request %d" % number)
            assert rep.recv() == b"request %d" % number
            rep.send(b"reply %d" % number)
            assert req.poll(int(WAIT_S * 1000 / 4)), "the reply waited for the I/O thread"
            assert req.recv() == b"reply %d" % number


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_send_after_a_dontwait_receive_is_left_to_the_io_thread(
        net: Net, transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A receive with DONTWAIT that finds nothing SHALL NOT make the next send a reply
    written at once: a loop that polls between the sends of a stream would write each
    message alone.  With the I/O thread held busy (and, by the clock, every send part of
    a stream) the message waits for it, and arrives once it is free."""
    monkeypatch.setattr(stream_module, "DIRECT_WRITE_GAP", 1e9)
    dealer = net.socket("pm", "DEALER")
    peer = net.socket("lz", "DEALER", [("RCVTIMEO", int(WAIT_S * 1000))])
    peer.connect(net.bind(dealer, transport))
    peer.send(b"hello")
    assert dealer.recv() == b"hello"
    dealer.send(b"first")  # after a receive: written at once
    assert peer.recv() == b"first"
    with io_thread_held(dealer._engine.pattern.pipes[0].peer.reactor, WAIT_S):
        with pytest.raises(puremq.Again):
            dealer.recv(puremq.DONTWAIT)
        dealer.send(b"second")
        assert not peer.poll(200), "written by the sending thread after a DONTWAIT receive"
    assert peer.recv() == b"second"
