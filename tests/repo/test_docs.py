"""The docs name the tests that prove their claims: every name must still be a test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "docs").glob("*.md"))
TEST_SOURCES = "\n".join(path.read_text() for path in (REPO / "tests").rglob("test_*.py"))


@pytest.mark.parametrize("page", DOCS, ids=[page.name for page in DOCS])
def test_every_test_a_page_names_exists(page: Path) -> None:
    named = set(re.findall(r"::(test_[a-z0-9_]+)", page.read_text()))
    missing = sorted(name for name in named if not re.search(rf"def {name}\b", TEST_SOURCES))
    assert missing == [], f"{page.name} names tests that do not exist: {missing}"


def test_the_security_page_names_tests() -> None:
    assert len(re.findall(r"::test_", (REPO / "docs" / "security.md").read_text())) > 50
