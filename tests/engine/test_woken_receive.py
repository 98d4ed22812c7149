"""A blocking receive woken by a message hands it over before it drains the wake-up.

The eventfd read that drains a wake-up is left to the socket's next re-arm (its next wait,
or an EVENTS read), which comes after the caller's reply instead of before it: on the
critical path of an inproc round trip there is then one syscall fewer per side.  What must
hold: the message is returned, the wake-up is drained later (the fd never stays readable
past an EVENTS read), and the next wait still waits and is still woken.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, List

import puremq

WAIT_S = 5.0


class RecordingSignaler:
    """The socket's signaler, noting each wait's return and each clear that drained."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.log: List[str] = []
        #: set as the owner is about to block (a message sent after this wakes it)
        self.waiting = threading.Event()

    def wait(self, timeout_ms: Any) -> bool:
        self.waiting.set()
        ready = self.real.wait(timeout_ms)
        self.log.append("woken")
        return ready

    def clear(self) -> bool:
        drained = self.real.clear()
        if drained:
            self.log.append("drained")
        return drained

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_woken_receive_returns_the_message_and_leaves_the_drain_to_the_next_arm() -> None:
    """A receive that waited returns the message that woke it with no eventfd read after
    the wake-up; EVENTS then drains it (the fd is quiet), and a second receive waits and
    is woken again."""
    ctx = puremq.Context()
    pull, push = ctx.socket(puremq.PULL), ctx.socket(puremq.PUSH)
    results: List[Any] = []
    try:
        for sock in (pull, push):
            sock.linger = 0
            sock.rcvtimeo = sock.sndtimeo = int(WAIT_S * 1000)
        name = f"inproc://{uuid.uuid4().hex}"
        pull.bind(name)
        push.connect(name)
        engine = pull._engine
        recorder = RecordingSignaler(engine.signaler)
        engine.signaler = recorder

        def receive() -> None:
            try:
                results.append(pull.recv())
            except Exception as exc:  # reported by the assertions below
                results.append(exc)

        receiver = threading.Thread(target=receive)
        receiver.start()
        assert recorder.waiting.wait(WAIT_S), "the receiver never waited"
        push.send(b"first")
        receiver.join(WAIT_S)
        assert not receiver.is_alive()
        assert results == [b"first"]
        assert "woken" in recorder.log
        after_wake = recorder.log[recorder.log.index("woken") + 1:]
        assert "drained" not in after_wake, "the wake-up was drained before the message " \
                                            "was handed over"

        # the wake-up is still pending: the next re-arm drains it, and the fd is quiet
        pull.get(puremq.EVENTS)
        assert recorder.log[-1] == "drained"
        assert not engine.fd_pending

        # and a second receive waits again (the drain did not eat its wake-up)
        recorder.log.clear()
        recorder.waiting.clear()
        receiver = threading.Thread(target=receive)
        receiver.start()
        assert recorder.waiting.wait(WAIT_S), "the second receiver never waited"
        push.send(b"second")
        receiver.join(WAIT_S)
        assert not receiver.is_alive()
        assert results == [b"first", b"second"]
    finally:
        pull.close(0)
        push.close(0)
        ctx.term()


def test_woken_receive_of_a_closed_context_raises_eterm() -> None:
    """A receive woken by the context's termination raises ETERM, not a message that
    arrived meanwhile (the woken look skips a terminated context: the loop's checks
    decide)."""
    ctx = puremq.Context()
    pull, push = ctx.socket(puremq.PULL), ctx.socket(puremq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
        sock.rcvtimeo = int(WAIT_S * 1000)
    name = f"inproc://{uuid.uuid4().hex}"
    pull.bind(name)
    push.connect(name)
    engine = pull._engine
    recorder = RecordingSignaler(engine.signaler)
    engine.signaler = recorder
    results: List[Any] = []

    def receive() -> None:
        try:
            results.append(pull.recv())
        except puremq.ZMQError as exc:
            results.append(exc.errno)
        pull.close(0)

    receiver = threading.Thread(target=receive)
    receiver.start()
    assert recorder.waiting.wait(WAIT_S), "the receiver never waited"
    # the message is queued but the wake-up is left to the termination
    engine.armed = False
    push.send(b"late")
    terminator = threading.Thread(target=ctx.term)
    terminator.start()
    receiver.join(WAIT_S)
    push.close(0)  # (closed only now: its pipe's detach would reach the receiver first)
    terminator.join(WAIT_S)
    assert not receiver.is_alive() and not terminator.is_alive()
    assert results == [puremq.ETERM]
