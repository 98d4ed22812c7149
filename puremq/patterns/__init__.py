"""Socket types as compositions of the routing strategies; no I/O here."""

from __future__ import annotations

from typing import Dict, Type

from ..constants import SocketType
from .base import SocketPattern
from .dealer import Dealer
from .pair import Pair
from .pipeline import Pull, Push
from .pubsub import Pub, Sub, XPub, XSub
from .reqrep import Rep, Req
from .router import Router

PATTERNS: Dict[int, Type[SocketPattern]] = {
    SocketType.PAIR: Pair,
    SocketType.PUB: Pub,
    SocketType.SUB: Sub,
    SocketType.REQ: Req,
    SocketType.REP: Rep,
    SocketType.DEALER: Dealer,
    SocketType.ROUTER: Router,
    SocketType.PULL: Pull,
    SocketType.PUSH: Push,
    SocketType.XPUB: XPub,
    SocketType.XSUB: XSub,
}

__all__ = ["PATTERNS", "SocketPattern", "Pair", "Pub", "Sub", "XPub", "XSub", "Req", "Rep",
           "Dealer", "Router", "Push", "Pull"]
