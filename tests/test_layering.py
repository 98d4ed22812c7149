"""DESIGN.md's layering rules, enforced by scanning imports.

zmtp/ is sans-IO: no sockets, selectors, threads, clocks, and nothing else from puremq.
Lower layers never import higher ones:  zmtp < routing < patterns < transport < engine < API.
``constants``, ``error`` and ``options`` are foundation modules every layer but zmtp may use.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "puremq"
LAYERS = ["zmtp", "routing", "patterns", "transport", "engine"]
FOUNDATION = {"constants", "error", "options"}
IO_MODULES = {"socket", "selectors", "select", "threading", "time", "asyncio", "_thread"}


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(), str(path))
    package_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package_parts[:len(package_parts) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    for alias in node.names:
                        yield f"{module}.{alias.name}"
                    continue
                yield module
            else:
                yield node.module or ""


def _layer_of(module: str):
    parts = module.split(".")
    if parts[0] != "puremq" or len(parts) < 2:
        return None
    if parts[1] in LAYERS:
        return parts[1]
    if parts[1] in FOUNDATION:
        return "foundation"
    return "api"


def _modules_in(layer: str):
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _modules_in("zmtp"), ids=lambda p: p.name)
def test_zmtp_is_sans_io(path):
    """The wire layer imports no socket, selector, thread or clock, and no other layer."""
    for module in _imports(path):
        top = module.split(".")[0]
        assert top not in IO_MODULES, f"{path.name} imports {module}"
        if top == "puremq":
            assert _layer_of(module) == "zmtp", f"{path.name} imports {module}"


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_lower_layers_never_import_higher_ones(layer):
    allowed = set(LAYERS[:LAYERS.index(layer) + 1]) | {"foundation"}
    for path in _modules_in(layer):
        for module in _imports(path):
            target = _layer_of(module)
            if target is None:
                continue
            assert target in allowed, f"{layer}/{path.name} imports {module} ({target})"


def test_only_the_engine_has_threads_and_selectors():
    for layer in ("routing", "patterns"):
        for path in _modules_in(layer):
            for module in _imports(path):
                assert module.split(".")[0] not in IO_MODULES, f"{path} imports {module}"


def test_foundation_modules_import_no_layer():
    for name in FOUNDATION:
        for module in _imports(PACKAGE / f"{name}.py"):
            assert _layer_of(module) in (None, "foundation"), f"{name}.py imports {module}"
