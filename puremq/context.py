"""Context: pyzmq's Context API (one per process, usually via ``Context.instance()``)."""

from __future__ import annotations

import errno as _errno
import os
import threading
import warnings
import weakref
from typing import Any, Optional, Type, TypeVar

from .constants import ContextOption, Errno, SocketOption
from .engine.context_engine import ContextEngine
from .error import ZMQError
from .socket import Socket

__all__ = ["Context"]

T = TypeVar("T", bound="Context")
MAX_SOCKETS_DEFAULT = 1023


class Context:
    """Holds the I/O threads and the inproc namespace; makes sockets."""

    _instance: Optional["Context"] = None
    _instance_lock = threading.Lock()
    _instance_pid: Optional[int] = None
    _socket_class: Type[Socket] = Socket
    _closed = True
    _shadow = False

    def __init__(self, io_threads: int = 1, shadow: Any = 0, **kwargs: Any) -> None:
        if shadow:
            raise ZMQError(Errno.EINVAL, "puremq contexts cannot shadow libzmq contexts")
        if isinstance(io_threads, Context):
            raise ZMQError(Errno.EINVAL, "puremq contexts cannot shadow other contexts")
        object.__setattr__(self, "_engine", ContextEngine(io_threads))
        object.__setattr__(self, "_sockets", weakref.WeakSet())
        object.__setattr__(self, "sockopts", {})
        object.__setattr__(self, "_options", {
            ContextOption.IO_THREADS: io_threads,
            ContextOption.MAX_SOCKETS: MAX_SOCKETS_DEFAULT,
            ContextOption.SOCKET_LIMIT: 65535,
            ContextOption.MAX_MSGSZ: 2**31 - 1,
            ContextOption.MSG_T_SIZE: 64,
        })
        object.__setattr__(self, "_closed", False)

    # -- the process-wide instance -----------------------------------------------------
    @classmethod
    def instance(cls: Type[T], io_threads: int = 1) -> T:
        """The shared context of this process (a new one after fork or after term)."""
        if (cls._instance is None or cls._instance.closed
                or cls._instance_pid != os.getpid()):
            with cls._instance_lock:
                if (cls._instance is None or cls._instance.closed
                        or cls._instance_pid != os.getpid()):
                    cls._instance = cls(io_threads=io_threads)
                    cls._instance_pid = os.getpid()
        return cls._instance  # type: ignore[return-value]

    # -- sockets -------------------------------------------------------------------------
    def socket(self, socket_type: int, socket_class: Optional[Type[Socket]] = None,
               **kwargs: Any) -> Socket:
        """A new socket of ``socket_type`` (zmq.PUSH, ...)."""
        if self._closed:
            raise ZMQError(Errno.ENOTSUP)  # what pyzmq raises for a closed context
        if len(self._sockets) >= self._options[ContextOption.MAX_SOCKETS]:
            raise ZMQError(_errno.EMFILE, "Too many open files")
        cls = socket_class or self._socket_class
        sock = cls(self, socket_type, **kwargs)
        for option, value in self.sockopts.items():
            try:
                sock.setsockopt(option, value)
            except ZMQError:
                pass  # an option that does not apply to this socket type
        return sock

    def _add_socket(self, sock: Socket) -> None:
        self._sockets.add(sock)

    def _rm_socket(self, sock: Socket) -> None:
        self._sockets.discard(sock)

    # -- options ---------------------------------------------------------------------------
    def set(self, option: int, optval: int) -> None:
        option = int(option)
        if option in (ContextOption.IO_THREADS, ContextOption.MAX_SOCKETS,
                      ContextOption.SOCKET_LIMIT, ContextOption.MAX_MSGSZ,
                      ContextOption.THREAD_SCHED_POLICY, ContextOption.THREAD_PRIORITY,
                      ContextOption.THREAD_NAME_PREFIX):
            if not isinstance(optval, int) or optval < 0:
                raise ZMQError(Errno.EINVAL)
            self._options[option] = optval
            if option == ContextOption.IO_THREADS:
                self._engine.io_threads = max(1, optval)
            return
        if option == 70:  # ZMQ_BLOCKY
            self._options[option] = optval
            return
        raise ZMQError(Errno.EINVAL)

    def get(self, option: int) -> int:
        option = int(option)
        if option in self._options:
            return self._options[option]
        raise ZMQError(Errno.EINVAL)

    def setsockopt(self, opt: int, value: Any) -> None:
        """A default option for sockets this context makes from now on."""
        self.sockopts[int(opt)] = value

    def getsockopt(self, opt: int) -> Any:
        return self.sockopts[int(opt)]

    def __setattr__(self, key: str, value: Any) -> None:
        if key in self.__dict__ or key.startswith("_") or hasattr(type(self), key):
            object.__setattr__(self, key, value)
            return
        upper = key.upper()
        if upper in ContextOption.__members__:
            self.set(ContextOption[upper], value)
        elif upper in SocketOption.__members__:
            self.setsockopt(SocketOption[upper], value)
        else:
            raise AttributeError(f"{type(self).__name__} has no such option: {upper}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        upper = key.upper()
        if upper in ContextOption.__members__:
            return self.get(ContextOption[upper])
        if upper in SocketOption.__members__:
            option = SocketOption[upper]
            if option in self.sockopts:
                return self.sockopts[option]
        raise AttributeError(f"{type(self).__name__} has no such option: {upper}")

    # -- ending --------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def underlying(self) -> int:
        return id(self._engine)

    def term(self) -> None:
        """Terminate: blocking calls in other threads raise ETERM; waits for every socket
        to be closed and for lingering messages to be sent."""
        if self._closed:
            return
        self._engine.term()
        object.__setattr__(self, "_closed", True)

    def destroy(self, linger: Optional[int] = None) -> None:
        """Close every socket (with ``linger`` if given), then term()."""
        if self._closed:
            return
        for sock in list(self._sockets):
            if sock is not None and not sock.closed:
                sock.close(linger=linger)
        # A socket object the garbage collector found unreachable has left the weak set, but
        # on PyPy its __del__ (which closes it) runs later, possibly not before term() would
        # wait for it forever: close what is still open underneath as well.
        self._engine.close_sockets(linger)
        self.term()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *args: Any) -> None:
        self.destroy()

    def __del__(self) -> None:
        if not self._closed and getattr(self, "_engine", None) is not None:
            try:
                if len(self._sockets):
                    warnings.warn(f"Unclosed context {self}", ResourceWarning, stacklevel=2)
                for sock in list(self._sockets):
                    sock.close(linger=0)
                self._engine.force_stop()
            except Exception:
                pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._sockets)} sockets"
        return f"<puremq.Context() at {hex(id(self))}, {state}>"

