"""Socket-type names as sent in READY, and which pairs may talk (RFC 37 §Socket-Type)."""

from __future__ import annotations

from typing import Dict, FrozenSet

#: libzmq's numeric socket types and the names ZMTP carries for them.
TYPE_NAMES: Dict[int, str] = {
    0: "PAIR", 1: "PUB", 2: "SUB", 3: "REQ", 4: "REP", 5: "DEALER", 6: "ROUTER",
    7: "PULL", 8: "PUSH", 9: "XPUB", 10: "XSUB", 11: "STREAM", 12: "SERVER",
    13: "CLIENT", 14: "RADIO", 15: "DISH", 16: "GATHER", 17: "SCATTER", 18: "DGRAM",
    19: "PEER", 20: "CHANNEL",
}

COMPATIBLE: Dict[str, FrozenSet[str]] = {
    "REQ": frozenset({"REP", "ROUTER"}),
    "REP": frozenset({"REQ", "DEALER"}),
    "DEALER": frozenset({"REP", "DEALER", "ROUTER"}),
    "ROUTER": frozenset({"REQ", "DEALER", "ROUTER"}),
    "PUB": frozenset({"SUB", "XSUB"}),
    "XPUB": frozenset({"SUB", "XSUB"}),
    "SUB": frozenset({"PUB", "XPUB"}),
    "XSUB": frozenset({"PUB", "XPUB"}),
    "PUSH": frozenset({"PULL"}),
    "PULL": frozenset({"PUSH"}),
    "PAIR": frozenset({"PAIR"}),
    "CLIENT": frozenset({"SERVER"}),
    "SERVER": frozenset({"CLIENT"}),
    "RADIO": frozenset({"DISH"}),
    "DISH": frozenset({"RADIO"}),
    "SCATTER": frozenset({"GATHER"}),
    "GATHER": frozenset({"SCATTER"}),
    "PEER": frozenset({"PEER"}),
    "CHANNEL": frozenset({"CHANNEL"}),
}

#: libzmq sends an Identity property only from these types (even when it is empty).
SENDS_IDENTITY: FrozenSet[str] = frozenset({"REQ", "DEALER", "ROUTER"})


def compatible(local: str, peer: str) -> bool:
    return peer in COMPATIBLE.get(local, frozenset())
