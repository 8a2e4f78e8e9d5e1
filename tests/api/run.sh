#!/usr/bin/env bash
# Runs the official openai Python SDK against a real `jan serve`.
# Creates .venv with openai and pytest from PyPI on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/pytest ] || ! .venv/bin/python -c "import openai" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q "openai>=1.50,<3" "pytest>=8"
fi
cargo build -q -p jan-cli
.venv/bin/pytest -q tests/api "$@"
