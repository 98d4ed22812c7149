"""Shared helpers: run a device in a thread and end it, read monitor events."""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

WAIT_S = 10.0  # every wait here gives up (and fails the test) after this long


class Background:
    """Run ``fn(*args)`` in a daemon thread; remember what it returned or raised.

    ``owned`` sockets belong to that thread from now on: it closes them when ``fn`` ends
    (as a device's thread would), with ``linger`` ms for what they still have to send, so
    the test may then terminate their context.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, owned: Sequence[Any] = (),
                 linger: int = 0) -> None:
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self._owned = list(owned)
        self._linger = linger
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        try:
            self.result = fn(*args)
        except BaseException as exc:  # reported by join()
            self.error = exc
        finally:
            for sock in self._owned:
                try:
                    sock.close(linger=self._linger)
                except Exception:
                    # pyzmq's cffi backend (PyPy) cannot set LINGER once the context is
                    # terminated, and then leaves the socket open: close it plainly
                    sock.close()

    def join(self, timeout: float = WAIT_S) -> "Background":
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the background call did not end"
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def term_in_time(context: Any, timeout: float = WAIT_S) -> None:
    """context.term(), failing the test (instead of hanging it) if it does not return."""
    done = threading.Event()

    def run() -> None:
        context.term()
        done.set()
    threading.Thread(target=run, daemon=True).start()
    assert done.wait(timeout), "context.term() did not return"


def monitor_module(zmq: Any) -> Any:
    return importlib.import_module(zmq.__name__ + ".utils.monitor")


Event = Tuple[str, int, bytes]


def read_events(zmq: Any, monitor: Any, until: Optional[str] = None,
                timeout: float = WAIT_S, quiet_ms: int = 0) -> List[Event]:
    """Events from a monitor PAIR as (name, value, endpoint): up to and including the first
    ``until`` event (failing if it does not come in time); then, if ``quiet_ms``, whatever
    else arrives until the monitor stays quiet that long."""
    parse = monitor_module(zmq).recv_monitor_message
    events: List[Event] = []
    deadline = time.monotonic() + timeout
    while until is not None:
        remaining = int((deadline - time.monotonic()) * 1000)
        assert remaining > 0 and monitor.poll(remaining), \
            f"no {until} event; got {[e[0] for e in events]}"
        event = _decoded(zmq, parse(monitor))
        events.append(event)
        if event[0] == until:
            break
    while quiet_ms and monitor.poll(quiet_ms):
        events.append(_decoded(zmq, parse(monitor)))
        assert time.monotonic() < deadline, f"events never stop: {[e[0] for e in events]}"
    return events


def _decoded(zmq: Any, message: Dict[str, Any]) -> Event:
    number = int(message["event"])
    try:
        name = zmq.Event(number).name
    except ValueError:
        name = str(number)
    return name, int(message["value"]) & 0xFFFFFFFF, bytes(message["endpoint"])


def names(events: Sequence[Event]) -> List[str]:
    return [event[0] for event in events]


def end_device(ctx: Any, device: "Background", *socks: Any) -> None:
    """Close the test's own sockets, terminate the context: the device ends cleanly."""
    for sock in socks:
        sock.close(linger=0)
    term_in_time(ctx)
    device.join()
    assert device.error is None, device.error
