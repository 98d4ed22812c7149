"""FairQueue (puremq.routing.fairqueue): one message from each busy pipe in turn."""

from __future__ import annotations

from puremq.routing.fairqueue import FairQueue
from puremq.routing.pipe import Lane, Pipe


class Wakes:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def _setup(count: int, hwm: int = 0):
    fq = FairQueue()
    wake = Wakes()
    pipes = []
    for index in range(count):
        pipe = Pipe(Lane(hwm), Lane(hwm), f"peer{index}")
        pipe.inbound.on_items = fq.signal_for(pipe, wake)
        pipes.append(pipe)
    return fq, pipes, wake


def _drain(fq: FairQueue):
    out = []
    while True:
        msg = fq.take()
        if msg is None:
            return out
        out.append(msg)


def test_empty_queue_gives_nothing():
    fq, _, _ = _setup(2)
    assert fq.take() is None
    assert not fq.has_messages()
    assert fq.last_pipe is None


def test_one_message_from_each_pipe_in_turn():
    """libzmq's fair-queue test shape: peers send A,A / B,B / C,C; the reader gets A,B,C,A,B,C."""
    fq, pipes, _ = _setup(3)
    for pipe, name in zip(pipes, "ABC"):
        pipe.inbound.push([name + "1"])
        pipe.inbound.push([name + "2"])
    assert _drain(fq) == [["A1"], ["B1"], ["C1"], ["A2"], ["B2"], ["C2"]]


def test_last_pipe_names_the_source_of_each_message():
    fq, pipes, _ = _setup(3)
    for pipe in pipes:
        pipe.inbound.push([pipe.endpoint])
    for _ in range(3):
        msg = fq.take()
        assert msg == [fq.last_pipe.endpoint]


def test_a_busy_pipe_does_not_starve_a_quiet_one():
    fq, (busy, quiet), _ = _setup(2)
    for i in range(5):
        busy.inbound.push(["busy", i])
    assert fq.take() == ["busy", 0]
    quiet.inbound.push(["quiet"])
    assert fq.take() == ["busy", 1]
    assert fq.take() == ["quiet"]
    assert _drain(fq) == [["busy", 2], ["busy", 3], ["busy", 4]]


def test_wake_once_per_idle_to_busy_transition():
    fq, (pipe,), wake = _setup(1)
    for i in range(10):
        pipe.inbound.push([i])
    assert wake.calls == 1
    assert len(_drain(fq)) == 10
    pipe.inbound.push(["again"])
    assert wake.calls == 2
    assert fq.take() == ["again"]


def test_a_drained_pipe_leaves_the_ring_and_comes_back_when_it_has_more():
    fq, (a, b), _ = _setup(2)
    a.inbound.push(["a1"])
    b.inbound.push(["b1"])
    assert _drain(fq) == [["a1"], ["b1"]]
    assert len(fq.ring) == 0
    b.inbound.push(["b2"])
    a.inbound.push(["a2"])
    assert _drain(fq) == [["b2"], ["a2"]]


def test_has_messages_drops_idle_pipes_from_the_front():
    fq, (a, b), _ = _setup(2)
    a.inbound.push(["a"])
    b.inbound.push(["b"])
    # Someone else (e.g. a pattern dropping a peer's backlog) emptied a's lane.
    a.inbound.items.clear()
    assert fq.has_messages()
    assert fq.ring[0] is b
    assert fq.take() == ["b"]
    assert not fq.has_messages()
    assert len(fq.ring) == 0


def test_a_pipe_in_the_ring_twice_costs_no_message():
    fq, (a, b), _ = _setup(2)
    a.inbound.push(["a1"])
    b.inbound.push(["b1"])
    fq.ring.append(a)  # the benign race the module describes
    a.inbound.push(["a2"])
    got = _drain(fq)
    assert sorted(map(tuple, got)) == [("a1",), ("a2",), ("b1",)]
    assert len(got) == 3


def test_taking_wakes_a_producer_stopped_at_the_high_water_mark():
    fq, (pipe,), _ = _setup(1, hwm=4)
    space = Wakes()
    pipe.inbound.on_space = space
    for i in range(4):
        pipe.inbound.push([i])
    assert pipe.inbound.wait_for_space() is False
    assert fq.take() == [0]
    assert space.calls == 0  # 3 left, low-water mark is 2
    assert fq.take() == [1]
    assert space.calls == 1
    assert not pipe.inbound.waiting


def test_discard_forgets_the_pipe():
    fq, (a, b), _ = _setup(2)
    a.inbound.push(["a1"])
    fq.ring.append(a)
    b.inbound.push(["b1"])
    fq.discard(a)
    assert a not in fq.ring
    assert _drain(fq) == [["b1"]]
    fq.discard(a)  # forgetting twice is harmless


def test_many_pipes_interleave_exactly():
    fq, pipes, _ = _setup(50)
    for round_ in range(4):
        for index, pipe in enumerate(pipes):
            pipe.inbound.push([index, round_])
    expected = [[index, round_] for round_ in range(4) for index in range(50)]
    assert _drain(fq) == expected
