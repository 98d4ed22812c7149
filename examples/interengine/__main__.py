"""``python -m examples.interengine [--engines N] [--size N] [--impl puremq|zmq]``"""

from __future__ import annotations

import argparse
import sys

from .launcher import check, run_interengine


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.interengine")
    parser.add_argument("--engines", type=int, default=4)
    parser.add_argument("--size", type=int, default=100_000, help="float64s per array")
    parser.add_argument("--impl", default="puremq", help="the Hub: puremq or zmq")
    parser.add_argument("--engine-impl", default="")
    args = parser.parse_args()
    outcome = run_interengine(args.engines, args.size, args.impl, args.engine_impl, log=print)
    for report in outcome["reports"]:
        print(f"  {report['name']} (registered #{report['id']}) connected to "
              f"{report['connected_to']}; "
              f"all-reduce over {report['broadcasts_from']} "
              f"{'ok' if report['allreduce_ok'] else 'WRONG'}; "
              f"ring from {report['ring_from']} "
              f"{'ok' if report['ring_ok'] else 'WRONG'}; received arrays were views: "
              f"{report['received_views']}")
    problems = check(outcome)
    for problem in problems:
        print(f"  PROBLEM {problem}")
    if not problems:
        print("  every pair of engines connected once (the later to the earlier); "
              "every array arrived intact")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
