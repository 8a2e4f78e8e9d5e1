"""Tokens/s an SSE client sees on a streamed chat completion, against the
engine's own decode tokens/s for the same request (`timings` in the last
chunk). Plain http.client, so the client adds as little as possible.
    python3 bench/sse.py BASE_URL MODEL [RUNS]"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

base, model = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
url = urllib.parse.urlparse(base)
body = json.dumps({
    "model": model, "stream": True, "temperature": 0, "max_tokens": 200,
    "stream_options": {"include_usage": True},
    "messages": [{"role": "user", "content": "Write a long story about a dragon who learns to bake bread."}],
})


def once():
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("POST", url.path + "/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first = last = None
    timings = usage = None
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
            now = time.perf_counter()
            first = first or now
            last = now
        timings = chunk.get("timings") or timings
        usage = chunk.get("usage") or usage
    conn.close()
    n = usage["completion_tokens"]
    # n tokens arrive over n-1 intervals after the first.
    client = (n - 1) / (last - first)
    return n, client, timings["predicted_per_second"]


once()  # load the model
results = [once() for _ in range(runs)]
print("| run | tokens | client tok/s | engine tok/s | ratio |")
print("|---|---|---|---|---|")
for i, (n, c, e) in enumerate(results, 1):
    print(f"| {i} | {n} | {c:.1f} | {e:.1f} | {c / e:.3f} |")
ratio = statistics.median(c / e for _, c, e in results)
print()
print(f"Median ratio (client / engine): **{ratio:.3f}**")
