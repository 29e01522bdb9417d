"""Import rules that import-linter's contracts (pyproject.toml, run by `make lint`) cannot state: what the handlers
in functions/ import (they are not in a package), and that only the registry names a ledger's package (the
packages are found from the registry, so a new ledger needs no new rule)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from acuity_sync.ledgers.registry import LEDGERS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUNTIME = PROJECT_ROOT / "layers" / "core" / "acuity_sync"
HANDLERS = sorted((PROJECT_ROOT / "functions").glob("*/app.py"))
# A handler goes through the wiring; it may name a domain value too (the ledger a sync function serves).
HANDLER_MAY_IMPORT = ("acuity_sync.wiring", "acuity_sync.intake", "acuity_sync.observability", "acuity_sync.domain")


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in a file, wherever it stands (functions and TYPE_CHECKING blocks too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_there_are_handlers_to_check() -> None:
    assert {path.parent.name for path in HANDLERS} >= {"webhook", *(f"sync_{ledger.name}" for ledger in LEDGERS)}


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_a_handler_imports_only_the_wiring(handler: Path) -> None:
    ours = [(line, module) for line, module in imported_modules(handler) if within(module, "acuity_sync")]
    assert ours, "a handler that imports nothing of ours is not wired"
    wrong = [
        f"line {line}: {module}"
        for line, module in ours
        if module != "acuity_sync" and not any(within(module, allowed) for allowed in HANDLER_MAY_IMPORT)
    ]
    assert not wrong, f"{handler.parent.name}/app.py reaches past the wiring: {wrong}"


def test_only_the_registry_names_a_ledgers_package() -> None:
    """The engine, the store, the token keeper and the wiring know a ledger only through the registry, and no
    ledger's package imports another's."""
    packages = {f"acuity_sync.ledgers.{ledger.name}" for ledger in LEDGERS}
    wrong = []
    for path in sorted(RUNTIME.rglob("*.py")):
        importer = ".".join(("acuity_sync", *path.relative_to(RUNTIME).with_suffix("").parts)).removesuffix(".__init__")
        if importer == "acuity_sync.ledgers.registry":
            continue
        for line, module in imported_modules(path):
            wrong += [
                f"{importer} (line {line}) imports {module}"
                for package in packages
                if within(module, package) and not within(importer, package)
            ]
    assert not wrong, wrong


def test_every_runtime_log_line_goes_through_the_masking_logger() -> None:
    """No runtime module or handler logs through `logging` or `print` of its own: the masking logger
    (acuity_sync.observability) is the only way out, so every line is redacted and carries the correlation id."""
    sources = [path for path in sorted(RUNTIME.rglob("*.py")) if path.name != "observability.py"]
    sources += HANDLERS
    wrong = []
    for path in sources:
        wrong += [
            f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
            for line, module in imported_modules(path)
            if within(module, "logging")
        ]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} prints")
    assert not wrong, wrong
