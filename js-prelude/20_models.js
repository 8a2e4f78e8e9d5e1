// `models`: the models this assistant may use. Generation runs in Rust, off
// the JS thread; these wrappers only move requests and text.
const ops = globalThis.Deno.core.ops;

function lastReplyText(response) {
  const choice = response && response.choices && response.choices[0];
  return choice && choice.message ? choice.message.content ?? "" : "";
}

function messagesFor(event, instructions) {
  const messages = Array.isArray(event && event.messages) ? event.messages.slice() : [];
  const system = (event && event.instructions) ?? instructions;
  if (system && !(messages[0] && messages[0].role === "system")) {
    messages.unshift({ role: "system", content: system });
  }
  return messages;
}

function makeModel(descriptor, instructions) {
  const id = descriptor.id;
  return Object.freeze({
    id,
    name: descriptor.name ?? id,
    object: "model",
    descriptor,
    /** An OpenAI chat-completion request in, a chat.completion object out. */
    async chat(request = {}) {
      return await ops.op_jan_model_chat(id, request);
    },
    /** An async iterable of text deltas. Breaking out of the loop cancels. */
    async *stream(request = {}) {
      const rid = ops.op_jan_model_stream_open(id, request);
      try {
        while (true) {
          const delta = await ops.op_jan_model_stream_next(rid);
          if (delta === null) return;
          yield delta;
        }
      } finally {
        ops.op_jan_model_stream_close(rid);
      }
    },
    /** Runs a request event's messages with the assistant's instructions. */
    async process(event) {
      const response = await this.chat({ messages: messagesFor(event, instructions) });
      return lastReplyText(response);
    },
    /** Embeddings: one array of floats per input text. */
    async embed(texts) {
      const list = Array.isArray(texts) ? texts : [texts];
      return await ops.op_jan_model_embed(id, list.map(String));
    },
  });
}

export function makeModels(descriptors, instructions) {
  const models = descriptors.map((d) => makeModel(d, instructions));
  Object.defineProperty(models, "get", { value: (id) => models.find((m) => m.id === id) });
  Object.defineProperty(models, "list", { value: () => models.slice() });
  return models;
}
