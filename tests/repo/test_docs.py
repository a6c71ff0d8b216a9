"""The docs name the tests that prove their claims: each must still exist, in the file the doc names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "docs").glob("*.md"))
# `tests/x/test_y.py`::test_z, or P::test_z with a prefix the page defines (`P` = `test_y.py`), or ::test_z after one
# of those in the same line; a bare file name is in tests/security/ (docs/security.md says so).
REFERENCE = re.compile(r"(?:`?(?P<file>[\w/.-]+\.py)`?|\b(?P<prefix>[A-Z]))?::(?P<test>test_\w+)")
PREFIX = re.compile(r"`(?P<prefix>[A-Z])` = `(?P<file>[\w/.-]+\.py)`")


def _path(name: str) -> str:
    return name if "/" in name else f"tests/security/{name}"


def named_tests(text: str) -> set[tuple[str | None, str]]:
    prefixes = {found["prefix"]: _path(found["file"]) for found in PREFIX.finditer(text)}
    named: set[tuple[str | None, str]] = set()
    for line in text.splitlines():
        file = None
        for found in REFERENCE.finditer(line):
            file = _path(found["file"]) if found["file"] else prefixes[found["prefix"]] if found["prefix"] else file
            named.add((file, found["test"]))
    return named


def _defines(file: str | None, test: str) -> bool:
    sources = [REPO / file] if file else list((REPO / "tests").rglob("test_*.py"))
    return any(path.is_file() and re.search(rf"def {test}\b", path.read_text()) for path in sources)


@pytest.mark.parametrize("page", DOCS, ids=[page.name for page in DOCS])
def test_every_test_a_page_names_exists_where_it_says(page: Path) -> None:
    missing = sorted(
        f"{file or '?'}::{test}" for file, test in named_tests(page.read_text()) if not _defines(file, test)
    )
    assert missing == [], f"{page.name} names tests that do not exist"


def test_the_reader_finds_each_form_of_reference() -> None:
    text = "`M` = `test_m.py`, `V` = `tests/i/test_v.py`\n| M::test_a, ::test_b | `tests/x/test_c.py`::test_c |"
    m = "tests/security/test_m.py"  # a bare file name is in tests/security/
    assert named_tests(text) == {(m, "test_a"), (m, "test_b"), ("tests/x/test_c.py", "test_c")}
