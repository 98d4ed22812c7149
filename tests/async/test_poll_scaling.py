"""Poller, zmq.select and the asyncio Poller over 500 sockets: the cost of a poll grows
with what is ready, not with what is registered.

A puremq socket's readiness is computed in Python (no syscall) and its FD is read only
when it was signalled; all the FDs then go into one poll(2).  The tests count the calls
that would be syscalls -- ``os.read`` on the sockets' FDs and ``poll()`` on the objects
puremq.poll makes -- instead of timing anything.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
import uuid
from typing import Any, List, Set

import pytest

import puremq
import puremq.asyncio
import puremq.poll

from .conftest import new_loop

SOCKETS = 500
READY = 3


class Counter:
    """Stands in for the ``select`` module inside puremq.poll and counts poll() calls;
    also counts os.read calls on a given set of fds."""

    def __init__(self, monkeypatch: Any, fds: Set[int]) -> None:
        self.polls = 0
        self.reads = 0
        self.fds = fds
        counter = self
        real_read = os.read

        class CountingPoll:
            def __init__(self) -> None:
                self._real = select.poll()

            def register(self, fd: int, mask: int) -> None:
                self._real.register(fd, mask)

            def poll(self, timeout: Any = None) -> Any:
                counter.polls += 1
                return self._real.poll(timeout)

        class Module:
            def __getattr__(self, name: str) -> Any:
                return getattr(select, name)

            poll = CountingPoll

        def read(fd: int, size: int) -> bytes:
            if fd in counter.fds:
                counter.reads += 1
            return real_read(fd, size)

        monkeypatch.setattr(puremq.poll, "_select", Module())
        monkeypatch.setattr(os, "read", read)

    def reset(self) -> None:
        self.polls = 0
        self.reads = 0


def _many(ctx: Any) -> List[Any]:
    socks = []
    for _ in range(SOCKETS):
        sock = ctx.socket(puremq.PULL)
        sock.linger = 0
        sock.bind(f"inproc://{uuid.uuid4().hex}")
        socks.append(sock)
    return socks


def _feeders(ctx: Any, targets: List[Any]) -> List[Any]:
    pushes = []
    for target in targets:
        push = ctx.socket(puremq.PUSH, socket_class=puremq.Socket)  # plain, even here
        push.linger = 0
        push.connect(target.last_endpoint)
        pushes.append(push)
    return pushes


@pytest.fixture
def many(ctx: Any) -> Any:
    socks = _many(ctx)
    chosen = [socks[7], socks[250], socks[499]]
    return socks, chosen, _feeders(ctx, chosen)


def test_poller_reads_only_signalled_fds_and_polls_once(many: Any, monkeypatch: Any) -> None:
    socks, chosen, pushes = many
    poller = puremq.Poller()
    for sock in socks:
        poller.register(sock, puremq.POLLIN)
    assert poller.poll(0) == []  # every fd armed
    counter = Counter(monkeypatch, {s.FD for s in socks})
    for push in pushes:
        push.send(b"x")
    counter.reset()
    ready = poller.poll(5000)
    assert {s for s, _e in ready} == set(chosen)
    assert counter.polls == 1
    assert counter.reads <= READY


def test_poller_blocking_wait_costs_two_polls(many: Any, monkeypatch: Any) -> None:
    """Nothing ready, then one message from a thread: one blocking poll(2) over all 500
    fds, one more to collect; one fd read."""
    socks, chosen, pushes = many
    poller = puremq.Poller()
    for sock in socks:
        poller.register(sock, puremq.POLLIN)
    assert poller.poll(0) == []
    counter = Counter(monkeypatch, {s.FD for s in socks})
    timer = threading.Timer(0.05, lambda: pushes[1].send(b"late"))
    counter.reset()
    timer.start()
    try:
        ready = poller.poll(5000)
    finally:
        timer.join()
    assert [s for s, _e in ready] == [chosen[1]]
    assert counter.polls <= 2
    assert counter.reads <= 1


def test_poller_timeout_with_nothing_ready(many: Any, monkeypatch: Any) -> None:
    socks, _chosen, _pushes = many
    poller = puremq.Poller()
    for sock in socks:
        poller.register(sock, puremq.POLLIN)
    poller.poll(0)
    counter = Counter(monkeypatch, {s.FD for s in socks})
    start = time.monotonic()
    assert poller.poll(30) == []
    assert time.monotonic() - start >= 0.025
    assert counter.polls <= 2
    assert counter.reads == 0


def test_select_over_500_sockets(many: Any, monkeypatch: Any) -> None:
    socks, chosen, pushes = many
    assert puremq.select(socks, [], [], 0) == ([], [], [])
    counter = Counter(monkeypatch, {s.FD for s in socks})
    for push in pushes:
        push.send(b"x")
    counter.reset()
    readable, writable, errored = puremq.select(socks, [], [], 5)
    assert set(readable) == set(chosen) and writable == [] and errored == []
    assert counter.polls == 1
    assert counter.reads <= READY


@pytest.mark.parametrize("loop_kind", ["asyncio", "noreader"])
def test_async_poller_over_500_sockets(loop_kind: str, monkeypatch: Any) -> None:
    """The asyncio Poller: sockets stay registered with the loop (or the watcher thread)
    between polls, so a second poll adds no fd registration; each poll is one poll(2) to
    look and one to collect, and reads only the fds that were signalled."""
    ctx = puremq.asyncio.Context()
    try:
        socks = _many(ctx)
        chosen = [socks[3], socks[333]]
        pushes = _feeders(ctx, chosen)
        counter = Counter(monkeypatch, {s.FD for s in socks})
        registrations = [0]

        async def body() -> None:
            loop = asyncio.get_running_loop()
            watch = puremq._future._watch

            def counting_watch(*args: Any) -> Any:
                registrations[0] += 1
                return watch(*args)
            monkeypatch.setattr(puremq._future, "_watch", counting_watch)
            poller = puremq.asyncio.Poller()
            for sock in socks:
                poller.register(sock, puremq.POLLIN)
            assert await poller.poll(0) == []
            for rounds in range(2):
                waiting = asyncio.ensure_future(poller.poll(5000))
                await asyncio.sleep(0.01)
                first_registrations = registrations[0]
                counter.reset()
                for push in pushes:
                    push.send(b"x")
                ready = await asyncio.wait_for(waiting, 10)
                assert {s for s, _e in ready} == set(chosen)
                assert counter.polls <= 2
                assert counter.reads <= len(chosen)
                for sock in chosen:
                    assert await sock.recv() == b"x"
                if rounds:
                    assert registrations[0] == first_registrations == SOCKETS
            del loop
        loop = new_loop(loop_kind)
        try:
            loop.run_until_complete(asyncio.wait_for(body(), 30))
        finally:
            loop.close()
    finally:
        ctx.destroy(linger=0)
