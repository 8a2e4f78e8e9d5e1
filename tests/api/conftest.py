"""Starts a real `jan serve` for the official openai SDK to talk to."""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
JAN = os.environ.get("JAN_BIN", str(REPO / "target" / "debug" / "jan"))
MODEL_FILE = REPO / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "SmolLM2-135M-Instruct-Q4_1"
EMBED_DIR = REPO / ".cache" / "models" / "all-MiniLM-L6-v2"
EMBED_MODEL = "all-MiniLM-L6-v2"
# The tool-calling model: its chat template takes `tools`.
QWEN_FILE = REPO / ".cache" / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN = "qwen2-5-coder-0-5b-instruct-q4_k_m"


def install_assistant(data_dir, source):
    """Copies the assistant folder `source` (relative to the repository)
    into the data folder once; returns its id (the folder name)."""
    src = REPO / source
    dest = data_dir / "assistants" / src.name
    if not dest.exists():
        shutil.copytree(src, dest)
    return src.name


def small_data_dir(path):
    """A data folder at `path` with SmolLM2 (linked) and the echo assistant."""
    subprocess.run([JAN, "models", "import", str(MODEL_FILE), "--link"],
                   env=dict(os.environ, JAN_DATA_FOLDER=str(path)), check=True, capture_output=True)
    install_assistant(path, "assistants/examples/echo")
    return path


def call(base, method, path, body=None):
    """One JSON request: (status, decoded body), errors included."""
    import json
    import urllib.error

    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ok(base, method, path, body=None):
    """A JSON request that must succeed; its body."""
    status, v = call(base, method, path, body)
    assert status == 200, (method, path, status, v)
    return v


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data, api_key=None, prefix=()):
        self.data = data
        self.api_key = api_key
        # A command that runs the server (`nsenter …` for a namespace).
        self.prefix = list(prefix)
        self.port = free_port()
        self.proc = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        env = dict(os.environ, JAN_DATA_FOLDER=str(self.data))
        env.pop("JAN_API_KEY", None)
        args = self.prefix + [JAN, "serve", "--port", str(self.port)]
        if self.api_key:
            args += ["--api-key", self.api_key]
        # A file, not a pipe: a chatty server must never block on a full
        # pipe nobody reads.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(args, env=env, stderr=self.log, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return self
            except OSError:
                if self.proc.poll() is not None:
                    self.log.seek(0)
                    raise RuntimeError(f"jan serve exited: {self.log.read()}")
                time.sleep(0.1)
        raise RuntimeError("jan serve did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    assert MODEL_FILE.is_file(), f"{MODEL_FILE} is missing: run tests/get-models.sh"
    data = tmp_path_factory.mktemp("jan-data")
    for source in (MODEL_FILE, EMBED_DIR, QWEN_FILE):
        subprocess.run(
            [JAN, "models", "import", str(source), "--link"],
            env=dict(os.environ, JAN_DATA_FOLDER=str(data)),
            check=True,
            capture_output=True,
        )
    return data


@pytest.fixture(scope="session")
def server(data_dir):
    s = Server(data_dir).start()
    yield s
    s.stop()


def conforms(client, name, payload):
    """Validates `payload` (an SDK object or a dict) against the component
    schema `name` of the server's own /openapi.json: what the document
    describes is what the server sends."""
    import json

    import jsonschema

    base = str(client.base_url).rstrip("/").removesuffix("/v1")
    with urllib.request.urlopen(f"{base}/openapi.json", timeout=10) as r:
        doc = json.load(r)
    if hasattr(payload, "model_dump"):
        payload = payload.model_dump(mode="json", exclude_unset=True)
    schema = dict(doc, **{"$ref": f"#/components/schemas/{name}"})
    jsonschema.Draft202012Validator(schema).validate(payload)


@pytest.fixture()
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
