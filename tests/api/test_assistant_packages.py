"""Real npm packages, unpatched, running inside assistants against a real
`jan serve` (the packages come from tests/assistants/*/package-lock.json,
installed by tests/api/run.sh with `npm ci`)."""
import json
import os
import subprocess

from conftest import JAN, MODEL, REPO


def run_assistant(folder, prompt, data):
    out = subprocess.run(
        [JAN, "run", str(REPO / "tests" / "assistants" / folder), "--prompt", prompt],
        env=dict(os.environ, JAN_DATA_FOLDER=str(data)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_openai_node_sdk_calls_jan_from_inside_an_assistant(server, tmp_path):
    v = run_assistant("openai-sdk", server.base_url, tmp_path)
    # Paginated list, a completion and a streamed completion, all parsed by
    # the SDK from jan's answers through the assistant's fetch.
    assert MODEL in v["models"], v
    assert v["plain"].strip(), v
    assert v["streamed"].strip(), v
    # A host outside permissions.net is refused before any connection.
    assert "net access to localhost:9 is not granted" in v["refused"], v


def test_zod_date_fns_and_turndown_run_unpatched(tmp_path):
    v = run_assistant("pure-packages", "go", tmp_path)
    assert v["zod"] == {"ok": True, "issues": ["city", "unit", "days.0"]}, v
    assert v["dateFns"] == {"next": "2026-12-02", "distance": "3 days"}, v
    # turndown loads through `main` (its `module` build is for bundlers).
    assert v["turndown"] == "# Hello\n\nSome **bold** and [a link](https://jan.ai).", v


def test_a_langchain_chain_answers_through_jan_serve(server, tmp_path):
    # @langchain/core + @langchain/openai load (they import node:fs, path,
    # os, crypto, stream, zlib, async_hooks through langsmith) and run a
    # prompt template -> ChatOpenAI (jan's /v1) -> string parser chain.
    v = run_assistant("langchain", server.base_url, tmp_path)
    assert v["model"] == MODEL, v
    assert "Paris" in v["answer"], v
    # Streaming through the chain gives the same greedy text.
    assert v["streamed"] == v["answer"], v
    # Callbacks reach the run (LangChain carries them in AsyncLocalStorage).
    assert len(v["seen"]) == 1, v


def test_node_builtins_behave_as_in_node(tmp_path):
    # The same checks (buffer, path, events, util, string_decoder, crypto,
    # fs, stream, zlib, async_hooks, url, querystring, assert, os, module)
    # run under node and inside an assistant: the answers must be equal.
    scratch = tmp_path / "scratch"
    node = subprocess.run(
        ["node", str(REPO / "tests" / "api" / "node" / "builtins.mjs"), str(scratch)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert node.returncode == 0, node.stderr
    expected = json.loads(node.stdout)
    got = run_assistant("node-builtins", "go", tmp_path / "data")
    for section in expected:
        assert got.get(section) == expected[section], section
    assert got == expected


def test_llamaindex_the_ai_sdk_axios_cheerio_and_node_http_run_unpatched(server, client, tmp_path):
    # One assistant imports LlamaIndex, the Vercel AI SDK (generateText and
    # streamText through @ai-sdk/openai-compatible), axios and cheerio, and
    # calls jan's own API with node:http too.
    def direct():
        return client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            max_tokens=12,
            temperature=0,
        ).choices[0].message.content

    # Asked twice first: a repeated prompt reuses its cached prefix, and
    # the greedy text of a reused prefix can differ from a fresh one (the
    # prompt batch and the one-token path round differently), so every
    # client below meets the same cache state.
    direct()
    expected = direct()
    assert expected.strip(), expected
    v = run_assistant("agent-packages", server.base_url, tmp_path)
    assert v["model"] == MODEL, v
    assert v["http"] == {"status": 200, "type": "application/json", "object": "list"}, v
    # Each client sent the same request and got the same greedy answer.
    for name in ("axios", "ai", "aiStreamed", "llamaindex"):
        assert v[name] == expected, (name, v)
    assert v["cheerio"] == ["Paris", "Lyon"], v
