"""The function package's plan, kept by its imports: adapters on top, use cases beneath them, clients and records
at the bottom; every import points down, and none goes round in a circle.

Read from the source with `ast` (every import, also those inside functions), so a new module or import is checked
the moment it is written. A module missing from LAYERS fails too: its place must be decided.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "paddle_portal"

# Top to bottom. A module may import modules of its own layer or below, never above.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("entry", frozenset({"app"})),
    (
        "adapters",
        frozenset(
            {"http_api", "handlers", "inputs", "auth", "http_events", "rest_events", "responses", "direct", "models"}
        ),
    ),
    ("use cases", frozenset({"portal", "paddle_failures"})),
    ("wiring", frozenset({"wiring", "snapstart"})),
    (
        "clients and records",
        frozenset(
            {
                "paddle",
                "retry_policy",
                "retry_budget",
                "customer_budget",
                "paddle_errors",
                "paddle_session",
                "secrets",
                "signed_links",
                "settings",
            }
        ),
    ),
    ("base", frozenset({"__init__", "errors", "deadline", "paddle_ids", "screening", "observability"})),
)
# The HTTP adapter: only the entry point and the adapter's own modules import these.
HTTP_ADAPTER = frozenset({"http_api", "handlers", "inputs", "auth", "http_events", "rest_events", "responses"})
# The Paddle client knows errors, ids, the deadline and its retry policy, nothing of who calls it.
PADDLE_CLIENT_MAY_IMPORT = frozenset(
    {"__init__", "paddle_errors", "paddle_ids", "deadline", "retry_policy", "retry_budget", "screening"}
)


def package_imports(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name -> the package's modules it imports (`from paddle_portal import x`, `from paddle_portal.x import
    y`, `import paddle_portal.x`)."""
    modules = {path.stem for path in package.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "paddle_portal":
                imported |= {alias.name for alias in node.names} & modules
                imported |= {"__init__"} if {alias.name for alias in node.names} - modules else set()
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paddle_portal."):
                imported.add(node.module.split(".")[1])  # type: ignore[union-attr]
            elif isinstance(node, ast.Import):
                imported |= {a.name.split(".")[1] for a in node.names if a.name.startswith("paddle_portal.")}
        graph[path.stem] = imported - {path.stem}
    return graph


def layer_of(module: str) -> int:
    for rank, (_name, members) in enumerate(LAYERS):
        if module in members:
            return rank
    raise AssertionError(f"{module}.py has no layer in LAYERS: decide where it belongs")


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    found = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            if layer_of(target) < layer_of(module):
                found.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
                )
            if target in HTTP_ADAPTER and module not in HTTP_ADAPTER | {"app"}:
                found.append(f"{module} imports the HTTP adapter's {target}")
        if module == "paddle" and imported - PADDLE_CLIENT_MAY_IMPORT:
            found.append(f"paddle imports {sorted(imported - PADDLE_CLIENT_MAY_IMPORT)}")
    return found


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif len(path) < len(graph):
                visit(target, [*path, target])

    for module in sorted(graph):
        visit(module, [module])
    return found


def test_every_module_has_a_layer() -> None:
    graph = package_imports()
    assert {module for module in graph if not any(module in members for _, members in LAYERS)} == set()
    assert {module for _, members in LAYERS for module in members} == set(graph)  # no layer names a ghost


def test_imports_point_down() -> None:
    assert violations(package_imports()) == []


def test_no_import_cycle() -> None:
    assert cycles(package_imports()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        pytest.param({"portal": {"inputs"}, "inputs": set()}, "portal (use cases) imports inputs (adapters)", id="up"),
        pytest.param({"direct": {"auth"}, "auth": set()}, "direct imports the HTTP adapter's auth", id="sideways"),
        pytest.param({"paddle": {"settings"}, "settings": set()}, "paddle imports ['settings']", id="client"),
    ],
)
def test_the_rules_catch_a_wrong_import(graph: dict[str, set[str]], expected: str) -> None:
    assert expected in violations(graph)


def test_a_circle_is_caught() -> None:
    assert cycles({"http_events": {"rest_events"}, "rest_events": {"http_events"}})
