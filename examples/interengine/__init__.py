"""Inter-engine communication: engines find each other through the Hub, connect (the later
engine to the earlier, once per pair), and exchange numpy arrays without copying them.
Run it: ``python -m examples.interengine`` (needs numpy)."""

from .engine import interengine_main
from .launcher import check, run_interengine

__all__ = ["interengine_main", "run_interengine", "check"]
