"""Where the toolkit finds the project's files: the repository it is installed from (editable, into .venv), and
the reference data beside it (../shared/reference/)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # toolkit/acuity_sync_toolkit/paths.py
TEMPLATE = PROJECT_ROOT / "template.yaml"
REFERENCE = PROJECT_ROOT.parent / "shared" / "reference"
