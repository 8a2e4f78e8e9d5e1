"""Fault injection: the data folder on a full disk, then a read-only one.

The data folder is a small tmpfs mounted in a private mount namespace
(`unshare`; with a user namespace when not root), so nothing outside the
test sees it and it vanishes with the test. Servers run inside it with
`nsenter`; the test reaches its files through /proc/<pid>/root.

On a full disk every write fails with 507 and OpenAI's error JSON, nothing
acknowledged is lost, no file is left half written, and once space is
freed the same requests succeed, also after a restart. A read-only data
folder stops `jan serve` at start with a one-line error."""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import JAN, REPO, Server, call, ok

SIZE = "8m"


class Namespace:
    """A process holding a private mount namespace with a tmpfs at `dir`."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        self.enter_user = [] if os.geteuid() == 0 else ["--user", "--preserve-credentials"]
        self.proc = subprocess.Popen(
            ["unshare", *user, "--mount", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o size={SIZE} jan-test '{directory}' && echo ready && exec sleep 900"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"cannot make a tmpfs in a mount namespace: {self.proc.stderr.read()}")

    def path(self, *parts):
        """The path, inside the namespace, of `dir/parts` as seen from here."""
        return os.path.join(f"/proc/{self.proc.pid}/root", str(self.dir).lstrip("/"), *parts)

    @property
    def enter(self):
        return ["nsenter", "-t", str(self.proc.pid), *self.enter_user, "--mount"]

    def run(self, *cmd):
        subprocess.run(self.enter + list(cmd), check=True, capture_output=True)

    def close(self):
        self.proc.kill()
        self.proc.wait()


def run_echo(base, thread):
    run = ok(base, "POST", f"/threads/{thread}/runs", {"assistant_id": "echo"})
    for _ in range(200):
        run = ok(base, "GET", f"/threads/{thread}/runs/{run['id']}")
        if run["status"] not in ("queued", "in_progress"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run never finished: {run}")


def fill(path):
    """Writes to `path` until the disk is full."""
    chunk = b"\0" * 65536
    # Unbuffered: a buffered write that fails at close would escape the try.
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as e:
            assert e.errno == 28, e  # ENOSPC


def every_file_parses(root):
    """Every record in the folder parses, logs hold whole lines only, and
    no unfinished atomic write is left."""
    count = 0
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            assert not name.startswith(".tmp-"), p
            if name.endswith(".json"):
                json.load(open(p))
                count += 1
            elif name.endswith(".jsonl"):
                raw = open(p, "rb").read()
                assert raw == b"" or raw.endswith(b"\n"), p
                for line in raw.splitlines():
                    json.loads(line)
                count += 1
    return count


@pytest.fixture()
def ns(tmp_path):
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        pytest.fail("unshare and nsenter (util-linux) are needed")
    n = Namespace(tmp_path / "data")
    yield n
    n.close()


def texts(base, thread):
    return [m["content"][0]["text"]["value"]
            for m in ok(base, "GET", f"/threads/{thread}/messages?order=asc&limit=100")["data"]]


def test_a_full_disk_fails_writes_clearly_loses_nothing_and_recovers(ns):
    os.makedirs(ns.path("assistants"), exist_ok=True)
    shutil.copytree(REPO / "assistants" / "examples" / "echo", ns.path("assistants", "echo"))
    s = Server(ns.dir, prefix=ns.enter).start()
    try:
        base = s.base_url
        thread = ok(base, "POST", "/threads", {"messages": [{"role": "user", "content": "one"}]})["id"]
        ok(base, "POST", f"/threads/{thread}/messages", {"role": "user", "content": "two"})
        assert run_echo(base, thread)["status"] == "completed"
        acked = texts(base, thread)
        assert acked[:2] == ["one", "two"] and len(acked) == 3, acked
        resp = ok(base, "POST", "/responses", {"prompt": {"id": "echo"}, "input": "hi"})["id"]
        before = sorted(os.listdir(ns.path("threads")))

        fill(ns.path("filler"))
        big = "x" * 200_000  # more than any slack a full tmpfs may have left
        writes = [
            ("POST", "/threads", {"messages": [{"role": "user", "content": big}]}),
            ("POST", f"/threads/{thread}/messages", {"role": "user", "content": big}),
            ("POST", f"/threads/{thread}", {"metadata": {"k": "v"}}),
            ("POST", f"/threads/{thread}/runs", {"assistant_id": "echo"}),
            ("POST", "/responses", {"prompt": {"id": "echo"}, "input": big}),
            ("POST", "/assistants", {"model": "any", "instructions": big}),
            ("POST", "/conversations", {"items": [{"type": "message", "role": "user", "content": big}]}),
            ("POST", "/threads/runs", {"assistant_id": "echo",
                                       "thread": {"messages": [{"role": "user", "content": big}]}}),
            ("POST", f"/threads/{thread}/runs", {"assistant_id": "echo",
                                                 "additional_messages": [{"role": "user", "content": big}]}),
            # Two items: the first may fit where the second does not.
            ("POST", f"/conversations/{thread}/items", {"items": [
                {"type": "message", "role": "user", "content": "x"},
                {"type": "message", "role": "user", "content": big}]}),
        ]
        for method, path, body in writes:
            status, v = call(base, method, path, body)
            assert status == 507, (path, status, v)
            assert v["error"]["code"] == "insufficient_storage", v
            assert "full" in v["error"]["message"], v
        # Reads still work and show exactly what was acknowledged.
        assert texts(base, thread) == acked
        assert ok(base, "GET", f"/threads/{thread}")["metadata"] == {}
        assert ok(base, "GET", f"/responses/{resp}")["status"] == "completed"
        assert sorted(os.listdir(ns.path("threads"))) == before
        assert not any(n.startswith("asst_") for n in os.listdir(ns.path("assistants")))
        os.remove(ns.path("filler"))
        every_file_parses(ns.path())

        # Space is back: the same requests succeed.
        for method, path, body in writes:
            if "/runs" in path or "/items" in path:
                continue
            ok(base, method, path, body)
        assert run_echo(base, thread)["status"] == "completed"
        after = texts(base, thread)
        assert after[:3] == acked and after[3] == big, after[:4]
    finally:
        s.stop()
    # And after a restart.
    s = Server(ns.dir, prefix=ns.enter).start()
    try:
        assert texts(s.base_url, thread) == after
        assert ok(s.base_url, "GET", f"/threads/{thread}")["metadata"] == {"k": "v"}
        assert every_file_parses(ns.path()) > 5
    finally:
        s.stop()


def test_a_read_only_data_folder_is_a_clear_start_up_error(ns):
    Server(ns.dir, prefix=ns.enter).start().stop()
    ns.run("mount", "-o", "remount,ro", str(ns.dir))
    p = subprocess.run(ns.enter + [JAN, "serve", "--port", "0"],
                       env=dict(os.environ, JAN_DATA_FOLDER=str(ns.dir)),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    err = p.stderr.strip()
    assert "not writable" in err and "Read-only file system" in err, err
    assert "panicked" not in err, err
