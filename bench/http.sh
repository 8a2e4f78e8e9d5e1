#!/usr/bin/env bash
# The HTTP API against a bare hyper hello-world (bench/src/hello.rs), both
# driven by wrk (Debian package) on this machine in one run; then the
# streaming overhead: tokens/s an SSE client sees against the engine's own
# tokens/s for the same request (bench/sse.py).
#   bash bench/http.sh        # prints a markdown report to stdout
# Needs: wrk, tests/get-models.sh (SmolLM2 for the streaming part).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p jan-cli -p jan-bench
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$data"' EXIT
export JAN_DATA_FOLDER="$data"
target/release/jan models import .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --link >/dev/null
JAN_PORT=18437
HELLO_PORT=18438
target/release/jan serve --port $JAN_PORT 2>/dev/null &
pids+=($!)
target/release/hello $HELLO_PORT &
pids+=($!)
for port in $JAN_PORT $HELLO_PORT; do
  for _ in $(seq 50); do curl -s -o /dev/null "127.0.0.1:$port/health" && break; sleep 0.1; done
done
asst=$(curl -s -X POST "127.0.0.1:$JAN_PORT/v1/assistants" -H 'content-type: application/json' \
  -d '{"model": "SmolLM2-135M-Instruct-Q4_1", "name": "bench", "instructions": "x"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cat >"$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
LUA
THREADS=1
CONNS=16
SECS=10
run() { # name url [script]
  local out
  out=$(wrk -t$THREADS -c$CONNS -d${SECS}s --latency ${3:+-s "$3"} "$2")
  python3 - "$1" "$out" <<'PY'
import re, sys
name, out = sys.argv[1], sys.argv[2]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
print(f"{name}\t{rps}\t{p99}")
PY
}
{
  run "hello" "http://127.0.0.1:$HELLO_PORT/"
  run "GET /v1/assistants/{id}" "http://127.0.0.1:$JAN_PORT/v1/assistants/$asst"
  run "POST /v1/threads" "http://127.0.0.1:$JAN_PORT/v1/threads" "$data/post.lua"
} >"$data/results.tsv"
echo "## HTTP: jan serve against a bare hyper hello-world"
echo
echo "wrk $(wrk -v 2>&1 | head -n1 | cut -d' ' -f2), -t$THREADS -c$CONNS -d${SECS}s, same machine ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), release builds."
echo
python3 - "$data/results.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
base = float(rows[0][1])
print("| server / route | requests/s | p99 ms | requests/s ratio to hello |")
print("|---|---|---|---|")
for name, rps, p99 in rows:
    print(f"| {name} | {float(rps):,.0f} | {float(p99):.2f} | {float(rps) / base:.2f} |")
PY
echo
echo "## Streaming overhead: SSE client against the engine's own tokens/s"
echo
python3 bench/sse.py "http://127.0.0.1:$JAN_PORT/v1" SmolLM2-135M-Instruct-Q4_1
