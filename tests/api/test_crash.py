"""Crash durability: concurrent clients write threads, messages, metadata,
deletions, runs (polled and streamed) and responses while `jan serve` is
killed with SIGKILL at random moments (some during start-up); after each
restart every acknowledged write must be there, nothing deleted may come
back, every file must parse, and nothing may be left queued or running.

The assistant is assistants/examples/echo (no model), so a kill lands
anywhere in a run's life. Figures are printed with -s (and in the bench
report)."""
import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

from conftest import JAN, Server, install_assistant

KILLS = int(os.environ.get("JAN_CRASH_KILLS", "50"))
CLIENTS = 4


def call(base, method, path, body=None, stream=False):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    if stream:
        return raw.decode()
    return json.loads(raw) if raw else None


class Ledger:
    """What the server acknowledged (a 2xx answer), per client."""

    def __init__(self):
        self.lock = threading.Lock()
        self.threads = {}       # thread id -> {msg id: text}
        self.metadata = {}      # thread id -> last acknowledged metadata
        # thread id -> metadata sent since (the server may have applied
        # them before it died without answering)
        self.pending = {}
        self.deleted_threads = set()
        self.deleted_messages = set()
        # Deletions sent but not acknowledged: they may or may not be done.
        self.deleting = set()
        self.responses = set()
        self.writes = 0

    def ack(self, f):
        with self.lock:
            f()
            self.writes += 1


def client_loop(base, ledger, rng, stop):
    mine = []  # this client's live threads: writes to one thread are ordered
    while not stop.is_set():
        try:
            op = rng.random()
            if op < 0.25 or not mine:
                text = f"hello {rng.random()}"
                t = call(base, "POST", "/v1/threads", {"messages": [{"role": "user", "content": text}]})
                msgs = call(base, "GET", f"/v1/threads/{t['id']}/messages")["data"]
                ledger.ack(lambda: ledger.threads.__setitem__(t["id"], {msgs[0]["id"]: text}))
                mine.append(t["id"])
            elif op < 0.45:
                th = rng.choice(mine)
                text = f"more {rng.random()}"
                m = call(base, "POST", f"/v1/threads/{th}/messages", {"role": "user", "content": text})
                ledger.ack(lambda: ledger.threads[th].__setitem__(m["id"], text))
            elif op < 0.55:
                th = rng.choice(mine)
                meta = {"n": str(rng.randint(0, 10**6))}
                with ledger.lock:
                    ledger.pending.setdefault(th, []).append(meta)
                call(base, "POST", f"/v1/threads/{th}", {"metadata": meta})
                ledger.ack(lambda: (ledger.metadata.__setitem__(th, meta), ledger.pending.pop(th)))
            elif op < 0.6:
                th = rng.choice(mine)
                ids = list(ledger.threads[th])
                if len(ids) > 1:
                    mid = ids[-1]
                    with ledger.lock:
                        ledger.deleting.add(mid)
                    call(base, "DELETE", f"/v1/threads/{th}/messages/{mid}")
                    ledger.ack(lambda: (ledger.threads[th].pop(mid), ledger.deleted_messages.add(mid)))
            elif op < 0.65:
                th = mine.pop(rng.randrange(len(mine)))
                with ledger.lock:
                    ledger.deleting.add(th)
                call(base, "DELETE", f"/v1/threads/{th}")
                ledger.ack(lambda: (ledger.threads.pop(th), ledger.deleted_threads.add(th)))
            elif op < 0.85:
                th = rng.choice(mine)
                stream = rng.random() < 0.5
                call(base, "POST", f"/v1/threads/{th}/runs", {"assistant_id": "echo", "stream": stream}, stream=stream)
            else:
                r = call(base, "POST", "/v1/responses", {"prompt": {"id": "echo"}, "input": "hi",
                                                         "background": rng.random() < 0.5})
                ledger.ack(lambda: ledger.responses.add(r["id"]))
        except Exception:  # noqa: BLE001
            # The server died mid-request, mid-answer (a torn chunked
            # body), or a run was busy: not acknowledged.
            time.sleep(0.01)


def every(base, path):
    """All the pages of a list."""
    out, after = [], None
    while True:
        page = call(base, "GET", path + (f"&after={after}" if after else ""))
        out += page["data"]
        if not page["has_more"]:
            return out
        after = page["last_id"]


def check(base, data, ledger):
    checked = 0
    for th, msgs in list(ledger.threads.items()):
        try:
            listed = every(base, f"/v1/threads/{th}/messages?limit=100")
        except urllib.error.HTTPError as e:
            # Deleted by a request the server died answering.
            assert e.code == 404 and th in ledger.deleting, f"acknowledged thread {th} lost"
            del ledger.threads[th]
            ledger.deleted_threads.add(th)
            continue
        stored = {m["id"]: (m["content"][0]["text"]["value"] if m["content"] else "") for m in listed}
        for mid, text in list(msgs.items()):
            if mid not in stored and mid in ledger.deleting:
                del msgs[mid]
                ledger.deleted_messages.add(mid)
                continue
            assert stored.get(mid) == text, f"acknowledged message {mid} in {th} lost"
            checked += 1
        assert not (set(stored) & ledger.deleted_messages), f"a deleted message came back in {th}"
        if th in ledger.metadata:
            # The last acknowledged value, or one sent after it that was
            # applied before the kill.
            got = call(base, "GET", f"/v1/threads/{th}")["metadata"]
            assert got == ledger.metadata[th] or got in ledger.pending.get(th, []), (th, got)
            checked += 1
        for run in every(base, f"/v1/threads/{th}/runs?limit=100"):
            assert run["status"] not in ("queued", "in_progress", "cancelling"), run
    for th in ledger.deleted_threads:
        try:
            call(base, "GET", f"/v1/threads/{th}")
            raise AssertionError(f"deleted thread {th} came back")
        except urllib.error.HTTPError as e:
            assert e.code == 404
    for rid in ledger.responses:
        r = call(base, "GET", f"/v1/responses/{rid}")
        assert r["status"] not in ("queued", "in_progress"), r
        checked += 1
    # Every file parses (a log's torn last line excepted).
    for root, _, files in os.walk(data):
        for f in files:
            p = os.path.join(root, f)
            if f.endswith(".jsonl"):
                lines = open(p, "rb").read().split(b"\n")
                for line in lines[:-1]:
                    json.loads(line)
            elif f.endswith(".json") and "node_modules" not in root:
                json.loads(open(p, "rb").read())
    return checked


def test_sigkill_at_random_moments_loses_no_acknowledged_write(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run([JAN, "assistants", "list"], env=dict(os.environ, JAN_DATA_FOLDER=str(data)),
                   check=True, capture_output=True)
    install_assistant(data, "assistants/examples/echo")
    ledger = Ledger()
    rng = random.Random(7)
    checked = kills = 0
    for i in range(KILLS):
        s = Server(data)
        if i % 10 == 9:
            # Killed during start-up.
            s.proc = subprocess.Popen([JAN, "serve", "--port", str(s.port)],
                                      env=dict(os.environ, JAN_DATA_FOLDER=str(data)), stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.2))
        else:
            s.start()
            stop = threading.Event()
            workers = [threading.Thread(target=client_loop, args=(s.base_url.removesuffix("/v1"), ledger,
                                                                  random.Random(rng.random()), stop))
                       for _ in range(CLIENTS)]
            for w in workers:
                w.start()
            time.sleep(rng.uniform(0.2, 1.0))
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        kills += 1
        if i % 10 != 9:
            stop.set()
            for w in workers:
                w.join()
        # Restart and check everything acknowledged so far.
        s = Server(data).start()
        try:
            checked += check(s.base_url.removesuffix("/v1"), data, ledger)
        finally:
            s.stop()
    print(f"\ncrash test: {kills} SIGKILLs, {ledger.writes} acknowledged writes, "
          f"{checked} checks after restarts, 0 lost")
    assert ledger.writes > KILLS
