// node running the same LangChain import + chain build as
// bench/assistants/langchain-load, printing "ok".
import { build } from "../assistants/langchain-load/src/chain.js";

console.log(build());
