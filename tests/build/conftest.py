"""The build these tests read: what `scripts/sam-build.sh` (`make sam-build`) left in .aws-sam/build, or in
$ACUITY_SYNC_BUILD_DIR. A missing build, or no Python 3.13 to load it with, fails: it never skips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ACUITY_SYNC_BUILD_DIR") or PROJECT_ROOT / ".aws-sam" / "build")


@pytest.fixture(scope="session")
def build_dir() -> Path:
    if not (BUILD_DIR / "template.yaml").is_file():
        pytest.fail(f"no SAM build in {BUILD_DIR}: run `make sam-build` first (these tests read what it built)")
    return BUILD_DIR


@pytest.fixture(scope="session")
def layer(build_dir: Path) -> Path:
    """The built core layer's python/ folder: what Lambda mounts at /opt/python."""
    python = build_dir / "CoreLayer" / "python"
    if not (python / "acuity_sync" / "__init__.py").is_file():
        pytest.fail(f"{python} holds no acuity_sync package: the CoreLayer build is missing or broken")
    return python.resolve()


@pytest.fixture(scope="session")
def python313() -> str:
    """The Lambda runtime's interpreter (scripts/sam-build.sh needs it too; with pyenv, PYENV_VERSION names it)."""
    found = shutil.which("python3.13")
    if found is None:
        pytest.fail("python3.13 is not on PATH: the layer is compiled for, and loaded here with, Python 3.13")
    probe = subprocess.run(
        [found, "-I", "-c", "import sys; print(tuple(sys.version_info[:2]) == (3, 13))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() != "True":
        pytest.fail(f"{found} does not run Python 3.13: {probe.stderr.strip()[-500:]}")
    return found


@pytest.fixture(scope="session")
def stdlib_313(python313: str) -> frozenset[str]:
    """The top-level names of Python 3.13's standard library, as 3.13 itself lists them."""
    listed = subprocess.run(
        [python313, "-I", "-c", "import json, sys; print(json.dumps(sorted(sys.stdlib_module_names)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    names: list[str] = json.loads(listed.stdout)
    return frozenset(names)
