"""Fixtures for the API tests.

``zmq_mod`` parametrizes a test over pyzmq and puremq: every assertion is first proven
against the real pyzmq/libzmq, then required of puremq.
"""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest

from .._contexts import destroy_context
from ._compare import CYTHON_REFERENCE_MARK, MODULES, deselect_cffi_reference_runs


@pytest.fixture(params=sorted(MODULES))
def zmq_mod(request: Any) -> Any:
    """The module under test: pyzmq (the reference) or puremq."""
    return MODULES[request.param]


@pytest.fixture
def mctx(zmq_mod: Any) -> Iterator[Any]:
    """A context of ``zmq_mod``, destroyed with linger 0 after the test."""
    context = zmq_mod.Context()
    yield context
    destroy_context(context)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", CYTHON_REFERENCE_MARK)


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    deselect_cffi_reference_runs(config, items)
