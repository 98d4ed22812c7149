"""Fixtures for the interop suite: a pyzmq (libzmq) context next to the puremq one."""

from __future__ import annotations

from typing import Iterator

import pytest
import zmq

import puremq

from .._contexts import destroy_context
from .harness import Net


@pytest.fixture
def zctx() -> Iterator[zmq.Context]:
    """A libzmq context (pyzmq), destroyed with linger 0 after the test."""
    context = zmq.Context()
    yield context
    destroy_context(context)


@pytest.fixture
def net(zctx: zmq.Context, ctx: puremq.Context, ipc_dir: str) -> Iterator[Net]:
    """Socket factory over both implementations; closes every socket it made (linger 0)
    before the contexts are destroyed."""
    network = Net(zctx, ctx, ipc_dir)
    yield network
    network.close_all()
