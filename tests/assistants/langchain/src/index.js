import { events, assistant } from "@janhq/core";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { RunnableLambda } from "@langchain/core/runnables";
import { ChatOpenAI } from "@langchain/openai";

// The prompt is jan's base URL (http://127.0.0.1:PORT/v1). A prompt
// template, a chat model served by jan, and a string parser; answers with
// what the chain produced, as JSON.
events.on(`assistant:${assistant.id}`, async (event) => {
  const baseURL = event.messages.at(-1).content.trim();
  const models = await (await fetch(`${baseURL}/models`)).json();
  const model = models.data.map((m) => m.id).find((id) => !id.includes("MiniLM"));
  const llm = new ChatOpenAI({ model, apiKey: "unused", configuration: { baseURL }, maxTokens: 12, temperature: 0, maxRetries: 0 });
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You answer geography questions in one short sentence."],
    ["user", "What is the capital of {country}?"],
  ]);
  const chain = prompt.pipe(llm).pipe(new StringOutputParser());
  // Asked once before: a repeated prompt reuses its cached prefix, whose
  // greedy text can differ from a fresh one's, so both answers compared
  // below meet the same cache state.
  await chain.invoke({ country: "France" });
  const answer = await chain.invoke({ country: "France" });
  let streamed = "";
  for await (const piece of await chain.stream({ country: "France" })) streamed += piece;
  // LangChain's callbacks travel with the run through AsyncLocalStorage.
  const seen = [];
  const traced = RunnableLambda.from(async (x) => x.toUpperCase());
  await traced.invoke("ok", { callbacks: [{ handleChainStart: (_c, input) => seen.push(input) }] });
  return JSON.stringify({ model, answer, streamed, seen });
});
