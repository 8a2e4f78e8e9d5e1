"""A real `jan serve` for the benchmark scripts: a fresh data folder with
the given model files linked in, on a free port."""
import contextlib
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def serving(jan, model_files):
    """Yields the port of a `jan serve` with `model_files` (names under
    .cache/models) imported; stops it on exit."""
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, JAN_DATA_FOLDER=data)
        for f in model_files:
            subprocess.run([jan, "models", "import", str(REPO / ".cache" / "models" / f), "--link"],
                           env=env, check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([jan, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            yield port
        finally:
            server.terminate()
            server.wait()
