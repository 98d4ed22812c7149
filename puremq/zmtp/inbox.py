"""Bytes read from a connection, handed out one single-frame message at a time.

Theory of operation
-------------------
The usual receive path decodes everything a read returned into message lists and queues
them in the pipe; the socket then takes them one by one.  For a stream of small single-part
messages that is most of the receiver's cost: a list and a queue entry per message, and the
fair queue's bookkeeping, all to hand over one bytes object.

A ``PlainInbox`` skips that when the stream allows it.  The reader (the application thread
reading its only peer itself) puts a whole read into the inbox while the connection's
decoder is at a message boundary; ``recv`` then slices each message straight out of it.
Only the plainest frame is served from here: a final (no MORE flag) message frame, short or
long, that is complete in the bytes.  At anything else (a command, a multipart message, a
frame cut by the end of the read, the end itself) the reader gives what is left back to the
connection's decoder (``rest``), which decodes it as if it had been read just now.  So the
decoder sees the same stream, in order, with some whole messages taken out of it at frame
boundaries, which is exactly what it would have queued for the socket.

The inbox is the socket owner's: only its thread reads or changes it.  No size limit is
checked here; the reader uses the inbox only when MAXMSGSIZE is unlimited.
"""

from __future__ import annotations

import struct
from typing import Any, List, Optional, Tuple

from .framing import FLAG_COMMAND, FLAG_LONG, FLAG_MORE

#: a long frame's size, from the 8 octets at an offset
unpack_u64 = struct.Struct(">Q").unpack_from
_unpack_u64 = unpack_u64

#: flags byte of a final message frame, short (one size byte) and long (eight)
FINAL_SHORT = 0x00
FINAL_LONG = 0x02
#: flags byte of the empty delimiter frame that begins a REQ's or REP's message
DELIMITER_FLAGS = FLAG_MORE


class PlainInbox:
    """Unparsed bytes at a message boundary, and the position of the next frame."""

    __slots__ = ("data", "pos", "end", "source", "alone")

    def __init__(self) -> None:
        #: the bytes of one read, or None when the inbox is empty
        self.data: Optional[bytes] = None
        self.pos = 0
        self.end = 0
        #: who the bytes came from (the reader's business)
        self.source: Any = None
        #: the body of a read that was exactly one whole message of the kind the reader
        #: asked for (see ``whole_message``): the reader hands it out at once, so it is
        #: neither parsed here nor ever given back to the decoder
        self.alone: Optional[bytes] = None

    def fill(self, data: bytes, source: Any) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.source = source

    def next_frame(self) -> Optional[bytes]:
        """The next message if it is a single complete frame, else None (see ``rest``).

        ``Socket.recv`` inlines this method: keep them alike.
        """
        data = self.data
        if data is None:
            return None
        pos = self.pos
        end = self.end
        if end - pos < 2:
            return None
        flags = data[pos]
        if flags == FINAL_SHORT:
            start = pos + 2
            stop = start + data[pos + 1]
        elif flags == FINAL_LONG and end - pos >= 9:
            start = pos + 9
            stop = start + _unpack_u64(data, pos + 1)[0]
        else:
            return None
        if stop > end:
            return None
        self.pos = stop
        return data[start:stop]

    def next_delimited(self) -> Optional[bytes]:
        """The body of the next message if it is an empty delimiter frame (MORE) and a
        final frame -- a request or reply as REQ and REP send them -- complete in the
        bytes; else None (and nothing is taken)."""
        data = self.data
        if data is None:
            return None
        pos = self.pos
        if self.end - pos < 4 or data[pos] != DELIMITER_FLAGS or data[pos + 1]:
            return None
        self.pos = pos + 2
        body = self.next_frame()
        if body is None:
            self.pos = pos
        return body

    def plain_run_end(self) -> int:
        """Where the run of plain messages from ``pos`` on ends: the end of the last of
        the whole final message frames that follow each other there (``pos`` if none).
        The bytes in between are those messages exactly as a connection sends them."""
        data = self.data
        pos = self.pos
        if data is None:
            return pos
        end = self.end
        while pos + 2 <= end:
            flags = data[pos]
            if flags == FINAL_SHORT:
                stop = pos + 2 + data[pos + 1]
            elif flags == FINAL_LONG and pos + 9 <= end:
                stop = pos + 9 + _unpack_u64(data, pos + 1)[0]
            else:
                break
            if stop > end:
                break
            pos = stop
        return pos

    def rest(self) -> bytes:
        """Empty the inbox; the bytes not handed out yet (for the decoder)."""
        data = self.data
        if data is None:
            return b""
        pos = self.pos
        self.data = None
        self.source = None
        return data[pos:] if pos else data

    def drop(self) -> None:
        """Forget the bytes (the socket is closing, or its context terminating)."""
        self.data = None


#: a command frame's body starts with its name's length and the name
#: what a reader may take whole out of a read (whole_message)
ALONE_NONE = 0
ALONE_PLAIN = 1
ALONE_DELIMITED = 2


def whole_message(data: bytes, kind: int) -> Optional[bytes]:
    """The body if ``data`` (read at a message boundary) is exactly one message of
    ``kind``: one short final frame (ALONE_PLAIN), or an empty delimiter and one short
    final frame (ALONE_DELIMITED, a request or reply of REQ and REP); else None.

    One message per read is how requests and replies usually arrive; taken whole, it
    skips the inbox's parsing and giving back."""
    size = len(data)
    if kind == ALONE_PLAIN:
        if data[0] == FINAL_SHORT and size == data[1] + 2:
            return data[2:]
    elif kind == ALONE_DELIMITED:
        if (size >= 4 and data[0] == DELIMITER_FLAGS and not data[1]
                and data[2] == FINAL_SHORT and size == data[3] + 4):
            return data[4:]
    return None


_PING_NAME = b"\x04PING"


def ping_frames(data: Any, pos: int = 0, first: int = 0) -> Tuple[List[Tuple[int, int]], int]:
    """The whole PING command frames among the whole frames of ``data`` from ``pos`` on,
    as (start, end), leaving out any that starts before ``first``; and where the run of
    whole frames ends (the start of a frame cut by the end of ``data``).

    For a connection whose owner holds a read (the inbox): what arrives behind it is
    scanned for PINGs, which are answered at once and taken out of the bytes."""
    end = len(data)
    pings: List[Tuple[int, int]] = []
    while pos + 2 <= end:
        flags = data[pos]
        if flags & FLAG_LONG:
            if pos + 9 > end:
                break
            start = pos + 9
            stop = start + _unpack_u64(data, pos + 1)[0]
        else:
            start = pos + 2
            stop = start + data[pos + 1]
        if stop > end:
            break
        if (flags & FLAG_COMMAND and pos >= first
                and data[start:start + 5] == _PING_NAME):
            pings.append((pos, stop))
        pos = stop
    return pings, pos
