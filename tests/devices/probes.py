"""Helper processes for the monitor tests: ``python -m tests.devices.probes NAME ARGS``.

* ``emfile IMPL``: a monitored ROUTER (puremq or pyzmq) whose process runs out of file
  descriptors when a peer connects; prints the events it saw as JSON.
* ``peer IMPL ENDPOINT``: a DEALER that connects, says hello and waits to be killed.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import socket
import sys
import time
from typing import Any, List


def _module(impl: str) -> Any:
    return importlib.import_module("puremq" if impl == "puremq" else "zmq")


def emfile(impl: str) -> None:
    zmq = _module(impl)
    events = importlib.import_module(zmq.__name__ + ".utils.monitor")
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    monitor = router.get_monitor_socket()
    router.bind("tcp://127.0.0.1:*")
    port = int(router.getsockopt(zmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
    seen: List[Any] = []

    def collect(until: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if monitor.poll(50):
                event = events.recv_monitor_message(monitor)
                seen.append([int(event["event"]), int(event["value"])])
                if event["event"] == until:
                    return

    collect(zmq.EVENT_LISTENING, 5)
    # leave this process no file descriptor for the connection the ROUTER will accept
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 1024), hard))
    hogs = []
    try:
        while True:
            hogs.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    os.close(hogs.pop())  # one for our client's end
    client = socket.create_connection(("127.0.0.1", port))
    collect(zmq.EVENT_ACCEPT_FAILED, 5)
    for fd in hogs:
        os.close(fd)
    collect(zmq.EVENT_ACCEPTED, 5)
    print(json.dumps(seen), flush=True)
    client.close()
    router.disable_monitor()
    monitor.close(linger=0)
    router.close()
    ctx.term()


def peer(impl: str, endpoint: str) -> None:
    zmq = _module(impl)
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(endpoint)
    dealer.send(b"hello")
    time.sleep(60)  # until killed


if __name__ == "__main__":
    {"emfile": emfile, "peer": peer}[sys.argv[1]](*sys.argv[2:])
