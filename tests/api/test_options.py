"""Socket options: libzmq's defaults, its value checks, and the special read-only ones.

The reference is pyzmq on libzmq 4.3.5: every option puremq supports is read and written
on every socket type under both, and the outcomes (value read back, or the error) must
be the same.
"""

from __future__ import annotations

import uuid
from typing import Any, List

import pytest
import zmq as pyzmq

import puremq
from puremq.options import SPECS

from ._compare import assert_same_outcome, errno_of

SOCKET_TYPES = ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH",
                "XPUB", "XSUB"]
#: getsockopt options the Socket answers itself rather than from the option table
SPECIAL = {"FD", "EVENTS", "RCVMORE", "TYPE", "LAST_ENDPOINT", "MECHANISM", "HWM"}
INT_VALUES = [-2**31, -101, -2, -1, 0, 1, 2, 99, 100, 150, 255, 1000, 6553599, 6553600,
              2**31 - 1]
BYTES_VALUES = [b"", b"x", b"\x00abc", b"r" * 200, b"r" * 256]


def _read(sock: Any, option: int) -> Any:
    try:
        return ("ok", sock.getsockopt(option))
    except Exception as exc:  # noqa: BLE001
        return ("raise", type(exc).__name__, int(getattr(exc, "errno", 0) or 0))


@pytest.mark.parametrize("type_name", SOCKET_TYPES)
def test_defaults_equal_libzmq(type_name: str) -> None:
    """Every option readable through pyzmq has the same default in puremq; an option
    libzmq refuses to read (EINVAL) is refused by puremq too."""
    zctx, pctx = pyzmq.Context(), puremq.Context()
    zsock = zctx.socket(getattr(pyzmq, type_name))
    psock = pctx.socket(getattr(puremq, type_name))
    mismatches: List[Any] = []
    try:
        for option in pyzmq.SocketOption:
            if option.name in ("FD", "HWM"):
                continue  # fds differ by nature; HWM: see test_hwm_shorthands
            expected = _read(zsock, option)
            actual = _read(psock, option)
            supported = int(option) in SPECS or option.name in SPECIAL
            if not supported and actual[:2] == ("raise", "ZMQError"):
                continue  # an option puremq does not implement (CURVE, SOCKS, ...)
            if expected != actual:
                mismatches.append((option.name, expected, actual))
    finally:
        zsock.close()
        psock.close()
        zctx.term()
        pctx.term()
    assert mismatches == []


def test_every_supported_option_was_compared() -> None:
    """The table puremq validates with names only options pyzmq knows (so the default
    comparison above covers all of them)."""
    names = {o.name for o in pyzmq.SocketOption}
    assert {puremq.SocketOption(o).name for o in SPECS} <= names


@pytest.mark.parametrize("type_name", SOCKET_TYPES)
def test_value_checks_equal_libzmq(type_name: str) -> None:
    """setsockopt of in-range ints and of byte strings on every supported option: same
    acceptance (EINVAL for bad values and for options the type does not have) and the
    same value read back."""
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        results = []
        try:
            kind = getattr(zmq, type_name)
            for option in sorted(SPECS):
                values = INT_VALUES if SPECS[option][0] == "int" else BYTES_VALUES
                for value in values:
                    sock = ctx.socket(kind)
                    try:
                        sock.setsockopt(option, value)
                        outcome = ("set", _read(sock, option))
                    except Exception as exc:  # noqa: BLE001
                        outcome = ("refused", type(exc).__name__,
                                   int(getattr(exc, "errno", 0) or 0))
                    finally:
                        sock.close(linger=0)
                    results.append((int(option), value, outcome))
        finally:
            ctx.term()
        return results
    assert_same_outcome(run)


def test_unknown_read_only_and_write_only_options(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.SUB)
    calls = [
        lambda: sock.setsockopt(9999, 1),
        lambda: sock.getsockopt(9999),
        lambda: sock.setsockopt(zmq_mod.TYPE, 1),
        lambda: sock.setsockopt(zmq_mod.RCVMORE, 1),
        lambda: sock.setsockopt(zmq_mod.EVENTS, 1),
        lambda: sock.setsockopt(zmq_mod.FD, 1),
        lambda: sock.setsockopt(zmq_mod.LAST_ENDPOINT, b"tcp://x:1"),
        lambda: sock.setsockopt(zmq_mod.MECHANISM, 0),
        lambda: sock.getsockopt(zmq_mod.SUBSCRIBE),
        lambda: sock.getsockopt(zmq_mod.UNSUBSCRIBE),
    ]
    for call in calls:
        assert errno_of(call) == ("ZMQError", zmq_mod.EINVAL)


def test_options_the_socket_type_lacks_are_einval(mctx: Any, zmq_mod: Any) -> None:
    push = mctx.socket(zmq_mod.PUSH)
    dealer = mctx.socket(zmq_mod.DEALER)
    for call in (lambda: push.setsockopt(zmq_mod.SUBSCRIBE, b""),
                 lambda: push.setsockopt(zmq_mod.XPUB_VERBOSE, 1),
                 lambda: dealer.setsockopt(zmq_mod.ROUTER_MANDATORY, 1),
                 lambda: dealer.setsockopt(zmq_mod.REQ_RELAXED, 1),
                 lambda: push.setsockopt(zmq_mod.PROBE_ROUTER, 1)):
        assert errno_of(call) == ("ZMQError", zmq_mod.EINVAL)


def test_wrong_python_types_are_type_errors(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.DEALER)
    for call in (lambda: sock.setsockopt(zmq_mod.LINGER, "0"),
                 lambda: sock.setsockopt(zmq_mod.LINGER, 1.5),
                 lambda: sock.setsockopt(zmq_mod.ROUTING_ID, "text"),
                 lambda: sock.setsockopt(zmq_mod.ROUTING_ID, 5)):
        with pytest.raises(TypeError):
            call()


def test_hwm_shorthands(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PUSH)
    assert sock.hwm == 1000
    sock.set_hwm(10)
    assert (sock.get_hwm(), sock.sndhwm, sock.rcvhwm) == (10, 10, 10)


def test_last_endpoint(mctx: Any, zmq_mod: Any, ipc_dir: str) -> None:
    sock = mctx.socket(zmq_mod.PAIR)
    assert sock.getsockopt(zmq_mod.LAST_ENDPOINT) == b""
    name = f"inproc://{uuid.uuid4().hex}"
    sock.bind(name)
    assert sock.last_endpoint == name.encode()
    sock.bind("tcp://127.0.0.1:*")
    tcp = sock.last_endpoint
    assert tcp.startswith(b"tcp://127.0.0.1:") and not tcp.endswith(b":*")
    assert int(tcp.rsplit(b":", 1)[1]) > 0
    sock.connect("tcp://localhost:9")
    assert sock.last_endpoint == b"tcp://localhost:9"  # connect: as given
    path = f"ipc://{ipc_dir}/sock"
    sock.bind(path)
    assert sock.get_string(zmq_mod.LAST_ENDPOINT) == path


def test_type_option(mctx: Any, zmq_mod: Any) -> None:
    for name in SOCKET_TYPES:
        sock = mctx.socket(getattr(zmq_mod, name))
        assert sock.getsockopt(zmq_mod.TYPE) == getattr(zmq_mod, name)
        sock.close()


def test_rcvmore_option(mctx: Any, zmq_mod: Any) -> None:
    a, b = mctx.socket(zmq_mod.PAIR), mctx.socket(zmq_mod.PAIR)
    a.rcvtimeo = 5000
    name = f"inproc://{uuid.uuid4().hex}"
    a.bind(name)
    b.connect(name)
    assert a.getsockopt(zmq_mod.RCVMORE) == 0
    b.send_multipart([b"1", b"2"])
    a.recv()
    assert a.getsockopt(zmq_mod.RCVMORE) == 1
    a.recv()
    assert a.getsockopt(zmq_mod.RCVMORE) == 0


def test_fd_and_events_options(mctx: Any, zmq_mod: Any) -> None:
    pull, push = mctx.socket(zmq_mod.PULL), mctx.socket(zmq_mod.PUSH)
    name = f"inproc://{uuid.uuid4().hex}"
    pull.bind(name)
    fd = pull.getsockopt(zmq_mod.FD)
    assert isinstance(fd, int) and fd >= 0 and fd == pull.FD == pull.fileno()
    assert pull.getsockopt(zmq_mod.EVENTS) == 0
    assert push.getsockopt(zmq_mod.EVENTS) == 0  # no peer: cannot send
    push.connect(name)
    assert push.getsockopt(zmq_mod.EVENTS) == zmq_mod.POLLOUT
    push.send(b"x")
    assert pull.poll(5000) == zmq_mod.POLLIN
    assert pull.getsockopt(zmq_mod.EVENTS) == zmq_mod.POLLIN
    pull.recv()
    assert pull.getsockopt(zmq_mod.EVENTS) == 0
