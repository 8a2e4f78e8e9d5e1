"""Broken records in the data folder: one policy. A record that cannot be
read (a garbage thread.json, run file, steps file, response, model.json or
assistant.json, a garbage line in messages.jsonl) is skipped and logged
with its path, everything else is served, and a request for that record
is a clear error that names the file."""
import time

from conftest import MODEL, Server, call, ok, small_data_dir

GARBAGE = b"{ this is not json"


def names(base, method, path, record, body=None):
    """The request fails with OpenAI's error JSON naming the broken file."""
    status, v = call(base, method, path, body)
    assert status == 500, (path, status, v)
    err = v["error"]
    assert err["type"] == "server_error" and err["code"] == "unreadable_record", (path, v)
    assert str(record) in err["message"], (path, record, err["message"])
    return err["message"]


def test_a_broken_record_is_skipped_logged_and_named(tmp_path):
    data = small_data_dir(tmp_path / "data")
    s = Server(data).start()
    base = s.base_url
    try:
        good = ok(base, "POST", "/threads", {"messages": [{"role": "user", "content": "one"}]})["id"]
        ok(base, "POST", f"/threads/{good}/messages", {"role": "user", "content": "two"})
        bad = ok(base, "POST", "/threads", {})["id"]
        runs = []
        for _ in range(3):
            run = ok(base, "POST", f"/threads/{good}/runs", {"assistant_id": "echo"})
            for _ in range(100):
                run = ok(base, "GET", f"/threads/{good}/runs/{run['id']}")
                if run["status"] == "completed":
                    break
                time.sleep(0.1)
            assert run["status"] == "completed", run
            runs.append(run["id"])
        resp_good = ok(base, "POST", "/responses", {"prompt": {"id": "echo"}, "input": "hi"})["id"]
        resp_bad = ok(base, "POST", "/responses", {"prompt": {"id": "echo"}, "input": "hi"})["id"]
    finally:
        s.stop()

    threads = data / "threads"
    broken = {
        "thread": threads / bad / "thread.json",
        "run": threads / good / "runs" / f"{runs[1]}.json",
        "steps": threads / good / "runs" / f"{runs[2]}.steps.json",
        "response": data / "responses" / f"{resp_bad}.json",
        "model": data / "models" / "broken-model" / "model.json",
        "assistant": data / "assistants" / "broken-assistant" / "assistant.json",
    }
    for path in broken.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(GARBAGE)
    # A garbage line in the middle of a message log (not a torn tail).
    log = threads / good / "messages.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + GARBAGE + b"\n" + b"".join(lines[1:]))

    s = Server(data).start()
    base = s.base_url
    try:
        # Everything else is served.
        msgs = ok(base, "GET", f"/threads/{good}/messages?order=asc")["data"]
        assert [m["content"][0]["text"]["value"] for m in msgs][:2] == ["one", "two"]
        listed = [r["id"] for r in ok(base, "GET", f"/threads/{good}/runs?order=asc")["data"]]
        assert listed == [runs[0], runs[2]], listed
        assert ok(base, "GET", f"/threads/{good}/runs/{runs[0]}/steps")["data"]
        ok(base, "GET", f"/responses/{resp_good}")
        models = [m["id"] for m in ok(base, "GET", "/models")["data"]]
        assert models == [MODEL], models
        assistants = [a["id"] for a in ok(base, "GET", "/assistants?limit=100")["data"]]
        assert "echo" in assistants and "broken-assistant" not in assistants, assistants
        ok(base, "POST", f"/threads/{good}/messages", {"role": "user", "content": "three"})

        # A request for the broken record names it.
        t = broken["thread"]
        names(base, "GET", f"/threads/{bad}", t)
        names(base, "POST", f"/threads/{bad}", t, {"metadata": {"a": "b"}})
        names(base, "GET", f"/threads/{bad}/messages", t)
        names(base, "POST", f"/threads/{bad}/messages", t, {"role": "user", "content": "x"})
        names(base, "POST", f"/threads/{bad}/runs", t, {"assistant_id": "echo"})
        names(base, "GET", f"/conversations/{bad}", t)
        names(base, "GET", f"/conversations/{bad}/items", t)
        names(base, "GET", f"/threads/{good}/runs/{runs[1]}", broken["run"])
        names(base, "GET", f"/threads/{good}/runs/{runs[1]}/steps", broken["run"])
        names(base, "POST", f"/threads/{good}/runs/{runs[1]}/cancel", broken["run"])
        names(base, "GET", f"/threads/{good}/runs/{runs[2]}/steps", broken["steps"])
        names(base, "GET", f"/responses/{resp_bad}", broken["response"])
        names(base, "GET", f"/responses/{resp_bad}/input_items", broken["response"])
        names(base, "POST", "/responses", broken["response"],
              {"model": MODEL, "input": "hi", "previous_response_id": resp_bad})
        names(base, "GET", "/models/broken-model", broken["model"])
        names(base, "POST", "/chat/completions", broken["model"],
              {"model": "broken-model", "messages": [{"role": "user", "content": "hi"}]})
        names(base, "GET", "/assistants/broken-assistant", broken["assistant"])
        names(base, "POST", f"/threads/{good}/runs", broken["assistant"], {"assistant_id": "broken-assistant"})
        names(base, "POST", "/responses", broken["assistant"], {"prompt": {"id": "broken-assistant"}, "input": "hi"})
        # A broken record is not silently replaced by a write.
        assert broken["steps"].read_bytes() == GARBAGE
        assert broken["thread"].read_bytes() == GARBAGE
        # Deleting what cannot be read is allowed: it is how to get rid of it.
        assert ok(base, "DELETE", f"/threads/{bad}")["deleted"] is True
        assert call(base, "GET", f"/threads/{bad}")[0] == 404
    finally:
        s.stop()
    s.log.seek(0)
    log_text = s.log.read()
    for what, path in broken.items():
        assert str(path) in log_text, (what, path, log_text[-3000:])
    assert f"{log}:2" in log_text, log_text[-3000:]
