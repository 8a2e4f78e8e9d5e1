"""The llama.cpp peer of bench/src/generate.rs: same GGUF, prompt, token
counts and threads; greedy decoding. Prints the same JSON fields."""
import json
import resource
import sys
import time

import llama_cpp
from llama_cpp import Llama

path, prompt_file, n_predict, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
llm = Llama(model_path=path, n_ctx=2048, n_batch=512, n_threads=threads, n_threads_batch=threads, verbose=False)
load_ms = (time.perf_counter() - t0) * 1000
# add_bos=True adds BOS only where the vocabulary asks for it (as jan does).
tokens = llm.tokenize(open(prompt_file).read().encode(), add_bos=True, special=False)
t0 = time.perf_counter()
llm.eval(tokens)
prefill = time.perf_counter() - t0
out = []
t0 = time.perf_counter()
for _ in range(n_predict):
    # Exactly n_predict tokens, past EOS, as jan's side does (ignore_eos).
    tok = llm.sample(top_k=1, temp=0.0)
    out.append(tok)
    llm.eval([tok])
decode = time.perf_counter() - t0
print(json.dumps({
    "engine": "llama.cpp (llama-cpp-python %s)" % llama_cpp.__version__,
    "threads": threads,
    "load_ms": load_ms,
    "prompt_tokens": len(tokens),
    "prefill_tok_s": len(tokens) / prefill,
    "decoded_tokens": len(out),
    "decode_tok_s": len(out) / decode,
    "text": llm.detokenize(out).decode("utf-8", "replace"),
    # Peak resident memory of the whole process (Python included), in MB.
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
