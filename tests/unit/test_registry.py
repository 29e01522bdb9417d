"""The ledger registry: every ledger declared once, and each declaration agreeing with the template and the code
that rely on it."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import LedgerDeclaration
from acuity_sync.ledgers.registry import LEDGERS, SETTINGS_MODELS, ledger_declaration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_TEXT = (PROJECT_ROOT / "template.yaml").read_text(encoding="utf-8")


def test_every_ledger_is_declared_once_in_the_enums_order() -> None:
    assert [declaration.name for declaration in LEDGERS] == list(LedgerName)
    assert all(ledger_declaration(ledger).name is ledger for ledger in LedgerName)


@pytest.mark.parametrize("declaration", LEDGERS, ids=lambda declaration: str(declaration.name))
def test_a_declaration_agrees_with_its_settings_model(declaration: LedgerDeclaration[Any]) -> None:
    model = declaration.settings_model
    assert SETTINGS_MODELS[declaration.name] is model
    assert model.model_fields["ledger"].default == declaration.name
    assert declaration.display_name == model.LEDGER_LABEL
    assert model.defaults_for().ledger == declaration.name


@pytest.mark.parametrize("declaration", LEDGERS, ids=lambda declaration: str(declaration.name))
def test_a_declarations_sync_function_is_in_the_template_and_serves_it(
    declaration: LedgerDeclaration[Any],
) -> None:
    resource = re.search(rf"(?ms)^  {declaration.sync_function}:\n(.*?)(?=^  \S)", TEMPLATE_TEXT)
    assert resource is not None, f"{declaration.sync_function} is not a resource of template.yaml"
    code = f"functions/sync_{declaration.name}/"
    assert f"CodeUri: {code}" in resource.group(1)
    handler = ast.parse((PROJECT_ROOT / code / "app.py").read_text(encoding="utf-8"))
    served = [
        node.args[0].attr
        for node in ast.walk(handler)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "sync_lambda_handler"
        if node.args and isinstance(node.args[0], ast.Attribute)
    ]
    assert served == [declaration.name.name]


@pytest.mark.parametrize("declaration", LEDGERS, ids=lambda declaration: str(declaration.name))
def test_a_declaration_builds_its_adapter(declaration: LedgerDeclaration[Any]) -> None:
    """The factory imports the adapter only when called; calling it must work for every ledger."""
    assert callable(declaration.adapter_factory())
    assert declaration.production_api_url.startswith("https://")
    assert declaration.oauth.token_url.startswith("https://")
