"""Real npm packages, unpatched, running inside assistants against a real
`jan serve` (the packages come from tests/assistants/*/package-lock.json,
installed by tests/api/run.sh with `npm ci`)."""
import json
import os
import subprocess

from conftest import JAN, MODEL, REPO


def run_assistant(folder, prompt, data):
    out = subprocess.run(
        [JAN, "run", str(REPO / "tests" / "assistants" / folder), "--prompt", prompt],
        env=dict(os.environ, JAN_DATA_FOLDER=str(data)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_openai_node_sdk_calls_jan_from_inside_an_assistant(server, tmp_path):
    v = run_assistant("openai-sdk", server.base_url, tmp_path)
    # Paginated list, a completion and a streamed completion, all parsed by
    # the SDK from jan's answers through the assistant's fetch.
    assert MODEL in v["models"], v
    assert v["plain"].strip(), v
    assert v["streamed"].strip(), v
    # A host outside permissions.net is refused before any connection.
    assert "net access to localhost:9 is not granted" in v["refused"], v


def test_zod_date_fns_and_turndown_run_unpatched(tmp_path):
    v = run_assistant("pure-packages", "go", tmp_path)
    assert v["zod"] == {"ok": True, "issues": ["city", "unit", "days.0"]}, v
    assert v["dateFns"] == {"next": "2026-12-02", "distance": "3 days"}, v
    # turndown loads through `main` (its `module` build is for bundlers).
    assert v["turndown"] == "# Hello\n\nSome **bold** and [a link](https://jan.ai).", v
