// Shared with bench/node/langchain-load.mjs: import LangChain and build a
// chain (no model call).
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatOpenAI } from "@langchain/openai";

export function build() {
  const llm = new ChatOpenAI({ model: "m", apiKey: "x", configuration: { baseURL: "http://127.0.0.1:9/v1" } });
  const chain = ChatPromptTemplate.fromMessages([["user", "{q}"]]).pipe(llm).pipe(new StringOutputParser());
  return chain ? "ok" : "no";
}
