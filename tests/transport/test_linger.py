"""LINGER: what was sent before close() reaches a peer that shows up within LINGER ms."""

from __future__ import annotations

import socket
import struct

import puremq

GREETING = (b"\xff" + b"\x00" * 8 + b"\x7f\x03\x01" + b"NULL".ljust(20, b"\x00")
            + b"\x00" + b"\x00" * 31)


def _ready(socket_type: bytes) -> bytes:
    props = b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    body = b"\x05READY" + props
    return bytes((0x04, len(body))) + body


def _read_exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        assert chunk, "peer closed early"
        data += chunk
    return data


def _read_frame(conn: socket.socket) -> bytes:
    flags, size = _read_exactly(conn, 2)
    if flags & 0x02:
        size = struct.unpack(">Q", bytes((size,)) + _read_exactly(conn, 7))[0]
    return _read_exactly(conn, size)


def test_messages_sent_during_the_handshake_survive_close_with_linger() -> None:
    """A connection still in its handshake when close() is called (LINGER > 0) must not be
    dropped with the queued messages: they go out once the handshake completes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    ctx = puremq.Context()
    push = ctx.socket(puremq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    conn, _ = listener.accept()
    conn.settimeout(10)
    try:
        # its greeting proves its connection is up and waiting for ours
        assert _read_exactly(conn, 64)[:10] == GREETING[:10]
        for n in range(3):
            push.send(b"message %d" % n)
        push.close(linger=5000)
        conn.sendall(GREETING + _ready(b"PULL"))
        command = _read_frame(conn)
        assert command.startswith(b"\x05READY")
        received = [_read_frame(conn) for _ in range(3)]
        assert received == [b"message 0", b"message 1", b"message 2"]
        conn.close()  # the peer goes: the lingering connection ends, and term() returns
        ctx.term()
    finally:
        conn.close()
        listener.close()
        if not ctx.closed:
            ctx.destroy(linger=0)
