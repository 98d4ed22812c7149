"""High-water marks (libzmq's test_hwm): how many messages a PUSH can queue to a PULL that
never reads, and that sending resumes once the reader drains.

Over inproc the two sockets share one queue per direction whose capacity is the sender's
SNDHWM plus the receiver's RCVHWM (0 on either side: unlimited), so counts are exact.  Over
tcp/ipc the kernel buffers add to it, so only the lower bound is exact.
"""

from __future__ import annotations

import threading
import time

import pytest

import puremq as zmq

from .conftest import assert_again, assert_quiet, send_until_again

MAX_SENDS = 10000


def _inproc_pair(ctx, sndhwm=None, rcvhwm=None, connect_first=False):
    address = "inproc://hwm-%d" % id(ctx)
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
    if rcvhwm is not None:
        pull.rcvhwm = rcvhwm
    if sndhwm is not None:
        push.sndhwm = sndhwm
    if connect_first:
        push.connect(address)
        pull.bind(address)
    else:
        pull.bind(address)
        push.connect(address)
    return push, pull


def _drain(pull):
    count = 0
    while True:
        try:
            pull.recv(zmq.DONTWAIT)
        except zmq.Again:
            return count
        count += 1


def test_defaults_queue_exactly_two_thousand(ctx):
    """Default SNDHWM and RCVHWM are 1000 each, so an inproc PUSH queues 2000 messages to a
    PULL that never reads, then says EAGAIN."""
    push, pull = _inproc_pair(ctx)
    assert push.sndhwm == 1000 and pull.rcvhwm == 1000
    sent = send_until_again(push, limit=MAX_SENDS)
    assert sent == 2000
    assert_again(lambda: push.send(b"", zmq.DONTWAIT))
    assert _drain(pull) == 2000
    push.send(b"", zmq.DONTWAIT)  # room again
    assert pull.recv(zmq.DONTWAIT) == b""


@pytest.mark.parametrize("connect_first", [False, True], ids=["bind-first", "connect-first"])
@pytest.mark.parametrize("sndhwm, rcvhwm, expected", [
    (0, 0, MAX_SENDS),   # unlimited both ways
    (1, 0, MAX_SENDS),   # unlimited receive side
    (0, 1, MAX_SENDS),   # unlimited send side
    (1, 1, 2),
    (5, 3, 8),
])
def test_inproc_capacity_is_sndhwm_plus_rcvhwm(ctx, sndhwm, rcvhwm, expected, connect_first):
    push, pull = _inproc_pair(ctx, sndhwm, rcvhwm, connect_first)
    sent = send_until_again(push, limit=MAX_SENDS)
    assert sent == expected
    assert _drain(pull) == sent
    push.send(b"", zmq.DONTWAIT)  # one more after draining
    assert pull.recv(zmq.DONTWAIT) == b""


def test_inproc_before_the_bind_only_sndhwm_then_the_sum(ctx):
    """Connected before anyone bound, only the sender's SNDHWM is known (libzmq); once the
    binder arrives its RCVHWM is added."""
    address = "inproc://hwm-late-%d" % id(ctx)
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.sndhwm = 3
    push.connect(address)
    assert send_until_again(push, limit=MAX_SENDS) == 3
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvhwm = 4
    pull.bind(address)
    assert send_until_again(push, limit=MAX_SENDS) == 4
    assert _drain(pull) == 7


def test_inproc_send_blocked_before_the_bind_resumes_when_the_binder_arrives(ctx):
    address = "inproc://hwm-blocked-%d" % id(ctx)
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.sndhwm = 1
    push.connect(address)
    push.send(b"fills the queue", zmq.DONTWAIT)
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0

    def bind_later():
        time.sleep(0.05)  # let the main thread block first (correct either way)
        pull.bind(address)

    thread = threading.Thread(target=bind_later)
    thread.start()
    push.sndtimeo = 3000
    started = time.monotonic()
    push.send(b"waited for the binder")
    thread.join(5)
    assert time.monotonic() - started < 2
    assert pull.recv(zmq.DONTWAIT) == b"fills the queue"
    assert pull.recv(zmq.DONTWAIT) == b"waited for the binder"


def test_messages_count_not_bytes(ctx):
    push, pull = _inproc_pair(ctx, 2, 2)
    big = b"B" * (1 << 20)
    assert send_until_again(push, big) == 4
    assert [len(pull.recv()) for _ in range(4)] == [1 << 20] * 4


@pytest.mark.parametrize("transport", ["inproc", "tcp", "ipc"])
def test_blocked_send_resumes_when_the_reader_drains(net):
    """A send blocked at the high-water mark completes once the reader takes messages."""
    push = net.socket(zmq.PUSH, sndhwm=5, sndbuf=4096)
    pull = net.socket(zmq.PULL, rcvhwm=5, rcvbuf=4096)
    push.connect(net.bind(pull))
    payload = b"r" * 16384
    push.sndtimeo = net.fill_ms
    queued = 0
    while True:
        try:
            push.send(b"%d " % queued + payload)
        except zmq.Again:
            break
        queued += 1
    assert queued >= 10
    received = []

    def reader():
        time.sleep(0.05)  # let the main thread block first (correct either way)
        for _ in range(queued + 1):
            received.append(pull.recv().split(b" ", 1)[0])

    thread = threading.Thread(target=reader)
    thread.start()
    push.sndtimeo = 5000
    started = time.monotonic()
    push.send(b"%d " % queued + payload)  # blocks until the reader has made room
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - started < 5
    assert received == [b"%d" % i for i in range(queued + 1)]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_stream_queue_is_bounded_and_lossless(net):
    """Over tcp/ipc the queue holds at least SNDHWM + RCVHWM messages and is bounded; every
    accepted message arrives, in order."""
    push = net.socket(zmq.PUSH, sndhwm=10, sndbuf=4096)
    pull = net.socket(zmq.PULL, rcvhwm=10, rcvbuf=4096)
    push.connect(net.bind(pull))
    payload = b"t" * 8192
    push.sndtimeo = net.fill_ms
    queued = 0
    while queued < 2000:
        try:
            push.send(b"%d " % queued + payload)
        except zmq.Again:
            break
        queued += 1
    assert 20 <= queued < 2000
    got = [pull.recv().split(b" ", 1)[0] for _ in range(queued)]
    assert got == [b"%d" % i for i in range(queued)]
    assert_quiet(pull)
    push.send(b"after", zmq.DONTWAIT)
    assert pull.recv() == b"after"


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_zero_hwm_is_unlimited_over_streams(net):
    push = net.socket(zmq.PUSH, sndhwm=0)
    pull = net.socket(zmq.PULL, rcvhwm=0)
    push.connect(net.bind(pull))
    assert send_until_again(push, b"u", limit=MAX_SENDS) == MAX_SENDS
    for _ in range(MAX_SENDS):
        pull.recv()
