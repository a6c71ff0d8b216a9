"""No real credential in the repository: every credential-shaped value is an obvious fake, and the secret scanner
(detect-secrets, run by pre-commit against .secrets.baseline) stays configured and passes on this tier's files.

detect-secrets knows generic shapes (AWS keys, JWTs, high-entropy strings); it does not know Paddle's keys or
portal tokens, so those are checked here by shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Paddle's published OpenAPI document, vendored unchanged (its examples are Paddle's), and npm's lock file.
VENDORED = re.compile(r"^(tests/contract/paddle/|package-lock\.json$)")
FAKE_MARKERS = ("FAKE", "EXAMPLE")
UNTRACKED_DIRS = {".git", ".venv", "node_modules", ".aws-sam", ".hypothesis", "__pycache__"}  # and the tools' *_cache


def _repository_files() -> list[str]:
    """The files git tracks; outside a git checkout (an exported tree), every file but tool and build folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        return [
            str(path.relative_to(REPO))
            for path in REPO.rglob("*")
            if path.is_file()
            and not any(part in UNTRACKED_DIRS or part.endswith("_cache") for part in path.relative_to(REPO).parts)
        ]
    return listed.stdout.decode().split("\0")


def tracked_text_files() -> dict[str, str]:
    texts = {}
    for name in _repository_files():
        path = REPO / name
        if not name or VENDORED.match(name) or not path.is_file():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
    return texts


def _jwt_is_fake(token: str) -> bool:
    header, payload, signature = token.split(".")
    decoded = []
    for part in (header, payload, signature):
        try:
            decoded.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            decoded.append("")
    if json.loads(decoded[0] or "{}").get("alg") == "none" and not signature:
        return True  # unsigned: accepted by nothing
    return any(marker in text.upper() for text in decoded for marker in FAKE_MARKERS)


SHAPES = {
    "Paddle API key": (re.compile(r"pdl_(?:live|sdbx)_apikey_[A-Za-z0-9_]{20,}"), lambda v: "FAKE" in v),
    "portal token": (re.compile(r"pga_[A-Za-z0-9._-]{12,}"), lambda v: "FAKE" in v),
    "AWS access key id": (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), lambda v: v.endswith("EXAMPLE")),
    "AWS secret access key": (
        re.compile(r"(?i)aws_secret_access_key\W{1,4}([A-Za-z0-9/+]{40})\b"),
        lambda v: "EXAMPLE" in v,
    ),
    "JWT": (re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), _jwt_is_fake),
    "private key": (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), lambda v: False),
}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return tracked_text_files()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_credential_shaped_values_are_obvious_fakes(shape, texts):
    pattern, is_fake = SHAPES[shape]
    offenders = []
    for name, text in texts.items():
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if not is_fake(value):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{name}:{line}")
    assert offenders == [], f"{shape} that is not an obvious fake (mark it FAKE/EXAMPLE, or remove it)"


def test_secret_scanner_runs_on_every_commit():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    hook = hooks["detect-secrets"]
    baseline = json.loads((REPO / ".secrets.baseline").read_text())

    assert "--baseline .secrets.baseline" in hook["entry"]
    assert hook["additional_dependencies"] == [f"detect-secrets=={baseline['version']}"]
    excluded = re.compile(hook.get("exclude", "^$"))
    scanned = ("functions/paddle_portal/app.py", "tests/support.py", "tests/security/cases.py", "template.yaml")
    for source in (*scanned, "events/README.md"):
        assert not excluded.search(source), f"{source} escapes the secret scanner"


def test_this_tier_passes_the_secret_scanner():
    detect_secrets = pytest.importorskip("detect_secrets", reason="detect-secrets is pinned in uv.lock")
    from detect_secrets.settings import transient_settings

    baseline = json.loads((REPO / ".secrets.baseline").read_text())
    files = [*sorted(str(path) for path in (REPO / "tests/security").glob("*.py")), str(REPO / "tests/redaction.py")]

    with transient_settings({"plugins_used": baseline["plugins_used"], "filters_used": baseline["filters_used"]}):
        found = detect_secrets.SecretsCollection()
        for name in files:
            found.scan_file(name)

    assert found.json() == {}, "mark a deliberate fake with `# pragma: allowlist secret`"
