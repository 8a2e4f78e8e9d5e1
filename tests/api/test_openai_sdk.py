"""The official openai Python SDK against a real `jan serve`, unmocked."""
import json

import openai
import pytest

from conftest import EMBED_MODEL, MODEL, Server, conforms, install_assistant

QUESTION = "What is the capital of France? Answer in one word."


def test_models_list_and_retrieve(client):
    ids = [m.id for m in client.models.list()]
    assert MODEL in ids
    m = client.models.retrieve(MODEL)
    assert m.id == MODEL and m.object == "model" and m.owned_by
    conforms(client, "ModelObject", m)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("..%2F..%2Fetc")


def test_chat_completion_plain_and_streamed(client):
    r = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}], temperature=0, max_tokens=24
    )
    text = r.choices[0].message.content
    assert "Paris" in text
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.model_extra["timings"]["predicted_per_second"] > 0

    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": QUESTION}],
        temperature=0,
        max_tokens=24,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage, finish = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.content:
                pieces.append(c.delta.content)
            if c.finish_reason:
                finish = c.finish_reason
    assert "".join(pieces) == text
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == r.usage.completion_tokens


def test_chat_errors_are_openai_errors(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], temperature=5)
    assert e.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    # A prompt over the context is a 400 before any stream starts, plain
    # or streamed, also when the model was never loaded before.
    for stream in (True, False):
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello " * 20000}],
                                           stream=stream)
        assert e.value.body["code"] == "context_length_exceeded" and e.value.body["param"] == "messages"


def test_chat_parameters_are_supported_or_refused_by_name(client):
    user = [{"role": "user", "content": "x"}]
    refused = [
        (dict(extra_body={"frobnicate": 1}), "frobnicate", "Unrecognized request argument"),
        (dict(extra_body={"top_k": -1}), "top_k", ""),
        (dict(reasoning_effort="low"), "reasoning_effort", "do not reason"),
        (dict(store=True), "store", "not stored"),
        (dict(stream_options={"include_usage": True}), "stream_options", "'stream' is enabled"),
        (dict(tool_choice="auto"), "tool_choice", "'tools'"),
        (dict(modalities=["text", "audio"]), "modalities", ""),
        (dict(logit_bias={"x": 1}), "logit_bias", ""),
        (dict(logit_bias={"1": 101}), "logit_bias", ""),
        (dict(logit_bias={"99999999": 1}), "logit_bias", "vocabulary"),
        (dict(messages=[{"role": "user", "content": "x", "color": "red"}]), "messages[0].color", "Unrecognized"),
        (dict(messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id", "Missing"),
    ]
    for extra, param, words in refused:
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(**{"model": MODEL, "messages": user, "max_tokens": 2, **extra})
        assert e.value.body["param"] == param, (extra, e.value.body)
        assert words in e.value.body["message"], (extra, e.value.body)
    # Identifiers are accepted (they change nothing here), as are names and
    # an assistant message sent back as the SDK returned it.
    history = [
        {"role": "user", "content": "x", "name": "ada"},
        {"role": "assistant", "content": None, "function_call": None, "audio": None, "annotations": None, "refusal": None,
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "f", "content": "1"},
        {"role": "user", "content": "y"},
    ]
    r = client.chat.completions.create(
        model=MODEL, messages=history, max_tokens=2,
        user="u1", safety_identifier="s1", prompt_cache_key="k", service_tier="auto", store=False,
    )
    assert r.choices[0].message.role == "assistant"


def test_logit_bias_forces_a_token(client):
    ask = dict(model=MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}],
               temperature=0, max_tokens=3, logprobs=True)
    plain = [t.token for t in client.chat.completions.create(**ask).choices[0].logprobs.content]
    assert len(set(plain)) > 1, plain
    # +100 on one token id: greedy decoding picks it every time.
    forced = [t.token for t in client.chat.completions.create(**ask, logit_bias={"42": 100}).choices[0].logprobs.content]
    assert len(forced) == 3 and len(set(forced)) == 1, forced
    # -100 on it (and nothing else) gives the plain answer back.
    banned = [t.token for t in client.chat.completions.create(**ask, logit_bias={"42": -100}).choices[0].logprobs.content]
    assert banned == plain


def test_assistants_crud_and_auto_pagination(client):
    created = [
        client.beta.assistants.create(model=MODEL, name=f"helper {i}", instructions="Be brief.", metadata={"n": str(i)})
        for i in range(5)
    ]
    a = created[0]
    assert a.id.startswith("asst_") and a.object == "assistant" and a.model == MODEL
    got = client.beta.assistants.retrieve(a.id)
    assert got.name == "helper 0" and got.instructions == "Be brief." and got.metadata == {"n": "0"}
    conforms(client, "AssistantObject", got)
    conforms(client, "AssistantObject", client.beta.assistants.retrieve("jan"))
    # null means the default, never a stored null.
    bare = client.beta.assistants.create(model=MODEL, extra_body={"tools": None, "tool_resources": None, "response_format": None})
    assert bare.tools == [] and bare.response_format == "auto"
    conforms(client, "AssistantObject", bare)
    conforms(client, "AssistantObject", client.beta.assistants.update(bare.id, extra_body={"tools": None}))
    updated = client.beta.assistants.update(a.id, name="renamed", metadata={"k": "v"})
    assert updated.name == "renamed" and updated.metadata == {"k": "v"}
    assert client.beta.assistants.retrieve(a.id).name == "renamed"

    ids = [x.id for x in client.beta.assistants.list(limit=2, order="asc")]
    assert len(ids) == len(set(ids))
    assert {c.id for c in created} <= set(ids)
    assert "jan" in ids

    deleted = client.beta.assistants.delete(a.id)
    assert deleted.deleted and deleted.id == a.id
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(a.id)
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.delete("jan")
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve("../../etc")
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.create(model=MODEL, temperature=9)
    # A field an assistant does not have is refused by name, never dropped.
    for extra, param in (({"colour": "red"}, "colour"), ({"reasoning_effort": "low"}, "reasoning_effort"),
                         ({"permissions": {"net": ["*"]}}, "permissions")):
        with pytest.raises(openai.BadRequestError) as e:
            client.beta.assistants.create(model=MODEL, extra_body=extra)
        assert e.value.body["param"] == param, e.value.body
        with pytest.raises(openai.BadRequestError):
            client.beta.assistants.update(created[1].id, extra_body=extra)


def test_assistants_survive_a_restart(data_dir):
    from openai import OpenAI

    s = Server(data_dir).start()
    try:
        c = OpenAI(base_url=s.base_url, api_key="x", max_retries=0)
        a = c.beta.assistants.create(model=MODEL, name="persistent")
    finally:
        s.stop()
    s = Server(data_dir).start()
    try:
        c = OpenAI(base_url=s.base_url, api_key="x", max_retries=0)
        assert c.beta.assistants.retrieve(a.id).name == "persistent"
    finally:
        s.stop()


def test_api_key_is_required_when_set(data_dir):
    from openai import OpenAI

    s = Server(data_dir, api_key="sekrit").start()
    try:
        bad = OpenAI(base_url=s.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
        good = OpenAI(base_url=s.base_url, api_key="sekrit", max_retries=0)
        assert any(m.id == MODEL for m in good.models.list())
    finally:
        s.stop()


def test_embeddings(client):
    texts = ["A man is playing a guitar.", "Someone strums an acoustic guitar.", "The stock market fell sharply today."]
    r = client.embeddings.create(model=EMBED_MODEL, input=texts)
    v = [d.embedding for d in r.data]
    assert [d.index for d in r.data] == [0, 1, 2]
    assert all(len(e) == 384 for e in v)
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))
    assert dot(v[0], v[1]) > dot(v[0], v[2])
    assert r.usage.prompt_tokens > 0
    floats = client.embeddings.create(model=EMBED_MODEL, input=texts[0], encoding_format="float")
    assert max(abs(a - b) for a, b in zip(floats.data[0].embedding, v[0])) < 1e-5
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=MODEL, input="x")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=EMBED_MODEL, input=[[1, 2, 3]])


def assistant_for_runs(client, **kw):
    # No instructions: SmolLM2's template then adds its own system prompt.
    return client.beta.assistants.create(model=MODEL, temperature=0, **kw)


def test_threads_and_messages(client):
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "first"}], metadata={"topic": "t"}
    )
    assert thread.id.startswith("thread_") and thread.metadata == {"topic": "t"}
    m = client.beta.threads.messages.create(
        thread.id, role="user", content=[{"type": "text", "text": "second"}]
    )
    assert m.id.startswith("msg_") and m.content[0].text.value == "second"
    conforms(client, "Thread", thread)
    conforms(client, "Message", m)
    # Bodies are typed: an unknown field, also in a nested message, is a
    # 400 naming it, and nothing is created.
    with pytest.raises(openai.BadRequestError) as e:
        client.beta.threads.create(messages=[{"role": "user", "content": "x", "colour": "red"}])
    assert e.value.body["param"] == "messages[0].colour", e.value.body
    with pytest.raises(openai.BadRequestError) as e:
        client.beta.threads.messages.create(thread.id, role="user", content="x", extra_body={"pinned": True})
    assert e.value.body["param"] == "pinned", e.value.body
    listed = client.beta.threads.messages.list(thread.id, order="asc")
    assert [x.content[0].text.value for x in listed] == ["first", "second"]
    got = client.beta.threads.messages.retrieve(m.id, thread_id=thread.id)
    assert got.id == m.id
    upd = client.beta.threads.messages.update(m.id, thread_id=thread.id, metadata={"k": "v"})
    assert upd.metadata == {"k": "v"}
    assert client.beta.threads.messages.delete(m.id, thread_id=thread.id).deleted
    assert len(client.beta.threads.messages.list(thread.id).data) == 1
    assert client.beta.threads.update(thread.id, metadata={"x": "y"}).metadata == {"x": "y"}
    assert client.beta.threads.delete(thread.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.retrieve(thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.retrieve("thread_..%2F..")
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.create(messages=[{"role": "system", "content": "x"}])


def test_runs_create_and_poll(client):
    a = assistant_for_runs(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": QUESTION}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a.id, poll_interval_ms=100)
    assert run.status == "completed", run.last_error
    assert run.usage.completion_tokens > 0
    conforms(client, "Run", run)
    msgs = client.beta.threads.messages.list(thread.id, run_id=run.id)
    assert len(msgs.data) == 1 and msgs.data[0].role == "assistant"
    assert "Paris" in msgs.data[0].content[0].text.value
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id)
    assert steps.data[0].type == "message_creation" and steps.data[0].status == "completed"
    step = client.beta.threads.runs.steps.retrieve(steps.data[0].id, thread_id=thread.id, run_id=run.id)
    assert step.step_details.message_creation.message_id == msgs.data[0].id
    conforms(client, "RunStep", step)
    conforms(client, "Message", msgs.data[0])
    assert [r.id for r in client.beta.threads.runs.list(thread.id)] == [run.id]
    assert client.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"a": "b"}).metadata == {"a": "b"}
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id="asst_nope")


def test_run_settings_layer_as_the_turn_uses_them(client):
    # The assistant's override for the run's model beats its own
    # temperature; the run's own value beats both; the run shows what runs.
    a = client.beta.assistants.create(model=MODEL, temperature=0.7,
                                      extra_body={"models": [{"id": MODEL, "parameters": {"temperature": 0.2}}]})
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a.id, max_completion_tokens=2, poll_interval_ms=100)
    assert run.temperature == 0.2, run
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a.id, temperature=0.7, max_completion_tokens=2, poll_interval_ms=100)
    assert run.temperature == 0.7, run
    # Nothing set anywhere: model.json's.
    b = client.beta.assistants.create(model=MODEL)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=b.id, max_completion_tokens=2, poll_interval_ms=100)
    params = client.models.retrieve(MODEL).model_dump()["parameters"]
    assert (run.temperature, run.top_p) == (params["temperature"], params["top_p"]), run


def test_runs_stream_with_an_event_handler(client):
    from openai import AssistantEventHandler

    class Handler(AssistantEventHandler):
        def __init__(self):
            super().__init__()
            self.events, self.text = [], ""

        def on_event(self, event):
            self.events.append(event.event)

        def on_text_delta(self, delta, snapshot):
            self.text += delta.value

    a = assistant_for_runs(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": QUESTION}])
    handler = Handler()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=a.id, event_handler=handler) as s:
        s.until_done()
    order = [e for e in handler.events if e != "thread.message.delta"]
    assert order == [
        "thread.run.created", "thread.run.queued", "thread.run.in_progress",
        "thread.run.step.created", "thread.run.step.in_progress",
        "thread.message.created", "thread.message.in_progress",
        "thread.message.completed", "thread.run.step.completed", "thread.run.completed",
    ]
    assert "thread.message.delta" in handler.events
    final = client.beta.threads.messages.list(thread.id, order="desc").data[0]
    assert final.content[0].text.value == handler.text and "Paris" in handler.text


def test_create_thread_and_run_and_busy_threads(client):
    a = assistant_for_runs(client)
    run = client.beta.threads.create_and_run_poll(
        assistant_id=a.id,
        thread={"messages": [{"role": "user", "content": QUESTION}]},
        poll_interval_ms=100,
    )
    assert run.status == "completed"
    # A second run while one is active is refused with 400 (not 409, which SDKs retry).
    slow = client.beta.threads.runs.create(thread_id=run.thread_id, assistant_id=a.id, max_completion_tokens=200,
                                           additional_instructions="Write a long story.")
    try:
        with pytest.raises(openai.BadRequestError):
            client.beta.threads.runs.create(thread_id=run.thread_id, assistant_id=a.id)
    finally:
        cancelled = client.beta.threads.runs.cancel(slow.id, thread_id=run.thread_id)
        assert cancelled.status in ("cancelling", "cancelled", "completed", "incomplete")
        final = client.beta.threads.runs.poll(slow.id, thread_id=run.thread_id, poll_interval_ms=100)
        assert final.status in ("cancelled", "completed", "incomplete")


def test_incomplete_at_max_completion_tokens(client):
    a = assistant_for_runs(client)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Tell me a long story about a dragon."}])
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=a.id, max_completion_tokens=3, poll_interval_ms=100
    )
    assert run.status == "incomplete"
    assert run.incomplete_details.reason == "max_completion_tokens"
    assert run.usage.completion_tokens == 3


def test_events_stream_the_bus(client, server):
    import json
    import threading

    import httpx

    seen = []
    ready = threading.Event()

    def watch():
        with httpx.stream("GET", f"{server.base_url}/events", params={"topics": "thread.*,response.*"},
                          timeout=30) as r:
            assert r.status_code == 200
            ready.set()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))
                    if len(seen) == 3:
                        return

    t = threading.Thread(target=watch)
    t.start()
    assert ready.wait(10)
    import time

    time.sleep(0.2)
    thread = client.beta.threads.create()
    # A response's start and end, each with the response object.
    r = client.responses.create(model=MODEL, input="Hi", max_output_tokens=4)
    t.join(30)
    assert [e["topic"] for e in seen] == ["thread.created", "response.created", f"response.{r.status}"], seen
    assert seen[0]["payload"]["id"] == thread.id and seen[0]["source"] == "api"
    assert seen[1]["payload"]["id"] == seen[2]["payload"]["id"] == r.id
    assert seen[2]["payload"]["status"] == r.status and seen[2]["payload"]["usage"]["output_tokens"] > 0
    # Not what it says: every assistant may read the bus.
    assert "output" not in seen[2]["payload"] and "instructions" not in seen[2]["payload"]


def test_concurrent_runs_on_different_threads(client):
    a = assistant_for_runs(client)
    threads = [client.beta.threads.create(messages=[{"role": "user", "content": QUESTION}]) for _ in range(2)]
    runs = [client.beta.threads.runs.create(thread_id=t.id, assistant_id=a.id) for t in threads]
    done = [client.beta.threads.runs.poll(r.id, thread_id=r.thread_id, poll_interval_ms=100) for r in runs]
    assert [r.status for r in done] == ["completed", "completed"]
    for t in threads:
        reply = client.beta.threads.messages.list(t.id, order="desc").data[0]
        assert reply.role == "assistant" and "Paris" in reply.content[0].text.value


def weather_assistant(data_dir):
    """The example assistant that calls a get_weather tool, added on disk."""
    return install_assistant(data_dir, "assistants/examples/weather")


def test_tool_calls_wait_for_outputs_then_complete(client, data_dir):
    a = weather_assistant(data_dir)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "What is the weather in Oslo?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a, poll_interval_ms=100)
    assert run.status == "requires_action", run.last_error
    assert run.required_action.type == "submit_tool_outputs"
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [c.function.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].function.arguments) == {"city": "Oslo"}
    assert calls[0].id.startswith("call_") and run.expires_at >= run.created_at + 590
    # The thread is busy while the run waits; outputs must match the calls.
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=a)
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": "call_nope", "output": "x"}]
        )
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id,
        tool_outputs=[{"tool_call_id": calls[0].id, "output": "sunny, 21 °C"}], poll_interval_ms=100,
    )
    assert run.status == "completed", run.last_error
    assert run.required_action is None
    reply = client.beta.threads.messages.list(thread.id, run_id=run.id).data[0]
    assert reply.content[0].text.value == "The weather in Oslo: sunny, 21 °C"
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0].step_details.tool_calls[0].function.output == "sunny, 21 °C"
    # Submitting again is refused: the run no longer waits.
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": calls[0].id, "output": "x"}]
        )


def test_tool_calls_streamed_and_cancelled(client, data_dir):
    from openai import AssistantEventHandler

    class Handler(AssistantEventHandler):
        def __init__(self):
            super().__init__()
            self.events, self.text, self.waiting = [], "", None

        def on_event(self, event):
            self.events.append(event.event)
            if event.event == "thread.run.requires_action":
                self.waiting = event.data

        def on_text_delta(self, delta, snapshot):
            self.text += delta.value

    a = weather_assistant(data_dir)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Lima?"}])
    h = Handler()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=a, event_handler=h) as s:
        s.until_done()
    assert h.events[-1] == "thread.run.requires_action", h.events
    assert "thread.message.created" not in h.events
    call = h.waiting.required_action.submit_tool_outputs.tool_calls[0]
    h2 = Handler()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id, run_id=h.waiting.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "foggy"}], event_handler=h2,
    ) as s:
        s.until_done()
    assert h2.text == "The weather in Lima: foggy"
    assert h2.events[-1] == "thread.run.completed", h2.events

    # A waiting run can be cancelled: nothing runs, so it ends at once.
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=a, poll_interval_ms=100)
    assert run.status == "requires_action"
    assert client.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id).status == "cancelled"
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert [s.status for s in steps] == ["cancelled"]
