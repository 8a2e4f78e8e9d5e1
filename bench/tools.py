"""Tool calling through a real `jan serve`: success rate over a fixed set of
prompts (the right tool, arguments valid against its schema), with the model
free to answer (`tool_choice: auto`, calls read from its text) and with the
call forced by constrained decoding (`required`); and decode speed with a
JSON-schema constraint against without, same model, same prompt.

Usage: .venv/bin/python bench/tools.py [JAN_BINARY]   (needs jsonschema;
models from tests/get-models.sh). Prints a markdown report.
"""
import json
import pathlib
import sys
import urllib.request

import jsonschema

from janserve import serving

REPO = pathlib.Path(__file__).resolve().parents[1]
JAN = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "target" / "release" / "jan")
MODELS = {
    "Qwen2.5-Coder-0.5B-Instruct Q4_K_M": ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen2-5-coder-0-5b-instruct-q4_k_m"),
    "SmolLM2-135M-Instruct Q4_1": ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct-Q4_1"),
}


def obj(props, required=None, **extra):
    return {"type": "object", "properties": props, "required": required or list(props), **extra}


S = {"type": "string"}
TOOLS = {
    "get_weather": ("Get the current weather in a city", obj({"city": S})),
    "set_thermostat": ("Set the heating mode", obj({"mode": {"type": "string", "enum": ["off", "eco", "comfort"]}})),
    "add_to_list": ("Add items to the shopping list", obj({"items": {"type": "array", "items": S, "minItems": 1}})),
    "send_email": ("Send an email", obj({"to": S, "subject": S, "body": S})),
    "book_flight": ("Book a flight", obj({"from": S, "to": S, "date": S})),
    "convert_currency": ("Convert an amount of money", obj({"amount": {"type": "number"}, "from": S, "to": S})),
}
PROMPTS = [
    ("What's the weather like in Tokyo?", "get_weather"),
    ("Is it raining in London right now?", "get_weather"),
    ("How hot is it in Cairo today?", "get_weather"),
    ("Tell me the current weather in Berlin.", "get_weather"),
    ("Turn the heating off.", "set_thermostat"),
    ("Put the thermostat in eco mode.", "set_thermostat"),
    ("Make the house comfortable, set the heating to comfort.", "set_thermostat"),
    ("Add milk and eggs to my shopping list.", "add_to_list"),
    ("Put bread, butter and jam on the shopping list.", "add_to_list"),
    ("I need to buy apples; add them to the list.", "add_to_list"),
    ("Email bob@example.com with subject Lunch saying see you at noon.", "send_email"),
    ("Send an email to alice@example.com about the report: it is done.", "send_email"),
    ("Write to ceo@example.com, subject Budget, body: approved.", "send_email"),
    ("Book me a flight from Paris to Rome on 2026-12-24.", "book_flight"),
    ("I want to fly from Oslo to Madrid on May 3rd.", "book_flight"),
    ("Get me a plane ticket from NYC to Boston for tomorrow.", "book_flight"),
    ("Convert 100 dollars to euros.", "convert_currency"),
    ("How many yen is 50 GBP?", "convert_currency"),
    ("Change 20 EUR into Swiss francs.", "convert_currency"),
    ("What's the weather in Sydney, and should I bring a coat?", "get_weather"),
    ("Set the heating to eco, please.", "set_thermostat"),
    ("Convert 5.5 euros to dollars.", "convert_currency"),
]


def post(port, body):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def success_rate(port, model, choice, strict=False):
    """Right tool, valid arguments; and the lazy grammar's mask time per
    generated token (strict tools under `auto`)."""
    tools = [{"type": "function", "function": {"name": n, "description": d, "parameters": p, "strict": strict}}
             for n, (d, p) in TOOLS.items()]
    ok, grammar_ms, tokens, decode_ms = 0, 0.0, 0, 0.0
    for prompt, want in PROMPTS:
        r = post(port, {"model": model, "messages": [{"role": "user", "content": prompt}], "tools": tools,
                        "tool_choice": choice, "temperature": 0, "max_tokens": 100})
        grammar_ms += r["timings"].get("grammar_ms", 0.0)
        tokens += r["timings"]["predicted_n"]
        decode_ms += r["timings"]["predicted_ms"]
        calls = r["choices"][0]["message"].get("tool_calls") or []
        if calls and calls[0]["function"]["name"] == want:
            try:
                jsonschema.validate(json.loads(calls[0]["function"]["arguments"]), TOOLS[want][1])
                ok += 1
            except (jsonschema.ValidationError, ValueError):
                pass
    return ok, grammar_ms / max(tokens, 1), tokens * 1000 / max(decode_ms, 1e-9)


def decode_speed(port, model):
    """Decode tok/s with a JSON-schema answer, and without, over 3 prompts."""
    schema = obj({"name": S, "born": {"type": "integer"}, "known_for": {"type": "array", "items": S}})
    prompts = ["Describe Ada Lovelace.", "Describe Alan Turing.", "Describe Marie Curie."]
    rows = {"schema": [0, 0.0, 0.0], "plain": [0, 0.0, 0.0]}
    for p in prompts:
        msgs = [{"role": "user", "content": p + " Give name, birth year and what they are known for, as JSON."}]
        g = post(port, {"model": model, "messages": msgs, "temperature": 0, "max_tokens": 80,
                        "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}})
        n = g["timings"]["predicted_n"]
        # The same count of tokens, unconstrained (past EOS if need be).
        f = post(port, {"model": model, "messages": msgs, "temperature": 0, "max_tokens": n, "ignore_eos": True})
        for key, r in (("schema", g), ("plain", f)):
            rows[key][0] += r["timings"]["predicted_n"]
            rows[key][1] += r["timings"]["predicted_ms"]
            rows[key][2] += r["timings"].get("grammar_ms", 0.0)
    return rows


def main():
    with serving(JAN, [f for f, _ in MODELS.values()]) as port:
        print(f"### Tool calling ({len(PROMPTS)} prompts, {len(TOOLS)} tools, greedy)\n")
        print("| model | free (`auto`, calls read from text) | strict tools, `auto` (lazy grammar) | forced (`required`, constrained) | lazy grammar mask ms/token | decode tok/s strict / free `auto` |")
        print("|---|---|---|---|---|---|")
        n = len(PROMPTS)
        for label, (_, model) in MODELS.items():
            free, _, free_tps = success_rate(port, model, "auto")
            lazy, lazy_ms, lazy_tps = success_rate(port, model, "auto", strict=True)
            forced, _, _ = success_rate(port, model, "required")
            print(f"| {label} | {free}/{n} | {lazy}/{n} | {forced}/{n} | {lazy_ms:.2f} | "
                  f"{lazy_tps:.1f} / {free_tps:.1f} = {lazy_tps / free_tps:.2f} |")
        print("\n### Decode speed with a JSON-schema constraint (same prompts, same token counts)\n")
        print("| model | constrained tok/s | free tok/s | ratio | mask ms/token |")
        print("|---|---|---|---|---|")
        for label, (_, model) in MODELS.items():
            rows = decode_speed(port, model)
            (n1, ms1, g1), (n2, ms2, _) = rows["schema"], rows["plain"]
            c, p = n1 * 1000 / ms1, n2 * 1000 / ms2
            print(f"| {label} | {c:.1f} | {p:.1f} | {c / p:.2f} | {g1 / n1:.2f} |")


if __name__ == "__main__":
    main()
