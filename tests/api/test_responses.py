"""The Responses API with the official openai SDK against a real `jan
serve`: SmolLM2 for text, Qwen2.5-Coder-0.5B for function calls and
structured output."""
import json
import time

import jsonschema
import openai
import pydantic
import pytest

from conftest import MODEL, QWEN, Server, install_assistant

WEATHER = {
    "type": "function", "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}

# The fields every response carries (Open Responses marks them required).
REQUIRED = [
    "id", "object", "created_at", "completed_at", "status", "incomplete_details", "model",
    "previous_response_id", "instructions", "output", "error", "tools", "tool_choice", "truncation",
    "parallel_tool_calls", "text", "top_p", "presence_penalty", "frequency_penalty", "top_logprobs",
    "temperature", "reasoning", "usage", "max_output_tokens", "max_tool_calls", "store", "background",
    "service_tier", "metadata", "safety_identifier", "prompt_cache_key",
]


def check_shape(client, r):
    """Checks the response as sent (the SDK turns integers into floats)."""
    d = client.responses.with_raw_response.retrieve(r.id).http_response.json()
    missing = [k for k in REQUIRED if k not in d]
    assert not missing, missing
    assert d["object"] == "response" and d["id"].startswith("resp_") and isinstance(d["created_at"], int)
    for item in d["output"]:
        assert item["id"] and item["type"] in ("message", "function_call") and item["status"]
        if item["type"] == "message":
            assert item["role"] == "assistant"
            for p in item["content"]:
                assert p["type"] == "output_text" and p["annotations"] == [] and isinstance(p["text"], str)
        else:
            assert item["call_id"].startswith("call_") and isinstance(item["arguments"], str)


def test_create_retrieve_input_items_and_delete(client):
    r = client.responses.create(model=MODEL, input="What is the capital of France?", instructions="Answer in one word.",
                                temperature=0, max_output_tokens=20, metadata={"k": "v"})
    check_shape(client, r)
    assert r.status == "completed" and r.output_text
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.instructions == "Answer in one word." and r.metadata == {"k": "v"}
    got = client.responses.retrieve(r.id)
    assert got.output_text == r.output_text and got.status == "completed"
    items = client.responses.input_items.list(r.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == "What is the capital of France?"
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    # store: false keeps nothing.
    r = client.responses.create(model=MODEL, input="Hi", store=False, max_output_tokens=5)
    assert r.status in ("completed", "incomplete")
    # Sampling not asked for is the model's own (model.json), shown as such.
    params = client.models.retrieve(MODEL).model_dump()["parameters"]
    assert (r.temperature, r.top_p) == (params["temperature"], params["top_p"]) != (1.0, 1.0)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_input_items_page_in_order(client):
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(5)]
    r = client.responses.create(model=MODEL, input=turns, max_output_tokens=5)
    newest_first = [i.content[0].text for i in client.responses.input_items.list(r.id, limit=2)]
    assert newest_first == [f"turn {i}" for i in (4, 3, 2, 1, 0)], newest_first
    oldest_first = [i.content[0].text for i in client.responses.input_items.list(r.id, order="asc")]
    assert oldest_first == [f"turn {i}" for i in range(5)]


def test_stream_events_in_order_with_sequence_numbers(client):
    with client.responses.stream(model=MODEL, input="Count from 1 to 5.", temperature=0, max_output_tokens=60) as s:
        events = list(s)
        final = s.get_final_response()
    types = [e.type for e in events]
    assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    assert types[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == final.output_text
    check_shape(client, final)
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_previous_response_id_chains_three_turns_and_reuses_the_cache(client):
    r1 = client.responses.create(model=QWEN, input="My name is Ada. Reply with OK.", temperature=0, max_output_tokens=10)
    r2 = client.responses.create(model=QWEN, input="I live in Paris. Reply with OK.", previous_response_id=r1.id,
                                 temperature=0, max_output_tokens=10)
    r3 = client.responses.create(model=QWEN, input="What is my name, and where do I live?", previous_response_id=r2.id,
                                 temperature=0, max_output_tokens=30)
    assert "Ada" in r3.output_text and "Paris" in r3.output_text, r3.output_text
    assert r3.previous_response_id == r2.id
    # The chain's prefix is already in the KV cache: only the new turn runs.
    assert r2.usage.input_tokens_details.cached_tokens > 0
    assert r3.usage.input_tokens_details.cached_tokens >= r2.usage.input_tokens
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=QWEN, input="x", previous_response_id="resp_nope")
    assert e.value.body["code"] == "previous_response_not_found"


def test_a_function_tool_round_trip(client):
    r = client.responses.create(model=QWEN, input="What is the weather in Rome?", tools=[WEATHER],
                                tool_choice="required", temperature=0)
    check_shape(client, r)
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    jsonschema.validate(json.loads(calls[0].arguments), WEATHER["parameters"])
    assert json.loads(calls[0].arguments)["city"] == "Rome"
    # The output as text parts (the newer SDKs' form).
    out = client.responses.create(
        model=QWEN, previous_response_id=r.id, tools=[WEATHER], temperature=0, max_output_tokens=60,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id,
                "output": [{"type": "input_text", "text": json.dumps({"temp_c": 14})}]}],
    )
    assert out.status == "completed" and "14" in out.output_text, out.output_text
    assert [i.type for i in client.responses.input_items.list(out.id)] == ["function_call_output"]
    # An output for another call id answers nothing in the chain.
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=QWEN, previous_response_id=r.id, tools=[WEATHER],
                                input=[{"type": "function_call_output", "call_id": "call_other", "output": "{}"}])
    assert "call_other" in e.value.body["message"] and e.value.body["param"] == "input[0]"


def test_a_streamed_function_call(client):
    with client.responses.stream(model=QWEN, input="What is the weather in Oslo?", tools=[WEATHER],
                                 tool_choice={"type": "function", "name": "get_weather"}, temperature=0) as s:
        events = list(s)
        final = s.get_final_response()
    pieces = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(pieces) > 2 and len(done) == 1 and "".join(pieces) == done[0].arguments
    call = final.output[0]
    assert call.type == "function_call" and call.arguments == done[0].arguments
    assert json.loads(call.arguments)["city"] == "Oslo"


class City(pydantic.BaseModel):
    name: str
    country: str


def test_parse_with_a_pydantic_text_format(client):
    r = client.responses.parse(model=QWEN, input="Paris: give its name and its country.", text_format=City, temperature=0)
    assert isinstance(r.output_parsed, City) and r.output_parsed.country == "France"
    assert r.text.format.type == "json_schema"


def test_background_poll_and_cancel(client):
    r = client.responses.create(model=MODEL, input="Count from 1 to 1000, one number per line.", background=True,
                                max_output_tokens=2000, temperature=0)
    assert r.status == "queued" and r.background
    # An unfinished response cannot be continued.
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=MODEL, input="x", previous_response_id=r.id)
    assert e.value.body["param"] == "previous_response_id"
    # Cancelled while it writes: the open item is closed, incomplete, before
    # the stream's last event.
    with client.responses.retrieve(r.id, stream=True) as s:
        for e in s:
            if e.type == "response.output_text.delta":
                break
    c = client.responses.cancel(r.id)
    assert c.status == "cancelled", c.status
    assert client.responses.retrieve(r.id).status == "cancelled"
    assert c.output[0].status == "incomplete" and c.output[0].content[0].text
    tail = [e for e in client.responses.retrieve(r.id, stream=True)][-4:]
    assert [e.type for e in tail] == ["response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.cancelled"]
    assert tail[2].item.status == "incomplete" and tail[1].part.text == tail[0].text == c.output[0].content[0].text
    # A background response runs to the end when left alone.
    r = client.responses.create(model=MODEL, input="Say hi.", background=True, max_output_tokens=10)
    for _ in range(600):
        r = client.responses.retrieve(r.id)
        if r.status not in ("queued", "in_progress"):
            break
        time.sleep(0.05)
    assert r.status in ("completed", "incomplete") and r.output_text
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(client.responses.create(model=MODEL, input="x", max_output_tokens=2).id)


def test_a_background_stream_is_resumed_and_replayed(client):
    r = client.responses.create(model=MODEL, input="Count from 1 to 100, one number per line.", background=True,
                                max_output_tokens=120, temperature=0)
    # Joined while it runs: a few events, then the client goes away...
    first = []
    with client.responses.retrieve(r.id, stream=True) as s:
        for e in s:
            first.append(e)
            if len(first) == 6:
                break
    # ... and comes back after the last one it saw: nothing lost or doubled.
    rest = list(client.responses.retrieve(r.id, stream=True, starting_after=first[-1].sequence_number))
    events = first + rest
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type in ("response.completed", "response.incomplete")
    done = client.responses.retrieve(r.id)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == done.output_text and len(text) > 50
    # Once finished, the whole stream replays from the store, as it was.
    again = list(client.responses.retrieve(r.id, stream=True))
    assert [e.model_dump() for e in again] == [e.model_dump() for e in events]
    tail = list(client.responses.retrieve(r.id, stream=True, starting_after=len(events) - 3))
    assert [e.sequence_number for e in tail] == [len(events) - 2, len(events) - 1]
    # A number past the end gives nothing; include is accepted as the SDKs
    # send it; unknown parameters are refused.
    assert list(client.responses.retrieve(r.id, stream=True, starting_after=2**64 - 1)) == []
    assert client.responses.retrieve(r.id, include=["message.output_text.logprobs"]).id == r.id
    # Only background responses keep their stream.
    plain = client.responses.create(model=MODEL, input="Hi", max_output_tokens=4)
    for bad, param in [(dict(stream=True), "stream"), (dict(extra_query={"starting_after": 1}), "starting_after"),
                       (dict(extra_query={"frobnicate": 1}), None)]:
        with pytest.raises(openai.BadRequestError) as e:
            client.responses.retrieve(plain.id, **bad)
        if param:
            assert e.value.body["param"] == param, e.value.body
    # Deleting the response deletes its stream.
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id, stream=True)


def test_prompt_runs_an_assistant_with_its_code_or_its_tools(client, data_dir):
    # An assistant whose JS handler answers.
    echo = install_assistant(data_dir, "assistants/examples/echo")
    r = client.responses.create(prompt={"id": echo}, input="hello there")
    assert r.status == "completed" and r.output_text == "echo: hello there", r.output_text
    assert r.prompt.id == echo
    events = list(client.responses.create(prompt={"id": echo}, input="streamed", stream=True))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "echo: streamed"
    assert events[-1].type == "response.completed" and events[-1].response.output_text == "echo: streamed"
    # An assistant without a handler whose code registers tools: they run
    # inside the turn, on the assistant's model.
    weather = install_assistant(data_dir, "tests/assistants/weather-tools")
    r = client.responses.create(prompt={"id": weather}, input="What is the weather in Paris?")
    assert r.model == QWEN and r.status == "completed", r.error
    assert "14" in r.output_text, r.output_text
    assert all(o.type == "message" for o in r.output)
    # max_tool_calls bounds the tools that run inside the turn: with none
    # allowed, the model answers without the forecast.
    r = client.responses.create(prompt={"id": weather}, input="What is the weather in Paris?", max_tool_calls=0,
                                temperature=0, max_output_tokens=40)
    assert r.status in ("completed", "incomplete") and r.max_tool_calls == 0, r.error
    assert r.output_text and "14" not in r.output_text, r.output_text
    with pytest.raises(openai.NotFoundError):
        client.responses.create(prompt={"id": "no-such-assistant"}, input="x")


def test_unsupported_input_is_refused_by_name(client):
    cases = [
        (dict(input=[{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,AA"}]}]), "input[0].content[0]"),
        (dict(input="x", reasoning={"effort": "enormous"}), "reasoning.effort"),
        (dict(input="x", reasoning={"effort": "low", "depth": 3}), "reasoning.depth"),
        (dict(input="x", tools=[{"type": "web_search"}]), "tools[0].type"),
        (dict(input="x", max_output_tokens=0), "max_output_tokens"),
        (dict(input="x", tools=[WEATHER, {"type": "function", "name": "bad name!"}]), "tools[1].name"),
        (dict(input=[{"type": "item_reference", "id": "msg_1"}]), "input[0].id"),
        (dict(input="x", include=["file_search_call.results"]), "include[0]"),
        (dict(input="x", extra_body={"frobnicate": 1}), "frobnicate"),
        (dict(input="x", background=True, store=False), "background"),
        # An output for a call nobody made.
        (dict(input=[{"role": "user", "content": "hi"},
                     {"type": "function_call_output", "call_id": "call_nope", "output": "1"}]), "input[1]"),
    ]
    for extra, param in cases:
        with pytest.raises(openai.BadRequestError) as e:
            client.responses.create(model=MODEL, **extra)
        assert e.value.body["param"] == param, (extra, e.value.body)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_missing")
    # A prompt over the context is the request's fault, stored or not.
    for store, stream in [(True, False), (False, False), (True, True)]:
        with pytest.raises(openai.BadRequestError) as e:
            client.responses.create(model=MODEL, input="hello " * 20000, store=store, stream=stream)
        assert e.value.body["code"] == "context_length_exceeded", e.value.body
        assert e.value.body["param"] == "input"


def test_responses_survive_a_restart(data_dir):
    s = Server(data_dir).start()
    try:
        c = openai.OpenAI(base_url=s.base_url, api_key="x", max_retries=0)
        r = c.responses.create(model=MODEL, input="Hello", max_output_tokens=8)
        bg = c.responses.create(model=MODEL, input="Hello", max_output_tokens=8, background=True)
        for _ in range(600):
            if c.responses.retrieve(bg.id).status not in ("queued", "in_progress"):
                break
            time.sleep(0.05)
        streamed = [e.model_dump() for e in c.responses.retrieve(bg.id, stream=True)]
    finally:
        s.stop()
    s = Server(data_dir).start()
    try:
        c = openai.OpenAI(base_url=s.base_url, api_key="x", max_retries=0)
        got = c.responses.retrieve(r.id)
        assert got.output_text == r.output_text and got.status == r.status
        assert len(c.responses.input_items.list(r.id).data) == 1
        assert [e.model_dump() for e in c.responses.retrieve(bg.id, stream=True)] == streamed
    finally:
        s.stop()


def test_conversations_are_threads_and_responses_add_to_them(client):
    conv = client.conversations.create(items=[{"type": "message", "role": "user", "content": "My name is Ada. Reply OK."}],
                                       metadata={"topic": "names"})
    assert conv.object == "conversation" and conv.metadata == {"topic": "names"}
    # The same record through the Assistants API.
    assert client.beta.threads.retrieve(conv.id).metadata == {"topic": "names"}
    r = client.responses.create(model=QWEN, conversation=conv.id, input="What is my name?", temperature=0,
                                max_output_tokens=20)
    assert "Ada" in r.output_text, r.output_text
    assert r.conversation.id == conv.id
    items = client.conversations.items.list(conv.id, order="asc").data
    assert [i.role for i in items] == ["user", "user", "assistant"]
    assert items[1].content[0].text == "What is my name?" and items[2].content[0].text == r.output_text
    # A message added through the threads API is an item, and the other way.
    client.beta.threads.messages.create(conv.id, role="user", content="from threads")
    added = client.conversations.items.create(conv.id, items=[{"type": "message", "role": "assistant", "content": "from items"}])
    texts = [m.content[0].text.value for m in client.beta.threads.messages.list(conv.id, order="asc").data]
    assert texts[-2:] == ["from threads", "from items"]
    got = client.conversations.items.retrieve(added.data[0].id, conversation_id=conv.id)
    assert got.content[0].text == "from items"
    client.conversations.items.delete(added.data[0].id, conversation_id=conv.id)
    assert len(client.conversations.items.list(conv.id).data) == 4
    assert client.conversations.update(conv.id, metadata={"topic": "x"}).metadata == {"topic": "x"}
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=QWEN, conversation=conv.id, previous_response_id=r.id, input="x")
    # An output must answer a call the conversation holds.
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=QWEN, conversation=conv.id,
                                input=[{"type": "function_call_output", "call_id": "c", "output": "1"}])
    assert e.value.body["param"] == "input[0]" and "call_id c" in e.value.body["message"]
    client.conversations.delete(conv.id)
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conv.id)


def test_functions_are_strict_unless_their_schema_cannot_be_enforced(client):
    # As OpenAI's Responses: functions are strict unless `strict: false`.
    r = client.responses.create(model=QWEN, input="Weather in Oslo?", tools=[WEATHER], max_output_tokens=40, temperature=0)
    assert r.tools[0].strict is True
    # A schema the engine cannot enforce (`uniqueItems`, as pydantic's
    # set[str] gives) stays best effort when strict was not asked for...
    tags = {"type": "function", "name": "tag", "description": "Tag a text",
            "parameters": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}}}
    r = client.responses.create(model=QWEN, input="Tag this: red, blue", tools=[tags], max_output_tokens=5)
    assert r.status in ("completed", "incomplete") and r.tools[0].strict is False
    # ... and is refused, naming it, when it was.
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=QWEN, input="x", tools=[dict(tags, strict=True)], max_output_tokens=5)
    assert e.value.body["param"].startswith("tools[0]"), e.value.body


def test_reasoning_is_accepted_echoed_and_changes_nothing(client):
    ask = dict(model=MODEL, input="What is the capital of France?")
    effort = {"effort": "high", "summary": "auto"}
    r = client.responses.create(**ask, reasoning=effort, temperature=0, max_output_tokens=12)
    assert r.reasoning.effort == "high" and r.reasoning.summary == "auto"
    assert r.usage.output_tokens_details.reasoning_tokens == 0 and [o.type for o in r.output] == ["message"]
    # The model sees the same prompt with or without it.
    assert (client.responses.input_tokens.count(**ask, reasoning=effort).input_tokens
            == client.responses.input_tokens.count(**ask).input_tokens == r.usage.input_tokens)


def test_input_tokens_count_what_the_model_sees(client):
    ask = dict(model=MODEL, input="What is the capital of France?", instructions="Answer in one word.")
    n = client.responses.input_tokens.count(**ask)
    assert n.object == "response.input_tokens" and n.input_tokens > 5
    # The same count a response of that input reports (the same template,
    # tokenizer and chain).
    r = client.responses.create(**ask, max_output_tokens=4, temperature=0)
    assert r.usage.input_tokens == n.input_tokens, (r.usage, n)
    more = client.responses.input_tokens.count(model=MODEL, input="And of Italy?", previous_response_id=r.id)
    r2 = client.responses.create(model=MODEL, input="And of Italy?", previous_response_id=r.id,
                                 max_output_tokens=4, temperature=0)
    assert more.input_tokens == r2.usage.input_tokens > n.input_tokens
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.input_tokens.count(**ask, extra_body={"stream": True})
    assert e.value.body["param"] == "stream"
    with pytest.raises(openai.NotFoundError):
        client.responses.input_tokens.count(model="no-such-model", input="x")


def test_a_function_tool_round_trip_kept_in_a_conversation(client):
    conv = client.conversations.create(items=[
        {"type": "message", "role": "developer", "content": "Use the tools you are given. " * 10}])
    r = client.responses.create(model=QWEN, conversation=conv.id, input="What is the weather in Rome?",
                                tools=[WEATHER], tool_choice="required", temperature=0)
    call = [o for o in r.output if o.type == "function_call"][0]
    # The call is an item of the conversation, under the output's id.
    items = client.conversations.items.list(conv.id, order="asc").data
    assert [(i.type, getattr(i, "role", None)) for i in items] == [
        ("message", "developer"), ("message", "user"), ("function_call", None)]
    assert items[2].id == call.id and items[2].call_id == call.call_id and items[2].arguments == call.arguments
    got = client.conversations.items.retrieve(call.id, conversation_id=conv.id)
    assert got.type == "function_call" and got.name == "get_weather"
    # Its output, sent in the conversation, answers it (no chain needed).
    out = client.responses.create(model=QWEN, conversation=conv.id, tools=[WEATHER], temperature=0,
                                  max_output_tokens=60,
                                  input=[{"type": "function_call_output", "call_id": call.call_id,
                                          "output": json.dumps({"temp_c": 14})}])
    assert out.status == "completed" and "14" in out.output_text, out.output_text
    items = client.conversations.items.list(conv.id, order="asc").data
    assert [i.type for i in items] == ["message", "message", "function_call", "function_call_output", "message"]
    assert items[3].call_id == call.call_id and items[3].output == json.dumps({"temp_c": 14})
    # The threads API lists the user's and the assistant's messages only;
    # the other items are not its messages.
    thread = client.beta.threads.messages.list(conv.id, order="asc").data
    assert [m.role for m in thread] == ["user", "assistant"]
    for hidden in (items[0].id, call.id):
        with pytest.raises(openai.NotFoundError):
            client.beta.threads.messages.retrieve(hidden, thread_id=conv.id)
        with pytest.raises(openai.NotFoundError):
            client.beta.threads.messages.delete(hidden, thread_id=conv.id)
    # The model reads every item: the developer message counts (without it
    # Qwen's template puts its shorter default system prompt).
    with_dev = client.responses.input_tokens.count(model=QWEN, conversation=conv.id, input="hi").input_tokens
    client.conversations.items.delete(items[0].id, conversation_id=conv.id)
    without = client.responses.input_tokens.count(model=QWEN, conversation=conv.id, input="hi").input_tokens
    assert with_dev > without + 20, (with_dev, without)
    # Items added directly: calls and outputs too, checked by name.
    added = client.conversations.items.create(conv.id, items=[
        {"type": "function_call", "call_id": "call_x", "name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"},
        {"type": "function_call_output", "call_id": "call_x", "output": "{\"temp_c\": 3}"}])
    assert [i.type for i in added.data] == ["function_call", "function_call_output"]
    # Items list in the order they were added, whatever their kinds.
    mixed = client.conversations.create(items=[
        {"role": "user", "content": "Weather in Oslo?"},
        {"type": "function_call", "call_id": "call_y", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_y", "output": "3"},
        {"role": "assistant", "content": "3 degrees."}])
    listed = client.conversations.items.list(mixed.id, order="asc").data
    assert [i.type for i in listed] == ["message", "function_call", "function_call_output", "message"]
    assert [i.id for i in client.conversations.items.list(mixed.id, order="desc").data] == [i.id for i in listed][::-1]
    page = client.conversations.items.list(mixed.id, order="asc", limit=2, after=listed[1].id).data
    assert [i.id for i in page] == [listed[2].id, listed[3].id]
    for bad, param in [
        ([{"type": "function_call_output", "call_id": "call_nobody", "output": "1"}], "items[0]"),
        ([{"type": "function_call", "name": "f"}], "items[0]"),
        ([{"role": "user", "content": "x"}, {"type": "item_reference", "id": call.id}], "items[1]"),
        ([{"type": "web_search_call", "id": "ws_1"}], "items[0].type"),
        ([{"role": "tool", "content": "x"}], "items[0].role"),
    ]:
        with pytest.raises(openai.BadRequestError) as e:
            client.conversations.items.create(conv.id, items=bad)
        assert e.value.body["param"] == param, (bad, e.value.body)
    # A run of the Assistants API on the same thread reads the calls too.
    assistant = client.beta.assistants.create(model=QWEN, name="reader")
    run = client.beta.threads.runs.create_and_poll(thread_id=conv.id, assistant_id=assistant.id,
                                                   additional_messages=[{"role": "user", "content": "Was it warm in Oslo?"}],
                                                   max_completion_tokens=20, temperature=0)
    assert run.status in ("completed", "incomplete"), run.last_error


def test_item_references_resolve_in_the_chain_and_the_conversation(client):
    r1 = client.responses.create(model=QWEN, input="My name is Ada. Reply with OK.", temperature=0, max_output_tokens=5)
    first = client.responses.input_items.list(r1.id).data[0]
    r2 = client.responses.create(model=QWEN, input="I live in Paris. Reply with OK.", previous_response_id=r1.id,
                                 temperature=0, max_output_tokens=5)
    # A reference to an item earlier in the chain (r1's input) is that
    # item again, as a new entry of this input.
    ask = dict(model=QWEN, previous_response_id=r2.id,
               input=[{"type": "item_reference", "id": first.id}, {"role": "user", "content": "What is my name?"}])
    plain = client.responses.input_tokens.count(model=QWEN, previous_response_id=r2.id,
                                                input=[{"role": "user", "content": "What is my name?"}])
    assert client.responses.input_tokens.count(**ask).input_tokens > plain.input_tokens
    r3 = client.responses.create(**ask, temperature=0, max_output_tokens=20)
    listed = client.responses.input_items.list(r3.id, order="asc").data
    assert listed[0].type == "message" and listed[0].content[0].text == "My name is Ada. Reply with OK."
    assert listed[0].id != first.id
    # Output items of the chain, and items of a conversation, resolve too.
    assert client.responses.create(model=QWEN, previous_response_id=r3.id, max_output_tokens=5,
                                   input=[{"type": "item_reference", "id": r1.output[0].id}]).status
    conv = client.conversations.create(items=[{"role": "user", "content": "Remember: blue."}])
    kept = client.conversations.items.list(conv.id).data[0]
    r4 = client.responses.create(model=QWEN, conversation=conv.id, max_output_tokens=5,
                                 input=[{"type": "item_reference", "id": kept.id}])
    assert [i.content[0].text for i in client.conversations.items.list(conv.id, order="asc").data][:2] == [
        "Remember: blue.", "Remember: blue."], r4
    # An id from outside the chain is not found, by name.
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=QWEN, input=[{"type": "item_reference", "id": kept.id}])
    assert e.value.body["param"] == "input[0].id" and kept.id in e.value.body["message"]


def test_streamed_logprobs_come_with_each_delta(client):
    ask = dict(model=MODEL, input="What is the capital of France?", temperature=0, max_output_tokens=8,
               include=["message.output_text.logprobs"], top_logprobs=2)
    with client.responses.stream(**ask) as s:
        events = list(s)
    final = events[-1].response
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1
    for d in deltas:
        assert "".join(t.token for t in d.logprobs) == d.delta
        assert all(len(t.top_logprobs) == 2 for t in d.logprobs)
    done = [e for e in events if e.type == "response.output_text.done"][0]
    streamed = [t.token for d in deltas for t in d.logprobs]
    assert [t.token for t in done.logprobs] == streamed
    assert [t.token for t in final.output[0].content[0].logprobs] == streamed
    plain = client.responses.create(**ask)
    assert [t.token for t in plain.output[0].content[0].logprobs] == streamed
