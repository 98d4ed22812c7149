"""An engine that talks to the other engines directly, with numpy arrays sent zero-copy.

Who connects to whom
--------------------
Every engine binds three sockets and tells the Hub where they are when it registers:

* a ROUTER for point-to-point messages (its routing id is the engine's name), and
* a PUB and a SUB for broadcasts.

The Hub answers with the engines that registered *before* it, and the rule is: **the later
engine connects to the earlier one, never the other way**.  So for each pair there is exactly
one ROUTER-ROUTER connection (it carries both directions), one link from the later engine's
SUB to the earlier one's PUB, and one from the later engine's PUB to the earlier one's SUB
(PUB may connect and SUB may bind).  No engine needs to hear about engines that come after
it, and no two engines ever connect to each other twice.

Before any data moves, the engines check the mesh: each pings every peer over the ROUTERs
(ROUTER_MANDATORY tells when a peer is not reachable yet) and publishes hellos until it has
heard every peer, then waits at a Hub barrier -- still answering pings and publishing
hellos -- until every engine has done the same.  After that no broadcast can be lost to a
subscription still on its way.

Then each engine broadcasts its array (every peer adds it up: an all-reduce) and sends
another to the next engine round the ring (point-to-point), and reports to the Hub.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional, Set

from examples.cluster.protocol import DEFAULT_TIMEOUT_MS, dumps, load_module, loads

HELLO_INTERVAL = 0.05


def local_array(engine_id: int, size: int) -> Any:
    import numpy as np
    return np.arange(size, dtype=np.float64) * (engine_id + 1)


class Mesh:
    """The engine's three sockets and the peers they reach."""

    def __init__(self, zmq: Any, ctx: Any, name: str) -> None:
        self.zmq = zmq
        self.name = name
        self.router = ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.ROUTING_ID, name.encode())
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.pub = ctx.socket(zmq.PUB)
        self.sub = ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        for sock in (self.router, self.pub, self.sub):
            sock.linger = 1000
            sock.bind("tcp://127.0.0.1:*")
        #: peers this engine connected to (the earlier ones)
        self.connected_to: List[str] = []

    def addresses(self) -> Dict[str, str]:
        return {kind: sock.last_endpoint.decode()
                for kind, sock in (("router", self.router), ("pub", self.pub),
                                   ("sub", self.sub))}

    def connect_to(self, peer: Dict[str, Any]) -> None:
        """The later engine's side of the rule: one connection per socket kind."""
        addresses = peer["addresses"]
        self.router.connect(addresses["router"])
        self.sub.connect(addresses["pub"])
        self.pub.connect(addresses["sub"])
        self.connected_to.append(peer["name"])

    def close(self) -> None:
        for sock in (self.router, self.pub, self.sub):
            sock.close()


def run_mesh(zmq: Any, mesh: Mesh, hub: Any, engine_id: int, roster: List[Dict[str, Any]],
             size: int, timeout_ms: int) -> Dict[str, Any]:
    """One event loop for the whole exchange: check the mesh, meet at the barrier, then
    broadcast an array and pass another round the ring; returns the report for the Hub.

    Every kind of message is handled whatever the phase: a peer that left the barrier first
    may send its arrays while this engine is still waiting there.
    """
    import numpy as np
    from puremq.utils import arrays  # works on pyzmq sockets too
    names = [e["name"] for e in roster]
    count = len(names)
    peers = set(names) - {mesh.name}
    me = mesh.name.encode()
    mine = local_array(engine_id, size)
    right = names[(engine_id + 1) % count]
    left = names[(engine_id - 1) % count]

    pinged_back: Set[str] = set()
    heard: Set[str] = set()
    phase = "meshing"  # -> "barrier" -> "exchanging"
    total = mine.copy()
    broadcasts: Set[str] = set()
    views: List[bool] = []
    ring: Optional[Any] = None
    ring_from = None

    poller = zmq.Poller()
    for sock in (mesh.router, mesh.sub, hub):
        poller.register(sock, zmq.POLLIN)
    deadline = time.monotonic() + timeout_ms / 1000.0
    next_hello = 0.0
    while phase != "exchanging" or len(broadcasts) < count - 1 or ring is None:
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"{mesh.name} stuck in phase {phase}: pinged back by "
                               f"{sorted(pinged_back)}, heard {sorted(heard)}, arrays from "
                               f"{sorted(broadcasts)}, ring from {ring_from}")
        if phase != "exchanging" and now >= next_hello:
            next_hello = now + HELLO_INTERVAL
            mesh.pub.send_multipart([b"hello", me])
            for peer in peers - pinged_back:
                try:
                    mesh.router.send_multipart([peer.encode(), b"ping"], zmq.DONTWAIT)
                except zmq.ZMQError:
                    pass  # EHOSTUNREACH: that peer's connection is not up yet
        if phase == "meshing" and pinged_back >= peers and heard >= peers:
            hub.send(dumps({"type": "barrier", "name": "mesh", "count": count}))
            phase = "barrier"
        for sock, _ in poller.poll(int(HELLO_INTERVAL * 1000)):
            if sock is mesh.router:
                sender = mesh.router.recv()
                kind = mesh.router.recv()
                if kind == b"array":
                    ring = arrays.recv_array(mesh.router, copy=True)
                    ring_from = sender.decode()
                    continue
                if kind == b"ping":
                    try:
                        mesh.router.send_multipart([sender, b"pong"], zmq.DONTWAIT)
                    except zmq.ZMQError:
                        pass
                elif kind == b"pong":
                    pinged_back.add(sender.decode())
            elif sock is mesh.sub:
                kind = mesh.sub.recv()
                sender = mesh.sub.recv().decode()
                if kind == b"hello":
                    heard.add(sender)
                elif kind == b"array":
                    received = arrays.recv_array(mesh.sub)  # a read-only view, no copy
                    views.append(not received.flags.owndata and not received.flags.writeable)
                    total += received
                    broadcasts.add(sender)
            elif sock is hub:
                reply = loads(hub.recv())
                if reply.get("type") != "barrier":
                    raise RuntimeError(f"{mesh.name}: the Hub said {reply}")
                # every engine has checked its links: nothing sent now can be lost
                mesh.pub.send_multipart([b"array", me], zmq.SNDMORE)
                arrays.send_array(mesh.pub, mine)
                mesh.router.send_multipart([right.encode(), b"array"], zmq.SNDMORE)
                arrays.send_array(mesh.router, mine)
                phase = "exchanging"
    expected_total = np.arange(size, dtype=np.float64) * (count * (count + 1) / 2)
    expected_ring = local_array(names.index(left), size)
    return {
        "id": engine_id, "name": mesh.name, "pid": os.getpid(),
        "connected_to": list(mesh.connected_to),
        "broadcasts_from": sorted(broadcasts),
        "allreduce_ok": bool(np.array_equal(total, expected_total)),
        "allreduce_sum": float(total.sum()),
        "ring_from": ring_from, "ring_expected_from": left,
        "ring_ok": bool(ring is not None and np.array_equal(ring, expected_ring)),
        "received_views": bool(views) and all(views),
        "array_bytes": int(mine.nbytes),
    }


def interengine_main(registration: str, count: int, impl: str = "puremq",
                     name: Optional[str] = None, size: int = 100_000,
                     timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    zmq = load_module(impl)
    ctx = zmq.Context()
    name = name or f"engine-{os.getpid()}"
    mesh = Mesh(zmq, ctx, name)
    hub = ctx.socket(zmq.DEALER)
    hub.linger = 1000
    hub.rcvtimeo = timeout_ms
    try:
        hub.connect(registration)
        hub.send(dumps({"type": "register", "name": name, "pid": os.getpid(),
                        "addresses": mesh.addresses()}))
        reply = loads(hub.recv())
        engine_id = reply["id"]
        for peer in reply["peers"]:  # the engines registered before this one
            mesh.connect_to(peer)
        hub.send(dumps({"type": "wait_engines", "count": count, "registered": True}))
        roster = loads(hub.recv())["engines"]
        report = run_mesh(zmq, mesh, hub, engine_id, roster, size, timeout_ms)
        hub.send(dumps({"type": "report", "report": report}))
        hub.recv()
        # wait for the Hub's shutdown, so late pings from slower peers are still answered
        poller = zmq.Poller()
        poller.register(hub, zmq.POLLIN)
        poller.register(mesh.router, zmq.POLLIN)
        deadline = time.monotonic() + timeout_ms / 1000.0
        while time.monotonic() < deadline:
            events = dict(poller.poll(200))
            if hub in events and loads(hub.recv()).get("type") == "shutdown":
                break
            if mesh.router in events:
                mesh.router.recv_multipart()
    finally:
        hub.close()
        mesh.close()
        ctx.term()
