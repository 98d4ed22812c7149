"""Fixtures for the hostile-input tests.

Every test here runs under ``engine_errors_forbidden``: an ERROR record on the
"puremq.engine" logger (the I/O thread catching an exception it did not expect) during the
test or its teardown fails the test.  Hostile input must be handled, not survived by luck.
"""

from __future__ import annotations

import logging
from typing import Iterator

import pytest
import zmq as libzmq

from .._contexts import destroy_context


@pytest.fixture(autouse=True)
def engine_errors_forbidden(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="puremq.engine")
    yield
    seen = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    errors = [r for r in seen
              if r.name.startswith("puremq.engine") and r.levelno >= logging.ERROR]
    assert not errors, "the I/O thread logged errors:\n" + "\n".join(
        f"{r.getMessage()}\n{r.exc_text or ''}" for r in errors)


@pytest.fixture
def zctx() -> Iterator[libzmq.Context]:
    """A pyzmq (libzmq) context for well-behaved reference peers."""
    context = libzmq.Context()
    yield context
    destroy_context(context)
