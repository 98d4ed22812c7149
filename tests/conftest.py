"""Shared fixtures: contexts that are always cleaned up, ipc paths, loopback endpoints."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import Iterator

import pytest

import puremq


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_stay_out_of_the_checkout() -> Iterator[None]:
    """libzmq makes an ``ipc://*`` socket's directory under $TMPDIR, else in the working
    directory, and 4.3.5 leaves that directory behind at close (it tries rmdir before it
    unlinks the file): without this, every run left tmpXXXXXX directories in the checkout."""
    saved = os.environ.get("TMPDIR")
    directory = tempfile.mkdtemp(prefix="puremq-tests-")
    os.environ["TMPDIR"] = directory
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
        # (a child process of some test may still be writing there: never fail the run)
        shutil.rmtree(directory, ignore_errors=True)


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
