"""``python -m examples.cluster [--engines N] [--tasks N] [--impl puremq|zmq]``"""

from __future__ import annotations

import argparse
import sys

from .client import default_tasks
from .launcher import run_cluster
from .report import print_report


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.cluster")
    parser.add_argument("--engines", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=9)
    parser.add_argument("--impl", default="puremq", help="controller: puremq or zmq")
    parser.add_argument("--engine-impl", default=None)
    parser.add_argument("--client-impl", default=None)
    args = parser.parse_args()
    outcome = run_cluster(args.engines, default_tasks(args.tasks), args.impl,
                          args.engine_impl, args.client_impl, log=print)
    return 0 if print_report(outcome, print) else 1


if __name__ == "__main__":
    sys.exit(main())
