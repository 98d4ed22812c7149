"""A PUB whose subscriber was full: it drops for that one only, and only while it is full.

puremq's PUB keeps the queues of subscribers subscribed to everything in one shared log
(routing/broadcast.py) and marks a subscriber full there instead of on a lane of its own.
Not run against libzmq: libzmq 4.3 (pyzmq 27.3's) loses messages for the fast subscriber
too once the other one is full (the 20th to 30th message here), which RFC 29 does not
allow ("SHALL silently drop the message if the queue for a subscriber is full").
"""

from __future__ import annotations

from typing import Any, List

import puremq

WAIT_MS = 10000


def _subscriber(ctx: Any, endpoint: str, **options: Any) -> Any:
    sub = ctx.socket(puremq.SUB)
    sub.linger = 0
    for name, value in options.items():
        setattr(sub, name, value)
    sub.subscribe(b"")
    sub.connect(endpoint)
    return sub


def _read_all(sub: Any) -> List[bytes]:
    """Every message the subscriber can read until the PUB has sent nothing for a while."""
    got = []
    while sub.poll(500):
        got.append(sub.recv())
    return got


def test_a_full_subscriber_gets_messages_again_once_it_has_caught_up(ctx: Any) -> None:
    """SHALL silently drop the message if the queue for a subscriber is full -- for that
    subscriber only: another one gets everything; and once the full one has read what it
    had, the messages sent afterwards reach it again."""
    pub = ctx.socket(puremq.PUB)
    pub.sndhwm = 20
    pub.sndbuf = 4096
    pub.linger = 0
    pub.bind("tcp://127.0.0.1:*")
    endpoint = pub.last_endpoint.decode()
    fast = _subscriber(ctx, endpoint, rcvtimeo=WAIT_MS)
    stalled = _subscriber(ctx, endpoint, rcvhwm=1, rcvbuf=4096)
    waiting = [fast, stalled]
    while waiting:  # both subscriptions in force
        pub.send(b"sync")
        waiting = [sub for sub in waiting if not sub.poll(20)]
    _read_all(fast)
    _read_all(stalled)

    count = 3000
    for number in range(count):
        message = b"%06d" % number + b"." * 1000
        pub.send(message)
        assert fast.recv() == message
    early = [int(message[:6]) for message in _read_all(stalled)]
    assert early == sorted(early) and len(early) < count  # dropped, never reordered

    later = [b"later %03d" % number for number in range(100)]
    for message in later:
        pub.send(message)
        assert fast.recv() == message
    got = _read_all(stalled)
    assert got, "the subscriber that was full gets nothing any more"
    assert got == [message for message in later if message in got]  # in order, none twice
    for sock in (stalled, fast, pub):
        sock.close()
