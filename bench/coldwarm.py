"""Cold against warm: three different prompts right after start, jan
serve (the first request loads the model) against llama-cpp-python in
.venv-bench. Usage: RAYON_NUM_THREADS=2 python3 bench/coldwarm.py FILE.gguf MODEL_ID
(needs target/release/jan)."""
import json, os, socket, subprocess, sys, tempfile, time, urllib.request
model_file, model_id = sys.argv[1], sys.argv[2]
text = open("bench/prompt.txt").read()
prompts = [text, " ".join(reversed(text.split())), text.upper()]
# jan serve (release), 2 threads
data = tempfile.mkdtemp(); env = dict(os.environ, JAN_DATA_FOLDER=data)
subprocess.run(["target/release/jan", "models", "import", model_file, "--link"], env=env, check=True, capture_output=True)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
p = subprocess.Popen(["target/release/jan", "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
for _ in range(100):
    try: urllib.request.urlopen(f"http://127.0.0.1:{port}/health"); break
    except Exception: time.sleep(0.1)
rows = []
for i, q in enumerate(prompts):
    body = {"model": model_id, "prompt": None, "messages": [{"role": "user", "content": q}], "max_tokens": 1, "temperature": 0}
    del body["prompt"]
    t = time.perf_counter()
    r = json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=json.dumps(body).encode(), headers={"content-type": "application/json"})))
    wall = (time.perf_counter() - t) * 1000
    tm = r["timings"]
    rows.append(("jan", i + 1, tm["prompt_n"], round(tm["prompt_n"] / tm["prompt_ms"] * 1000, 1), round(wall)))
p.terminate(); p.wait()
# llama.cpp
code = r'''
import json, sys, time
from llama_cpp import Llama
t = time.perf_counter()
llm = Llama(model_path=sys.argv[1], n_ctx=2048, n_threads=2, n_batch=512, verbose=False)
load = (time.perf_counter() - t) * 1000
out = []
for q in json.loads(sys.argv[2]):
    toks = llm.tokenize(q.encode())
    llm.reset()
    t = time.perf_counter(); llm.eval(toks); dt = time.perf_counter() - t
    out.append((len(toks), len(toks) / dt, dt * 1000))
print(json.dumps({"load": load, "runs": out}))
'''
r = json.loads(subprocess.run([".venv-bench/bin/python", "-c", code, model_file, json.dumps(prompts)], capture_output=True, text=True).stdout)
print(f"llama.cpp load {r['load']:.0f} ms")
for i, (n, tps, ms) in enumerate(r["runs"]):
    rows.append(("llama.cpp", i + 1, n, round(tps, 1), round(ms)))
for row in rows: print("| " + " | ".join(map(str, row)) + " |")
