"""Conformance of the Responses API's wire format: every response object,
stream event, input item and conversation item the server sends (as raw
JSON, not through the SDK's lenient parsing) is validated twice: against
JSON schemas written here from the Open Responses specification (its
required fields, types and enums; checked with the jsonschema library),
and against the official openai SDK's pydantic types, which encode
OpenAI's schema. Then the stream's rules: one event per `sequence_number` from 0, a full response in
`response.created`/`.in_progress`, every item and part that is added is
done, deltas that add up to the final text. The scenarios follow the
specification's compliance suite: plain text, streaming, a system prompt,
a function call, a multi-turn history, an image the model cannot take."""
import json

import httpx
import jsonschema
import pydantic
import pytest
from openai.types.conversations import Conversation, ConversationItem
from openai.types.responses import Response, ResponseItem, ResponseStreamEvent

from conftest import MODEL, QWEN
from test_responses import REQUIRED, WEATHER

def obj(required, **props):
    """An object schema: `required` fields, each typed in `props` (every
    required one must be)."""
    assert set(required) <= set(props), set(required) - set(props)
    return {"type": "object", "required": list(required), "properties": props}


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
NULL_STR, NULL_INT, NULL_NUM = ({"type": ["string", "null"]}, {"type": ["integer", "null"]},
                                {"type": ["number", "null"]})
STATUS = {"enum": ["in_progress", "completed", "incomplete"]}
LOGPROB = obj(["token", "logprob"], token=STR, logprob=NUM, bytes={"type": "array", "items": INT},
              top_logprobs={"type": "array", "items": obj(["token", "logprob"], token=STR, logprob=NUM)})
OUTPUT_TEXT = obj(["type", "text", "annotations"], type={"const": "output_text"}, text=STR,
                  annotations={"type": "array"}, logprobs={"type": "array", "items": LOGPROB})
INPUT_TEXT = obj(["type", "text"], type={"const": "input_text"}, text=STR)
MESSAGE = obj(["id", "type", "role", "status", "content"], id=STR, type={"const": "message"},
              role={"enum": ["user", "assistant", "system", "developer"]}, status=STATUS,
              content={"type": "array", "items": {"anyOf": [OUTPUT_TEXT, INPUT_TEXT]}})
FUNCTION_CALL = obj(["type", "call_id", "name", "arguments", "status"], id=STR, type={"const": "function_call"},
                    call_id=STR, name=STR, arguments=STR, status=STATUS)
FUNCTION_CALL_OUTPUT = obj(["type", "call_id", "output"], id=STR, type={"const": "function_call_output"},
                           call_id=STR, output={"type": ["string", "array"]}, status=STATUS)
ITEM_SCHEMA = {"oneOf": [MESSAGE, FUNCTION_CALL, FUNCTION_CALL_OUTPUT]}
USAGE = obj(["input_tokens", "output_tokens", "total_tokens", "input_tokens_details", "output_tokens_details"],
            input_tokens=INT, output_tokens=INT, total_tokens=INT,
            input_tokens_details=obj(["cached_tokens"], cached_tokens=INT),
            output_tokens_details=obj(["reasoning_tokens"], reasoning_tokens=INT))
RESPONSE_SCHEMA = obj(
    ["id", "object", "created_at", "completed_at", "status", "incomplete_details", "model",
     "previous_response_id", "instructions", "output", "error", "tools", "tool_choice", "truncation",
     "parallel_tool_calls", "text", "top_p", "presence_penalty", "frequency_penalty", "top_logprobs",
     "temperature", "reasoning", "usage", "max_output_tokens", "max_tool_calls", "store", "background",
     "service_tier", "metadata", "safety_identifier", "prompt_cache_key"],
    id={"type": "string", "pattern": "^resp_"}, object={"const": "response"}, created_at=INT, completed_at=NULL_INT,
    status={"enum": ["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]},
    incomplete_details={"anyOf": [{"type": "null"}, obj(["reason"], reason=STR)]}, model=STR,
    previous_response_id=NULL_STR, instructions={"type": ["string", "array", "null"]},
    output={"type": "array", "items": {"oneOf": [MESSAGE, FUNCTION_CALL]}},
    error={"anyOf": [{"type": "null"}, obj(["code", "message"], code=STR, message=STR)]},
    tools={"type": "array", "items": obj(["type"], type=STR)}, tool_choice={"type": ["string", "object"]},
    truncation={"enum": ["auto", "disabled"]}, parallel_tool_calls=BOOL,
    text=obj(["format"], format=obj(["type"], type={"enum": ["text", "json_object", "json_schema"]})),
    top_p=NULL_NUM, presence_penalty=NUM, frequency_penalty=NUM, top_logprobs=INT, temperature=NULL_NUM,
    reasoning={"type": ["object", "null"]}, usage={"anyOf": [{"type": "null"}, USAGE]},
    max_output_tokens=NULL_INT, max_tool_calls=NULL_INT, store=BOOL, background=BOOL, service_tier=STR,
    metadata={"type": "object", "additionalProperties": STR}, safety_identifier=NULL_STR,
    prompt_cache_key=NULL_STR,
)
SEQ = {"type": "integer", "minimum": 0}
LIFECYCLE = ["created", "queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]
EVENT_SCHEMAS = {
    **{f"response.{k}": obj(["type", "sequence_number", "response"], type=STR, sequence_number=SEQ,
                            response=RESPONSE_SCHEMA) for k in LIFECYCLE},
    **{f"response.output_item.{k}": obj(["type", "sequence_number", "output_index", "item"], type=STR,
                                        sequence_number=SEQ, output_index=INT,
                                        item={"oneOf": [MESSAGE, FUNCTION_CALL]}) for k in ("added", "done")},
    **{f"response.content_part.{k}": obj(["type", "sequence_number", "item_id", "output_index", "content_index",
                                          "part"], type=STR, sequence_number=SEQ, item_id=STR, output_index=INT,
                                         content_index=INT, part=OUTPUT_TEXT) for k in ("added", "done")},
    "response.output_text.delta": obj(["type", "sequence_number", "item_id", "output_index", "content_index", "delta",
                                       "logprobs"], type=STR, sequence_number=SEQ, item_id=STR, output_index=INT,
                                      content_index=INT, delta=STR, logprobs={"type": "array", "items": LOGPROB}),
    "response.output_text.done": obj(["type", "sequence_number", "item_id", "output_index", "content_index", "text",
                                      "logprobs"], type=STR, sequence_number=SEQ, item_id=STR, output_index=INT,
                                     content_index=INT, text=STR, logprobs={"type": "array", "items": LOGPROB}),
    "response.function_call_arguments.delta": obj(["type", "sequence_number", "item_id", "output_index", "delta"],
                                                  type=STR, sequence_number=SEQ, item_id=STR, output_index=INT,
                                                  delta=STR),
    "response.function_call_arguments.done": obj(["type", "sequence_number", "item_id", "output_index", "arguments"],
                                                 type=STR, sequence_number=SEQ, item_id=STR, output_index=INT,
                                                 arguments=STR, name=STR),
}


def schema_valid(schema, value):
    jsonschema.Draft202012Validator(schema).validate(value)


EVENT = pydantic.TypeAdapter(ResponseStreamEvent)
ITEM = pydantic.TypeAdapter(ResponseItem)
CONVERSATION_ITEM = pydantic.TypeAdapter(ConversationItem)


def response_conforms(d, status=None):
    missing = [k for k in REQUIRED if k not in d]
    assert not missing, missing
    schema_valid(RESPONSE_SCHEMA, d)
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
        assert e["type"] in EVENT_SCHEMAS, e["type"]
        schema_valid(EVENT_SCHEMAS[e["type"]], e)
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
        schema_valid(ITEM_SCHEMA, item)
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
        schema_valid(ITEM_SCHEMA, item)
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
    schema_valid(obj(["id", "object", "created_at", "metadata"], id=STR, object={"const": "conversation"},
                     created_at=INT, metadata={"type": "object"}), conv)
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
        schema_valid(ITEM_SCHEMA, item)
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
