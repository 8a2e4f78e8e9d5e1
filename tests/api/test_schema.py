"""Schemathesis (property-based requests generated from /openapi.json)
against a real `jan serve` with no models: every request exercises parsing,
validation and the store. Checks: no 5xx, every response matches the
document (body schema and content type). Bounded to a minute."""
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import Server

# A fixed seed: a failure replays (`st run ... --seed`); new seeds are for
# hunting, not for CI.
SEED = "20261129"


def test_generated_requests_get_documented_answers(tmp_path):
    st = shutil.which("st", path=str(pathlib.Path(sys.executable).parent))
    if st is None:
        pytest.fail("schemathesis is not installed in this environment (tests/api/run.sh installs it)")
    data = tmp_path / "data"
    data.mkdir()
    server = Server(data).start()
    try:
        # In tmp_path: schemathesis keeps a cache folder where it runs.
        r = subprocess.run(
            [st, "run", f"http://127.0.0.1:{server.port}/openapi.json",
             # One worker: with two threads, hypothesis's concurrent
             # ast.parse hits a CPython 3.11 bug ("AST constructor recursion
             # depth mismatch", a SystemError inside schemathesis), which
             # once failed CI with every case passing.
             "--max-time", "60", "--phases", "coverage,fuzzing", "--workers", "1", "--seed", SEED,
             "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
             # The bus stream never ends by design.
             "--exclude-path", "/v1/events"],
            capture_output=True, text=True, timeout=240, cwd=tmp_path,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"schemathesis ran past 240 s: {(e.stdout or '')[-6000:]}")
    finally:
        server.stop()
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
