"""The publisher's shared log (routing/broadcast.py): cursors, stops, skips, trimming."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from puremq.routing import broadcast
from puremq.routing.broadcast import BroadcastLog


class _Connection:
    """What the log asks of a cursor's connection: a wake-up, counted."""

    def __init__(self, refuses: bool = False) -> None:
        self.log_cursor = None
        self.wakes = 0
        self.refuses = refuses

    def join_log(self, cursor: Any) -> bool:
        if self.refuses:
            return False
        self.log_cursor = cursor
        return True

    def wake_log(self, log: BroadcastLog) -> None:
        self.wakes += 1


def _pipe(hwm: int = 0, refuses: bool = False) -> Any:
    return SimpleNamespace(peer=_Connection(refuses), outbound=SimpleNamespace(hwm=hwm))


def _log_with(*pipes: Any) -> BroadcastLog:
    log = BroadcastLog()
    assert log.set_members(list(pipes)) == ([], True)
    return log


def _written(cursor: Any) -> bytes:
    """What the cursor's connection writes now (everything it has not yet)."""
    out = []
    while True:
        data = cursor.take_joined()
        if data is None:
            return b"".join(out)
        out.append(data)


def _joined(*entries: bytes) -> bytes:
    return b"".join(entries)


def test_a_cursor_takes_what_was_appended_after_it_joined_once() -> None:
    """Each member writes every entry appended while it is a member, once, in order."""
    first = _pipe()
    log = _log_with(first)
    log.append(b"before")
    second = _pipe()
    log.set_members([first, second])
    for entry in (b"a", b"b"):
        log.append(entry)
    assert _written(first.peer.log_cursor) == _joined(b"before", b"a", b"b")
    assert _written(second.peer.log_cursor) == _joined(b"a", b"b")
    assert first.peer.log_cursor.take() is None


def test_cursors_taking_the_same_entries_share_one_join() -> None:
    """Connections that take the same entries write the same bytes object (one join for
    all); entries that skip a full cursor are joined for each cursor apart."""
    first, second, full = _pipe(hwm=2), _pipe(hwm=2), _pipe(hwm=2)
    log = _log_with(first, second, full)
    log.append(b"a")
    log.append(b"b")
    one, two = first.peer.log_cursor.take_joined(), second.peer.log_cursor.take_joined()
    assert one == b"ab" and one is two
    full.peer.log_cursor.take_joined()
    log.append(b"c")
    log.append(b"d")
    _written(first.peer.log_cursor)
    _written(second.peer.log_cursor)
    log.recount(lambda pipe: None)  # "full" has 2 queued: the next entries skip it
    log.append(b"e")
    assert first.peer.log_cursor.take_joined() == b"e"
    assert full.peer.log_cursor.take_joined() == b"cd"


def test_the_writers_are_woken_once_per_transition_from_written_out() -> None:
    """The log wakes its writers when it goes from written-out to holding entries, not at
    every append; after a flush has cleared ``signaled`` the next append wakes again."""
    pipe = _pipe()
    pipe.peer.flush = lambda: None
    log = _log_with(pipe)
    log.append(b"1")
    log.append(b"2")
    assert pipe.peer.wakes == 1
    log.flush()
    log.append(b"3")
    assert pipe.peer.wakes == 2


def test_a_leaving_cursor_stops_exactly_where_the_log_ended() -> None:
    """A cursor that leaves writes the entries appended before it left and none after:
    what the sender queues on its lane from then on comes next."""
    staying, leaving = _pipe(), _pipe()
    log = _log_with(staying, leaving)
    log.append(b"both")
    cursor = leaving.peer.log_cursor
    assert log.set_members([staying]) == ([cursor], True)
    log.append(b"staying only")
    assert not cursor.finished
    assert _written(cursor) == _joined(b"both")
    assert cursor.finished
    assert _written(staying.peer.log_cursor) == _joined(b"both", b"staying only")


def test_a_refused_cursor_leaves_the_log_without_cursors() -> None:
    """A connection that refuses its cursor (busy, or with something to write first)
    keeps the log from serving anyone: the members it had and those that joined with it
    leave where the log ends, the latter with nothing to write."""
    member, joining, refusing = _pipe(), _pipe(), _pipe(refuses=True)
    log = _log_with(member)
    log.append(b"member's")
    left, joined = log.set_members([member, joining, refusing])
    assert not joined and log.cursors == []
    assert set(left) == {member.peer.log_cursor, joining.peer.log_cursor}
    assert _written(member.peer.log_cursor) == b"member's"
    assert member.peer.log_cursor.finished
    assert _written(joining.peer.log_cursor) == b""
    assert joining.peer.log_cursor.finished
    assert refusing.peer.log_cursor is None


def test_a_writer_takes_at_most_take_max_entries_at_once() -> None:
    """A writer far behind takes the log in pieces of at most TAKE_MAX entries (one
    write's worth), and a leaving cursor is finished only at its stop."""
    pipe = _pipe()
    log = _log_with(pipe)
    for number in range(broadcast.TAKE_MAX + 5):
        log.append(b"%d" % number)
    cursor = pipe.peer.log_cursor
    log.set_members([])
    assert len(cursor.take()) == broadcast.TAKE_MAX
    assert not cursor.finished
    assert cursor.take() == [b"%d" % n for n in range(broadcast.TAKE_MAX,
                                                       broadcast.TAKE_MAX + 5)]
    assert cursor.finished


def test_a_writer_takes_about_take_bytes_of_large_entries_at_once() -> None:
    """A writer far behind a publisher of large messages takes the log in pieces of
    about TAKE_BYTES (not TAKE_MAX entries joined into one object), and every entry once,
    in order; tiny pieces never: at least TAKE_LEAST entries whatever their size."""
    pipe = _pipe()
    log = _log_with(pipe)
    entry_size = 8 * 1024
    count = 2 * broadcast.TAKE_BYTES // entry_size + 7
    for number in range(count):
        log.append(b"%08d" % number + bytes(entry_size - 8))
    cursor = pipe.peer.log_cursor
    pieces = []
    while True:
        data = cursor.take_joined()
        if data is None:
            break
        pieces.append(data)
    assert max(len(piece) for piece in pieces) <= broadcast.TAKE_BYTES
    assert len(pieces) == 3
    joined = b"".join(pieces)
    assert [joined[i:i + 8] for i in range(0, len(joined), entry_size)] == [
        b"%08d" % n for n in range(count)]

    huge = _pipe()
    log = _log_with(huge)
    for _ in range(broadcast.TAKE_LEAST + 1):
        log.append(bytes(broadcast.TAKE_BYTES))
    assert len(huge.peer.log_cursor.take()) == broadcast.TAKE_LEAST


def test_a_cursor_at_its_high_water_mark_is_written_out_then_skipped() -> None:
    """At the count, a cursor whose queue reached the high-water mark is first written out
    (the sender's write_out); if that made no room, what is appended while it is full skips
    it, and the others still get it."""
    slow, fast = _pipe(hwm=3), _pipe(hwm=3)
    log = _log_with(slow, fast)
    written_out = []
    for number in range(3):
        log.append(b"%d" % number)
    assert _written(fast.peer.log_cursor) == _joined(b"0", b"1", b"2")
    log.recount(written_out.append)
    assert written_out == [slow]
    assert log.full == {slow.peer.log_cursor}
    log.append(b"3")
    assert _written(fast.peer.log_cursor) == _joined(b"3")
    assert _written(slow.peer.log_cursor) == _joined(b"0", b"1", b"2")


def test_a_full_cursor_that_caught_up_gets_messages_again() -> None:
    """The skipped entries do not count in a cursor's queue: once it has written what it
    had, the next count finds room for it again."""
    slow, fast = _pipe(hwm=2), _pipe(hwm=2)
    log = _log_with(slow, fast)
    log.append(b"0")
    log.append(b"1")
    log.recount(lambda pipe: None)
    log.append(b"skips slow")
    assert slow.peer.log_cursor.queued(log.end) == 2
    assert _written(slow.peer.log_cursor) == _joined(b"0", b"1")
    assert slow.peer.log_cursor.queued(log.end) == 0
    _written(fast.peer.log_cursor)
    log.recount(lambda pipe: None)
    assert not log.full
    log.append(b"again")
    assert _written(slow.peer.log_cursor) == _joined(b"again")


def test_while_a_cursor_is_full_the_queues_are_counted_often() -> None:
    """While a cursor is full the sender counts again within FULL_RECHECK messages; with
    room everywhere, only when the fullest queue could have reached the mark."""
    slow, fast = _pipe(hwm=100), _pipe(hwm=100)
    log = _log_with(slow, fast)
    for _ in range(100):
        log.append(b"x")
    _written(fast.peer.log_cursor)
    log.recount(lambda pipe: None)
    assert log.room == broadcast.FULL_RECHECK
    _written(slow.peer.log_cursor)
    log.append(b"y")
    log.recount(lambda pipe: None)
    assert log.room == 99


def test_an_entry_is_dropped_when_every_cursor_is_full() -> None:
    """A message for which every subscriber is full is dropped outright."""
    only = _pipe(hwm=1)
    log = _log_with(only)
    log.append(b"kept")
    log.recount(lambda pipe: None)
    log.append(b"dropped")
    assert _written(only.peer.log_cursor) == _joined(b"kept")


def test_entries_every_cursor_passed_are_cut_off() -> None:
    """Once every cursor (a leaving one too) is past TRIM_AT entries and half the log, the
    count cuts those off; a cursor then still takes exactly what follows it."""
    ahead, behind = _pipe(), _pipe()
    log = _log_with(ahead, behind)
    total = 3 * broadcast.TRIM_AT
    for number in range(total):
        log.append(b"%d" % number)
    _written(ahead.peer.log_cursor)
    behind_cursor = behind.peer.log_cursor
    log.set_members([ahead])  # behind leaves, still short of its stop
    log.recount(lambda pipe: None)
    assert log.window[0] == 0  # held back by the leaving cursor
    behind_cursor.pos = 2 * broadcast.TRIM_AT  # its writer has written that many
    log.recount(lambda pipe: None)
    base, entries = log.window
    assert base == 2 * broadcast.TRIM_AT
    assert len(entries) == total - base
    assert _written(behind_cursor) == b"".join(b"%d" % n for n in range(base, total))
    log.append(b"next")
    assert _written(ahead.peer.log_cursor) == _joined(b"next")


def _publish(log: BroadcastLog, entry: bytes) -> None:
    """What XPub.xsend does with the log per message: count down, recount, append."""
    log.room -= 1
    if log.room <= 0:
        log.recount(lambda pipe: None, len(entry))
    log.append(entry)


def _kept_bytes(log: BroadcastLog) -> int:
    return sum(len(entry) for entry in log.window[1])


def test_written_entries_of_several_kib_are_cut_off_by_their_bytes() -> None:
    """With subscribers that keep up, the log SHALL keep about TRIM_BYTES of entries
    already written, however large they are (up to what the log takes), with a
    high-water mark and without one."""
    for hwm in (0, 1000):
        member = _pipe(hwm=hwm)
        log = _log_with(member)
        cursor = member.peer.log_cursor
        entry = b"\x02" + bytes(8 << 10)
        most = 0
        for _ in range(3 * broadcast.UNBOUNDED_RECHECK):
            _publish(log, entry)
            _written(cursor)
            most = max(most, _kept_bytes(log))
        assert most <= 4 * broadcast.TRIM_BYTES, (hwm, most)


def test_small_entries_are_still_cut_off_by_their_count() -> None:
    """Short messages (the usual fan-out) are cut off TRIM_AT entries at a time, not
    every few hundred bytes' worth."""
    member = _pipe(hwm=1000)
    log = _log_with(member)
    cursor = member.peer.log_cursor
    bases = set()
    for number in range(4 * broadcast.UNBOUNDED_RECHECK):
        _publish(log, b"%08d" % number)
        _written(cursor)
        bases.add(log.window[0])
    cuts = sorted(bases)
    assert min(b - a for a, b in zip(cuts, cuts[1:])) >= broadcast.TRIM_AT
