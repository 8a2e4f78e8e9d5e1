import { events, assistant } from "@janhq/core";
import http from "node:http";
import axios from "axios";
import * as cheerio from "cheerio";
import { generateText, streamText } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { SimpleChatEngine } from "llamaindex";
import { OpenAI } from "@llamaindex/openai";

const QUESTION = "What is the capital of France?";

// node:http's client, as packages written for Node use it.
function httpGet(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, type: res.headers["content-type"], body: JSON.parse(body) }));
      })
      .on("error", reject);
  });
}

// The prompt is jan's base URL (http://127.0.0.1:PORT/v1). Answers with
// what each package produced, as JSON.
events.on(`assistant:${assistant.id}`, async (event) => {
  const baseURL = event.messages.at(-1).content.trim();
  const got = await httpGet(`${baseURL}/models`);
  const model = got.body.data.map((m) => m.id).find((id) => !id.includes("MiniLM"));
  const viaAxios = await axios.post(`${baseURL}/chat/completions`, {
    model,
    messages: [{ role: "user", content: QUESTION }],
    max_tokens: 12,
    temperature: 0,
  });
  const provider = createOpenAICompatible({ name: "jan", baseURL, apiKey: "unused" });
  const ai = await generateText({ model: provider(model), prompt: QUESTION, maxOutputTokens: 12, temperature: 0 });
  let aiStreamed = "";
  for await (const t of streamText({ model: provider(model), prompt: QUESTION, maxOutputTokens: 12, temperature: 0 }).textStream) aiStreamed += t;
  const engine = new SimpleChatEngine({ llm: new OpenAI({ model, apiKey: "unused", baseURL, maxTokens: 12, temperature: 0 }) });
  const llama = await engine.chat({ message: QUESTION });
  const $ = cheerio.load("<ul><li class='city'>Paris</li><li class='city'>Lyon</li><li>none</li></ul>");
  return JSON.stringify({
    model,
    http: { status: got.status, type: got.type, object: got.body.object },
    axios: viaAxios.data.choices[0].message.content,
    ai: ai.text,
    aiStreamed,
    llamaindex: String(llama.message?.content ?? llama),
    cheerio: $("li.city").map((_, el) => $(el).text()).get(),
  });
});
