"""Function calling and structured output with the official openai SDK
against a real `jan serve` running Qwen2.5-Coder-0.5B-Instruct."""
import json

import jsonschema
import openai
import pydantic
import pytest

from conftest import MODEL, QWEN, conforms, install_assistant

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

# Three shapes of arguments: a nested object, an enum, an array.
SCHEMAS = {
    "book_flight": (
        "Book a flight from Paris to Rome for Ada Lovelace, born 1815.",
        {
            "type": "object",
            "properties": {
                "route": {
                    "type": "object",
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                    "required": ["from", "to"],
                },
                "passenger": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "born": {"type": "integer"}},
                    "required": ["name", "born"],
                },
            },
            "required": ["route", "passenger"],
        },
    ),
    "set_thermostat": (
        "Put the heating in eco mode.",
        {
            "type": "object",
            "properties": {"mode": {"type": "string", "enum": ["off", "eco", "comfort"]}},
            "required": ["mode"],
            "additionalProperties": False,
        },
    ),
    "add_to_list": (
        "Add milk, eggs and bread to my shopping list.",
        {
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            "required": ["items"],
        },
    ),
}


def tool(name, schema):
    return {"type": "function", "function": {"name": name, "description": name.replace("_", " "), "parameters": schema}}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_required_and_named_choices_give_calls_that_match_the_schema(client, name):
    prompt, schema = SCHEMAS[name]
    tools = [tool(n, s) for n, (_, s) in SCHEMAS.items()]
    for choice in ("required", {"type": "function", "function": {"name": name}}):
        r = client.chat.completions.create(
            model=QWEN, messages=[{"role": "user", "content": prompt}], tools=tools,
            tool_choice=choice, temperature=0, max_tokens=120,
        )
        c = r.choices[0]
        assert c.finish_reason == "tool_calls", c
        calls = c.message.tool_calls
        assert calls and calls[0].id.startswith("call_")
        if choice != "required":
            assert calls[0].function.name == name
        for call in calls:
            args = json.loads(call.function.arguments)
            jsonschema.validate(args, SCHEMAS[call.function.name][1])


FLIGHT = {
    "type": "object",
    "properties": {
        "origin": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "IATA code"},
        "destination": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "IATA code"},
        "seats": {"type": "integer", "minimum": 1, "maximum": 9},
    },
    "required": ["origin", "destination", "seats"],
    "additionalProperties": False,
}


def test_strict_tools_under_auto_give_calls_that_match_the_schema(client):
    # Unconstrained, Qwen2.5-Coder-0.5B answers the first two with a fenced
    # block holding city names ("NY", "Rome"): text, not a call. A strict
    # tool makes the call it opens follow the schema (a lazy grammar).
    strict = {"type": "function", "function": {
        "name": "book_flight", "description": "Book a flight between two airports",
        "parameters": FLIGHT, "strict": True}}
    prompts = [
        "Book me a flight from Paris to New York for two people.",
        "I need to fly from Berlin to Rome, just me.",
        "Get three seats from London to Tokyo",
    ]
    for i, prompt in enumerate(prompts):
        kwargs = dict(model=QWEN, messages=[{"role": "user", "content": prompt}], tools=[strict], temperature=0, max_tokens=80)
        if i == 0:
            stream = client.chat.completions.create(stream=True, **kwargs)
            args, finish = "", None
            for chunk in stream:
                for d in chunk.choices[0].delta.tool_calls or []:
                    args += d.function.arguments or ""
                finish = chunk.choices[0].finish_reason or finish
        else:
            c = client.chat.completions.create(**kwargs).choices[0]
            finish = c.finish_reason
            args = c.message.tool_calls[0].function.arguments if c.message.tool_calls else c.message.content
        assert finish == "tool_calls", (prompt, args)
        jsonschema.validate(json.loads(args), FLIGHT)
    # Text answers stay free.
    c = client.chat.completions.create(
        model=QWEN, messages=[{"role": "user", "content": "What is 2+2? Answer in words."}],
        tools=[strict], temperature=0, max_tokens=30).choices[0]
    assert c.finish_reason == "stop" and "4" in c.message.content, c


def test_forced_calls_ignore_stop_strings_and_a_cut_call_is_not_text(client):
    prompt, schema = SCHEMAS["set_thermostat"]
    tools = [tool("set_thermostat", schema)]
    messages = [{"role": "user", "content": prompt}]
    r = client.chat.completions.create(model=QWEN, messages=messages, tools=tools, tool_choice="required", stop=["\n"], temperature=0, max_tokens=60)
    assert r.choices[0].finish_reason == "tool_calls" and r.choices[0].message.tool_calls
    r = client.chat.completions.create(model=QWEN, messages=messages, tools=tools, tool_choice="required", temperature=0, max_tokens=6)
    assert r.choices[0].finish_reason == "length"
    assert not r.choices[0].message.content and not r.choices[0].message.tool_calls


def test_assistants_with_bad_tools_are_refused_when_created(client):
    for tools, param in (
        ([{"type": "function", "function": {"name": "get weather"}}], "tools[0].function.name"),
        ([{"type": "code_interpreter"}, {"type": "function", "function": {"name": "f", "parameters": {"type": "bogus"}}}], "tools[1].function.parameters"),
    ):
        with pytest.raises(openai.BadRequestError) as e:
            client.beta.assistants.create(model=QWEN, tools=tools)
        assert e.value.body["param"] == param, e.value.body


def test_auto_calls_the_weather_tool_and_the_result_comes_back(client):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = client.chat.completions.create(model=QWEN, messages=messages, tools=[WEATHER], temperature=0, max_tokens=60)
    c = r.choices[0]
    assert c.finish_reason == "tool_calls", c
    call = c.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "Paris"
    # The SDK's own message object goes back into the history as is.
    messages += [c.message, {"role": "tool", "tool_call_id": call.id, "content": '{"temperature_c": 14, "sky": "rain"}'}]
    r = client.chat.completions.create(model=QWEN, messages=messages, tools=[WEATHER], temperature=0, max_tokens=60)
    c = r.choices[0]
    assert c.finish_reason == "stop", c
    assert not c.message.tool_calls
    # Qwen2.5-Coder-0.5B echoes the call before the result's data; the
    # answer still carries what the tool returned.
    assert "14" in c.message.content


@pytest.mark.parametrize("choice", ["auto", "required"])
def test_streamed_calls_arrive_piece_by_piece_and_are_reassembled_by_the_sdk(client, choice):
    stream = client.chat.completions.create(
        model=QWEN, messages=[{"role": "user", "content": "What is the weather in Rome?"}],
        tools=[WEATHER], tool_choice=choice, temperature=0, max_tokens=60, stream=True,
    )
    text, calls, finish, pieces = "", {}, None, 0
    for chunk in stream:
        if not chunk.choices:
            continue
        d = chunk.choices[0].delta
        text += d.content or ""
        for t in d.tool_calls or []:
            slot = calls.setdefault(t.index, {"id": None, "name": "", "arguments": ""})
            slot["id"] = t.id or slot["id"]
            if t.function:
                slot["name"] += t.function.name or ""
                slot["arguments"] += t.function.arguments or ""
                pieces += bool(t.function.arguments)
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "tool_calls"
    assert text == "", "the call's JSON is not streamed as text"
    assert calls[0]["name"] == "get_weather" and calls[0]["id"].startswith("call_")
    assert json.loads(calls[0]["arguments"])["city"] == "Rome"
    if choice == "required":
        # A tagged call (here forced by the grammar) streams its arguments
        # as the model writes them. Under `auto` this model writes the call
        # as bare JSON, which is validated whole before it is sent.
        assert pieces > 2, pieces
    # The SDK's stream helper reassembles the same call.
    with client.beta.chat.completions.stream(
        model=QWEN, messages=[{"role": "user", "content": "What is the weather in Rome?"}],
        tools=[WEATHER], temperature=0, max_tokens=60,
    ) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments)["city"] == "Rome"


class Person(pydantic.BaseModel):
    name: str
    born: int
    fields: list[str]


def test_parse_with_a_pydantic_model(client):
    r = client.chat.completions.parse(
        model=QWEN,
        messages=[{"role": "user", "content": "Ada Lovelace, born 1815, worked on mathematics and computing. Describe her."}],
        response_format=Person, temperature=0, max_tokens=80,
    )
    p = r.choices[0].message.parsed
    assert isinstance(p, Person)
    assert "Ada" in p.name and p.born == 1815


def test_json_object_answers_parse(client):
    r = client.chat.completions.create(
        model=QWEN, messages=[{"role": "user", "content": "Give the name and the capital of France as a JSON object."}],
        response_format={"type": "json_object"}, temperature=0, max_tokens=60,
    )
    assert r.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_a_template_without_tools_still_gets_valid_calls(client):
    # SmolLM2's template does not render tools: the generic prompt lists
    # them, and the grammar makes the forced call valid.
    prompt, schema = SCHEMAS["set_thermostat"]
    r = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": prompt}], tools=[tool("set_thermostat", schema)],
        tool_choice="required", parallel_tool_calls=False, temperature=0, max_tokens=60,
    )
    assert len(r.choices[0].message.tool_calls) == 1
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    jsonschema.validate(json.loads(call.function.arguments), schema)


def test_logprobs_with_alternatives(client):
    r = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0, max_tokens=8, logprobs=True, top_logprobs=3,
    )
    c = r.choices[0]
    entries = c.logprobs.content
    assert len(entries) == r.usage.completion_tokens
    assert "".join(e.token for e in entries) == c.message.content
    for e in entries:
        assert e.logprob <= 0 and bytes(e.bytes).decode() == e.token
        assert len(e.top_logprobs) == 3
        assert [t.logprob for t in e.top_logprobs] == sorted((t.logprob for t in e.top_logprobs), reverse=True)
        # Greedy: the chosen token is the most likely one.
        assert e.top_logprobs[0].token == e.token and abs(e.top_logprobs[0].logprob - e.logprob) < 1e-6


def test_streamed_logprobs_match_the_streamed_text(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0, max_tokens=8, logprobs=True, top_logprobs=2, stream=True,
    )
    text, entries, chunks = "", [], 0
    for chunk in stream:
        c = chunk.choices[0]
        text += c.delta.content or ""
        entries += c.logprobs.content if c.logprobs else []
        # Each text chunk carries its own tokens' logprobs, as it is sent.
        if c.delta.content:
            chunks += 1
            assert "".join(e.token for e in c.logprobs.content) == c.delta.content
    assert text and chunks > 1 and "".join(e.token for e in entries) == text
    assert all(len(e.top_logprobs) == 2 for e in entries)


def test_unsupported_tool_parameters_are_refused(client):
    cases = [
        dict(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}}),
        dict(tools=[{"type": "web_search"}]),
        dict(tools=[tool("f", {"type": "object", "if": {}})], tool_choice="required"),
        dict(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "if": {}}}}),
        dict(top_logprobs=30, logprobs=True),
        dict(top_logprobs=2),
        dict(extra_body={"functions": [{"name": "f"}]}),
        dict(extra_body={"stream": "yes"}),
        dict(tools=[tool("f", {"type": "array"})]),
    ]
    for extra in cases:
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=QWEN, messages=[{"role": "user", "content": "hi"}], **extra)
        assert e.value.body["param"], extra
    for history in (
        [{"role": "assistant", "content": None, "tool_calls": ["x"]}],
        [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}]}],
        [{"role": "tool", "content": "42"}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}],
    ):
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=QWEN, messages=[{"role": "user", "content": "hi"}, *history])
        assert e.value.body["param"].startswith("messages[1]"), e.value.body


def test_a_run_with_a_client_function_waits_for_its_output(client, data_dir):
    # An assistant without code: the default answer offers its function
    # tool to the model, and the model's call stops the run.
    a = client.beta.assistants.create(model=QWEN, name="weather desk", tools=[WEATHER], temperature=0)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a.id, poll_interval_ms=100)
    assert run.status == "requires_action", run.last_error
    conforms(client, "Run", run)
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments)["city"] == "Paris"
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.messages.create(thread.id, role="user", content="while it waits")
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id,
        tool_outputs=[{"tool_call_id": call.id, "output": '{"temperature_c": 14, "sky": "rain"}'}], poll_interval_ms=100,
    )
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0].step_details.tool_calls[0].function.output == '{"temperature_c": 14, "sky": "rain"}'
    # /openapi.json describes the run and its steps as they are sent.
    conforms(client, "Run", run)
    for step in steps:
        conforms(client, "RunStep", step)
    reply = client.beta.threads.messages.list(thread.id, order="desc").data[0]
    assert reply.role == "assistant" and "14" in reply.content[0].text.value

    # The same, streamed; and a run-level tool_choice that forces the call.
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather for Rome, please."}])

    class Handler(openai.AssistantEventHandler):
        created, done = [], []

        def on_tool_call_created(self, tool_call):
            self.created.append(tool_call.function.name)

        def on_tool_call_done(self, tool_call):
            self.done.append(tool_call.function.arguments)

    h = Handler()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=a.id, tool_choice="required", event_handler=h) as s:
        s.until_done()
        waiting = s.current_run
    assert waiting.status == "requires_action"
    # The SDK's tool-call handlers fire from the step's delta.
    assert h.created == ["get_weather"] and "Rome" in h.done[0]
    call = waiting.required_action.submit_tool_outputs.tool_calls[0]
    with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id, run_id=waiting.id, tool_outputs=[{"tool_call_id": call.id, "output": '{"temperature_c": 25, "sky": "sun"}'}],
    ) as s:
        s.until_done()
        assert s.current_run.status == "completed"
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=a.id, tool_choice={"type": "function", "function": {"name": "nope"}})
    # Run bodies are typed: a field that is not a run's is refused by name,
    # also before create-thread-and-run makes its thread.
    for extra, param in (({"colour": "red"}, "colour"), ({"truncation_strategy": {"type": "auto", "n": 1}}, "truncation_strategy.n"),
                         ({"temperature": "hot"}, "temperature"), ({"reasoning_effort": "low"}, "reasoning_effort")):
        with pytest.raises(openai.BadRequestError) as e:
            client.beta.threads.runs.create(thread_id=thread.id, assistant_id=a.id, extra_body=extra)
        assert e.value.body["param"] == param, e.value.body
    threads = len(list((data_dir / "threads").iterdir()))
    for extra, param in (({"colour": "red"}, "colour"), ({"tool_resources": {}}, "tool_resources"),
                         ({"max_completion_tokens": 0}, "max_completion_tokens"),
                         ({"additional_messages": [{"role": "system", "content": "x"}]}, "additional_messages[0].role")):
        with pytest.raises(openai.BadRequestError) as e:
            client.beta.threads.create_and_run(assistant_id=a.id, thread={"messages": [{"role": "user", "content": "hi"}]}, extra_body=extra)
        assert e.value.body["param"] == param, e.value.body
    # Refused before its thread was made.
    assert len(list((data_dir / "threads").iterdir())) == threads
    with pytest.raises(openai.BadRequestError) as e:
        client.beta.threads.runs.submit_tool_outputs(thread_id=thread.id, run_id=waiting.id, tool_outputs=[{"tool_call_id": "x", "output": 3}])
    assert e.value.body["param"] == "tool_outputs[0].output", e.value.body


def tools_assistant(data_dir):
    """tests/assistants/weather-tools, whose code registers two tools."""
    return install_assistant(data_dir, "tests/assistants/weather-tools")


def test_tools_registered_in_assistant_code_run_inside_the_run(client, data_dir):
    a = tools_assistant(data_dir)
    listed = {t.function.name for t in client.beta.assistants.retrieve(a).tools}
    assert listed == {"get_weather", "get_stock_price"}
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a, poll_interval_ms=100)
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert steps[0].type == "tool_calls" and steps[0].status == "completed"
    call = steps[0].step_details.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments)["city"] == "Paris"
    assert json.loads(call.function.output) == {"temperature_c": 14, "sky": "rain"}
    assert steps[-1].type == "message_creation"
    reply = client.beta.threads.messages.list(thread.id, order="desc").data[0]
    assert "14" in reply.content[0].text.value


def test_a_tool_that_throws_gives_the_model_its_error(client, data_dir):
    a = tools_assistant(data_dir)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "What is the price of ACME stock?"}])
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=a, poll_interval_ms=100,
        tool_choice={"type": "function", "function": {"name": "get_stock_price"}},
    )
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    call = steps[0].step_details.tool_calls[0]
    assert call.function.name == "get_stock_price"
    assert json.loads(call.function.output) == {"error": "the stock service is down"}
    # The run itself did not crash on the exception.
    assert run.status == "completed", run.last_error
