"""inproc: two sockets of one context joined by a pair of lanes, with no encoding.

Bind and connect work in either order: a connect to a name nobody bound yet creates the
pipe pair at once (the connecting socket may queue messages) and parks the binder's end
until a socket binds that name.  Capacity per direction is the sender's SNDHWM plus the
receiver's RCVHWM, as in libzmq.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Dict, List, Optional

from ..constants import Errno, SocketOption
from ..error import ZMQError
from ..routing.pipe import Pipe, inproc_capacity, inproc_pair

if TYPE_CHECKING:
    from .socket_engine import SocketEngine


class InprocLink:
    """What ``pipe.peer`` is for an inproc pipe: terminating it detaches both ends."""

    def __init__(self, connecter: "SocketEngine", connecter_pipe: Pipe, name: str) -> None:
        self.connecter = connecter
        self.connecter_pipe = connecter_pipe
        self.binder: Optional["SocketEngine"] = None
        self.binder_pipe: Optional[Pipe] = None
        self.name = name
        self.terminated = False

    def terminate(self) -> None:
        if self.terminated:
            return
        self.terminated = True
        self.connecter.detach_later(self.connecter_pipe)
        if self.binder is not None and self.binder_pipe is not None:
            self.binder.detach_later(self.binder_pipe)


class InprocRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bound: Dict[str, "SocketEngine"] = {}
        self._pending: Dict[str, List[InprocLink]] = {}

    def bind(self, engine: "SocketEngine", name: str) -> List[InprocLink]:
        with self._lock:
            if name in self._bound:
                raise ZMQError(Errno.EADDRINUSE, f"Address already in use (addr='inproc://{name}')")
            self._bound[name] = engine
            waiting = self._pending.pop(name, [])
        for link in waiting:
            self._join(link, engine)
        return waiting

    def unbind(self, engine: "SocketEngine", name: str) -> bool:
        with self._lock:
            if self._bound.get(name) is engine:
                del self._bound[name]
                return True
        return False

    def unbind_all(self, engine: "SocketEngine") -> None:
        with self._lock:
            for name in [n for n, e in self._bound.items() if e is engine]:
                del self._bound[name]
            for name, links in list(self._pending.items()):
                kept = [link for link in links if link.connecter is not engine]
                if kept:
                    self._pending[name] = kept
                else:
                    del self._pending[name]

    def connect(self, engine: "SocketEngine", name: str) -> InprocLink:
        options = engine.options
        if options[SocketOption.CONFLATE]:
            # libzmq: the connecter's CONFLATE decides, and such queues have no mark.
            mine, theirs = inproc_pair(0, 0)
            mine.inbound.conflate = mine.outbound.conflate = True
        else:
            # Until a binder shows up only our own marks are known (libzmq); _join adds its.
            mine, theirs = inproc_pair(options[SocketOption.SNDHWM],
                                       options[SocketOption.RCVHWM])
        link = InprocLink(engine, mine, name)
        mine.peer = link
        theirs.peer = link
        mine.endpoint = theirs.endpoint = f"inproc://{name}"
        link.binder_pipe = theirs
        connect_rid = options.values.get(SocketOption.CONNECT_ROUTING_ID)
        if connect_rid:
            # ROUTER's name for this peer, usable at once; good for this connect() only.
            mine.routing_id = connect_rid
            options.values[SocketOption.CONNECT_ROUTING_ID] = b""
        engine.pattern.prepare_pipe(mine)
        with self._lock:
            binder = self._bound.get(name)
            if binder is None:
                self._pending.setdefault(name, []).append(link)
        engine.attach_inproc(mine, link)
        if binder is not None:
            self._join(link, binder)
        return link

    def _join(self, link: InprocLink, binder: "SocketEngine") -> None:
        """Give the binder its end of a link (binder may live in another thread)."""
        connecter = link.connecter
        pipe = link.binder_pipe
        assert pipe is not None
        c_opts, b_opts = connecter.options, binder.options
        if not c_opts[SocketOption.CONFLATE]:
            link.connecter_pipe.outbound.set_hwm(
                inproc_capacity(c_opts[SocketOption.SNDHWM], b_opts[SocketOption.RCVHWM]))
            pipe.outbound.set_hwm(
                inproc_capacity(b_opts[SocketOption.SNDHWM], c_opts[SocketOption.RCVHWM]))
        link.binder = binder
        # Each side addresses the other by the routing id the other chose.
        pipe.routing_id = c_opts[SocketOption.ROUTING_ID] or b""
        if link.connecter_pipe.routing_id is None:  # not named by CONNECT_ROUTING_ID
            link.connecter_pipe.routing_id = b_opts[SocketOption.ROUTING_ID] or b""
        # No message properties on inproc: libzmq has no handshake there, and frame.get()
        # of any property is EINVAL (pipe.properties stays empty).
        binder.pattern.prepare_pipe(pipe)
        binder.attach_later(pipe)
        connecter.identify_later(link.connecter_pipe)
        if pipe.inbound.items:
            # The connecter queued messages before the bind: make them visible.
            pipe.inbound.signaled = True
            pipe.inbound.on_items()
