"""Run the same code under pyzmq (the reference) and puremq, and compare."""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

import zmq as pyzmq

import puremq

MODULES = {"pyzmq": pyzmq, "puremq": puremq}

#: pyzmq's cffi backend (the one on PyPy) does not set Frame.more on received frames and
#: has no Frame.get(name): tests marked ``cython_reference`` cannot use it as the
#: reference, so their pyzmq runs are deselected there (the puremq runs still run).
PYZMQ_CFFI = pyzmq.backend.Socket.__module__.startswith("zmq.backend.cffi")
CYTHON_REFERENCE_MARK = ("cython_reference: the pyzmq run needs pyzmq's Cython backend "
                         "(Frame.more and Frame.get); deselected on the cffi backend")


def deselect_cffi_reference_runs(config: Any, items: List[Any]) -> None:
    """pytest_collection_modifyitems body shared by the api and transport conftests."""
    if not PYZMQ_CFFI:
        return
    dropped = [item for item in items
               if item.get_closest_marker("cython_reference") is not None
               and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("zmq_mod") == "pyzmq"]
    if dropped:
        items[:] = [item for item in items if item not in dropped]
        config.hook.pytest_deselected(items=dropped)


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
