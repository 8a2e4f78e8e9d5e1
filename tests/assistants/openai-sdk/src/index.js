import { events, assistant } from "@janhq/core";
import OpenAI from "openai";

// The prompt is jan's base URL (http://127.0.0.1:PORT/v1). Answers with what
// the SDK saw, as JSON.
events.on(`assistant:${assistant.id}`, async (event) => {
  const baseURL = event.messages.at(-1).content.trim();
  const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  const model = models.find((id) => !id.includes("MiniLM"));
  const question = [{ role: "user", content: "What is the capital of France?" }];
  const plain = await client.chat.completions.create({ model, messages: question, max_tokens: 16, temperature: 0 });
  const stream = await client.chat.completions.create({ model, messages: question, max_tokens: 16, temperature: 0, stream: true });
  let streamed = "";
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
  let refused = null;
  try {
    await new OpenAI({ baseURL: "http://localhost:9/v1", apiKey: "x", maxRetries: 0 }).models.list();
  } catch (e) {
    refused = String(e.cause?.message ?? e.message);
  }
  return JSON.stringify({ models, plain: plain.choices[0].message.content, streamed, refused });
});
