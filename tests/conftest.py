"""Shared fixtures: contexts that are always cleaned up, ipc paths, loopback endpoints."""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Iterator

import pytest

import puremq


@pytest.fixture
def ctx() -> Iterator[puremq.Context]:
    """A puremq context, destroyed (linger 0) after the test."""
    context = puremq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def ipc_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="puremq-test-") as directory:
        yield directory


@pytest.fixture
def ipc_endpoint(ipc_dir: str) -> str:
    return f"ipc://{os.path.join(ipc_dir, uuid.uuid4().hex[:12])}"


@pytest.fixture
def inproc_endpoint() -> str:
    return f"inproc://{uuid.uuid4().hex}"


TRANSPORTS = ["tcp", "ipc", "inproc"]


def endpoint_for(transport: str, ipc_dir: str) -> str:
    """A bindable endpoint on ``transport`` (tcp gets a kernel-chosen port)."""
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{os.path.join(ipc_dir, uuid.uuid4().hex[:12])}"
    return f"inproc://{uuid.uuid4().hex}"
