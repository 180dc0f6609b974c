#!/usr/bin/env bash
# Lint and format check (ruff, configured in pyproject.toml). Fails on the first problem found.
# Repair: `ruff check --fix .` and `ruff format .`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -m ruff --version >/dev/null 2>&1; then
  echo "lint: ruff is not installed (python3 -m pip install -r requirements-test.txt)" >&2
  exit 1
fi
if ! python3 -m ruff check .; then
  echo "lint: FAILED: 'ruff check .' found the problems above (fix them, or 'ruff check --fix .')" >&2
  exit 1
fi
if ! python3 -m ruff format --check .; then
  echo "lint: FAILED: files above are not formatted ('ruff format .' formats them)" >&2
  exit 1
fi
echo "lint: ruff check and ruff format --check passed"
