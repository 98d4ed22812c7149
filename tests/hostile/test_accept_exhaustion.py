"""A listener out of file descriptors: accept(2) fails with EMFILE while the connection
stays in the backlog, so the listening socket stays readable.  Polled again at once, the
I/O thread would spin (holding the GIL the application's threads need) until a descriptor
is free; it tries again a little later instead, and accepts once it can."""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

import puremq

from ._wire import GREETING, WAIT, RawPeer, message, ready, wait_until

#: a listener polled in a loop fails its accept tens of thousands of times in this window
WINDOW_S = 0.3
MAX_ACCEPTS = 10


class FailingAccept:
    """A listening socket whose accept fails with EMFILE while ``failing`` is set."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.failing = True
        self.calls = 0

    def accept(self) -> Any:
        self.calls += 1
        if self.failing:
            raise OSError(errno.EMFILE, "Too many open files")
        return self._sock.accept()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def test_a_listener_out_of_descriptors_tries_again_later_and_then_accepts(ctx: Any) -> None:
    """A listener whose accept fails for want of a descriptor SHALL NOT poll its socket in
    a loop; it SHALL try again later, and accept the connection once it can."""
    router = ctx.socket(puremq.ROUTER)
    router.rcvtimeo = int(WAIT * 1000)
    router.bind("tcp://127.0.0.1:*")
    endpoint = router.getsockopt_string(puremq.LAST_ENDPOINT)
    [listener] = router._engine.endpoints[endpoint]
    failing = FailingAccept(listener.sock)
    listener.sock = failing
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    with RawPeer(socket.create_connection((host, int(port)), timeout=WAIT)) as peer:
        wait_until(lambda: failing.calls > 0, "the listener tried to accept")
        before = failing.calls
        time.sleep(WINDOW_S)  # (a window to count in, not a wait for anything)
        assert failing.calls - before < MAX_ACCEPTS
        failing.failing = False
        peer.send(GREETING + ready(b"DEALER", b"peer"))
        peer.expect_ready()
        peer.send(message(b"hello"))
        assert router.recv_multipart() == [b"peer", b"hello"]
