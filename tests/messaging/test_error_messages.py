"""Every refusal a service raises names a template in messages/errors/, and every such template is used."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.core.errors import DomainError, NotAllowed, error_text

ROOT = Path(__file__).resolve().parents[2]
ERRORS = ROOT / "messages" / "errors"
_KEY = re.compile(r"^[a-z_]+/[a-z0-9_]+$")
_CLASSES = {"DomainError", "NotAllowed", "NotFound", "VisitError", "VisitOver", "InvalidText", "PeopleError",
            "RegistrationError", "UnknownRegion", "BackupError", "PlanError", "EntryGone"}


def _keys_in_code() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "handlers", "schedules"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and _KEY.match(node.value) \
                        and (ERRORS / f"{node.value}.html.j2").is_file():
                    keys.add(node.value)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CLASSES:
                    for arg in node.args[:1]:
                        assert isinstance(arg, ast.Constant | ast.Name | ast.IfExp), \
                            f"{path}:{node.lineno}: a refusal is a message key, not text built in Python"
                        if isinstance(arg, ast.Constant):
                            assert (ERRORS / f"{arg.value}.html.j2").is_file(), f"{path}:{node.lineno}: {arg.value}"
    return keys


def test_every_key_has_a_template_and_every_template_a_use() -> None:
    used = _keys_in_code()
    included = {"visits/no_holiday_data"}  # also included by another template
    templates = {str(p.relative_to(ERRORS)).removesuffix(".html.j2") for p in ERRORS.rglob("*.html.j2")}
    assert templates - used - included == set()


def test_the_message_is_plain_text_with_parameters_shown_literally() -> None:
    exc = NotAllowed("aspirations/audience_department_unknown", department="<b>A&B</b>")
    assert exc.message == "OPD '<b>A&B</b>' tidak dikenal."
    assert str(exc) == exc.message
    assert isinstance(exc, DomainError) and exc.key == "aspirations/audience_department_unknown"


def test_a_missing_parameter_fails_loudly() -> None:
    with pytest.raises(Exception, match="department"):
        error_text("aspirations/audience_department_unknown", {})
