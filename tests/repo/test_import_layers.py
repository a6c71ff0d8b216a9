"""The function package's plan, as its folders show it and its imports keep it.

- `app` is the entry point; the adapters below it are `http_api/` (API events) and `direct` (payloads of other
  Lambdas). Only `app` imports an adapter, and only `http_api/`'s own modules import its parts.
- `paddle/` is the Paddle client: it imports nothing of the function but the deadline (and the package's version).
  The HTTP adapter never imports it: it works with the core's records.
- The core (the other top-level modules) is built by `wiring`, which only the adapters and `snapstart` import: the
  use cases get their `Dependencies` passed in.
- No import goes round in a circle.

Read from the source with `ast` (every import, also those inside functions), so a new module or import is checked the
moment it is written.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def package_imports(root: Path = FUNCTIONS / "paddle_portal") -> dict[str, set[str]]:
    """Module ("http_api.routes") -> the package's modules it imports ("" is the package itself)."""
    modules = {_name(path, root) for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paddle_portal"):
                base = (node.module or "").removeprefix("paddle_portal").removeprefix(".")
                names = [f"{base}.{a.name}".strip(".") for a in node.names]
                names = [name if name in modules else base for name in names]
            elif isinstance(node, ast.Import):
                names = [a.name.removeprefix("paddle_portal.") for a in node.names if "paddle_portal." in a.name]
            imported |= set(names)
        graph[_name(path, root)] = imported - {_name(path, root)}
    return graph


def _name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix("__init__").strip(".")


def _folder(module: str) -> str:
    return module.split(".")[0] if "." in module else ""


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    found = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            if target in ("direct", "http_api.routes") and module != "app":
                found.append(f"{module} imports the adapter {target}")
            if _folder(target) == "http_api" and _folder(module) != "http_api" and module != "app":
                found.append(f"{module} imports the HTTP adapter's {target}")
            if _folder(module) == "paddle" and _folder(target) != "paddle" and target not in ("deadline", ""):
                found.append(f"the Paddle client's {module} imports {target}")
            if _folder(module) == "http_api" and _folder(target) == "paddle":
                found.append(f"the HTTP adapter's {module} imports the Paddle client's {target}")
            if target == "wiring" and module not in ("app", "direct", "snapstart") and _folder(module) != "http_api":
                found.append(f"{module} imports wiring (the use cases get their Dependencies passed in)")
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


def test_the_folders_keep_their_rules() -> None:
    graph = package_imports()
    assert {"http_api.routes", "paddle.client", "portal", "direct"} <= set(graph)  # the plan is where it says
    assert violations(graph) == []


def test_no_import_cycle() -> None:
    assert cycles(package_imports()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        pytest.param({"portal": {"http_api.inputs"}}, "portal imports the HTTP adapter's http_api.inputs", id="core"),
        pytest.param({"http_api.auth": {"paddle.ids"}}, "the HTTP adapter's http_api.auth imports the", id="http"),
        pytest.param({"paddle.client": {"settings"}}, "the Paddle client's paddle.client imports", id="paddle"),
        pytest.param({"portal": {"wiring"}}, "portal imports wiring", id="use-case"),
        pytest.param({"http_api.routes": {"direct"}}, "http_api.routes imports the adapter direct", id="adapter"),
    ],
)
def test_the_rules_catch_a_wrong_import(graph: dict[str, set[str]], expected: str) -> None:
    assert any(found.startswith(expected) for found in violations(graph))


def test_a_circle_is_caught() -> None:
    assert cycles({"http_api.events": {"http_api.rest_events"}, "http_api.rest_events": {"http_api.events"}})
