"""The Responses API against chat completions, through one real `jan serve`:
time to first token and decode speed, streamed, same model, same prompt,
same greedy answer (runs alternate, medians reported); and a 10-turn
`previous_response_id` chain: prompt tokens actually run per turn.

Usage: python3 bench/responses.py [JAN_BINARY]   (stdlib only; models from
tests/get-models.sh). Prints a markdown report.
"""
import json
import os
import pathlib
import statistics
import sys
import time
import urllib.request

from janserve import serving

REPO = pathlib.Path(__file__).resolve().parents[1]
JAN = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "target" / "release" / "jan")
FILE, MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct-Q4_1"
PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
TOKENS = 128
RUNS = 5


def stream(port, path, body):
    """POSTs `body` with stream: true; returns (seconds to the first text
    delta, seconds from first to last delta, output tokens)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    start = time.perf_counter()
    first = last = None
    tokens = 0
    with urllib.request.urlopen(req) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            e = json.loads(line[6:])
            text = None
            if path.endswith("chat/completions"):
                if e.get("choices"):
                    text = e["choices"][0]["delta"].get("content")
                if e.get("usage"):
                    tokens = e["usage"]["completion_tokens"]
            elif e["type"] == "response.output_text.delta":
                text = e["delta"]
            elif e["type"] in ("response.completed", "response.incomplete"):
                tokens = e["response"]["usage"]["output_tokens"]
            if text:
                now = time.perf_counter()
                first = first or now
                last = now
    return first - start, last - first, tokens


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def main():
    with serving(JAN, [FILE]) as port:
        messages = [{"role": "user", "content": PROMPT}]
        chat = {"model": MODEL, "messages": messages, "temperature": 0, "max_tokens": TOKENS, "stream": True,
                "stream_options": {"include_usage": True}}
        resp = {"model": MODEL, "input": PROMPT, "temperature": 0, "max_output_tokens": TOKENS, "stream": True,
                "store": False}
        stream(port, "/v1/chat/completions", chat)  # load the model
        results = {"chat": [], "responses": []}
        for _ in range(RUNS):
            # The same prompt everywhere: both endpoints get the same
            # KV-cache reuse.
            for name, path, body in (("chat", "/v1/chat/completions", chat), ("responses", "/v1/responses", resp)):
                results[name].append(stream(port, path, body))
        print(f"## Responses API against chat completions (streamed), {MODEL}")
        print()
        print(f"Machine: {os.cpu_count()} cores, "
              f"{open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}. "
              f"`python3 bench/responses.py`: {RUNS} alternating runs each, {TOKENS} tokens, greedy; medians.")
        print()
        print("| endpoint | time to first token ms | decode tokens/s | tokens |")
        print("|---|---|---|---|")
        med = {}
        for name, runs in results.items():
            ttft = statistics.median(r[0] for r in runs) * 1000
            rate = statistics.median((r[2] - 1) / r[1] for r in runs if r[1] > 0)
            med[name] = (ttft, rate)
            print(f"| /v1/{'chat/completions' if name == 'chat' else 'responses'} | {ttft:.1f} | {rate:.1f} | {runs[0][2]} |")
        print()
        print(f"Ratios (responses / chat completions): decode **{med['responses'][1] / med['chat'][1]:.2f}**, "
              f"time to first token **{med['chat'][0] / med['responses'][0]:.2f}** (above 1: responses faster).")
        print()
        print("### A 10-turn `previous_response_id` chain")
        print()
        print("| turn | input tokens | cached | run through the model |")
        print("|---|---|---|---|")
        prev = None
        for turn in range(1, 11):
            body = {"model": MODEL, "input": f"Turn {turn}: name one more fruit.", "temperature": 0,
                    "max_output_tokens": 16}
            if prev:
                body["previous_response_id"] = prev
            r = post(port, "/v1/responses", body)
            u = r["usage"]
            cached = u["input_tokens_details"]["cached_tokens"]
            print(f"| {turn} | {u['input_tokens']} | {cached} | {u['input_tokens'] - cached} |")
            prev = r["id"]


if __name__ == "__main__":
    main()
