"""The OpenAI Agents SDK for Python (`openai-agents` on PyPI) runs an agent
with a function tool to completion against a real `jan serve`, using it as
its Responses API backend. It needs openai 3, while tests/api pins the
SDK version whose Assistants API (`beta.*`) those tests drive, so it has
its own virtual environment (tests/api/run.sh makes it)."""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from openai import AsyncOpenAI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from conftest import JAN, QWEN, QWEN_FILE, Server  # noqa: E402

from agents import (  # noqa: E402
    Agent, ModelSettings, OpenAIResponsesModel, RunConfig, Runner, function_tool, set_tracing_disabled,
)


@pytest.fixture(scope="module")
def server():
    data = tempfile.mkdtemp(prefix="jan-agents-")
    subprocess.run([JAN, "models", "import", str(QWEN_FILE), "--link"], check=True, capture_output=True,
                   env=dict(os.environ, JAN_DATA_FOLDER=data))
    s = Server(data).start()
    yield s
    s.stop()


def test_an_agent_calls_its_tool_and_answers_through_responses(server):
    set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    calls = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return json.dumps({"city": city, "temp_c": 14})

    agent = Agent(name="Weather", instructions="Answer with the tool results.",
                  model=OpenAIResponsesModel(model=QWEN, openai_client=client),
                  tools=[get_weather], model_settings=ModelSettings(temperature=0, max_tokens=80))
    async def both():
        # The SDK's loop: the model calls the tool, the SDK runs it and
        # sends the call and its output back as input items, the model
        # answers.
        result = await Runner.run(agent, "What is the weather in Rome?", max_turns=4, run_config=RunConfig())
        # Streamed: the same run, its text as deltas.
        run = Runner.run_streamed(agent, "What is the weather in Rome?", max_turns=4)
        text, kinds = "", set()
        async for e in run.stream_events():
            kinds.add(getattr(e, "name", None) or getattr(getattr(e, "data", None), "type", None))
            if e.type == "raw_response_event" and e.data.type == "response.output_text.delta":
                text += e.data.delta
        return result, run, text, kinds

    result, run, text, kinds = asyncio.run(both())
    assert calls == ["Rome", "Rome"]
    assert [i.type for i in result.new_items] == ["tool_call_item", "tool_call_output_item", "message_output_item"]
    assert "14" in result.final_output, result.final_output
    assert {"tool_called", "tool_output"} <= kinds, kinds
    assert text == run.final_output == result.final_output
