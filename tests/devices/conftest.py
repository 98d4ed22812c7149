"""Fixtures for the devices suite: a libzmq (pyzmq) context next to the puremq one."""

from __future__ import annotations

from typing import Iterator

import pytest
import zmq


@pytest.fixture
def zctx() -> Iterator[zmq.Context]:
    """A libzmq context (pyzmq), destroyed with linger 0 after the test."""
    context = zmq.Context()
    yield context
    context.destroy(linger=0)
