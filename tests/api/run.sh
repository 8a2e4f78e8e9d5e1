#!/usr/bin/env bash
# Runs the official openai SDKs (Python, then Node) and the OpenAI Agents
# SDKs against a real `jan serve`. Creates .venv (openai, pytest,
# jsonschema, schemathesis from PyPI), .venv-agents (openai-agents) and
# tests/api/node/node_modules (openai and @openai/agents from npm, pinned by
# its lockfile) on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/pytest ] || ! .venv/bin/python -c "import openai, jsonschema, schemathesis" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q "openai>=1.50,<3" "pytest>=8" "jsonschema>=4" "schemathesis==4.32.5"
fi
cargo build -q -p jan-cli
# Test assistants that import real npm packages, pinned by their lockfiles.
for dir in tests/assistants/*/; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  fi
done
.venv/bin/pytest -q tests/api "$@"
# The OpenAI Agents SDK for Python needs openai 3; tests/api pins the SDK
# whose Assistants API (`beta.*`) they drive, so it has its own venv.
if [ ! -x .venv-agents/bin/pytest ] || ! .venv-agents/bin/python -c "import agents" 2>/dev/null; then
  python3 -m venv .venv-agents
  .venv-agents/bin/pip install -q "openai-agents==0.24.0" "pytest>=8"
fi
.venv-agents/bin/pytest -q tests/agents
# The official Node SDK (chat, runs, responses) and the Agents SDK, pinned
# by the lockfile.
(cd tests/api/node && { [ -d node_modules/@openai/agents ] || npm ci --no-audit --no-fund --silent; } && node --test openai.test.mjs)
