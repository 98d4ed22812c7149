"""monitored_queue: a queue between two sockets that copies every message, prefixed with
the side it came from, to a monitor socket (how IPython's schedulers keep its Hub informed).

It differs from proxy in two ways, both pyzmq's:

* every copy on the monitor socket starts with a prefix frame -- ``in_prefix`` for
  messages that came in on ``in_socket``, ``out_prefix`` for those from ``out_socket`` --
  followed by the message as it was sent on;
* with ROUTER on both sides, the first two frames (the sender's routing id, then the
  destination's) are swapped before sending, so a ROUTER-ROUTER queue routes: a client
  sends ``[engine_id, ...]`` and the engine receives ``[client_id, ...]``.

Forwarding is the proxy's (puremq.proxy.relay): whole messages, and a destination at its
high-water mark holds the message back (and stops reading from that side) instead of
dropping or splitting it.  The copy goes to the monitor socket when the message has been
handed on.
"""

from __future__ import annotations

from typing import Any, List, Optional

from ..constants import SocketType
from ..proxy import _BURST, _SEND_ONLY, _check_socket, _send_multipart, relay

__all__ = ["monitored_queue"]

_ROUTER = int(SocketType.ROUTER)


class _QueueDirection:
    """One way through the queue, as relay() drives it (like proxy's _Direction)."""

    __slots__ = ("src", "dst", "src_engine", "dst_engine", "mon", "prefix", "swap",
                 "pending", "pending_copy")

    def __init__(self, src: Any, dst: Any, mon: Any, prefix: bytes, swap: bool) -> None:
        self.src = src._pattern
        self.dst = dst._pattern
        self.src_engine = src._engine
        self.dst_engine = dst._engine
        self.mon = mon
        self.prefix = prefix
        self.swap = swap
        self.pending: Optional[List[Any]] = None
        self.pending_copy: Optional[List[Any]] = None

    def pump(self, _capture: Any, _stats: Any) -> bool:
        src, dst = self.src, self.dst
        if src.commands:
            src.process_commands()
        if dst.commands:
            dst.process_commands()
        xsend = dst.xsend
        mon = self.mon
        moved = False
        msg = self.pending
        if msg is not None:
            if not xsend(msg):
                return False
            _send_multipart(mon, self.pending_copy, copy=False)
            self.pending = self.pending_copy = None
            moved = True
        xrecv = self.src_engine.take_message  # (relay may read the source's peer itself)
        prefix = self.prefix
        swap = self.swap
        for _ in range(_BURST):
            msg = xrecv()
            if msg is None:
                return moved
            if swap and len(msg) > 1:
                msg[0], msg[1] = msg[1], msg[0]
            copy = [prefix]
            copy.extend(msg)  # before xsend: a ROUTER takes the routing id off the list
            if not xsend(msg):
                self.pending = msg
                self.pending_copy = copy
                return moved
            _send_multipart(mon, copy, copy=False)
            moved = True
        return moved


def _prefix(value: Any, name: str) -> bytes:
    if isinstance(value, str):
        raise TypeError(f"Argument '{name}' has incorrect type (expected bytes, got str)")
    return bytes(memoryview(value))


def monitored_queue(in_socket: Any, out_socket: Any, mon_socket: Any,
                    in_prefix: bytes = b"in", out_prefix: bytes = b"out") -> None:
    """Relay messages between ``in_socket`` and ``out_socket``, copying each to
    ``mon_socket`` with ``in_prefix``/``out_prefix`` in front; runs until the context is
    terminated (then raises ContextTerminated, as pyzmq)."""
    for sock, name in ((in_socket, "in_socket"), (out_socket, "out_socket"),
                       (mon_socket, "mon_socket")):
        _check_socket(sock, name)
    in_prefix = _prefix(in_prefix, "in_prefix")
    out_prefix = _prefix(out_prefix, "out_prefix")
    swap = in_socket.socket_type == _ROUTER and out_socket.socket_type == _ROUTER
    directions = []
    if in_socket.socket_type not in _SEND_ONLY:
        directions.append(_QueueDirection(in_socket, out_socket, mon_socket, in_prefix,
                                          swap))
    if out_socket is not in_socket and out_socket.socket_type not in _SEND_ONLY:
        directions.append(_QueueDirection(out_socket, in_socket, mon_socket, out_prefix,
                                          swap))
    relay(directions, [in_socket, out_socket, mon_socket])
