// The official openai Node SDK, and the OpenAI Agents SDK (which speaks the
// Responses API), against a real `jan serve` (unmocked).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import net from "node:net";
import OpenAI from "openai";
import { Agent, OpenAIProvider, Runner, setTracingDisabled, tool } from "@openai/agents";
import { z } from "zod";

const repo = resolve(import.meta.dirname, "../../..");
const jan = process.env.JAN_BIN ?? join(repo, "target/debug/jan");
const MODEL = "SmolLM2-135M-Instruct-Q4_1";
const QUESTION = "What is the capital of France? Answer in one word.";

let server;
let client;
let runner;

const freePort = () =>
  new Promise((ok) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

before(async () => {
  const data = mkdtempSync(join(tmpdir(), "jan-node-"));
  const env = { ...process.env, JAN_DATA_FOLDER: data };
  execFileSync(jan, ["models", "import", join(repo, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"), "--link"], { env });
  execFileSync(jan, ["models", "import", join(repo, ".cache/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"), "--link"], { env });
  const port = await freePort();
  server = spawn(jan, ["serve", "--port", String(port)], { env, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });
  setTracingDisabled(true);
  runner = new Runner({ modelProvider: new OpenAIProvider({ baseURL: `${base}/v1`, apiKey: "unused", useResponses: true }) });
});

after(() => server?.kill("SIGTERM"));

test("chat completion", async () => {
  const r = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: QUESTION }],
    temperature: 0,
    max_tokens: 24,
  });
  assert.match(r.choices[0].message.content, /Paris/);
  assert.ok(r.usage.completion_tokens > 0);
});

test("streamed run", async () => {
  const assistant = await client.beta.assistants.create({ model: MODEL, temperature: 0 });
  const thread = await client.beta.threads.create({ messages: [{ role: "user", content: QUESTION }] });
  const events = [];
  let text = "";
  const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  stream.on("event", (e) => events.push(e.event));
  stream.on("textDelta", (d) => (text += d.value));
  const final = await stream.finalRun();
  assert.equal(final.status, "completed");
  assert.match(text, /Paris/);
  assert.equal(events[0], "thread.run.created");
  assert.equal(events.at(-1), "thread.run.completed");
});

const QWEN = "qwen2-5-coder-0-5b-instruct-q4_k_m";

test("streamed response", async () => {
  const stream = client.responses.stream({ model: MODEL, input: QUESTION, temperature: 0, max_output_tokens: 24 });
  let text = "";
  stream.on("response.output_text.delta", (e) => (text += e.delta));
  const final = await stream.finalResponse();
  assert.equal(final.status, "completed");
  assert.match(final.output_text, /Paris/);
  assert.equal(text, final.output_text);
});

test("response function tool round trip", async () => {
  const tools = [{
    type: "function", name: "get_weather", description: "Get the current weather in a city", strict: false,
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  }];
  const r = await client.responses.create({ model: QWEN, input: "What is the weather in Rome?", tools, tool_choice: "required", temperature: 0 });
  const call = r.output.find((o) => o.type === "function_call");
  assert.equal(call.name, "get_weather");
  assert.equal(JSON.parse(call.arguments).city, "Rome");
  const out = await client.responses.create({
    model: QWEN, previous_response_id: r.id, tools, temperature: 0, max_output_tokens: 60,
    input: [{ type: "function_call_output", call_id: call.call_id, output: JSON.stringify({ temp_c: 14 }) }],
  });
  assert.equal(out.status, "completed");
  assert.match(out.output_text, /14/);
});

test("an Agents SDK agent runs its tool through the Responses API", async () => {
  const calls = [];
  const getWeather = tool({
    name: "get_weather", description: "Get the current weather in a city",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return JSON.stringify({ city, temp_c: 14 });
    },
  });
  const agent = new Agent({
    name: "Weather", instructions: "Answer with the tool results.", model: QWEN,
    tools: [getWeather], modelSettings: { temperature: 0, maxTokens: 80 },
  });
  // The SDK's loop: the model calls the tool, the SDK runs it and sends
  // the call and its output back as input items, the model answers.
  const result = await runner.run(agent, "What is the weather in Rome?", { maxTurns: 4 });
  assert.deepEqual(calls, ["Rome"]);
  assert.deepEqual(result.newItems.map((i) => i.type), ["tool_call_item", "tool_call_output_item", "message_output_item"]);
  assert.match(result.finalOutput, /14/);
  // Streamed, the same run, its text as deltas.
  const stream = await runner.run(agent, "What is the weather in Rome?", { stream: true, maxTurns: 4 });
  let text = "";
  const seen = new Set();
  for await (const e of stream) {
    seen.add(e.name ?? e.data?.type);
    if (e.type === "raw_model_stream_event" && e.data.type === "output_text_delta") text += e.data.delta;
  }
  await stream.completed;
  assert.deepEqual(calls, ["Rome", "Rome"]);
  assert.ok(seen.has("tool_called") && seen.has("tool_output"), [...seen].join());
  assert.equal(text, stream.finalOutput);
  assert.equal(stream.finalOutput, result.finalOutput);
});
