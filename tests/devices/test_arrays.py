"""puremq.utils.arrays: numpy arrays as [JSON header, data], the data without copies.

The tests that need numpy import it with pytest.importorskip (PyPy has none here); the
first test checks that puremq and this module import without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any, Iterator, Tuple

import pytest
import zmq as pyzmq

import puremq
from puremq.utils.arrays import recv_array, send_array

from .helpers import WAIT_S


def test_puremq_imports_without_numpy() -> None:
    """numpy stays optional: with numpy made unimportable, puremq and puremq.utils.arrays
    import, and only calling send_array says what is missing."""
    code = ("import sys; sys.modules['numpy'] = None\n"
            "import puremq, puremq.utils.arrays as a\n"
            "try:\n    a.send_array(None, [1])\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "needs numpy" in out.stdout


@pytest.fixture(params=["inproc", "tcp"])
def pair(request: Any, ctx: puremq.Context) -> Iterator[Tuple[Any, Any]]:
    a, b = ctx.socket(puremq.PAIR), ctx.socket(puremq.PAIR)
    a.bind(f"inproc://{uuid.uuid4().hex}" if request.param == "inproc" else
           "tcp://127.0.0.1:*")
    b.connect(a.last_endpoint.decode())
    b.rcvtimeo = int(WAIT_S * 1000)
    yield a, b
    a.close(linger=0)
    b.close(linger=0)


def _arrays(np: Any) -> Any:
    structured = np.zeros(4, dtype=[("x", "<i4"), ("y", ">f8", (2,)), ("name", "S5")])
    structured["x"] = [1, 2, 3, 4]
    structured["name"] = [b"a", b"bb", b"ccc", b"dddd"]
    return {
        "float64 2-d": np.arange(20000, dtype=np.float64).reshape(200, 100),
        "fortran": np.asfortranarray(np.arange(6000, dtype=np.int32).reshape(60, 100)),
        "big-endian": np.arange(5000, dtype=">u2"),
        "bool": np.arange(7) % 2 == 0,
        "complex": np.arange(9, dtype=np.complex128).reshape(3, 3) * 1j,
        "0-d": np.array(3.5),
        "empty": np.zeros((0, 7), dtype=np.int16),
        "structured": structured,
    }


@pytest.mark.parametrize("name", ["float64 2-d", "fortran", "big-endian", "bool", "complex",
                                  "0-d", "empty", "structured"])
def test_round_trip(pair: Tuple[Any, Any], name: str) -> None:
    """Shape, dtype (byte order and structure included) and values come back."""
    np = pytest.importorskip("numpy")
    original = _arrays(np)[name]
    a, b = pair
    send_array(a, original)
    got = recv_array(b)
    assert got.shape == original.shape and got.dtype == original.dtype
    assert np.array_equal(got, original)


def test_received_array_is_a_read_only_view_on_the_received_bytes(pair: Tuple[Any, Any]
                                                                    ) -> None:
    """No copy on receipt: the array does not own its data (it lies in the received
    frame), and it is read-only, those bytes being possibly shared."""
    np = pytest.importorskip("numpy")
    a, b = pair
    send_array(a, np.ones(100_000))
    got = recv_array(b)
    assert not got.flags.owndata and not got.flags.writeable
    with pytest.raises(ValueError):
        got[0] = 2.0


def test_inproc_is_zero_copy_end_to_end(ctx: puremq.Context) -> None:
    """Over inproc nothing is copied at all: what arrives is a view on the sender's own
    array memory (hence read-only); the tracker completes once the receiver lets go."""
    np = pytest.importorskip("numpy")
    a, b = ctx.socket(puremq.PAIR), ctx.socket(puremq.PAIR)
    name = f"inproc://{uuid.uuid4().hex}"
    a.bind(name)
    b.connect(name)
    original = np.arange(200_000, dtype=np.float64)
    tracker = send_array(a, original, track=True)
    got = recv_array(b)
    assert np.shares_memory(got, original)
    assert not tracker.done
    del got
    tracker.wait(WAIT_S)
    assert tracker.done
    a.close(linger=0)
    b.close(linger=0)


def test_copy_true_gives_a_private_writable_array(pair: Tuple[Any, Any]) -> None:
    np = pytest.importorskip("numpy")
    a, b = pair
    original = np.arange(50_000, dtype=np.int64)
    send_array(a, original)
    got = recv_array(b, copy=True)
    assert got.flags.owndata and got.flags.writeable
    got[0] = -1
    assert original[0] == 0 and not np.shares_memory(got, original)


@pytest.mark.parametrize("view", ["step", "transposed-slice", "column", "reversed"])
def test_non_contiguous_arrays_arrive_as_they_look(pair: Tuple[Any, Any], view: str) -> None:
    """A strided view is sent as the array it shows (copied into a contiguous one first),
    never as the raw memory under it."""
    np = pytest.importorskip("numpy")
    base = np.arange(120 * 80, dtype=np.float32).reshape(120, 80)
    original = {"step": base[::3, ::2], "transposed-slice": base[10:50].T[5:],
                "column": base[:, 7], "reversed": base[::-1]}[view]
    assert not original.flags.c_contiguous and not original.flags.f_contiguous
    a, b = pair
    send_array(a, original)
    got = recv_array(b)
    assert got.shape == original.shape and np.array_equal(got, original)


def test_object_arrays_are_refused(pair: Tuple[Any, Any]) -> None:
    np = pytest.importorskip("numpy")
    a, _ = pair
    with pytest.raises(TypeError):
        send_array(a, np.array([object(), 1], dtype=object))


@pytest.mark.parametrize("parts, why", [
    ([b'{"dtype":"<f8","shape":[3]}'], "2 parts"),
    ([b'{"dtype":"<f8","shape":[3]}', b"\0" * 16], "needs 24"),
    ([b"not json", b"\0" * 8], "not JSON"),
    ([b'{"dtype":"|O","shape":[1]}', b"\0" * 8], "object dtype"),
    ([b'{"dtype":"<f8","shape":[-1]}', b"\0" * 8], "bad array shape"),
])
def test_malformed_messages_are_refused_not_misread(pair: Tuple[Any, Any], parts: Any,
                                                     why: str) -> None:
    """ValueError for anything that is not a header and data that fit each other."""
    pytest.importorskip("numpy")
    a, b = pair
    a.send_multipart(parts)
    with pytest.raises(ValueError, match=why):
        recv_array(b)


def test_header_is_small_json(pair: Tuple[Any, Any]) -> None:
    np = pytest.importorskip("numpy")
    a, b = pair
    send_array(a, np.zeros((3, 4), dtype=np.uint8))
    header, data = b.recv_multipart()
    assert json.loads(header) == {"dtype": "|u1", "shape": [3, 4], "order": "C"}
    assert len(header) < 64 and data == b"\0" * 12


def test_the_rest_of_a_message_read_part_by_part(pair: Tuple[Any, Any]) -> None:
    """An array after other parts (a topic, a routing id): recv() those, then recv_array
    takes the rest."""
    np = pytest.importorskip("numpy")
    a, b = pair
    original = np.arange(10_000, dtype=np.int32)
    a.send(b"topic", puremq.SNDMORE)
    send_array(a, original)
    assert b.recv() == b"topic"
    got = recv_array(b)
    assert np.array_equal(got, original) and not got.flags.owndata
    assert not b.getsockopt(puremq.RCVMORE)


def test_with_pyzmq_on_either_end(ctx: puremq.Context, zctx: Any) -> None:
    """Interop: the functions work on pyzmq sockets too, across the two libraries."""
    np = pytest.importorskip("numpy")
    ours = ctx.socket(puremq.PAIR)
    ours.bind("tcp://127.0.0.1:*")
    theirs = zctx.socket(pyzmq.PAIR)
    theirs.connect(ours.last_endpoint.decode())
    ours.rcvtimeo = theirs.rcvtimeo = int(WAIT_S * 1000)
    original = np.linspace(0, 1, 30_000).reshape(100, 300)
    send_array(ours, original)
    got = recv_array(theirs)
    assert np.array_equal(got, original) and not got.flags.writeable
    send_array(theirs, got.T)
    back = recv_array(ours)
    assert np.array_equal(back, original.T)
    ours.close(linger=0)
    theirs.close(linger=0)
