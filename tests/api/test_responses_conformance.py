"""Conformance of the Responses API's wire format: every response object,
stream event, input item and conversation item the server sends (as raw
JSON, not through the SDK's lenient parsing) is validated against the
official openai SDK's pydantic types, which encode OpenAI's schema (field
types, required fields, the literal `type` and `status` values), plus the
fields the Open Responses specification marks required, and the stream's
rules: one event per `sequence_number` from 0, a full response in
`response.created`/`.in_progress`, every item and part that is added is
done, deltas that add up to the final text. The scenarios follow the
specification's compliance suite: plain text, streaming, a system prompt,
a function call, a multi-turn history, an image the model cannot take."""
import json

import httpx
import pydantic
import pytest
from openai.types.conversations import Conversation, ConversationItem
from openai.types.responses import Response, ResponseItem, ResponseStreamEvent

from conftest import MODEL, QWEN
from test_responses import REQUIRED, WEATHER

EVENT = pydantic.TypeAdapter(ResponseStreamEvent)
ITEM = pydantic.TypeAdapter(ResponseItem)
CONVERSATION_ITEM = pydantic.TypeAdapter(ConversationItem)


def response_conforms(d, status=None):
    missing = [k for k in REQUIRED if k not in d]
    assert not missing, missing
    r = Response.model_validate(d)
    assert r.object == "response" and r.id.startswith("resp_")
    if status:
        assert r.status == status, d
    for item in d["output"]:
        assert item["status"] in ("in_progress", "completed", "incomplete"), item
    return r


def post(server, path, body):
    r = httpx.post(f"{server.base_url}{path}", json=body, timeout=300)
    return r.status_code, r.json()


def stream(server, body):
    """The events of a streamed response, as sent."""
    events = []
    with httpx.stream("POST", f"{server.base_url}/responses", json=dict(body, stream=True), timeout=300) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and line[5:].strip() != "[DONE]":
                e = json.loads(line[5:])
                assert e["type"] == kind, (kind, e)
                events.append(e)
    return events


def stream_conforms(events, background=False):
    """Checks a stream's events, one by one and together; the final
    response. A background response is `queued` first."""
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    for e in events:
        typed = EVENT.validate_python(e)
        assert typed.type == e["type"], e
    start = ["response.created", "response.queued", "response.in_progress"] if background else [
        "response.created", "response.in_progress"]
    assert [e["type"] for e in events[:len(start)]] == start
    for e in events[:len(start)]:
        response_conforms(e["response"], "in_progress" if e["type"] == "response.in_progress" else
                          "queued" if background else "in_progress")
    last = events[-1]
    assert last["type"] in ("response.completed", "response.incomplete", "response.failed")
    final = response_conforms(last["response"])
    # Every item added is done, once, at the index it was added at, and
    # its final form is the response's.
    added = {e["output_index"]: e["item"] for e in events if e["type"] == "response.output_item.added"}
    done = {e["output_index"]: e["item"] for e in events if e["type"] == "response.output_item.done"}
    assert sorted(added) == sorted(done) == list(range(len(last["response"]["output"])))
    for i, item in done.items():
        assert added[i]["id"] == item["id"] and added[i]["status"] == "in_progress"
        assert last["response"]["output"][i] == item
    for e in events:
        if e["type"].startswith("response.output_text.") or e["type"].startswith("response.content_part."):
            assert isinstance(e["output_index"], int) and isinstance(e["content_index"], int), e
    parts_added = [(e["item_id"], e["content_index"]) for e in events if e["type"] == "response.content_part.added"]
    parts_done = [(e["item_id"], e["content_index"]) for e in events if e["type"] == "response.content_part.done"]
    assert parts_added == parts_done
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "".join(e["text"] for e in events if e["type"] == "response.output_text.done")
    assert text == final.output_text
    return final


def test_plain_streamed_and_stored_responses_conform(server):
    ask = {"model": MODEL, "input": "What is the capital of France? Answer in one word.", "max_output_tokens": 40,
           "temperature": 0}
    status, d = post(server, "/responses", ask)
    assert status == 200
    r = response_conforms(d, "completed")
    assert r.output[0].type == "message" and r.output_text
    final = stream_conforms(stream(server, ask))
    assert final.output_text == r.output_text
    # What is stored reads back the same, and its input items conform.
    got = httpx.get(f"{server.base_url}/responses/{final.id}").json()
    assert response_conforms(got) == final
    for item in httpx.get(f"{server.base_url}/responses/{final.id}/input_items").json()["data"]:
        ITEM.validate_python(item)


def test_system_prompt_and_multi_turn_inputs_conform(server):
    status, d = post(server, "/responses", {
        "model": QWEN, "max_output_tokens": 20, "temperature": 0,
        "input": [
            {"role": "system", "content": "You answer with one word."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Hello Ada."},
            {"role": "user", "content": [{"type": "input_text", "text": "What is my name?"}]},
        ],
    })
    assert status == 200
    r = response_conforms(d, "completed")
    assert "Ada" in r.output_text, r.output_text
    items = httpx.get(f"{server.base_url}/responses/{r.id}/input_items", params={"order": "asc"}).json()["data"]
    assert [i["role"] for i in items] == ["system", "user", "assistant", "user"]
    for item in items:
        ITEM.validate_python(item)


def test_function_calls_conform_plain_and_streamed(server):
    ask = {"model": QWEN, "input": "What is the weather in Rome?", "tools": [WEATHER],
           "tool_choice": "required", "temperature": 0}
    status, d = post(server, "/responses", ask)
    assert status == 200
    r = response_conforms(d, "completed")
    call = r.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Rome"}
    events = stream(server, ask)
    final = stream_conforms(events)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert deltas == final.output[0].arguments == call.arguments
    # The output answers the call; the conversation form of the same turn
    # conforms too.
    conv = httpx.post(f"{server.base_url}/conversations", json={}).json()
    Conversation.model_validate(conv)
    status, d = post(server, "/responses", dict(ask, conversation=conv["id"]))
    assert status == 200
    call = response_conforms(d).output[0]
    status, d = post(server, "/responses", {
        "model": QWEN, "conversation": conv["id"], "tools": [WEATHER], "max_output_tokens": 40, "temperature": 0,
        "input": [{"type": "function_call_output", "call_id": call.call_id, "output": "{\"temp_c\": 14}"}]})
    assert status == 200
    response_conforms(d, "completed")
    items = httpx.get(f"{server.base_url}/conversations/{conv['id']}/items", params={"order": "asc"}).json()
    assert [i["type"] for i in items["data"]] == ["message", "function_call", "function_call_output", "message"]
    for item in items["data"]:
        CONVERSATION_ITEM.validate_python(item)


def test_input_a_model_cannot_take_is_refused_by_name(server):
    status, d = post(server, "/responses", {"model": MODEL, "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is in this image?"},
        {"type": "input_image", "image_url": "https://example.com/cat.png"}]}]})
    assert status == 400, d
    assert d["error"]["type"] == "invalid_request_error" and d["error"]["param"] == "input[0].content[1]"


@pytest.mark.parametrize("cut", [False, True])
def test_background_replays_and_cut_short_streams_conform(server, cut):
    ask = {"model": MODEL, "input": "Count from 1 to 5.", "max_output_tokens": 8 if cut else 200,
           "temperature": 0, "background": True}
    status, d = post(server, "/responses", ask)
    assert status == 200 and response_conforms(d, "queued")
    events = []
    with httpx.stream("GET", f"{server.base_url}/responses/{d['id']}", params={"stream": "true"}, timeout=300) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
    stream_conforms(events, background=True)
    final = Response.model_validate(events[-1]["response"])
    assert final.status == ("incomplete" if cut else "completed")
    if cut:
        assert final.incomplete_details.reason == "max_output_tokens"
        assert final.output[-1].status == "incomplete"
