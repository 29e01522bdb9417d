#!/usr/bin/env bash
# Build the SAM application (functions + the core layer) without Docker.
#
#   scripts/sam-build.sh [build-dir]     (default: .aws-sam/build)
#
# SAM CLI lives in its own venv (.tools/sam): its pins clash with the project's. `sam build` without
# --use-container needs a local python3.13 (the functions' runtime); with pyenv installed we expose it.
# The core layer is built by layers/core/Makefile (template.yaml: BuildMethod: makefile): the requirements as
# python3.13/arm64 wheels, the runtime package, and every module compiled by 3.13 (`make layer-check` reads it).
set -euo pipefail

SAM_VERSION="1.170.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools/sam"
SAM="$TOOLS/bin/sam"
BUILD_DIR="${1:-$ROOT/.aws-sam/build}"

export SAM_CLI_TELEMETRY=0

if command -v pyenv >/dev/null 2>&1; then
    # python3.13 for the build, the project's 3.11 first so nothing else changes.
    export PYENV_VERSION="${PYENV_VERSION:-3.11.7:3.13.0}"
fi

if ! command -v python3.13 >/dev/null 2>&1; then
    echo "sam-build: python3.13 not found on PATH (the Lambda runtime); install it or run with pyenv" >&2
    exit 1
fi

if [[ ! -x "$SAM" ]] || [[ "$("$SAM" --version 2>/dev/null)" != *"$SAM_VERSION"* ]]; then
    echo "sam-build: installing aws-sam-cli==$SAM_VERSION into $TOOLS" >&2
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --upgrade pip
    "$TOOLS/bin/python" -m pip install --quiet "aws-sam-cli==$SAM_VERSION"
fi

cd "$ROOT"
"$SAM" build --template template.yaml --build-dir "$BUILD_DIR"

# The layer must hold our package and its dependencies, or every function fails at import.
layer="$BUILD_DIR/CoreLayer/python"
for package in acuity_sync aws_lambda_powertools pydantic_core httpx; do
    if [[ ! -d "$layer/$package" ]]; then
        echo "sam-build: $layer/$package is missing from the built layer" >&2
        exit 1
    fi
done
echo "sam-build: built into $BUILD_DIR; the layer: $(du -sh "$BUILD_DIR/CoreLayer" | cut -f1)," \
    "$(find "$layer" -name '*.py' | wc -l) .py, $(find "$layer" -name '*.pyc' | wc -l) .pyc"
