"""Load: 50 concurrent clients for 60 s against one `jan serve`, a mix of
thread/message CRUD and runs on a JavaScript assistant (polled and
streamed) from 45 clients, streamed chat on a real model (SmolLM2) from 5. No request may fail, nothing
acknowledged may be lost, nothing deleted may come back. Latencies are
reported (p50/p99 per kind, printed with -s), and the server's resident
memory is taken after a warm-up and again after 10,000 more requests: it
must stay within RSS_MARGIN_MB (memory that grows with requests is a leak
that weeks of `jan serve` would turn into a crash).

JAN_LOAD_SECONDS and JAN_LOAD_CLIENTS change the run; JAN_LOAD_REPORT
names a JSON file for the figures (bench/RESULTS.md quotes them)."""
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request

from conftest import MODEL, Server, small_data_dir

SECONDS = float(os.environ.get("JAN_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("JAN_LOAD_CLIENTS", "50"))
WARMUP = 1_000
MEASURED = 10_000
RSS_MARGIN_MB = 64


def request(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        raw = r.read()
        kind = r.headers.get("content-type", "")
    if kind.startswith("text/event-stream"):
        return raw.decode()
    return json.loads(raw)


def every(base, thread):
    """All the messages of a thread, page by page."""
    out, after = [], None
    while True:
        page = request(base, "GET", f"/threads/{thread}/messages?limit=100" + (f"&after={after}" if after else ""))
        out += page["data"]
        if not page["has_more"]:
            return out
        after = page["last_id"]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}
        self.errors = []
        self.count = 0
        self.marks = {}  # request count -> RSS (MB)

    def add(self, kind, seconds):
        with self.lock:
            self.latency.setdefault(kind, []).append(seconds)
            self.count += 1
            return self.count


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0.0


def client(base, rng, stats, ledger, stop, pid, chats):
    """One client: `chats` ones stream chat completions (each waits its
    turn for the model), the others write threads and run assistants."""
    mine = {}  # thread id -> {message id: text}, this client's own threads

    def timed(kind, f):
        t0 = time.perf_counter()
        out = f()
        n = stats.add(kind, time.perf_counter() - t0)
        for mark in (WARMUP, WARMUP + MEASURED):
            if n == mark:
                stats.marks[mark] = rss_mb(pid)
        return out

    while not stop.is_set():
        op = rng.random()
        try:
            if chats:
                out = timed("chat.stream", lambda: request(base, "POST", "/chat/completions", {
                    "model": MODEL, "stream": True, "max_tokens": 8, "temperature": 0,
                    "messages": [{"role": "user", "content": f"Say a number: {rng.randint(0, 99)}"}]}))
                assert out.rstrip().endswith("data: [DONE]"), out[-300:]
            elif op < 0.15 or not mine:
                text = f"hello {rng.random()}"
                t = timed("thread.create", lambda: request(base, "POST", "/threads",
                                                           {"messages": [{"role": "user", "content": text}]}))
                msgs = timed("message.list", lambda: request(base, "GET", f"/threads/{t['id']}/messages"))
                mine[t["id"]] = {msgs["data"][0]["id"]: text}
            elif op < 0.40:
                th = rng.choice(list(mine))
                text = f"more {rng.random()}"
                m = timed("message.create", lambda: request(base, "POST", f"/threads/{th}/messages",
                                                             {"role": "user", "content": text}))
                mine[th][m["id"]] = text
            elif op < 0.55:
                th = rng.choice(list(mine))
                got = timed("message.list", lambda: every(base, th))
                assert {m["id"] for m in got} >= set(mine[th]), "acknowledged message missing"
            elif op < 0.62:
                th = rng.choice(list(mine))
                timed("thread.modify", lambda: request(base, "POST", f"/threads/{th}",
                                                       {"metadata": {"n": str(rng.random())}}))
            elif op < 0.66 and len(mine) > 1:
                th = rng.choice(list(mine))
                timed("thread.delete", lambda: request(base, "DELETE", f"/threads/{th}"))
                del mine[th]
                with stats.lock:
                    ledger["deleted"].add(th)
            else:
                th = rng.choice(list(mine))
                if rng.random() < 0.5:
                    out = timed("run.stream", lambda: request(base, "POST", f"/threads/{th}/runs",
                                                              {"assistant_id": "echo", "stream": True}))
                    assert "thread.run.completed" in out, out[-300:]
                else:
                    def polled():
                        run = request(base, "POST", f"/threads/{th}/runs", {"assistant_id": "echo"})
                        while run["status"] in ("queued", "in_progress"):
                            time.sleep(0.02)
                            run = request(base, "GET", f"/threads/{th}/runs/{run['id']}")
                        return run
                    run = timed("run.poll", polled)
                    assert run["status"] == "completed", run
                # The run's reply is a message of the thread now.
                got = request(base, "GET", f"/threads/{th}/messages?limit=1")
                mine[th][got["data"][0]["id"]] = got["data"][0]["content"][0]["text"]["value"]
        except Exception as e:  # noqa: BLE001
            detail = e.read().decode()[:300] if isinstance(e, urllib.error.HTTPError) else ""
            with stats.lock:
                stats.errors.append(f"{type(e).__name__}: {e} {detail}")
    with stats.lock:
        ledger["threads"].update(mine)


def test_fifty_clients_for_a_minute_lose_nothing_and_memory_stays_flat(tmp_path):
    data_dir = small_data_dir(tmp_path / "data")
    s = Server(data_dir).start()
    try:
        base = s.base_url
        pid = s.proc.pid
        stats = Stats()
        ledger = {"threads": {}, "deleted": set()}
        stop = threading.Event()
        started = rss_mb(pid)
        # The model loads before the count starts: its weights are memory
        # the server keeps, not growth.
        request(base, "POST", "/chat/completions", {"model": MODEL, "max_tokens": 1,
                                                      "messages": [{"role": "user", "content": "hi"}]})
        # One client in ten streams chat; nine write and run assistants.
        workers = [threading.Thread(target=client, args=(base, random.Random(i), stats, ledger, stop, pid,
                                                         i % 10 == 0))
                   for i in range(CLIENTS)]
        t0 = time.time()
        for w in workers:
            w.start()
        # The load runs its time, and at least until the measured requests
        # are done.
        while time.time() - t0 < SECONDS or stats.count < WARMUP + MEASURED:
            time.sleep(0.2)
            if time.time() - t0 > SECONDS + 600:
                break
        stop.set()
        for w in workers:
            w.join(timeout=180)
        elapsed = time.time() - t0

        assert not stats.errors, f"{len(stats.errors)} errors, first: {stats.errors[:5]}"
        assert WARMUP + MEASURED in stats.marks, f"only {stats.count} requests"
        # Nothing acknowledged is lost, nothing deleted comes back.
        checked = 0
        for th, msgs in ledger["threads"].items():
            got = every(base, th)
            stored = {m["id"]: m["content"][0]["text"]["value"] for m in got}
            for mid, text in msgs.items():
                assert stored.get(mid) == text, f"acknowledged message {mid} of {th} lost"
                checked += 1
        for th in ledger["deleted"]:
            try:
                request(base, "GET", f"/threads/{th}")
                raise AssertionError(f"deleted thread {th} came back")
            except urllib.error.HTTPError as e:
                assert e.code == 404

        before, after = stats.marks[WARMUP], stats.marks[WARMUP + MEASURED]
        everything = [x for v in stats.latency.values() for x in v]
        report = {
            "clients": CLIENTS, "seconds": round(elapsed, 1), "requests": stats.count,
            "per_second": round(stats.count / elapsed, 1), "errors": len(stats.errors),
            "acknowledged_messages_checked": checked, "deleted_threads_checked": len(ledger["deleted"]),
            "p50_ms": round(pct(everything, 0.5) * 1000, 1), "p99_ms": round(pct(everything, 0.99) * 1000, 1),
            "by_kind": {k: {"n": len(v), "p50_ms": round(pct(v, 0.5) * 1000, 1),
                            "p99_ms": round(pct(v, 0.99) * 1000, 1)} for k, v in sorted(stats.latency.items())},
            "rss_mb": {"start": round(started, 1), f"after_{WARMUP}": round(before, 1),
                       f"after_{WARMUP + MEASURED}": round(after, 1)},
        }
        print(json.dumps(report, indent=2))
        if os.environ.get("JAN_LOAD_REPORT"):
            with open(os.environ["JAN_LOAD_REPORT"], "w") as f:
                json.dump(report, f, indent=2)
        assert after - before <= RSS_MARGIN_MB, f"RSS grew {after - before:.0f} MB over {MEASURED} requests"
    finally:
        s.stop()
