"""Error codes are the API's contract: one ``ErrorCode`` enum, every member documented in
docs/api.md, and no bare string where a service raises."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from jifen.core.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {"JifenError", "ValidationError", "NotFound", "PermissionDenied", "Conflict",
                 "InsufficientPoints", "RateLimited"}


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))


def test_every_error_code_is_documented_and_every_documented_code_exists():
    codes = {code.value for code in ErrorCode}
    documented = documented_codes()
    assert sorted(codes - documented) == [], "add these to docs/api.md's Error codes"
    assert sorted(documented - codes) == [], "docs/api.md names codes the API never answers"


def test_errors_are_raised_with_enum_members_not_strings():
    bare = []
    for path in sorted((ROOT / "src" / "jifen").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name not in ERROR_CLASSES:
                continue
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []


def test_a_code_is_answered_as_its_plain_string(client, db):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
