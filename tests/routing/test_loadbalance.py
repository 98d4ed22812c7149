"""LoadBalancer (puremq.routing.loadbalance): whole messages round-robin over pipes with room."""

from __future__ import annotations

from puremq.routing.loadbalance import LoadBalancer
from puremq.routing.pipe import Lane, Pipe


def _setup(count: int, hwm: int = 0):
    lb = LoadBalancer()
    pipes = [Pipe(Lane(hwm), Lane(hwm), f"peer{i}") for i in range(count)]
    for pipe in pipes:
        lb.attach(pipe)
    return lb, pipes


def _contents(pipe):
    return list(pipe.outbound.items)


def test_no_pipes_nothing_to_pick():
    lb = LoadBalancer()
    assert lb.pick() is None
    assert lb.send([b"x"]) is None
    lb.advance()  # harmless without pipes
    assert lb.wait_for_space() is False


def test_round_robin_across_pipes():
    lb, pipes = _setup(3)
    for i in range(7):
        assert lb.send([i]) is pipes[i % 3]
    assert _contents(pipes[0]) == [[0], [3], [6]]
    assert _contents(pipes[1]) == [[1], [4]]
    assert _contents(pipes[2]) == [[2], [5]]


def test_multipart_messages_stay_whole_on_one_pipe():
    lb, pipes = _setup(2)
    lb.send([b"a", b"b", b"c"])
    lb.send([b"d", b"e"])
    assert _contents(pipes[0]) == [[b"a", b"b", b"c"]]
    assert _contents(pipes[1]) == [[b"d", b"e"]]


def test_pick_does_not_advance():
    lb, pipes = _setup(2)
    assert lb.pick() is pipes[0]
    assert lb.pick() is pipes[0]
    lb.advance()
    assert lb.pick() is pipes[1]


def test_full_pipes_are_skipped():
    lb, pipes = _setup(3, hwm=1)
    pipes[1].outbound.push([b"filler"])
    assert lb.send([b"m0"]) is pipes[0]
    assert lb.send([b"m1"]) is pipes[2]
    assert lb.send([b"m2"]) is None  # every pipe is at its mark
    pipes[1].outbound.items.clear()
    assert lb.send([b"m3"]) is pipes[1]


def test_terminated_pipes_are_skipped():
    lb, pipes = _setup(3)
    pipes[1].terminated = True
    sent_to = [lb.send([i]) for i in range(4)]
    assert sent_to == [pipes[0], pipes[2], pipes[0], pipes[2]]
    assert _contents(pipes[1]) == []


def test_a_new_pipe_joins_the_rotation():
    lb, pipes = _setup(2)
    lb.send([0])
    extra = Pipe(Lane(), Lane())
    lb.attach(extra)
    assert [lb.send([i]) for i in range(1, 4)] == [pipes[1], extra, pipes[0]]


def test_detach_before_current_keeps_the_next_pipe_next():
    lb, pipes = _setup(4)
    lb.send([0])
    lb.send([1])  # next is pipes[2]
    lb.detach(pipes[0])
    assert lb.pick() is pipes[2]


def test_detach_of_current_moves_on_to_the_following_pipe():
    lb, pipes = _setup(3)
    lb.send([0])  # next is pipes[1]
    lb.detach(pipes[1])
    assert lb.pick() is pipes[2]


def test_detach_of_the_last_pipe_when_it_is_current_wraps_around():
    lb, pipes = _setup(3)
    lb.send([0])
    lb.send([1])  # next is pipes[2]
    lb.detach(pipes[2])
    assert lb.pick() is pipes[0]


def test_detach_unknown_pipe_is_a_no_op():
    lb, pipes = _setup(2)
    lb.detach(Pipe(Lane(), Lane()))
    assert lb.pipes == pipes


def test_detach_everything():
    lb, pipes = _setup(2)
    for pipe in pipes:
        lb.detach(pipe)
    assert lb.pick() is None
    assert lb.current == 0


def test_wait_for_space_marks_full_pipes_as_waited_on():
    lb, pipes = _setup(2, hwm=1)
    lb.send([0])
    lb.send([1])
    assert lb.wait_for_space() is False
    assert all(pipe.outbound.waiting for pipe in pipes)
    pipes[1].outbound.items.clear()
    assert lb.wait_for_space() is True


def test_round_robin_resumes_after_back_pressure():
    lb, pipes = _setup(2, hwm=2)
    for i in range(4):
        lb.send([i])
    assert lb.send([4]) is None
    pipes[0].outbound.items.popleft()
    assert lb.send([4]) is pipes[0]
    assert _contents(pipes[0]) == [[2], [4]]
