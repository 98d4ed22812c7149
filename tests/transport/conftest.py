"""Fixtures for the transport tests: the module under test (pyzmq as the reference, and
puremq) and a context of it."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from ..api._compare import MODULES


@pytest.fixture(params=sorted(MODULES))
def zmq_mod(request: Any) -> Any:
    """pyzmq (proves the test against libzmq) or puremq (the code under test)."""
    return MODULES[request.param]


@pytest.fixture
def mctx(zmq_mod: Any) -> Iterator[Any]:
    context = zmq_mod.Context()
    yield context
    context.destroy(linger=0)
