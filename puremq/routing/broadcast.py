"""A publisher's shared log: each message framed once, for all its subscribers.

Theory of operation
-------------------
A PUB or XPUB whose subscribers are all stream connections, each subscribed to everything
(the usual fan-out), sends every message to every one of them.  Queuing a message on each
subscriber's lane costs the sending thread a loop over the subscribers per message, and each
connection's writer then frames it again.  Instead the sending thread frames the message
once and appends it to a :class:`BroadcastLog`; each subscriber's connection holds a
:class:`LogCursor`, the index of the next entry it writes, and its writer sends everything
between its cursor and the end of the log at once (the entries joined: one copy, one
write).

Entries are framed messages (``bytes``), messages whose frames the connection's encoder
must see as they are (large or zero-copy frames: their ``list``), or a :class:`Skip` naming
the cursors that must not get the message in it (those that were at their high-water mark
when it was sent: a publisher drops only for a full subscriber).

Threads.  Only the sending thread appends, and it alone moves cursors in and out of the
log.  A cursor's position is advanced only by the thread holding its connection's I/O lock
(the writer).  A cursor's ``pipe.peer`` is its connection: the log asks it to wake the
writers (``wake_log``: write now, or schedule this log's ``flush`` on the I/O thread) once
per transition from written-out to holding entries, as a lane does with ``on_items``.  Old entries are cut off when every cursor has passed them: the sender
publishes the shorter list together with the index of its first entry as one tuple
(``window``), so a writer still looking at the previous list sees an older state, never a
gap.

Leaving.  When the socket's subscriptions stop being "everything, for every stream
subscriber" the cursors get a stop index: the writer sends the entries before it and then
the connection goes back to its own lane, where the sender queues what follows.  The writer
reads the end of the log before it reads the stop, so (the GIL orders the steps) an entry
at or after the stop is never taken: had the stop been set before that read of the end,
the writer would have seen it.

High-water mark.  A cursor's queue is the entries after it that do not skip it.  The
sender counts the queues again only every ``room`` messages (the least room any cursor had
at the last count: no queue can have reached the mark before), writing out in its own
thread a connection whose queue did reach it, as it does for full lanes, before it marks
that cursor full.  While some cursor is full the count is made every
``FULL_RECHECK`` messages, so a subscriber that catches up is back within that many.
"""

from __future__ import annotations

from typing import Any, Callable, FrozenSet, List, Optional, Tuple

#: recount the queues this often while a cursor is full
FULL_RECHECK = 16
#: with no high-water mark, the queues are counted only to cut the log this often
UNBOUNDED_RECHECK = 4096
#: cut the log once this many entries are behind every cursor (and half of it is)
TRIM_AT = 1024
#: ... or once about this many bytes are, and count the queues at least that often: with
#: entries of several KiB, TRIM_AT of them (or UNBOUNDED_RECHECK between two counts) would
#: be tens of megabytes already written and still kept.  The bytes are estimated from the
#: size of the entry being appended when the queues are counted (nothing per message).
TRIM_BYTES = 1 << 20
#: a writer takes at most this many entries at once (one write's worth, roughly)
TAKE_MAX = 8192
#: ... and about this many bytes: a writer far behind a publisher of 8 KiB messages would
#: otherwise join TAKE_MAX of them (64 MiB) into one object.  Judged by the size of the
#: first entry taken (messages of a stream tend to be alike; one len() per take); at
#: least TAKE_LEAST entries are taken whatever their size.
TAKE_BYTES = 1 << 20
TAKE_LEAST = 16

_EMPTY: FrozenSet["LogCursor"] = frozenset()


class Skip:
    """An entry some cursors must not get (they were full when it was sent)."""

    __slots__ = ("entry", "cursors")

    def __init__(self, entry: Any, cursors: FrozenSet["LogCursor"]) -> None:
        self.entry = entry
        self.cursors = cursors


class LogCursor:
    """One subscriber connection's place in the log."""

    __slots__ = ("log", "pipe", "pos", "stop", "finished", "skipped", "passed")

    def __init__(self, log: "BroadcastLog", pipe: Any, pos: int) -> None:
        self.log = log
        self.pipe = pipe
        #: index of the next entry to write (writer's)
        self.pos = pos
        #: where this cursor leaves the log (sender's; None while it stays)
        self.stop: Optional[int] = None
        #: the writer has written up to the stop: the connection is back on its lane
        self.finished = False
        #: entries that skip this cursor: appended (sender's), passed over (writer's)
        self.skipped = 0
        self.passed = 0

    def queued(self, end: int) -> int:
        """Entries after the cursor that are for it (sender's view, ``end`` the log's)."""
        return end - self.pos - (self.skipped - self.passed)

    def take(self) -> Optional[List[Any]]:
        """The entries from the cursor on (to the stop, at most TAKE_MAX or about
        TAKE_BYTES), the cursor moved past them; None if there are none.  The caller holds
        the connection's I/O lock."""
        base, entries = self.log.window
        end = base + len(entries)
        stop = self.stop  # read after the end: see "Leaving" above
        if stop is not None and stop < end:
            end = stop
        pos = self.pos
        limit = TAKE_MAX
        if end - pos > TAKE_LEAST:
            first = entries[pos - base]
            by_bytes = TAKE_BYTES // len(first.entry if type(first) is Skip else first)
            limit = min(TAKE_MAX, max(TAKE_LEAST, by_bytes))
        if end - pos > limit:
            end = pos + limit
        elif stop is not None and end == stop:
            self.finished = True
        if pos >= end:
            return None
        self.pos = end
        return entries[pos - base:end - base]

    def take_joined(self) -> Optional[bytes]:
        """take(), as the bytes the connection writes (None if there are none).  Cursors
        that take the same entries (all of them, in a fan-out that keeps up) share one
        join: an entry's index always names the same entry, so equal bounds mean equal
        bytes, unless an entry skips some cursor (those joins are not shared)."""
        start = self.pos
        entries = self.take()
        if entries is None:
            return None
        end = self.pos
        last = self.log.last_join
        if last[0] == start and last[1] == end:
            return last[2]
        try:
            data = b"".join(entries)
        except TypeError:  # a Skip among them
            return joined_for(self, entries)
        self.log.last_join = (start, end, data)
        return data


def joined_for(cursor: LogCursor, entries: List[Any]) -> bytes:
    """What ``cursor``'s connection writes of ``entries`` (which it took): the framed
    messages joined, those that skip it left out (and counted as passed over)."""
    try:
        return b"".join(entries)
    except TypeError:  # a Skip among them
        pass
    kept = []
    for entry in entries:
        if type(entry) is Skip:
            if cursor in entry.cursors:
                cursor.passed += 1
                continue
            entry = entry.entry
        kept.append(entry)
    return b"".join(kept)


class BroadcastLog:
    """The log and its cursors (see the module's theory of operation)."""

    __slots__ = ("entries", "window", "cursors", "leaving", "full", "room", "signaled",
                 "last_join")

    def __init__(self) -> None:
        #: the sender's list (the last one of ``window``)
        self.entries: List[Any] = []
        self.window: Tuple[int, List[Any]] = (0, self.entries)
        self.cursors: List[LogCursor] = []
        #: cursors given a stop whose writers may still be short of it
        self.leaving: List[LogCursor] = []
        #: cursors at their high-water mark: the entries appended now skip them
        self.full: FrozenSet[LogCursor] = _EMPTY
        #: messages the sender may append before it counts the queues again
        self.room = 0
        #: the writers have been told there is something to write (cleared by flush)
        self.signaled = False
        #: the bounds of the last entries a writer joined, and the bytes (take_joined)
        self.last_join: Tuple[int, int, bytes] = (0, 0, b"")

    @property
    def end(self) -> int:
        base, entries = self.window
        return base + len(entries)

    def append(self, entry: Any) -> None:
        """Sender: one message for every cursor that is not full."""
        full = self.full
        if full:
            if len(full) == len(self.cursors):
                return  # full everywhere: dropped
            for cursor in full:
                cursor.skipped += 1
            entry = Skip(entry, full)
        self.entries.append(entry)
        if not self.signaled:
            self.signaled = True
            self.cursors[0].pipe.peer.wake_log(self)

    def flush(self) -> None:
        """Every cursor's connection writes what it has not yet (the I/O thread's flush
        entry point, as a connection's is; ``signaled`` is cleared before they look)."""
        self.signaled = False
        for cursor in self.cursors:
            cursor.pipe.peer.flush()

    # -- membership (sender) ------------------------------------------------------------
    def set_members(self, pipes: List[Any]) -> Tuple[List[LogCursor], bool]:
        """Make ``pipes`` the cursors' pipes: new ones start at the end, the others leave
        there.  Returns the cursors that left (their writers must be told), and False if
        a new pipe's connection refused its cursor (``join_log``: busy, or with something
        to write first): then the log has no cursors and every one it had left."""
        end = self.end
        keep = {id(pipe) for pipe in pipes}
        cursors = [cursor for cursor in self.cursors if id(cursor.pipe) in keep]
        have = {id(cursor.pipe) for cursor in cursors}
        refused = False
        for pipe in pipes:
            if id(pipe) not in have:
                cursor = LogCursor(self, pipe, end)
                cursors.append(cursor)
                if not pipe.peer.join_log(cursor):
                    refused = True
                    break
        if refused:
            # the ones that did join leave again at once: they have nothing to write
            self.cursors = [c for c in cursors if c.pipe.peer.log_cursor is c]
            return self.set_members([])[0], False
        left = [cursor for cursor in self.cursors if id(cursor.pipe) not in keep]
        for cursor in left:
            cursor.stop = end
        self.cursors = cursors
        self.leaving = [c for c in self.leaving if not c.finished] + left
        self.full = frozenset(c for c in self.full if id(c.pipe) in keep)
        self.room = 0
        return left, True

    # -- high-water mark and trimming (sender) --------------------------------------------
    def recount(self, write_out: Callable[[Any], Any], entry_size: int = 0) -> None:
        """Count the cursors' queues: mark the full ones (after ``write_out`` of their pipe
        had its chance), set ``room``, and cut what every cursor has passed.
        ``entry_size`` is the size of the entry about to be appended (the estimate of
        TRIM_BYTES; 0: unknown, the counts alone decide)."""
        end = self.end
        room = UNBOUNDED_RECHECK
        full = []
        for cursor in self.cursors:
            hwm = cursor.pipe.outbound.hwm
            if hwm <= 0:
                continue
            queued = cursor.queued(end)
            if queued >= hwm:
                write_out(cursor.pipe)
                queued = cursor.queued(end)
                if queued >= hwm:
                    full.append(cursor)
                    continue
            if hwm - queued < room:
                room = hwm - queued
        by_bytes = (max(FULL_RECHECK, TRIM_BYTES // entry_size) if entry_size
                    else UNBOUNDED_RECHECK)
        if by_bytes < room:
            room = by_bytes
        self.full = frozenset(full) if full else _EMPTY
        self.room = min(room, FULL_RECHECK) if full else room
        self._trim(min(TRIM_AT, by_bytes))

    def _trim(self, trim_at: int) -> None:
        base, entries = self.window
        if self.leaving:
            self.leaving = [cursor for cursor in self.leaving if not cursor.finished]
        low = base + len(entries)
        for cursor in self.cursors:
            if cursor.pos < low:
                low = cursor.pos
        for cursor in self.leaving:
            if cursor.pos < low:
                low = cursor.pos
        cut = low - base
        if cut >= trim_at and cut * 2 >= len(entries):
            entries = entries[cut:]
            self.entries = entries
            self.window = (low, entries)
