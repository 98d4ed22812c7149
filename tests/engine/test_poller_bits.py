"""The reactor's poller reports READ/WRITE/ERROR; a hang-up or an error is reported as
readable too, so that the handler's read finds it (EOF, or the error from recv)."""

from __future__ import annotations

import socket

from puremq.engine.reactor import ERROR, READ, WRITE, _EpollPoller

WAIT_S = 5.0


def test_a_hang_up_is_reported_as_readable_even_without_read_interest() -> None:
    """A peer's close SHALL be reported with READ and ERROR set, whatever the interest."""
    ours, theirs = socket.socketpair()
    poller = _EpollPoller()
    try:
        poller.register(ours.fileno(), 0)
        theirs.close()
        events = poller.poll(WAIT_S)
        assert len(events) == 1
        fd, mask = events[0]
        assert fd == ours.fileno()
        assert mask & READ and mask & ERROR
    finally:
        poller.close()
        ours.close()


def test_readiness_is_reported_as_read_and_write() -> None:
    """Data waiting SHALL be reported as READ, room to write as WRITE, and nothing else."""
    ours, theirs = socket.socketpair()
    poller = _EpollPoller()
    try:
        poller.register(ours.fileno(), READ | WRITE)
        theirs.send(b"x")
        events = poller.poll(WAIT_S)
        assert events == [(ours.fileno(), READ | WRITE)]
    finally:
        poller.close()
        ours.close()
        theirs.close()
