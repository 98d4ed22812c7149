"""Fixtures for the transport tests: the module under test (pyzmq as the reference, and
puremq) and a context of it; and a puremq context for the tests of puremq's own paths."""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest

import puremq

from .._contexts import destroy_context
from ..api._compare import CYTHON_REFERENCE_MARK, MODULES, deselect_cffi_reference_runs


@pytest.fixture(params=sorted(MODULES))
def zmq_mod(request: Any) -> Any:
    """pyzmq (proves the test against libzmq) or puremq (the code under test)."""
    return MODULES[request.param]


@pytest.fixture
def mctx(zmq_mod: Any) -> Iterator[Any]:
    context = zmq_mod.Context()
    yield context
    destroy_context(context)


@pytest.fixture
def ctx() -> Iterator[Any]:
    """A puremq context, destroyed (linger 0) after the test."""
    context = puremq.Context()
    yield context
    destroy_context(context)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", CYTHON_REFERENCE_MARK)


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    deselect_cffi_reference_runs(config, items)
