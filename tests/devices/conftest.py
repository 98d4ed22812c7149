"""Fixtures for the devices suite: a libzmq (pyzmq) context next to the puremq one."""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest
import zmq


@pytest.fixture
def zctx() -> Iterator[zmq.Context]:
    """A libzmq context (pyzmq), destroyed with linger 0 after the test."""
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


#: pyzmq's cffi backend (PyPy) differs from its Cython one where some references here need
#: it: its monitored_queue is pure Python and checks nothing about its prefixes (it would
#: just run).  Tests marked ``pyzmq_cython_reference`` have their pyzmq runs (parameter
#: ``impl="pyzmq"``) deselected there; the puremq runs still run.
PYZMQ_CFFI = zmq.backend.Socket.__module__.startswith("zmq.backend.cffi")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "pyzmq_cython_reference: the pyzmq run needs "
                            "pyzmq's Cython backend; deselected on the cffi backend")


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    if not PYZMQ_CFFI:
        return
    dropped = [item for item in items
               if item.get_closest_marker("pyzmq_cython_reference") is not None
               and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("impl") == "pyzmq"]
    if dropped:
        items[:] = [item for item in items if item not in dropped]
        config.hook.pytest_deselected(items=dropped)
