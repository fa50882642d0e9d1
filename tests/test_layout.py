"""The packages' layout: every import arrow points down.

Import circles are found over every import statement of ``dispatch`` and ``servlets``:
at module level, inside functions, and under ``TYPE_CHECKING`` (what the type checker
follows).  A package's ``__init__`` imported implicitly as a parent does not count; an
explicit ``from . import name`` of a name that is no submodule does.
"""
from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("dispatch", "servlets")


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: pathlib.Path, modules: dict) -> set[str]:
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    targets.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                targets.add(submodule if submodule in modules else origin)
    return {t for t in targets if t in modules and t != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert _cycles(import_graph()) == []


def test_dispatch_never_imports_servlets():
    graph = import_graph()
    assert {(name, target) for name, targets in graph.items() if name.startswith("dispatch")
            for target in targets if target.startswith("servlets")} == set()


def test_the_engine_imports_only_the_sans_io_core_the_handle_and_the_limits():
    # (and the monitoring hook slots, which import nothing: see the test after this one)
    allowed = ("dispatch.engine", "dispatch.http11", "dispatch.handle",
               "dispatch.safety_limits", "dispatch.instrument")
    graph = import_graph()
    wrong = {(name, target) for name, targets in graph.items()
             if name.startswith("dispatch.engine") for target in targets
             if not target.startswith(allowed)}
    assert wrong == set()


def test_the_handle_module_imports_nothing_from_dispatch():
    assert import_graph()["dispatch.handle"] == set()


def test_the_monitoring_hooks_import_nothing_from_dispatch():
    assert import_graph()["dispatch.instrument"] == set()


def test_the_sans_io_core_imports_no_io_layer():
    graph = import_graph()
    assert {(name, target) for name, targets in graph.items()
            if name.startswith("dispatch.http11") for target in targets
            if not target.startswith("dispatch.http11")} == set()


def test_engine_modules_stay_small():
    sizes = {path.name: len(path.read_text().splitlines())
             for path in (ROOT / "dispatch" / "engine").glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 400} == {}


def test_one_module_is_called_server():
    # dispatch.server is the public face (Racket's web-server.rkt); the WebSocket-only
    # servers are dispatch.websocket.own_port, beside servlets.one_port.
    assert sorted(name for name in _modules() if name.endswith(".server")) == \
        ["dispatch.server"]


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
