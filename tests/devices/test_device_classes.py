"""puremq.devices: the background devices, as pyzmq's zmq.devices has them.

A device is made from socket *types*; its sockets are created, configured, bound and
connected where it runs (the calling thread, a thread, or a child process).  Process
devices here are launched with the "spawn" start method: the test process has threads,
and a fork would copy them half-way (the cluster example runs one forked, from a process
without threads).
"""

from __future__ import annotations

import inspect
import multiprocessing
import struct
from typing import Any, List

import pytest
import zmq as pyzmq
import zmq.devices as pyzmq_devices

import puremq
import puremq.devices as devices

from .helpers import WAIT_S, Background, term_in_time

LOCAL = "tcp://127.0.0.1"


def _spawned(device: Any) -> Any:
    device._launch_class = multiprocessing.get_context("spawn").Process
    return device


def _sockets(ctx: Any, *specs: Any) -> List[Any]:
    """Sockets connected to (type, endpoint[, routing id])."""
    made = []
    for kind, endpoint, *identity in specs:
        sock = ctx.socket(kind)
        sock.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
        sock.setsockopt(puremq.LINGER, 0)
        if identity:
            sock.setsockopt(puremq.ROUTING_ID, identity[0])
        sock.connect(endpoint)
        made.append(sock)
    return made


def test_the_names_and_signatures_are_pyzmqs() -> None:
    """Every name in zmq.devices.__all__ exists, and every public method takes the same
    parameters as pyzmq's."""
    assert sorted(devices.__all__) == sorted(pyzmq_devices.__all__)
    for name in pyzmq_devices.__all__:
        theirs, ours = getattr(pyzmq_devices, name), getattr(devices, name)
        if inspect.isfunction(ours):
            continue  # monitored_queue: a cython function on pyzmq's side
        for attr, member in inspect.getmembers(theirs, callable):
            if attr.startswith("_") and attr != "__init__":
                continue
            assert hasattr(ours, attr), f"{name}.{attr} is missing"
            if inspect.isfunction(member):
                expected = list(inspect.signature(member).parameters)
                assert list(inspect.signature(getattr(ours, attr)).parameters) == expected, \
                    f"{name}.{attr}"


def test_socket_types_are_required() -> None:
    with pytest.raises(TypeError):
        devices.Device(puremq.QUEUE)
    with pytest.raises(TypeError):
        devices.Device(puremq.QUEUE, puremq.ROUTER)


def test_thread_device_is_a_queue_between_req_and_rep() -> None:
    """ThreadDevice(QUEUE, ROUTER, DEALER): options first, then binds, in the device's own
    thread; REQ clients reach REP workers through it; terminating its context ends it."""
    own = puremq.Context()
    device = devices.ThreadDevice(puremq.QUEUE, puremq.ROUTER, puremq.DEALER)
    device.context_factory = lambda: own
    front = device.bind_in_to_random_port(LOCAL)
    back = device.bind_out_to_random_port(LOCAL)
    device.setsockopt_in(puremq.LINGER, 0)
    device.setsockopt_out(puremq.LINGER, 0)
    device.start()
    ctx = puremq.Context()
    client, worker = _sockets(ctx, (puremq.REQ, f"{LOCAL}:{front}"),
                              (puremq.REP, f"{LOCAL}:{back}"))
    try:
        for n in range(3):
            client.send_multipart([b"ask", b"%d" % n])
            assert worker.recv_multipart() == [b"ask", b"%d" % n]
            worker.send(b"answer %d" % n)
            assert client.recv() == b"answer %d" % n
        assert device.launcher.is_alive() and not device.done
    finally:
        ctx.destroy(linger=0)
        term_in_time(own)
        device.join(WAIT_S)
    assert device.done and not device.launcher.is_alive()
    assert all(sock.closed for sock in device._sockets)


def test_device_start_runs_in_the_calling_thread() -> None:
    """Device.start() runs the device where it is called and returns when it ends (here:
    when its context is terminated); connect_in/connect_out connect rather than bind."""
    own = puremq.Context()
    ctx = puremq.Context()
    upstream = ctx.socket(puremq.PUSH)
    downstream = ctx.socket(puremq.PULL)
    downstream.rcvtimeo = int(WAIT_S * 1000)
    upstream.bind(f"{LOCAL}:*")
    downstream.bind(f"{LOCAL}:*")
    device = devices.Device(puremq.STREAMER, puremq.PULL, puremq.PUSH)
    device.context_factory = lambda: own
    device.connect_in(upstream.last_endpoint.decode())
    device.connect_out(downstream.last_endpoint.decode())
    runner = Background(device.start)
    try:
        upstream.send(b"via the device")
        assert downstream.recv() == b"via the device"
        assert not device.done
    finally:
        ctx.destroy(linger=0)
        term_in_time(own)
        runner.join()
    assert runner.error is None and device.done


def test_negative_out_type_means_one_socket() -> None:
    """``out_type < 0``: the in socket is both sides (a ROUTER that echoes)."""
    own = puremq.Context()
    device = devices.ThreadDevice(puremq.QUEUE, puremq.ROUTER, -1)
    device.context_factory = lambda: own
    port = device.bind_in_to_random_port(LOCAL)
    device.start()
    ctx = puremq.Context()
    dealer, = _sockets(ctx, (puremq.DEALER, f"{LOCAL}:{port}"))
    try:
        dealer.send_multipart([b"hello", b"echo"])
        assert dealer.recv_multipart() == [b"hello", b"echo"]
        assert len(device._sockets) == 1
    finally:
        ctx.destroy(linger=0)
        term_in_time(own)
        device.join(WAIT_S)


def test_thread_proxy_copies_to_its_monitor_socket() -> None:
    """ThreadProxy: a third, monitor socket (bind_mon/connect_mon/setsockopt_mon) gets a
    copy of every message."""
    own = puremq.Context()
    ctx = puremq.Context()
    tap = ctx.socket(puremq.PULL)
    tap.rcvtimeo = int(WAIT_S * 1000)
    tap.bind(f"{LOCAL}:*")
    device = devices.ThreadProxy(puremq.PULL, puremq.PUSH, puremq.PUSH)
    device.context_factory = lambda: own
    front = device.bind_in_to_random_port(LOCAL)
    back = device.bind_out_to_random_port(LOCAL)
    device.setsockopt_mon(puremq.LINGER, 0)
    device.connect_mon(tap.last_endpoint.decode())
    device.start()
    push, pull = _sockets(ctx, (puremq.PUSH, f"{LOCAL}:{front}"),
                          (puremq.PULL, f"{LOCAL}:{back}"))
    try:
        push.send_multipart([b"m", b"1"])
        assert pull.recv_multipart() == [b"m", b"1"]
        assert tap.recv_multipart() == [b"m", b"1"]
    finally:
        ctx.destroy(linger=0)
        term_in_time(own)
        device.join(WAIT_S)


def test_process_proxy_runs_in_a_child_process() -> None:
    """ProcessProxy: the same, in a child process with a context of its own."""
    device = _spawned(devices.ProcessProxy(puremq.PULL, puremq.PUSH, puremq.PUSH))
    front = device.bind_in_to_random_port(LOCAL)
    back = device.bind_out_to_random_port(LOCAL)
    mon = device.bind_mon_to_random_port(LOCAL)
    assert len({front, back, mon}) == 3
    device.start()
    ctx = puremq.Context()
    push, pull, tap = _sockets(ctx, (puremq.PUSH, f"{LOCAL}:{front}"),
                               (puremq.PULL, f"{LOCAL}:{back}"),
                               (puremq.PULL, f"{LOCAL}:{mon}"))
    try:
        for n in range(10):
            push.send_multipart([b"n", b"%d" % n])
        for n in range(10):
            assert pull.recv_multipart() == [b"n", b"%d" % n]
            assert tap.recv_multipart() == [b"n", b"%d" % n]
    finally:
        ctx.destroy(linger=0)
        device.launcher.terminate()
        device.join(WAIT_S)
    assert not device.launcher.is_alive()


def _steer(endpoint: str, commands: List[bytes]) -> List[List[bytes]]:
    ctx = puremq.Context()
    req, = _sockets(ctx, (puremq.REQ, endpoint))
    replies = []
    try:
        for command in commands:
            req.send(command)
            replies.append(req.recv_multipart())
    finally:
        ctx.destroy(linger=0)
    return replies


def test_thread_proxy_steerable_ends_on_terminate() -> None:
    """ThreadProxySteerable: a control socket (bind_ctrl/...); STATISTICS answers, and
    TERMINATE ends the device's thread, which closes its sockets."""
    device = devices.ThreadProxySteerable(puremq.PULL, puremq.PUSH, puremq.PUB, puremq.REP)
    device.context_factory = puremq.Context
    front = device.bind_in_to_random_port(LOCAL)
    back = device.bind_out_to_random_port(LOCAL)
    ctrl = device.bind_ctrl_to_random_port(LOCAL)
    device.start()
    ctx = puremq.Context()
    push, pull = _sockets(ctx, (puremq.PUSH, f"{LOCAL}:{front}"),
                          (puremq.PULL, f"{LOCAL}:{back}"))
    try:
        push.send(b"abc")
        assert pull.recv() == b"abc"
        stats, done = _steer(f"{LOCAL}:{ctrl}", [b"STATISTICS", b"TERMINATE"])
        assert [struct.unpack("=Q", f)[0] for f in stats] == [1, 3, 0, 0, 0, 0, 1, 3]
        assert done == [b""]
        device.join(WAIT_S)
        assert not device.launcher.is_alive() and device.done
        assert all(sock.closed for sock in device._sockets)
    finally:
        ctx.destroy(linger=0)
        device._context.term()  # a thread device leaves its context to its owner


def test_process_proxy_steerable_exits_cleanly_on_terminate() -> None:
    """ProcessProxySteerable: TERMINATE on the control socket ends the child process with
    exit status 0."""
    device = _spawned(devices.ProcessProxySteerable(puremq.PULL, puremq.PUSH, puremq.PUB,
                                                    puremq.REP))
    front = device.bind_in_to_random_port(LOCAL)
    back = device.bind_out_to_random_port(LOCAL)
    ctrl = device.bind_ctrl_to_random_port(LOCAL)
    device.setsockopt_ctrl(puremq.LINGER, 1000)
    device.start()
    ctx = puremq.Context()
    push, pull = _sockets(ctx, (puremq.PUSH, f"{LOCAL}:{front}"),
                          (puremq.PULL, f"{LOCAL}:{back}"))
    try:
        push.send(b"abc")
        assert pull.recv() == b"abc"
        assert _steer(f"{LOCAL}:{ctrl}", [b"TERMINATE"]) == [[b""]]
        device.join(WAIT_S)
        assert device.launcher.exitcode == 0
    finally:
        ctx.destroy(linger=0)
        if device.launcher.is_alive():
            device.launcher.terminate()


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_monitored_queue_devices_prefix_the_copies(kind: str) -> None:
    """ThreadMonitoredQueue / ProcessMonitoredQueue: monitored_queue with the given
    prefixes, ROUTER on both sides (the routing ids swapped)."""
    cls = devices.ThreadMonitoredQueue if kind == "thread" else devices.ProcessMonitoredQueue
    device = cls(puremq.ROUTER, puremq.ROUTER, puremq.PUSH, b"IN", b"OUT")
    own = puremq.Context()
    if kind == "thread":
        device.context_factory = lambda: own
    else:
        _spawned(device)
    front = device.bind_in_to_random_port(LOCAL)
    back = device.bind_out_to_random_port(LOCAL)
    mon = device.bind_mon_to_random_port(LOCAL)
    device.start()
    ctx = puremq.Context()
    client, engine, tap = _sockets(ctx, (puremq.DEALER, f"{LOCAL}:{front}", b"client"),
                                   (puremq.DEALER, f"{LOCAL}:{back}", b"engine"),
                                   (puremq.PULL, f"{LOCAL}:{mon}"))
    try:
        for _ in range(int(WAIT_S / 0.05)):  # until the engine's connection is up
            client.send_multipart([b"engine", b"ping"])
            if engine.poll(50):
                break
        assert engine.recv_multipart() == [b"client", b"ping"]
        assert tap.recv_multipart() == [b"IN", b"engine", b"client", b"ping"]
        while tap.poll(50):  # pings sent before the engine was there were dropped
            tap.recv_multipart()
        engine.send_multipart([b"client", b"pong"])
        assert client.recv_multipart() == [b"engine", b"pong"]
        assert tap.recv_multipart() == [b"OUT", b"client", b"engine", b"pong"]
    finally:
        ctx.destroy(linger=0)
        if kind == "thread":
            term_in_time(own)
        else:
            device.launcher.terminate()
        device.join(WAIT_S)


def test_pyzmq_code_runs_unchanged_on_puremq_devices(zctx: Any) -> None:
    """Interop: the same device code on both libraries, peers of the other library."""
    for mine, peer, ctx in ((puremq, pyzmq, zctx), (pyzmq, puremq, None)):
        own = mine.Context()
        module = pyzmq_devices if mine is pyzmq else devices
        device = module.ThreadDevice(mine.QUEUE, mine.ROUTER, mine.DEALER)
        device.context_factory = lambda own=own: own
        front = device.bind_in_to_random_port(LOCAL)
        back = device.bind_out_to_random_port(LOCAL)
        device.setsockopt_in(mine.LINGER, 0)
        device.setsockopt_out(mine.LINGER, 0)
        device.start()
        peer_ctx = ctx if ctx is not None else puremq.Context()
        client = peer_ctx.socket(peer.REQ)
        worker = peer_ctx.socket(peer.REP)
        for sock, port in ((client, front), (worker, back)):
            sock.setsockopt(peer.RCVTIMEO, int(WAIT_S * 1000))
            sock.setsockopt(peer.LINGER, 0)
            sock.connect(f"{LOCAL}:{port}")
        try:
            client.send(b"question")
            assert worker.recv() == b"question"
            worker.send(b"answer")
            assert client.recv() == b"answer"
        finally:
            client.close()
            worker.close()
            if ctx is None:
                peer_ctx.term()
            term_in_time(own)
            device.join(WAIT_S)
