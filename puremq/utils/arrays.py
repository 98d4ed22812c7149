"""numpy arrays over puremq sockets without copying them (the seed's exercise).

An array travels as a two-part message:

1. a small JSON header: ``{"dtype": "<f8", "shape": [3, 4], "order": "C"}`` (structured
   dtypes as ``"descr"``, numpy's own description of them, instead of ``"dtype"``);
2. the array's bytes, sent zero-copy (``copy=False``): the socket keeps a view of the
   array's memory until the bytes are on their way, and ``track=True`` returns a
   MessageTracker that tells when that is done (do not modify the array before).

On receipt the array is a view on the received bytes -- no copy -- and read-only, since
those bytes may be shared (over inproc they are the sender's own memory); ask for
``copy=True`` to get a private, writable array.

C-contiguous and Fortran-contiguous arrays are sent as they lie in memory; any other
layout (a slice with steps, a transposed view of a slice, ...) is first copied into a
contiguous array, so what arrives is always the array that was meant, never its raw
memory misread.  Arrays of Python objects cannot travel as bytes and are refused.

numpy is only needed when these functions are called: puremq imports without it.
"""

from __future__ import annotations

import ast
import json
import weakref
from typing import Any, Optional

__all__ = ["send_array", "recv_array"]

#: a header is a few dozen bytes; anything much larger is not one of ours
_HEADER_LIMIT = 1 << 16


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError("puremq.utils.arrays needs numpy (pip install numpy)") from None
    return numpy


def _header(np: Any, array: Any, order: str) -> bytes:
    dtype = array.dtype
    info: dict = {"shape": list(array.shape), "order": order}
    if dtype.fields is None and dtype.subdtype is None:
        info["dtype"] = dtype.str
    else:
        # numpy's .npy description; read back with ast.literal_eval (literals only)
        info["descr"] = repr(np.lib.format.dtype_to_descr(dtype))
    return json.dumps(info, separators=(",", ":")).encode("ascii")


def send_array(socket: Any, array: Any, flags: int = 0, copy: bool = False,
               track: bool = False) -> Optional[Any]:
    """Send ``array`` as [JSON header, data]; the data zero-copy unless ``copy``.

    Returns the data frame's MessageTracker when ``track`` is true.
    """
    np = _numpy()
    array = np.asarray(array)
    if array.dtype.hasobject:
        raise TypeError("arrays of Python objects cannot be sent as bytes")
    if array.flags.c_contiguous:
        order = "C"
    elif array.flags.f_contiguous:
        order = "F"
    else:
        array = np.ascontiguousarray(array)  # a strided view: send what it shows
        order = "C"
    # the bytes in memory order, as a flat view (no copy for a contiguous array)
    data = array.reshape(-1, order=order).view(np.uint8) if array.size else b""
    header = _header(np, array, order)
    from ..constants import Flag
    socket.send(header, flags | Flag.SNDMORE)
    return socket.send(data, flags, copy=copy, track=track)


def _dtype_from(np: Any, info: dict) -> Any:
    if "dtype" in info:
        dtype = np.dtype(str(info["dtype"]))
    elif "descr" in info:
        dtype = np.lib.format.descr_to_dtype(ast.literal_eval(str(info["descr"])))
    else:
        raise ValueError("array header has neither 'dtype' nor 'descr'")
    if dtype.hasobject:
        raise ValueError("array header names an object dtype")
    return dtype


def _recv_frames(socket: Any, flags: int) -> list:
    """One whole message as buffers, without the copy a Frame makes before Python 3.12.

    For a puremq socket the parts are taken as the socket type's pattern hands them over
    (bytes, or views on the receive buffer -- or, over inproc, on the sender's memory);
    any other socket (pyzmq's) goes through recv_multipart(copy=False).
    """
    pattern = getattr(socket, "_pattern", None)
    engine = getattr(socket, "_engine", None)
    rest = getattr(socket, "_recv_parts", None)
    if pattern is None or engine is None or rest is None:
        return [frame.buffer for frame in socket.recv_multipart(flags, copy=False)]
    if socket.closed:
        from ..error import ZMQError
        from ..constants import Errno
        raise ZMQError(Errno.ENOTSOCK)
    if rest:
        # the first parts were read with recv(): the array is the rest of that message
        msg = list(rest)
        rest.clear()
        socket._rcvmore = False
        return msg
    from ..constants import Flag, SocketOption
    if pattern.commands:
        pattern.process_commands()
    msg = pattern.xrecv()
    if msg is None:
        timeout = 0 if flags & Flag.DONTWAIT else socket.getsockopt(SocketOption.RCVTIMEO)
        msg = engine.recv_waiting(timeout)
    # The frames as they are: the array will hold the data frame itself, so that a sender's
    # MessageTracker (inproc: the buffer is the sender's) is done only once it is let go.
    return msg


def recv_array(socket: Any, flags: int = 0, copy: bool = False) -> Any:
    """Receive an array sent by :func:`send_array`: a read-only view on the received
    bytes, or with ``copy=True`` a private writable array.

    ValueError if the message is not [header, data] or the data does not fit the header.
    """
    np = _numpy()
    frames = _recv_frames(socket, flags)
    if len(frames) != 2:
        raise ValueError(f"an array message has 2 parts, this one has {len(frames)}")
    raw_header = bytes(frames[0])
    if len(raw_header) > _HEADER_LIMIT:
        raise ValueError("array header too large")
    try:
        info = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"array header is not JSON: {exc}") from None
    if not isinstance(info, dict):
        raise ValueError("array header is not a JSON object")
    dtype = _dtype_from(np, info)
    shape = info.get("shape")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"bad array shape in header: {shape!r}")
    order = info.get("order", "C")
    if order not in ("C", "F"):
        raise ValueError(f"bad array order in header: {order!r}")
    buffer = frames[1]
    view = buffer if isinstance(buffer, memoryview) else memoryview(buffer)
    if view.format != "B" or view.ndim != 1:
        buffer = view = view.cast("B")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != view.nbytes:
        raise ValueError(f"array data is {view.nbytes} bytes; shape {tuple(shape)} of "
                         f"{dtype} needs {count * dtype.itemsize}")
    if view.nbytes == 0:
        array = np.empty(shape, dtype=dtype, order=order)
    else:
        array = np.ndarray(shape, dtype=dtype, buffer=buffer, order=order)
    if copy:
        return array.copy(order="K")
    array.flags.writeable = False
    if isinstance(frames[1], memoryview):
        # numpy keeps the memory alive but not the frame object a sender's MessageTracker
        # watches (over inproc the memory is the sender's): hold it as long as the array
        weakref.finalize(array, _release, frames[1])
    return array


def _release(_frame: Any) -> None:
    return None
