#!/usr/bin/env bash
# Candle engine (jan) against llama.cpp on the same GGUF file, prompt
# (bench/prompt.txt), token counts and thread counts, in one run.
#   bash bench/models.sh [MODEL.gguf] [N_PREDICT]
# Without a model it runs SmolLM2-135M (Q4_1), Gemma3-270M (Q4_K_M) and
# Qwen2.5-Coder-0.5B-Instruct (Q4_K_M).
# Needs: tests/get-models.sh, and llama-cpp-python in .venv-bench
#   (python3 -m venv .venv-bench && .venv-bench/bin/pip install llama-cpp-python==0.3.36;
#    pip builds it from source with cmake, about 9 minutes on 2 cores; on
#    Intel machines whose VM forbids AMX, see bench/README.md for the flags).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
  MODELS=("$1")
else
  MODELS=(.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf .cache/models/gemma-3-270m-q4_k_m.gguf
    .cache/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf)
fi
N=${2:-64}
cargo build --release -q -p jan-bench
for MODEL in "${MODELS[@]}"; do
echo "Model: $(basename "$MODEL"); prompt: bench/prompt.txt; $N greedy tokens; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))."
echo
echo "| engine | threads | prompt tokens | prefill tok/s | decode tok/s | prefill ratio | decode ratio | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|"
for t in 1 2; do
  jan=$(RAYON_NUM_THREADS=$t target/release/generate "$MODEL" bench/prompt.txt "$N")
  peer=$(.venv-bench/bin/python bench/llamacpp_generate.py "$MODEL" bench/prompt.txt "$N" "$t")
  python3 - "$jan" "$peer" <<'PY'
import json, sys
j, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for x in (j, p):
    pr = x["prefill_tok_s"] / p["prefill_tok_s"]
    dr = x["decode_tok_s"] / p["decode_tok_s"]
    print(f"| {x['engine']} | {x['threads']} | {x['prompt_tokens']} | {x['prefill_tok_s']:.1f} | {x['decode_tok_s']:.1f} | {pr:.2f} | {dr:.2f} | {x['peak_rss_mb']:.0f} |")
print(f"<!-- greedy texts: jan={j['text'][:80]!r} llama.cpp={p['text'][:80]!r} -->")
PY
done
echo
done
