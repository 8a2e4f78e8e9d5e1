#!/usr/bin/env bash
# Runtime benchmarks against named peers, in one run on one machine.
#   bash bench/run.sh            # prints a markdown report to stdout
# Needs: hyperfine (Debian package), node.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p jan-cli -p jan-bench
JAN=target/release/jan
RT=target/release/roundtrip
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export JAN_DATA_FOLDER="$data"

# rate_table UNIT JAN_LABEL NODE_LABEL JAN_JSON NODE_JSON: a markdown table
# of two {"n", "ms"} results as rates, and their ratio.
rate_table() {
  python3 - "$@" <<'PY'
import json, sys
unit, jl, nl = sys.argv[1:4]
j, n = json.loads(sys.argv[4]), json.loads(sys.argv[5])
jr, nr = j["n"] / j["ms"] * 1000, n["n"] / n["ms"] * 1000
print(f"| | {unit} | {unit}/s |")
print("|---|---|---|")
print(f"| {jl} | {j['n']} | {jr:,.0f} |")
print(f"| {nl} | {n['n']} | {nr:,.0f} |")
print()
print(f"Ratio (jan / node, above 1 means jan is faster): **{jr/nr:.2f}**")
PY
}

# time_table JSON: a markdown table of hyperfine's "jan" and "node" results
# and their ratio.
time_table() {
  python3 - "$1" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
j, n = r["jan"], r["node"]
print("| command | mean ms | stddev ms |")
print("|---|---|---|")
for name, x in (("jan", j), ("node", n)):
    print(f"| {name} | {x['mean']*1000:.1f} | {x['stddev']*1000:.1f} |")
print()
print(f"Ratio (node time / jan time, above 1 means jan is faster): **{n['mean']/j['mean']:.2f}**")
PY
}

echo "## Start-up: \`jan run <echo> --prompt x\` against \`node\` running the same script"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); node $(node --version)."
echo
hyperfine -N --warmup 3 --runs 30 --export-json "$data/startup.json" \
  -n jan "$JAN run assistants/examples/echo --prompt x" \
  -n node "node bench/node/echo.mjs --prompt x" >/dev/null
time_table "$data/startup.json"

echo
echo "## Cold start importing LangChain (@langchain/core + @langchain/openai, build a chain), against node"
echo
(cd bench/assistants/langchain-load && { [ -d node_modules/@langchain ] || npm ci --no-audit --no-fund --silent; })
hyperfine -N --warmup 2 --runs 10 --export-json "$data/langchain.json" \
  -n jan "$JAN run bench/assistants/langchain-load --prompt x" \
  -n node "node bench/node/langchain-load.mjs" >/dev/null
time_table "$data/langchain.json"
echo
echo "## Event round trips between two assistants, against Node worker_threads ping-pong"
echo
N=${N:-20000}
jan_rt=$($RT "$N")
node_rt=$(node bench/node/pingpong.mjs "$N")
rate_table "round trips" "jan (two assistants, bus)" "node (main + worker_threads postMessage)" "$jan_rt" "$node_rt"

echo
echo "## Permission-checked fetch to a loopback server, against Node's fetch"
echo
HELLO=target/release/hello
port=$((20000 + RANDOM % 20000))
$HELLO "$port" &
hello_pid=$!
trap 'kill $hello_pid 2>/dev/null; rm -rf "$data"' EXIT
sleep 0.5
F=${F:-3000}
jan_f=$($JAN run bench/assistants/fetcher --prompt "$port $F")
node_f=$(node bench/node/fetch.mjs "$port" "$F")
rate_table requests "jan (assistant fetch, permissions.net checked)" "node (fetch, undici)" "$jan_f" "$node_f"

echo
echo "## JS-heavy work: marked on a Markdown document, jan (QuickJS) against node (V8)"
echo
(cd bench/assistants/marked && { [ -d node_modules/marked ] || npm ci --no-audit --no-fund --silent; })
echo "| document | jan ms/parse | node ms/parse | ratio (node time / jan time) |"
echo "|---|---|---|---|"
for kb in 16 64; do
  jan_m=$($JAN run bench/assistants/marked --prompt "3 $kb")
  node_m=$(node bench/node/marked.mjs 3 "$kb")
  python3 - "$kb" "$jan_m" "$node_m" <<'PY'
import json, sys
kb, j, n = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"| {kb} KB | {j['ms']:,.0f} | {n['ms']:,.1f} | {n['ms']/j['ms']:.3f} |")
PY
done

echo
echo "## Tool calling and structured output"
echo
if .venv/bin/python -c "import jsonschema" 2>/dev/null; then
  .venv/bin/python bench/tools.py "$JAN"
else
  echo "(skipped: run tests/api/run.sh once to create .venv with jsonschema)"
fi

echo
python3 bench/responses.py "$JAN"
