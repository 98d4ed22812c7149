"""Device, ThreadDevice, ProcessDevice: a proxy between two sockets made where it runs."""

from __future__ import annotations

import threading
import time
from multiprocessing import Process
from typing import Any, Callable, List, Optional, Tuple

from ..constants import DeviceType, Errno, SocketOption, SocketType
from ..context import Context
from ..error import ZMQBindError, ZMQError
from ..proxy import proxy
from ..socket import Socket

__all__ = ["Device", "ThreadDevice", "ProcessDevice"]


class Device:
    """A device from socket *types*: ``Device(zmq.QUEUE, zmq.ROUTER, zmq.DEALER)``.

    The sockets are made (and bound, connected, configured as queued by ``bind_in``,
    ``connect_out``, ``setsockopt_in``, ...) by the code that runs the device -- ``start()``
    here, a thread or a process in the subclasses -- so they never cross threads.  A
    negative ``out_type`` means one socket for both sides.

    ``context_factory`` makes the context: ``Context.instance`` here and in ThreadDevice,
    a new ``Context`` in ProcessDevice (a forked child must not use its parent's).
    """

    context_factory: Callable[[], Context] = Context.instance

    def __init__(self, device_type: int = DeviceType.QUEUE, in_type: Optional[int] = None,
                 out_type: Optional[int] = None) -> None:
        if in_type is None:
            raise TypeError("in_type must be specified")
        if out_type is None:
            raise TypeError("out_type must be specified")
        self.device_type = device_type
        self.in_type = in_type
        self.out_type = out_type
        self._in_binds: List[str] = []
        self._in_connects: List[str] = []
        self._in_sockopts: List[Tuple[int, Any]] = []
        self._out_binds: List[str] = []
        self._out_connects: List[str] = []
        self._out_sockopts: List[Tuple[int, Any]] = []
        self._random_addrs: List[str] = []
        self._sockets: List[Socket] = []
        self.daemon = True
        self.done = False

    # -- what to do with the sockets, once they exist ----------------------------------
    def bind_in(self, addr: str) -> None:
        """Queue ``in_socket.bind(addr)``."""
        self._in_binds.append(addr)

    def connect_in(self, addr: str) -> None:
        """Queue ``in_socket.connect(addr)``."""
        self._in_connects.append(addr)

    def setsockopt_in(self, opt: int, value: Any) -> None:
        """Queue ``in_socket.setsockopt(opt, value)`` (applied before binds and connects)."""
        self._in_sockopts.append((opt, value))

    def bind_out(self, addr: str) -> None:
        """Queue ``out_socket.bind(addr)``."""
        self._out_binds.append(addr)

    def connect_out(self, addr: str) -> None:
        """Queue ``out_socket.connect(addr)``."""
        self._out_connects.append(addr)

    def setsockopt_out(self, opt: int, value: Any) -> None:
        """Queue ``out_socket.setsockopt(opt, value)``."""
        self._out_sockopts.append((opt, value))

    def bind_in_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now and queue the in_socket's bind to it."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_in(f"{addr}:{port}")
        return port

    def bind_out_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now and queue the out_socket's bind to it."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_out(f"{addr}:{port}")
        return port

    def _reserve_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """A port that was free a moment ago and that this device has not picked before
        (the bind happens later, where the device runs, as in pyzmq)."""
        with Context() as ctx:
            with ctx.socket(SocketType.PUSH) as probe:
                probe.linger = 0
                for _ in range(5):
                    port = probe.bind_to_random_port(addr, *args, **kwargs)
                    candidate = f"{addr}:{port}"
                    if candidate not in self._random_addrs:
                        self._random_addrs.append(candidate)
                        return port
        raise ZMQBindError("Could not reserve random port.")

    # -- running ------------------------------------------------------------------------------
    @staticmethod
    def _configure(sock: Socket, opts: List[Tuple[int, Any]], binds: List[str],
                   connects: List[str]) -> None:
        for opt, value in opts:
            sock.setsockopt(opt, value)
        for addr in binds:
            sock.bind(addr)
        for addr in connects:
            sock.connect(addr)

    def _setup_sockets(self) -> Tuple[Socket, Socket]:
        ctx = self.context_factory()
        self._context = ctx
        ins = ctx.socket(self.in_type)
        self._sockets.append(ins)
        if self.out_type < 0:
            outs = ins
        else:
            outs = ctx.socket(self.out_type)
            self._sockets.append(outs)
        # options first (ROUTING_ID must be set before connecting), then binds, connects
        for opt, value in self._in_sockopts:
            ins.setsockopt(opt, value)
        for opt, value in self._out_sockopts:
            outs.setsockopt(opt, value)
        for addr in self._in_binds:
            ins.bind(addr)
        for addr in self._out_binds:
            outs.bind(addr)
        for addr in self._in_connects:
            ins.connect(addr)
        for addr in self._out_connects:
            outs.connect(addr)
        return ins, outs

    def run_device(self) -> None:
        """What the device does once its sockets exist (subclasses override this)."""
        ins, outs = self._setup_sockets()
        proxy(ins, outs)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            if sock is not None and not sock.closed:
                sock.close()

    def run(self) -> None:
        """Run the device here; the end of its context (ETERM) or a closed socket
        (ENOTSOCK) is a normal end."""
        try:
            self.run_device()
        except ZMQError as exc:
            if exc.errno not in (Errno.ETERM, Errno.ENOTSOCK):
                raise
        finally:
            self.done = True
            self._close_sockets()

    def start(self) -> None:
        """Run the device in the calling thread (it returns when the device ends)."""
        return self.run()

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until the device has ended (or ``timeout`` seconds passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(0.001)


class BackgroundDevice(Device):
    """A device run by a launcher (a Thread or a Process)."""

    launcher: Any = None
    _launch_class: Any = None

    def start(self) -> None:
        self.launcher = self._launch_class(target=self.run)
        self.launcher.daemon = self.daemon
        return self.launcher.start()

    def join(self, timeout: Optional[float] = None) -> None:
        return self.launcher.join(timeout=timeout)


class ThreadDevice(BackgroundDevice):
    """A Device run in a background thread (``daemon`` by default)."""

    _launch_class = threading.Thread


class ProcessDevice(BackgroundDevice):
    """A Device run in a child process, with a context of its own."""

    _launch_class = Process
    context_factory: Callable[[], Context] = Context

    #: at the end, what the sockets still have to send gets at most this long (ms)
    exit_linger = 1000

    def _close_sockets(self) -> None:
        """The child is about to exit: unlike a thread's, its context goes with it, so end
        it here -- after the sockets had (a bounded) LINGER to send what they hold, such
        as the reply to TERMINATE."""
        for sock in self._sockets:
            if sock is not None and not sock.closed:
                linger = sock.getsockopt(SocketOption.LINGER)
                if linger < 0 or linger > self.exit_linger:
                    linger = self.exit_linger
                sock.close(linger=linger)
        context = getattr(self, "_context", None)
        if context is not None and not context.closed:
            context.term()
