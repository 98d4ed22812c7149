"""puremq against libzmq on the request-reply paths that skip the pipe: a REQ or REP with
one tcp/ipc peer takes a plain ``[b"", body]`` straight out of the bytes it read, and a
lone small message is written as one framed object.  Requests, replies and lone messages
of every size and shape SHALL arrive whole; the sizes straddle every boundary of those
paths: short and long frames (255/256), the zero-copy threshold (16 KiB) and a body longer
than one read (124 KiB)."""

from __future__ import annotations

import threading
from typing import List

import pytest

from .harness import Net

SIZES = [0, 1, 254, 255, 256, 257, 16383, 16384, 16385, 70_000, 200_000]


def _requests() -> List[List[bytes]]:
    out: List[List[bytes]] = []
    for number, size in enumerate(SIZES):
        body = bytes([number]) * size
        out.append([body])
        out.append([body, b"", b"second %d" % number])  # multipart: not the plain shape
    return out


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("requester, replier", [("pm", "lz"), ("lz", "pm")],
                         ids=["puremq_req-libzmq_rep", "libzmq_req-puremq_rep"])
def test_requests_and_replies_of_every_size_arrive_whole(net: Net, requester: str,
                                                         replier: str,
                                                         transport: str) -> None:
    """Each request gets its reply (the request's frames in reverse order), whole and in
    turn, over tcp and ipc."""
    rep = net.socket(replier, "REP")
    req = net.socket(requester, "REQ")
    req.connect(net.bind(rep, transport))
    requests = _requests()
    errors: List[BaseException] = []

    def serve() -> None:
        try:
            for _ in requests:
                rep.send_multipart(rep.recv_multipart()[::-1])
        except BaseException as exc:  # reported by the requester's assertion
            errors.append(exc)

    server = threading.Thread(target=serve)
    server.start()
    try:
        for number, request in enumerate(requests):
            req.send_multipart(request)
            assert req.recv_multipart() == request[::-1], f"reply {number}"
    finally:
        server.join(30)
    assert not errors


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_lone_messages_of_every_size_reach_libzmq_whole(net: Net, transport: str) -> None:
    """A puremq DEALER sends one message at a time to a libzmq ROUTER, which echoes it:
    each finds the connection idle, so puremq writes it directly (single frames and
    multipart, every size); each SHALL arrive whole, and so SHALL its echo."""
    router = net.socket("lz", "ROUTER")
    dealer = net.socket("pm", "DEALER")
    dealer.connect(net.bind(router, transport))
    for number, message in enumerate(_requests()):
        dealer.send_multipart(message)
        routed = router.recv_multipart()
        assert routed[1:] == message, f"message {number}"
        router.send_multipart(routed)
        assert dealer.recv_multipart() == message, f"echo {number}"
