"""tcp specifics: IPv4 and the `*` wildcard, IPv6 with the IPV6 option, host names,
port wildcards, and endpoint errors exactly as libzmq 4.3.5 reports them."""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest

from ..api._compare import assert_same_outcome
from ._util import TIMEOUT_MS


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        probe.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        probe.close()


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no ::1")


def _exchange(ctx: Any, zmq: Any, server: Any, connect_to: str, ipv6: bool = False) -> Any:
    client = ctx.socket(zmq.PAIR)
    client.ipv6 = ipv6
    client.rcvtimeo = server.rcvtimeo = TIMEOUT_MS
    client.connect(connect_to)
    client.send(b"hello")
    frame = server.recv(copy=False)
    assert frame.bytes == b"hello"
    server.send(b"back")
    assert client.recv() == b"back"
    return frame


def _port(sock: Any) -> int:
    return int(sock.last_endpoint.rsplit(b":", 1)[1])


@pytest.mark.cython_reference
def test_ipv4_loopback(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    server.bind("tcp://127.0.0.1:*")
    assert server.last_endpoint.startswith(b"tcp://127.0.0.1:")
    frame = _exchange(mctx, zmq_mod, server, server.last_endpoint.decode())
    assert frame.get("Peer-Address") == "127.0.0.1"


def test_ipv4_wildcard_address(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    server.bind("tcp://*:*")
    assert server.last_endpoint.startswith(b"tcp://0.0.0.0:")
    _exchange(mctx, zmq_mod, server, f"tcp://127.0.0.1:{_port(server)}")


@pytest.mark.cython_reference
@needs_ipv6
def test_ipv6_loopback_with_the_ipv6_option(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    server.ipv6 = True
    assert server.ipv6 == 1
    server.bind("tcp://[::1]:*")
    assert server.last_endpoint.startswith(b"tcp://[::1]:")
    frame = _exchange(mctx, zmq_mod, server, server.last_endpoint.decode(), ipv6=True)
    assert frame.get("Peer-Address") == "::1"


@needs_ipv6
def test_ipv6_addresses_need_the_ipv6_option(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    with pytest.raises(zmq_mod.ZMQError) as info:
        server.bind("tcp://[::1]:*")
    assert info.value.errno == errno.ENODEV


@needs_ipv6
def test_ipv6_wildcard_takes_ipv4_and_ipv6_peers(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PULL)
    server.ipv6 = 1
    server.rcvtimeo = TIMEOUT_MS
    server.bind("tcp://*:*")
    assert server.last_endpoint.startswith(b"tcp://[::]:")
    port = _port(server)
    v4, v6 = mctx.socket(zmq_mod.PUSH), mctx.socket(zmq_mod.PUSH)
    v6.ipv6 = 1
    v4.connect(f"tcp://127.0.0.1:{port}")
    v6.connect(f"tcp://[::1]:{port}")
    v4.send(b"from v4")
    v6.send(b"from v6")
    assert sorted(server.recv() for _ in range(2)) == [b"from v4", b"from v6"]


@needs_ipv6
def test_ipv6_option_binds_ipv4_addresses_mapped(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    server.ipv6 = 1
    server.bind("tcp://127.0.0.1:*")
    assert server.last_endpoint.startswith(b"tcp://[::ffff:127.0.0.1]:")
    _exchange(mctx, zmq_mod, server, f"tcp://127.0.0.1:{_port(server)}")


def test_host_names(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    server.bind("tcp://localhost:*")
    assert server.last_endpoint.startswith(b"tcp://127.0.0.1:")
    _exchange(mctx, zmq_mod, server, f"tcp://localhost:{_port(server)}")


def test_port_wildcard_and_port_zero_pick_a_port(mctx: Any, zmq_mod: Any) -> None:
    ports = []
    for endpoint in ("tcp://127.0.0.1:*", "tcp://127.0.0.1:0"):
        server = mctx.socket(zmq_mod.PAIR)
        server.bind(endpoint)
        ports.append(_port(server))
        _exchange(mctx, zmq_mod, server, server.last_endpoint.decode())
    assert all(0 < port < 65536 for port in ports)
    assert ports[0] != ports[1]


def test_binding_a_used_port_is_eaddrinuse(mctx: Any, zmq_mod: Any) -> None:
    first, second = mctx.socket(zmq_mod.PAIR), mctx.socket(zmq_mod.PAIR)
    first.bind("tcp://127.0.0.1:*")
    with pytest.raises(zmq_mod.ZMQError) as info:
        second.bind(first.last_endpoint.decode())
    assert info.value.errno == zmq_mod.EADDRINUSE


def test_bang_port_and_connect_wildcard_are_einval(mctx: Any, zmq_mod: Any) -> None:
    """libzmq 4.3.5 has no '!' (random port) syntax, and '*' is no port to connect to."""
    sock = mctx.socket(zmq_mod.PAIR)
    for call in (lambda: sock.bind("tcp://127.0.0.1:!"),
                 lambda: sock.connect("tcp://127.0.0.1:!"),
                 lambda: sock.connect("tcp://127.0.0.1:*"),
                 lambda: sock.connect("tcp://localhost:*")):
        with pytest.raises(zmq_mod.ZMQError) as info:
            call()
        assert info.value.errno == zmq_mod.EINVAL


#: (operation, endpoint): each is tried under pyzmq and puremq, both with IPV6 off and on
ENDPOINT_CASES = [
    ("bind", "tcp://127.0.0.1:!"),        # libzmq 4.3.5 has no '!' port: EINVAL
    ("connect", "tcp://127.0.0.1:!"),
    ("connect", "tcp://127.0.0.1:*"),     # a wildcard port only makes sense for bind
    ("bind", "tcp://127.0.0.1:*"),
    ("bind", "tcp://127.0.0.1:0"),
    ("bind", "tcp://*:*"),
    ("bind", "tcp://localhost:*"),
    ("bind", "tcp://[127.0.0.1]:*"),
    ("bind", "tcp://lo:*"),               # an interface name
    ("bind", "tcp://127.0.0.1"),          # no port
    ("connect", "tcp://127.0.0.1"),
    ("bind", "tcp://127.0.0.1:abc"),
    ("connect", "tcp://127.0.0.1:abc"),
    ("bind", "tcp://nohost.invalid:*"),   # not a local address: ENODEV
    ("connect", "tcp://nohost.invalid:5555"),  # resolved later, when connecting
    ("connect", "tcp://localhost:5555"),
    ("connect", "tcp://127.0.0.1:0"),
    ("connect", "tcp://127.0.0.1;127.0.0.1:5555"),  # with a source address
    ("bind", "tcp://192.0.2.1:*"),        # a real address that is not ours
    ("bind", "pgm://x"),
    ("bind", "no-transport"),
]


@pytest.mark.parametrize("ipv6", [0, 1])
def test_endpoint_handling_matches_libzmq(ipv6: int) -> None:
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        results = []
        try:
            for operation, endpoint in ENDPOINT_CASES:
                sock = ctx.socket(zmq.PAIR)
                sock.ipv6 = ipv6
                try:
                    getattr(sock, operation)(endpoint)
                    results.append(("ok", sock.last_endpoint.rsplit(b":", 1)[0]))
                except zmq.ZMQError as exc:
                    results.append(("error", int(exc.errno)))
                finally:
                    sock.close(linger=0)
        finally:
            ctx.term()
        return results
    assert_same_outcome(run)
