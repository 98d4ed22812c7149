"""A radix trie over byte strings, for subscription prefixes.

Edges carry whole byte strings, so a 1 MiB topic is one node, not a million; every walk is
a loop, never a recursion, so topic length cannot hit Python's recursion limit
(CVE-2021-20236's lesson).  Values are whatever the caller stores per prefix (a set of
pipes on the publishing side, a count on the subscribing side).
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple, Union

Key = Union[bytes, bytearray]


class _Node:
    __slots__ = ("label", "children", "value")

    def __init__(self, label: bytes) -> None:
        self.label = label
        self.children: Optional[dict] = None
        self.value: Any = None


def _common_prefix(label: bytes, key: Key, pos: int) -> int:
    """Length of the longest common prefix of ``label`` and ``key[pos:]``."""
    low, high = 0, min(len(label), len(key) - pos)
    while low < high:
        mid = (low + high + 1) // 2
        if key[pos:pos + mid] == label[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


class RadixTrie:
    __slots__ = ("_root", "_size")

    def __init__(self) -> None:
        self._root = _Node(b"")
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _find(self, key: Key) -> Tuple[Optional[_Node], List[_Node]]:
        node = self._root
        path = [node]
        pos = 0
        end = len(key)
        while pos < end:
            children = node.children
            child = children.get(key[pos]) if children else None
            if child is None or not key.startswith(child.label, pos):
                return None, path
            pos += len(child.label)
            node = child
            path.append(node)
        return node, path

    def get(self, key: Key) -> Any:
        node, _ = self._find(key)
        return None if node is None else node.value

    def setdefault(self, key: Key, factory: Callable[[], Any]) -> Any:
        """The value at ``key``, created with ``factory()`` when absent."""
        key = bytes(key)
        node = self._root
        pos = 0
        end = len(key)
        while pos < end:
            if node.children is None:
                node.children = {}
            child = node.children.get(key[pos])
            if child is None:
                child = _Node(key[pos:])
                node.children[key[pos]] = child
                node = child
                break
            label = child.label
            if key.startswith(label, pos):
                pos += len(label)
                node = child
                continue
            split = _common_prefix(label, key, pos)
            middle = _Node(label[:split])
            child.label = label[split:]
            middle.children = {child.label[0]: child}
            node.children[key[pos]] = middle
            pos += split
            node = middle
            if pos < end:
                leaf = _Node(key[pos:])
                middle.children[key[pos]] = leaf
                node = leaf
            break
        if node.value is None:
            node.value = factory()
            self._size += 1
        return node.value

    def delete(self, key: Key) -> bool:
        """Remove the value at ``key`` and prune; True if there was one."""
        node, path = self._find(key)
        if node is None or node.value is None:
            return False
        node.value = None
        self._size -= 1
        self._prune(path)
        return True

    def _prune(self, path: List[_Node]) -> None:
        # Walk back up: drop empty leaves, merge value-less nodes that have one child.
        for depth in range(len(path) - 1, 0, -1):
            node = path[depth]
            parent = path[depth - 1]
            if node.value is not None:
                break
            children = node.children
            if not children:
                assert parent.children is not None
                del parent.children[node.label[0]]
                if not parent.children:
                    parent.children = None
                continue
            if len(children) == 1:
                (only,) = children.values()
                only.label = node.label + only.label
                assert parent.children is not None
                parent.children[only.label[0]] = only
            break

    def prefix_values(self, data: Key) -> List[Any]:
        """Values of every key that is a prefix of ``data`` (shortest first)."""
        node = self._root
        found = [node.value] if node.value is not None else []
        pos = 0
        end = len(data)
        while pos < end:
            children = node.children
            if not children:
                break
            child = children.get(data[pos])
            if child is None or not data.startswith(child.label, pos):
                break
            pos += len(child.label)
            node = child
            if node.value is not None:
                found.append(node.value)
        return found

    def has_prefix_of(self, data: Key) -> bool:
        """True if any key is a prefix of ``data``."""
        node = self._root
        if node.value is not None:
            return True
        pos = 0
        end = len(data)
        while pos < end:
            children = node.children
            if not children:
                return False
            child = children.get(data[pos])
            if child is None or not data.startswith(child.label, pos):
                return False
            pos += len(child.label)
            node = child
            if node.value is not None:
                return True
        return False

    def items(self) -> List[Tuple[bytes, Any]]:
        """Every (key, value), by an explicit-stack walk."""
        out = []
        stack = [(self._root, b"")]
        while stack:
            node, prefix = stack.pop()
            key = prefix + node.label
            if node.value is not None:
                out.append((key, node.value))
            if node.children:
                for child in node.children.values():
                    stack.append((child, key))
        return out
