"""Command line: ``python -m puremq demo``."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m puremq",
                                     description="puremq: ZeroMQ in pure Python")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("demo", help="a guided tour of the ØMQ patterns, run for real")
    commands.add_parser("version", help="print puremq's version and the libzmq it matches")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run
        return run()
    if args.command == "version":
        from .version import __version__, pyzmq_version, zmq_version
        print(f"puremq {__version__} (libzmq {zmq_version()} wire, pyzmq {pyzmq_version()} API)")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
