"""Security mechanisms, sans-IO: each turns handshake commands into replies and a verdict."""

from .base import Mechanism, MechanismStatus
from .null import NullMechanism

__all__ = ["Mechanism", "MechanismStatus", "NullMechanism"]
