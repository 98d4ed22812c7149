"""The size one read asks for (engine.stream.READ_CHUNK)."""

from __future__ import annotations

from puremq.engine import stream

#: glibc's initial mmap threshold; musl maps from a little below it
MMAP_THRESHOLD = 128 * 1024
#: a bytes object's header (33 bytes on 64-bit CPython) and the allocator's own, rounded up
OVERHEAD = 256


def test_a_read_buffer_is_allocated_below_the_mmap_threshold() -> None:
    """A read SHALL ask for less than the C allocator's initial mmap threshold, object
    header and allocator overhead included: ``recv`` allocates the whole size first, and
    a mapped block costs fresh pages on every read, however little arrives."""
    assert stream.READ_CHUNK + OVERHEAD <= MMAP_THRESHOLD - 256
