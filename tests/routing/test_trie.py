"""RadixTrie (puremq.routing.trie): subscription prefixes over byte strings.

Besides the behaviour of each operation, two promises of the module are checked: a 1 MiB
key is one edge (cheap to insert, split, match and delete), and no operation recurses on
the trie's depth or size (they run with the recursion limit cut to just above the caller).
"""

from __future__ import annotations

import random
import sys
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puremq.routing.trie import RadixTrie, _common_prefix

MiB = 1 << 20


def _model_prefix_values(model: dict, data: bytes) -> list:
    return [model[data[:i]] for i in range(len(data) + 1) if data[:i] in model]


def _check_against(trie: RadixTrie, model: dict, probes) -> None:
    assert len(trie) == len(model)
    assert sorted(trie.items()) == sorted(model.items())
    for key, value in model.items():
        assert trie.get(key) == value
    for data in probes:
        expected = _model_prefix_values(model, data)
        assert trie.prefix_values(data) == expected
        assert trie.has_prefix_of(data) == bool(expected)


@contextmanager
def _shallow_stack(headroom: int = 40):
    """Allow only ``headroom`` frames beyond the current depth: any recursion on the data
    would raise RecursionError."""
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_the_shallow_stack_guard_catches_recursion():
    def down(n):
        return 0 if n == 0 else 1 + down(n - 1)

    with _shallow_stack():
        assert down(10) == 10
        with pytest.raises(RecursionError):
            down(100)


# -- basic operations ----------------------------------------------------------------------

def test_empty_trie():
    trie = RadixTrie()
    assert len(trie) == 0
    assert trie.get(b"a") is None
    assert trie.get(b"") is None
    assert trie.prefix_values(b"abc") == []
    assert not trie.has_prefix_of(b"abc")
    assert trie.items() == []
    assert trie.delete(b"abc") is False


def test_setdefault_creates_once_and_returns_the_same_value():
    trie = RadixTrie()
    first = trie.setdefault(b"topic", set)
    first.add("pipe")
    again = trie.setdefault(b"topic", lambda: pytest.fail("factory called twice"))
    assert again is first
    assert len(trie) == 1


def test_empty_key_matches_everything():
    trie = RadixTrie()
    trie.setdefault(b"", lambda: "all")
    assert trie.get(b"") == "all"
    assert trie.prefix_values(b"") == ["all"]
    assert trie.prefix_values(b"anything") == ["all"]
    assert trie.has_prefix_of(b"")
    assert trie.has_prefix_of(b"\x00\xff")
    assert trie.delete(b"") is True
    assert not trie.has_prefix_of(b"anything")
    assert len(trie) == 0


def test_prefix_values_are_shortest_first_and_only_true_prefixes():
    trie = RadixTrie()
    for key in (b"a", b"abc", b"ab", b"abd", b"b", b"abcde"):
        trie.setdefault(key, lambda key=key: key)
    assert trie.prefix_values(b"abcdef") == [b"a", b"ab", b"abc", b"abcde"]
    assert trie.prefix_values(b"abd") == [b"a", b"ab", b"abd"]
    assert trie.prefix_values(b"ac") == [b"a"]
    assert trie.prefix_values(b"c") == []
    assert trie.prefix_values(b"") == []
    assert trie.has_prefix_of(b"bz")
    assert not trie.has_prefix_of(b"zb")


def test_a_key_longer_than_the_message_does_not_match():
    trie = RadixTrie()
    trie.setdefault(b"weather.paris", lambda: 1)
    assert not trie.has_prefix_of(b"weather")
    assert trie.prefix_values(b"weather.par") == []
    assert trie.has_prefix_of(b"weather.paris.today")


def test_matching_is_binary_and_case_sensitive():
    trie = RadixTrie()
    trie.setdefault(b"\x00\x01\xff", lambda: 1)
    assert trie.has_prefix_of(b"\x00\x01\xff\x00")
    assert not trie.has_prefix_of(b"\x00\x01\xfe")
    trie.setdefault(b"Topic", lambda: 2)
    assert not trie.has_prefix_of(b"topic")


def test_edge_split_keeps_both_keys():
    trie = RadixTrie()
    trie.setdefault(b"abcdef", lambda: 1)
    trie.setdefault(b"abcxyz", lambda: 2)   # splits "abcdef" at "abc"
    trie.setdefault(b"abc", lambda: 3)      # lands on the split node
    trie.setdefault(b"ab", lambda: 4)       # splits again above it
    assert trie.get(b"abcdef") == 1
    assert trie.get(b"abcxyz") == 2
    assert trie.get(b"abc") == 3
    assert trie.get(b"ab") == 4
    assert trie.get(b"abcd") is None  # inside an edge: not a key
    assert trie.get(b"a") is None
    assert len(trie) == 4


def test_delete_prunes_and_merges():
    trie = RadixTrie()
    for value, key in enumerate((b"abc", b"abcdef", b"abcxyz")):
        trie.setdefault(key, lambda value=value: value)
    assert trie.delete(b"abcdef")
    assert trie.delete(b"abcdef") is False
    assert trie.get(b"abcxyz") == 2
    assert trie.delete(b"abc")
    # "abc" had one child left: the edge merges back into one label
    (child,) = trie._root.children.values()
    assert child.label == b"abcxyz"
    assert trie.delete(b"abcxyz")
    assert trie._root.children is None
    assert len(trie) == 0


def test_delete_of_an_edge_interior_or_valueless_node_is_refused():
    trie = RadixTrie()
    trie.setdefault(b"abc", lambda: 1)
    trie.setdefault(b"abd", lambda: 2)  # leaves a value-less "ab" node
    assert trie.delete(b"ab") is False
    assert trie.delete(b"a") is False
    assert trie.delete(b"abcd") is False
    assert len(trie) == 2


def test_bytearray_and_memoryview_like_keys():
    trie = RadixTrie()
    trie.setdefault(bytearray(b"key"), lambda: 1)
    assert trie.get(b"key") == 1
    assert trie.get(bytearray(b"key")) == 1
    assert trie.has_prefix_of(bytearray(b"keys"))
    assert trie.prefix_values(bytearray(b"key!")) == [1]
    assert trie.delete(bytearray(b"key"))
    assert len(trie) == 0


@pytest.mark.parametrize("label, key, pos, expected", [
    (b"abc", b"abc", 0, 3),
    (b"abc", b"abd", 0, 2),
    (b"abc", b"xabz", 1, 2),
    (b"abc", b"zzz", 0, 0),
    (b"abc", b"ab", 0, 2),
    (b"", b"abc", 0, 0),
    (b"abc", b"xxabc", 5, 0),
])
def test_common_prefix(label, key, pos, expected):
    assert _common_prefix(label, key, pos) == expected


# -- big keys: one edge, not a million nodes ------------------------------------------------

def test_one_mebibyte_key():
    big = bytes(random.Random(1).getrandbits(8) for _ in range(64)) * (MiB // 64)
    assert len(big) == MiB
    trie = RadixTrie()
    with _shallow_stack():
        trie.setdefault(big, lambda: "big")
        assert trie.get(big) == "big"
        assert trie.prefix_values(big + b"tail") == ["big"]
        assert not trie.has_prefix_of(big[:-1])
        # A second 1 MiB key that differs only in its last byte splits the edge at 1 MiB - 1.
        other = big[:-1] + bytes([big[-1] ^ 1])
        trie.setdefault(other, lambda: "other")
        assert trie.get(big) == "big"
        assert trie.get(other) == "other"
        assert trie.prefix_values(other) == ["other"]
        (middle,) = trie._root.children.values()
        assert len(middle.label) == MiB - 1
        assert trie.delete(big)
        assert trie.get(other) == "other"
        (merged,) = trie._root.children.values()
        assert merged.label == other
        assert trie.delete(other)
    assert len(trie) == 0


def test_many_short_keys_under_one_mebibyte_prefix():
    prefix = b"p" * MiB
    trie = RadixTrie()
    with _shallow_stack():
        for i in range(200):
            trie.setdefault(prefix + str(i).encode(), lambda i=i: i)
        assert trie.prefix_values(prefix + b"199x") == [1, 19, 199]
        assert len(trie.items()) == 200
        for i in range(200):
            assert trie.delete(prefix + str(i).encode())
    assert trie._root.children is None


# -- size and depth without recursion -------------------------------------------------------

def _random_keys(rng: random.Random, count: int, low: int, high: int) -> list:
    """``count`` keys over a four-letter alphabet (so they share prefixes and split edges)."""
    to_letters = bytes(b"abcd"[i % 4] for i in range(256))
    return [rng.getrandbits(8 * n).to_bytes(n, "big").translate(to_letters) if n else b""
            for n in (rng.randint(low, high) for _ in range(count))]


def test_one_hundred_thousand_keys():
    rng = random.Random(20210236)
    model = {}
    for key in _random_keys(rng, 1000, 1, 5) + _random_keys(rng, 120_000, 6, 14):
        if len(model) == 100_000:
            break
        model.setdefault(key, len(model))
    assert len(model) == 100_000
    probes = _random_keys(rng, 300, 0, 16)
    sample = rng.sample(list(model), 5000)
    trie = RadixTrie()
    with _shallow_stack():
        for key, value in model.items():
            trie.setdefault(key, lambda value=value: value)
        assert len(trie) == 100_000
        assert sorted(trie.items()) == sorted(model.items())
        for key in sample:
            assert trie.get(key) == model[key]
        for data in probes:
            expected = _model_prefix_values(model, data)
            assert trie.prefix_values(data) == expected
            assert trie.has_prefix_of(data) == bool(expected)
        keys = list(model)
        rng.shuffle(keys)
        for key in keys:
            assert trie.delete(key)
    assert len(trie) == 0
    assert trie._root.children is None


def test_deep_chain_of_nested_prefixes():
    """Every key a prefix of the next: the trie is as deep as it is big."""
    data = bytes(random.Random(7).getrandbits(8) for _ in range(1000))
    trie = RadixTrie()
    with _shallow_stack():
        for length in range(1, len(data) + 1):
            trie.setdefault(data[:length], lambda length=length: length)
        assert len(trie) == len(data)
        assert trie.prefix_values(data + b"!") == list(range(1, len(data) + 1))
        assert len(trie.items()) == len(data)
        for length in range(len(data), 0, -2):
            assert trie.delete(data[:length])
        assert trie.prefix_values(data) == list(range(1, len(data) + 1, 2))
    assert len(trie) == len(data) // 2


# -- against a model ---------------------------------------------------------------------------

keys = st.binary(min_size=0, max_size=6).map(lambda b: bytes(c % 3 + 97 for c in b))
operations = st.lists(st.tuples(st.sampled_from(["add", "delete"]), keys), max_size=60)


@settings(max_examples=200, deadline=None)
@given(operations, st.lists(keys, max_size=10))
def test_behaves_like_a_dict_of_prefixes(ops, probes):
    trie = RadixTrie()
    model = {}
    for counter, (op, key) in enumerate(ops):
        if op == "add":
            value = trie.setdefault(key, lambda counter=counter: counter)
            expected = model.setdefault(key, counter)
            assert value == expected
        else:
            assert trie.delete(key) == (key in model)
            model.pop(key, None)
    _check_against(trie, model, probes + list(model))
    for key in list(model):
        trie.delete(key)
    assert trie._root.children is None
