"""Subscriptions across implementations: PUB/XPUB against SUB/XSUB, each end played by each
implementation, each binding, over tcp and ipc.

An XSUB does not filter what it receives (libzmq: only SUB filters locally), so with an XSUB
receiver these tests see exactly what the publisher put on the wire: the publisher's own
filtering is what is checked.  With a SUB they check the end-to-end behaviour.
"""

from __future__ import annotations

import pytest

from .harness import Case, Net, cases

PUBSUB_PAIRS = ["PUB-SUB", "PUB-XSUB", "XPUB-SUB", "XPUB-XSUB"]
XPUB_PAIRS = ["XPUB-SUB", "XPUB-XSUB"]


def receive_until(link, last):
    """Messages b receives, up to and including ``last`` (markers skipped)."""
    got = []
    while True:
        message = link.recv("b")
        got.append(message)
        if message == last:
            return got


@pytest.mark.parametrize("case", cases(PUBSUB_PAIRS))
def test_prefix_filtering(net: Net, case: Case) -> None:
    """A subscription matches every message whose first frame starts with the topic, and
    nothing else; later frames of a matching message are delivered with it.  Holds for a
    subscription made before connecting and for one made on the live connection."""
    link = net.link(case, topics=[b"ab"])
    published = [[b"a"], [b"abc"], [b"b"], [b"ab"], [b"xab"], [b"AB"], [b"ab", b"more"],
                 [b"a", b"b"], [b""], [b"ab-end"]]
    for message in published:
        link.sock["a"].send_multipart(message)
    assert receive_until(link, [b"ab-end"]) == [[b"abc"], [b"ab"], [b"ab", b"more"],
                                               [b"ab-end"]]

    link.subscribe(b"live")
    link.publish_until([b"live:sync"])
    for message in [[b"liv"], [b"live"], [b"ab!"], [b"xlive"], [b"lively", b""], [b"end"],
                    [b"ab-end"]]:
        link.sock["a"].send_multipart(message)
    assert receive_until(link, [b"ab-end"]) == [[b"live"], [b"ab!"], [b"lively", b""],
                                               [b"ab-end"]]


@pytest.mark.parametrize("case", cases(PUBSUB_PAIRS))
def test_unsubscribe_stops_delivery(net: Net, case: Case) -> None:
    """After an unsubscribe reaches the publisher, messages on that topic stop arriving
    while the other subscriptions keep flowing."""
    link = net.link(case, topics=[b"keep", b"drop"])
    for message in [[b"drop-1"], [b"keep-1"]]:
        link.sock["a"].send_multipart(message)
    assert [link.recv("b"), link.recv("b")] == [[b"drop-1"], [b"keep-1"]]

    link.unsubscribe(b"drop")
    link.fence(b"after-drop")  # the unsubscribe is now in force at the publisher
    for message in [[b"drop-2"], [b"keep-2"], [b"drop-3"], [b"keep-3"]]:
        link.sock["a"].send_multipart(message)
    assert [link.recv("b"), link.recv("b")] == [[b"keep-2"], [b"keep-3"]]

    link.subscribe(b"drop")
    link.fence(b"after-resubscribe")
    link.sock["a"].send_multipart([b"drop-4"])
    assert link.recv("b") == [b"drop-4"]


@pytest.mark.parametrize("case", cases(XPUB_PAIRS))
def test_xpub_sees_subscription_messages(net: Net, case: Case) -> None:
    """XPUB receives every subscription as ``\\x01topic`` and every cancel as ``\\x00topic``,
    in the order the subscriber made them: before connecting, live, empty topic, binary
    topic."""
    link = net.link(case, topics=[b"pre"])  # the harness checks XPUB saw b"\x01pre"
    for topic in [b"post", b"", b"\x00\xffbin", b"x" * 300]:
        link.subscribe(topic)  # each checks the XPUB received b"\x01" + topic
    for topic in [b"pre", b"", b"\x00\xffbin"]:
        link.unsubscribe(topic)  # each checks the XPUB received b"\x00" + topic
    link.fence(b"end")
    assert link.sock["a"].poll(50) == 0, "XPUB received more than the subscriber sent"


@pytest.mark.parametrize("case", cases(XPUB_PAIRS))
def test_xpub_sees_first_subscribe_and_last_cancel(net: Net, case: Case) -> None:
    """Subscriptions are counted: a repeated subscribe reaches the XPUB application once, a
    cancel only when the last one goes, and a cancel of a topic never subscribed not at
    all (what libzmq shows whichever end it plays)."""
    link = net.link(case)
    sub_type = case.pair.b
    for prefix, topic in [(b"\x01", b"a"), (b"\x01", b"a"), (b"\x00", b"a"),
                          (b"\x00", b"never"), (b"\x00", b"a"), (b"\x01", b"fence")]:
        if sub_type == "XSUB":
            link.sock["b"].send(prefix + topic)
        elif prefix == b"\x01":
            link.sock["b"].subscribe(topic)
        else:
            link.sock["b"].unsubscribe(topic)
    got = link.recv_nudging_peer("a", 3)
    assert got == [b"\x01a", b"\x00a", b"\x01fence"]
    link.publish_until([b"fence"])
    assert link.sock["a"].poll(50) == 0, "XPUB received more than the subscriber sent"


@pytest.mark.parametrize("case", cases(["XPUB-XSUB"]))
def test_xsub_sends_other_messages_upstream(net: Net, case: Case) -> None:
    """A message an XSUB sends that is neither a subscribe nor a cancel goes upstream to the
    XPUB as an ordinary message (libzmq behaviour).  Not covered: a multipart message with
    frames starting with 0x00 / 0x01, which libzmq's XSUB and XPUB handle frame by frame."""
    link = net.link(case)
    for message in [[b"\x02hello upstream"], [b"plain"], [b"multi", b"", b"part"]]:
        link.sock["b"].send_multipart(message)
        assert link.sock["a"].recv_multipart() == message
