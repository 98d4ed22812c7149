"""Large-message receive path: FrameDecoder body mode alone and driven the engine's way.

Two measurements, each on the interpreter that runs this script:

* ``decode``: a stream of encoded messages cut into READ_CHUNK pieces (made before the
  clock starts) is fed to ``FrameDecoder.decode``, as the engine does for what it reads with
  ``recv``.  No socket, no thread: the parser and its copies only.
* ``engine``: a forked child writes the same stream into a socketpair (AF_UNIX, or tcp on
  loopback) with ``sendall``; this process reads it exactly as
  ``StreamConnection._read_available`` does (``recv_into(decoder.body_buffer())`` while the
  decoder is in body mode, ``recv(READ_CHUNK)`` + ``decode`` otherwise).  With ``--copy``
  every received frame is also turned into ``bytes`` (what ``recv()`` with the default
  copy=True returns); without it the frames are dropped as they come (``recv(copy=False)``).

``--repo`` chooses the puremq tree whose decoder is measured, so two trees (before/after a
change) can be compared in one session; the figure is payload bytes per second, best and
median of ``--repeat`` runs.

    python bench/bigmsg_bench.py --sizes 64K,1M
    pypy3 bench/bigmsg_bench.py --sizes 64K,1M --repo /tmp/other-tree
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import sys
import time
from typing import Any, Callable, List, Tuple


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for suffix, factor in (("K", 1 << 10), ("M", 1 << 20)):
        if text.endswith(suffix):
            return int(text[:-1]) * factor
    return int(text)


def load_framing(repo: str) -> Any:
    sys.path.insert(0, repo)
    from puremq.zmtp import framing  # noqa: E402 - the tree chosen on the command line
    return framing


def encoded_stream(framing: Any, size: int, total: int) -> Tuple[bytes, int]:
    """One message of ``size`` bytes, encoded, repeated to about ``total`` bytes."""
    one = framing.encode_message([bytes(range(256)) * (size // 256) + b"x" * (size % 256)])
    count = max(4, total // len(one))
    return one * count, count


def bench_decode(framing: Any, size: int, total: int, chunk: int, copy: bool) -> float:
    stream, count = encoded_stream(framing, size, total)
    pieces = [stream[i:i + chunk] for i in range(0, len(stream), chunk)]
    del stream
    decoder = framing.FrameDecoder()
    got = 0
    gc.collect()
    start = time.perf_counter()
    for piece in pieces:
        for msg in decoder.decode(piece):
            got += 1
            if copy:
                for part in msg:
                    if type(part) is not bytes:
                        bytes(part)
    elapsed = time.perf_counter() - start
    assert got == count, (got, count)
    return count * size / elapsed


def _socketpair(transport: str) -> Tuple[socket.socket, socket.socket]:
    if transport == "ipc":
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    writer = socket.create_connection(listener.getsockname())
    reader, _ = listener.accept()
    listener.close()
    for sock in (reader, writer):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


def bench_engine(framing: Any, size: int, total: int, chunk: int, copy: bool,
                 transport: str) -> float:
    stream, count = encoded_stream(framing, size, total)
    reader, writer = _socketpair(transport)
    pid = os.fork()
    if pid == 0:  # the sender: write everything, then wait for the reader's byte
        try:
            reader.close()
            writer.recv(1)  # go
            view = memoryview(stream)
            step = 1 << 20
            for offset in range(0, len(view), step):
                writer.sendall(view[offset:offset + step])
            writer.recv(1)
        finally:
            os._exit(0)
    del stream
    decoder = framing.FrameDecoder()
    got = 0
    recv, recv_into = reader.recv, reader.recv_into
    gc.collect()
    reader.send(b"g")
    start = time.perf_counter()
    while got < count:
        if decoder.in_body_mode:
            items = decoder.body_received(recv_into(decoder.body_buffer()))
        else:
            data = recv(chunk)
            if not data:
                raise RuntimeError("sender closed early")
            items = decoder.decode(data)
        for msg in items:
            got += 1
            if copy:
                for part in msg:
                    if type(part) is not bytes:
                        bytes(part)
    elapsed = time.perf_counter() - start
    reader.send(b"e")
    os.waitpid(pid, 0)
    reader.close()
    writer.close()
    return count * size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), help="puremq tree to measure (default: this one)")
    parser.add_argument("--sizes", default="64K,256K,1M,4M")
    parser.add_argument("--modes", default="decode,engine")
    parser.add_argument("--transports", default="ipc,tcp", help="for the engine mode")
    parser.add_argument("--total", default="256M", help="payload bytes per run")
    parser.add_argument("--chunk", default="128K", help="recv/decode chunk (READ_CHUNK)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copy", action="store_true",
                        help="also turn every received frame into bytes (recv() copy=True)")
    args = parser.parse_args()
    framing = load_framing(args.repo)
    total, chunk = parse_size(args.total), parse_size(args.chunk)
    impl = sys.implementation.name
    print(f"# {impl} {sys.version.split()[0]}, decoder from {framing.__file__}, "
          f"chunk {chunk}, copy={args.copy}, {args.repeat} runs of {total >> 20} MiB")
    for mode in args.modes.split(","):
        transports = args.transports.split(",") if mode == "engine" else ["-"]
        for transport in transports:
            for size_text in args.sizes.split(","):
                size = parse_size(size_text)
                runs: List[float] = []
                run: Callable[[], float]
                if mode == "decode":
                    def run() -> float:
                        return bench_decode(framing, size, total, chunk, args.copy)
                else:
                    def run() -> float:
                        return bench_engine(framing, size, total, chunk, args.copy,
                                            transport)
                run()  # warm-up (PyPy's JIT)
                for _ in range(args.repeat):
                    runs.append(run())
                print(f"{mode:6} {transport:3} {size_text:>5}: best {max(runs) / 1e9:5.2f} GB/s,"
                      f" median {statistics.median(runs) / 1e9:5.2f} GB/s")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
