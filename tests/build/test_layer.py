"""What `sam build` produced is what Lambda should run: the core layer holds the runtime package (the very files
of layers/core/acuity_sync) and the distributions its requirements bring, nothing else; no module of ours imports a
development tool (moto, PyYAML, openapi-core, the toolkit) or anything the layer does not have; and every module,
ours and the dependencies', ships its Python 3.13 bytecode as an unchecked-hash .pyc that 3.13 loads as it is.
"""

from __future__ import annotations

import _imp
import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGE = PROJECT_ROOT / "layers" / "core" / "acuity_sync"
REQUIREMENTS = PROJECT_ROOT / "layers" / "core" / "requirements.txt"

# Installed in .venv for the local stack and the tests; never in the layer, never imported by the runtime.
DEV_ONLY = frozenset({"moto", "yaml", "openapi_core", "acuity_sync_toolkit"})

# The functions' platform (template.yaml: python3.13, arm64), for the requirements' environment markers.
LAMBDA_MARKER_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "implementation_version": "3.13.0",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}

# PEP 552 .pyc header: magic (Python 3.13's is 3571), flags (bit 0: hash-based; bit 1: check the source), then
# the source's hash. Unchecked: Lambda's /opt is read-only and zip mtimes are rounded, so the .pyc is used as is.
MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01
CACHE_TAG = "cpython-313"


# ------------------------------------------------------------------------------------------ what is in the layer


@dataclass(frozen=True)
class Distribution:
    name: NormalizedName
    requires: tuple[Requirement, ...]
    top_level: frozenset[str]  # the names it puts at the layer's root: packages and modules


def distributions(layer: Path) -> dict[NormalizedName, Distribution]:
    found: dict[NormalizedName, Distribution] = {}
    for info in sorted(layer.glob("*.dist-info")):
        headers = (info / "METADATA").read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
        name = canonicalize_name(next(line.split(":", 1)[1].strip() for line in headers if line.startswith("Name:")))
        requires = tuple(
            Requirement(line.split(":", 1)[1].strip()) for line in headers if line.startswith("Requires-Dist:")
        )
        top_level = set()
        for row in (info / "RECORD").read_text(encoding="utf-8").splitlines():
            first = row.split(",", 1)[0].split("/", 1)[0]
            if first and first != ".." and not first.endswith((".dist-info", ".data")) and first != "__pycache__":
                top_level.add(first.split(".", 1)[0])
        found[name] = Distribution(name, requires, frozenset(top_level))
    return found


def applies(marker: Marker | None, extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**LAMBDA_MARKER_ENVIRONMENT, "extra": extra}) for extra in extras | {""})


def required_closure(installed: dict[NormalizedName, Distribution]) -> dict[NormalizedName, set[str]]:
    """Every distribution requirements.txt brings on the functions' platform, with the extras asked of it."""
    lines = REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    pending = [Requirement(line) for line in (line.strip() for line in lines) if line and not line.startswith("#")]
    wanted: dict[NormalizedName, set[str]] = {}
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in wanted and extras <= wanted[name]:
            continue
        wanted.setdefault(name, set()).update(extras)
        assert name in installed, f"{requirement} is required but not installed in the layer"
        pending.extend(
            dependency for dependency in installed[name].requires if applies(dependency.marker, wanted[name])
        )
    return wanted


def test_the_layer_holds_the_runtime_package_and_what_its_requirements_bring_only(layer: Path) -> None:
    installed = distributions(layer)
    assert set(required_closure(installed)) == set(installed), "a distribution nothing in requirements.txt needs"
    owned = {"acuity_sync", "__pycache__"}.union(*(distribution.top_level for distribution in installed.values()))
    entries = {path.name.split(".", 1)[0] for path in layer.iterdir() if not path.name.endswith(".dist-info")}
    assert entries - owned == set(), "files in the layer that neither we nor a distribution put there"
    assert not (layer / "acuity_sync_toolkit").exists()
    assert not (layer / "bin").exists()  # console scripts: nothing in Lambda runs them


def source_files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_shipped_package_is_layers_core_acuity_sync_as_it_is_now(layer: Path) -> None:
    shipped, source = source_files(layer / "acuity_sync"), source_files(SOURCE_PACKAGE)
    assert sorted(shipped) == sorted(source), "stale build: run `make sam-build`"
    assert [name for name in source if shipped[name] != source[name]] == [], "stale build: run `make sam-build`"


# ------------------------------------------------------------------------------------------ what our code imports


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str  # absolute, dotted
    type_checking_only: bool

    @property
    def top_level(self) -> str:
        return self.module.split(".", 1)[0]

    def where(self, root: Path) -> str:
        return f"{self.file.relative_to(root)}:{self.line} {self.module}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _package_of(file: Path, root: Path) -> list[str]:
    """The package a module's relative imports start from (a package's own __init__ included)."""
    return list(file.relative_to(root).parts[:-1])


def imports_of(file: Path, root: Path) -> Iterator[Import]:
    """Every import statement in `file` (a module under `root`, the sys.path entry), and every
    importlib.import_module / __import__ of a literal name; relative imports made absolute."""
    tree = ast.parse(file.read_bytes(), filename=str(file))

    def visit(node: ast.AST, guarded: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, True)
            for statement in node.orelse:
                yield from visit(statement, guarded)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, alias.name, guarded)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(file, root)
                base = package[: len(package) - node.level + 1]
                yield Import(file, node.lineno, ".".join([*base, *([node.module] if node.module else [])]), guarded)
            elif node.module:
                yield Import(file, node.lineno, node.module, guarded)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in {"__import__", "import_module"})
            )
        ):
            yield Import(file, node.lineno, node.args[0].value, guarded)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, guarded)

    yield from visit(tree, False)


def shipped_code(layer: Path, build_dir: Path) -> list[tuple[Path, Path]]:
    """(file, its sys.path entry) for our package in the layer and each built function's own code."""
    ours = [(file, layer) for file in sorted((layer / "acuity_sync").rglob("*.py"))]
    functions = [
        (file, folder)
        for folder in sorted(build_dir.iterdir())
        if folder.is_dir() and folder.name != "CoreLayer"
        for file in sorted(folder.rglob("*.py"))
    ]
    assert functions, f"no function code in {build_dir}"
    return ours + functions


def test_nothing_shipped_imports_a_development_tool(layer: Path, build_dir: Path) -> None:
    offending = [
        item.where(root.parent)
        for file, root in shipped_code(layer, build_dir)
        for item in imports_of(file, root)
        if item.top_level in DEV_ONLY
    ]
    assert offending == [], "\n".join(offending)


def test_everything_shipped_imports_only_the_standard_library_and_the_layer(
    layer: Path, build_dir: Path, stdlib_313: frozenset[str]
) -> None:
    """Type-checking-only imports (the boto3 stubs) never run, and are left out."""
    available = stdlib_313 | {"acuity_sync"}
    available |= {name for distribution in distributions(layer).values() for name in distribution.top_level}
    missing = [
        item.where(root.parent)
        for file, root in shipped_code(layer, build_dir)
        for item in imports_of(file, root)
        if not item.type_checking_only and item.top_level not in available
    ]
    assert missing == [], "\n".join(missing)


def test_each_import_of_our_package_names_a_module_in_the_layer(layer: Path, build_dir: Path) -> None:
    def exists(module: str) -> bool:
        path = layer.joinpath(*module.split("."))
        return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()

    unknown = [
        item.where(root.parent)
        for file, root in shipped_code(layer, build_dir)
        for item in imports_of(file, root)
        if item.top_level == "acuity_sync" and not exists(item.module)
    ]
    assert unknown == [], "\n".join(unknown)


EXAMPLE = """
from __future__ import annotations
import json
from typing import TYPE_CHECKING
from . import sibling
from .sibling import VALUE
if TYPE_CHECKING:
    import mypy_boto3_sqs
else:
    import yaml
def late():
    import moto
    return importlib.import_module("openapi_core.validation")
"""


def test_the_import_reader_sees_what_it_must(tmp_path: Path) -> None:
    """The checks above are only as good as imports_of: it finds guarded, nested, relative and dynamic imports."""
    module = tmp_path / "pkg" / "sub" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text(EXAMPLE, encoding="utf-8")
    found = [(item.module, item.type_checking_only) for item in imports_of(module, tmp_path)]
    assert found == [
        ("__future__", False),
        ("json", False),
        ("typing", False),
        ("pkg.sub", False),
        ("pkg.sub.sibling", False),
        ("mypy_boto3_sqs", True),
        ("yaml", False),
        ("moto", False),
        ("openapi_core.validation", False),
    ]


# ------------------------------------------------------------------------------------------ compiled for 3.13


def test_every_module_in_the_layer_has_an_unchecked_hash_pyc_of_its_source_for_313(layer: Path) -> None:
    sources = sorted(layer.rglob("*.py"))
    assert len(sources) > 500  # boto3, botocore, Powertools, pydantic... and ours
    problems: list[str] = []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
        where = str(source.relative_to(layer))
        if not compiled.is_file():
            problems.append(f"{where}: no {compiled.name}")
            continue
        header = compiled.read_bytes()[:16]
        if header[:4] != MAGIC_313:
            problems.append(f"{where}: magic {header[:4]!r} is not Python 3.13's")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            problems.append(f"{where}: flags {header[4:8].hex()}, not unchecked-hash")
        elif header[8:16] != _imp.source_hash(int.from_bytes(MAGIC_313, "little"), source.read_bytes()):
            problems.append(f"{where}: compiled from another source")
    assert problems == [], "\n".join(problems[:20])
    strays = [str(path.relative_to(layer)) for path in layer.rglob("*.pyc") if f".{CACHE_TAG}." not in path.name]
    assert strays == [], "another interpreter's bytecode is dead weight"


LOAD_PROBE = """
import importlib._bootstrap_external as external, json, sys
layer = sys.argv[1]
compiled = []
original = external.SourceLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(path)
    return original(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = source_to_code
sys.path.insert(0, layer)
import boto3
boto3.client("sqs", region_name="us-east-1")
import aws_lambda_powertools.event_handler, httpx, acuity_sync.acuity.signature
loaded = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(layer)]
print(json.dumps({"compiled": [path for path in compiled if path.startswith(layer)], "loaded": len(loaded)}))
"""


def test_python_313_loads_modules_from_the_shipped_pycs_without_compiling_any(layer: Path, python313: str) -> None:
    """Python 3.13 itself, layer first on sys.path as in Lambda, imports boto3 (and makes a client), Powertools'
    event handler, httpx and a module of ours, and compiles no source of the layer: every .pyc was accepted.
    (pydantic-core in the layer is built for arm64 and cannot load on x86_64: only what loads here is imported.)"""
    result = subprocess.run(
        [python313, "-I", "-B", "-c", LOAD_PROBE, str(layer)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["loaded"] > 300, report
    assert report["compiled"] == []


WEBHOOK_PROBE = """
import json, os, sys
layer, function = sys.argv[1], sys.argv[2]
sys.path[:0] = [function, layer]
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1", TABLE_NAME="table", KMS_KEY_ID="key", LAMBDA_TASK_ROOT=function,
    AWS_LAMBDA_FUNCTION_NAME="WebhookFunction", AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
)
heavy = ("aws_xray_sdk", "aws_lambda_powertools.event_handler")
import app
loaded = sorted(name for name in sys.modules if name.startswith(heavy))
from acuity_sync import observability
observability.tracer  # what the sync, connect and maintenance functions do at import
print(json.dumps({"webhook": loaded, "traced": "aws_xray_sdk" in sys.modules}))
"""


def test_the_webhook_loads_neither_the_event_handler_nor_the_x_ray_sdk(
    layer: Path, build_dir: Path, python313: str
) -> None:
    """As Lambda runs it (LAMBDA_TASK_ROOT set: Powertools would trace), the webhook function's module imports no
    resolver of Powertools' event handler and creates no Tracer, so the X-Ray SDK is not imported (its cold start,
    bench/README.md); the functions that name the tracer still get one, and with it the X-Ray SDK."""
    result = subprocess.run(
        [python313, "-I", "-B", "-c", WEBHOOK_PROBE, str(layer), str(build_dir / "WebhookFunction")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {"webhook": [], "traced": True}


def test_the_cold_start_bench_runs_on_the_built_layer(python313: str) -> None:
    """bench/coldstart, one run of each side on the arm64 layer as built (the webhook loads no native code), with
    tracing live as deployed: it answers, makes the expected AWS calls and prints its JSON line."""
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "coldstart" / "run.py"), "--runs", "1", "--layer", "built"],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["layer"], summary["runs"]) == ("built", 1)
    assert set(summary["figures"]) == {"floor", "handler"}
    assert "native modules loaded from the layer: none" in result.stdout
