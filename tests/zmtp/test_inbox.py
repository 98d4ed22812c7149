"""PlainInbox hands out single complete frames, stops at anything else, and gives back
exactly the bytes it did not hand out; FrameDecoder.take_tail lets go of a cut frame only
between messages."""

from __future__ import annotations

import struct

import pytest

from puremq.zmtp.framing import FrameDecoder
from puremq.zmtp.inbox import (ALONE_DELIMITED, ALONE_NONE, ALONE_PLAIN, PlainInbox,
                               whole_message)


def short(flags: int, body: bytes) -> bytes:
    return bytes((flags, len(body))) + body


def long(flags: int, body: bytes) -> bytes:
    return bytes((flags | 0x02,)) + struct.pack(">Q", len(body)) + body


def filled(data: bytes) -> PlainInbox:
    inbox = PlainInbox()
    inbox.fill(data, "source")
    return inbox


def test_short_and_long_final_frames_come_out_in_order() -> None:
    data = short(0, b"a") + long(0, b"b" * 300) + short(0, b"") + long(0, b"")
    inbox = filled(data)
    assert [inbox.next_frame() for _ in range(4)] == [b"a", b"b" * 300, b"", b""]
    assert inbox.next_frame() is None
    assert inbox.rest() == b""


#: what ends a run of plain messages: multipart messages and commands, short and long
NOT_SINGLE_FRAME_MESSAGES = [
    short(0x01, b"first part") + short(0, b"last part"),  # multipart
    short(0x04, b"\x04PING\x00\x00"),                     # command
    long(0x01, b"x" * 300) + short(0, b"y"),              # long multipart
    long(0x04, b"\x07MESSAGE" + b"z" * 300),              # long command
]


@pytest.mark.parametrize("stopper", NOT_SINGLE_FRAME_MESSAGES)
def test_anything_but_a_single_frame_message_stops_it(stopper: bytes) -> None:
    data = short(0, b"one") + stopper + short(0, b"after")
    inbox = filled(data)
    assert inbox.next_frame() == b"one"
    assert inbox.next_frame() is None
    assert inbox.next_frame() is None  # stays stopped
    assert inbox.rest() == stopper + short(0, b"after")
    assert inbox.data is None and inbox.source is None


@pytest.mark.parametrize("cut", range(1, 12))
def test_a_frame_cut_by_the_end_of_the_read_is_given_back_whole(cut: int) -> None:
    frame = long(0, b"q" * 300)
    data = short(0, b"one") + frame[:cut]
    inbox = filled(data)
    assert inbox.next_frame() == b"one"
    assert inbox.next_frame() is None
    assert inbox.rest() == frame[:cut]


def test_a_short_frame_cut_after_its_flags_is_given_back() -> None:
    inbox = filled(short(0, b"one") + b"\x00")
    assert inbox.next_frame() == b"one"
    assert inbox.next_frame() is None
    assert inbox.rest() == b"\x00"


def test_rest_of_an_untouched_inbox_is_the_whole_read_and_drop_forgets_it() -> None:
    data = short(0, b"x") * 3
    assert filled(data).rest() == data
    inbox = filled(data)
    inbox.drop()
    assert inbox.next_frame() is None
    assert inbox.rest() == b""


def test_take_tail_gives_back_a_cut_frame_between_messages() -> None:
    decoder = FrameDecoder()
    stream = short(0, b"m1") + long(0, b"m" * 300)
    assert decoder.decode(stream[:10]) == [[b"m1"]]
    tail = decoder.take_tail()
    assert tail == stream[4:10]
    assert decoder.take_tail() == b""
    # the caller parses on from the tail: the decoder, fed what follows the caller's
    # stopping point, carries on as if it had seen all of it
    assert decoder.decode(short(0, b"m2")) == [[b"m2"]]


def test_take_tail_refuses_in_the_middle_of_a_multipart_message() -> None:
    decoder = FrameDecoder()
    assert decoder.decode(short(0x01, b"part") + b"\x00") == []
    assert decoder.take_tail() is None
    assert decoder.decode(b"\x04last") == [[b"part", b"last"]]


def test_take_tail_refuses_inside_a_large_body() -> None:
    decoder = FrameDecoder()
    body = b"b" * (1 << 20)
    frame = long(0, body)
    assert decoder.decode(frame[:100_000]) == []
    assert decoder.take_tail() is None
    assert decoder.decode(frame[100_000:]) == [[body]]


# -- runs of plain messages (a relay forwards them as they are) ------------------------------
def test_a_run_spans_every_whole_single_frame_message_in_a_row() -> None:
    """plain_run_end SHALL cover consecutive final message frames, short and long,
    empty ones included, and not move the inbox."""
    run = short(0, b"a") + long(0, b"b" * 300) + short(0, b"") + long(0, b"")
    inbox = filled(run)
    assert inbox.plain_run_end() == len(run)
    assert inbox.pos == 0
    assert inbox.next_frame() == b"a"
    assert inbox.plain_run_end() == len(run)


@pytest.mark.parametrize("stopper", NOT_SINGLE_FRAME_MESSAGES)
def test_a_run_ends_before_anything_but_a_single_frame_message(stopper: bytes) -> None:
    """A run SHALL never include a part of a multipart message or a command: those are
    not messages a connection may send as they are, one after another."""
    head = short(0, b"one") + long(0, b"two" * 100)
    inbox = filled(head + stopper + short(0, b"after"))
    assert inbox.plain_run_end() == len(head)
    inbox = filled(stopper + short(0, b"after"))
    assert inbox.plain_run_end() == 0


@pytest.mark.parametrize("cut", [1, 2, 5, 9, 10, 200])
def test_a_run_ends_before_a_frame_the_read_cut(cut: int) -> None:
    """A run SHALL hold whole frames only."""
    head = short(0, b"one") + long(0, b"two" * 100)
    for frame in (long(0, b"c" * 300), short(0, b"c" * 250)):
        inbox = filled(head + frame[:cut])
        assert inbox.plain_run_end() == len(head)


def test_an_empty_inbox_has_an_empty_run() -> None:
    inbox = PlainInbox()
    assert inbox.plain_run_end() == inbox.pos


# -- requests and replies (next_delimited, for REQ and REP) --------------------------------
def test_a_delimiter_and_a_final_frame_give_the_body() -> None:
    """A REQ's request or a REP's reply, ``[b"", body]``, short or long, and the next."""
    data = (short(0x01, b"") + short(0, b"ping") + short(0x01, b"") + long(0, b"L" * 300)
            + short(0x01, b"") + short(0, b""))
    inbox = filled(data)
    assert [inbox.next_delimited() for _ in range(3)] == [b"ping", b"L" * 300, b""]
    assert inbox.next_delimited() is None
    assert inbox.rest() == b""


#: what is not a plain request or reply, and stays where it is
NOT_DELIMITED = [
    short(0, b"single frame"),
    short(0x01, b"id") + short(0x01, b"") + short(0, b"routed"),   # an envelope first
    short(0x01, b"") + short(0x01, b"a") + short(0, b"b"),         # two body frames
    long(0x01, b"") + short(0, b"long delimiter"),
    short(0x04, b"\x04PING\x00\x00"),
    short(0x01, b"") + short(0x01, b""),                            # no body frame
]


@pytest.mark.parametrize("data", NOT_DELIMITED)
def test_anything_else_is_left_whole_in_the_inbox(data: bytes) -> None:
    inbox = filled(data + short(0x01, b"") + short(0, b"after"))
    assert inbox.next_delimited() is None
    assert inbox.pos == 0
    assert inbox.rest() == data + short(0x01, b"") + short(0, b"after")


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 10, 11, 310])
def test_a_request_cut_by_the_end_of_the_read_is_left_whole(cut: int) -> None:
    data = (short(0x01, b"") + long(0, b"c" * 300))[:cut]
    inbox = filled(data)
    assert inbox.next_delimited() is None
    assert inbox.rest() == data


# -- a read that is exactly one message (whole_message) --------------------------------------
@pytest.mark.parametrize("body", [b"", b"x", b"r" * 255])
def test_a_read_of_exactly_one_plain_message_is_taken_whole(body: bytes) -> None:
    assert whole_message(short(0, body), ALONE_PLAIN) == body


@pytest.mark.parametrize("body", [b"", b"x", b"r" * 255])
def test_a_read_of_exactly_one_request_or_reply_is_taken_whole(body: bytes) -> None:
    assert whole_message(short(0x01, b"") + short(0, body), ALONE_DELIMITED) == body


@pytest.mark.parametrize("data", [
    short(0, b"one") + short(0, b"two"),        # two messages
    short(0, b"cut")[:-1],                      # a frame the read cut
    short(0, b"one") + b"\x00",                 # and the start of another
    long(0, b"l" * 300),                        # a long frame
    short(0x01, b"more") + short(0, b"last"),   # a multipart message
    short(0x04, b"\x04PING\x00\x00"),           # a command
    short(0x01, b"") + short(0, b"reply"),      # delimited, where plain is asked for
], ids=["two", "cut", "more-bytes", "long", "multipart", "command", "delimited"])
def test_anything_but_one_plain_message_is_left_to_the_inbox(data: bytes) -> None:
    assert whole_message(data, ALONE_PLAIN) is None


@pytest.mark.parametrize("data", [
    short(0, b"plain"),                                           # no delimiter
    short(0x01, b"") + short(0, b"one") + short(0, b"two"),       # and another message
    short(0x01, b"") + short(0, b"cut")[:-1],                     # cut
    short(0x01, b"id") + short(0x01, b"") + short(0, b"body"),    # an envelope first
    short(0x01, b"") + short(0x01, b"") + short(0, b"body"),      # two delimiters
    short(0x01, b"") + long(0, b"l" * 300),                       # a long body
    short(0x01, b""),                                             # the delimiter alone
], ids=["plain", "two", "cut", "envelope", "two-delimiters", "long", "delimiter-only"])
def test_anything_but_one_request_or_reply_is_left_to_the_inbox(data: bytes) -> None:
    assert whole_message(data, ALONE_DELIMITED) is None


def test_nothing_is_taken_whole_unless_asked() -> None:
    assert whole_message(short(0, b"x"), ALONE_NONE) is None
