"""Run the same code under pyzmq (the reference) and puremq, and compare."""

from __future__ import annotations

from typing import Any, Callable, Tuple

import zmq as pyzmq

import puremq

MODULES = {"pyzmq": pyzmq, "puremq": puremq}


def outcome(fn: Callable[[Any], Any], module: Any) -> Tuple[Any, ...]:
    """('ok', value) or ('raise', exception class name, errno) of ``fn(module)``."""
    try:
        return ("ok", fn(module))
    except Exception as exc:  # noqa: BLE001 - the point is to compare any outcome
        errno = getattr(exc, "errno", None)
        return ("raise", type(exc).__name__, None if errno is None else int(errno))


def assert_same_outcome(fn: Callable[[Any], Any]) -> Tuple[Any, ...]:
    """Run ``fn`` with module=pyzmq, then module=puremq; both must end the same way."""
    expected = outcome(fn, pyzmq)
    actual = outcome(fn, puremq)
    assert actual == expected, f"pyzmq: {expected!r}, puremq: {actual!r}"
    return actual


def errno_of(call: Callable[[], Any]) -> Any:
    """The errno a call fails with, or 'ok' (for comparing error behaviour)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        errno = getattr(exc, "errno", None)
        return (type(exc).__name__, None if errno is None else int(errno))
    return "ok"
