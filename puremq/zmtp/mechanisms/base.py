"""The interface every security mechanism implements (the shape of libzmq's mechanism_t).

A mechanism never touches the stream: the connection hands it each handshake command and
sends whatever commands it returns.  ZAP (RFC 27) is a request the mechanism makes and an
answer it is given, so the engine can route it over inproc without the mechanism knowing.
"""

from __future__ import annotations

import abc
import enum
from typing import Dict, List, Optional, Tuple

from ..framing import Command

Outgoing = List[Tuple[bytes, bytes]]


class MechanismStatus(enum.Enum):
    HANDSHAKING = "handshaking"
    READY = "ready"
    ERROR = "error"


class Mechanism(abc.ABC):
    """Base class: NULL, PLAIN and CURVE fill in the handshake."""

    name: bytes = b""
    as_server: bool = False

    def __init__(self, metadata: Dict[str, bytes]) -> None:
        #: properties we announce (Socket-Type, Identity, X-*)
        self.metadata = metadata
        #: properties the peer announced, once the handshake is done
        self.peer_properties: Dict[str, bytes] = {}
        self.status = MechanismStatus.HANDSHAKING
        #: an ERROR command the peer sent, if any
        self.peer_error: Optional[bytes] = None

    @abc.abstractmethod
    def start(self) -> Outgoing:
        """Commands to send once the greetings are exchanged."""

    @abc.abstractmethod
    def process(self, command: Command) -> Outgoing:
        """Handle one handshake command; return commands to send."""
