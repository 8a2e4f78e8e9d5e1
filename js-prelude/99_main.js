// Entry point of the @janhq/core extension: builds the public API, installs
// the Node-ish globals, and runs this assistant's side of the request/reply
// contract.
import "ext:jan_core/00_web.js";
import "ext:jan_core/40_fetch.js";
import { events, handlersFor, setCause, setEmitHook } from "ext:jan_core/10_events.js";
import { makeModels } from "ext:jan_core/20_models.js";
import { setCoreApi } from "ext:jan_core/30_require.js";
import { runTool, tools } from "ext:jan_core/50_tools.js";

const core = globalThis.Deno.core;
const ops = core.ops;

const info = ops.op_jan_init();
const assistant = Object.freeze(info.assistant);
const models = makeModels(info.models, assistant.instructions);
const api = Object.freeze({ events, models, assistant, tools });
globalThis[Symbol.for("jan.core")] = api;
setCoreApi(api);

globalThis.process = {
  // Only the variables granted in permissions.env.
  env: { ...info.env },
  argv: [],
  platform: "jan",
  version: "",
  versions: {},
  nextTick: (cb, ...args) => queueMicrotask(() => cb(...args)),
  cwd: () => "/",
};

// Requests not yet answered, oldest first.
const pending = [];

function errorOf(e) {
  if (e instanceof Error) {
    return { message: e.message, stack: String(e.stack ?? "") , name: e.name };
  }
  return { message: String(e), stack: "", name: "Error" };
}

function finish(req) {
  req.replied = true;
  const i = pending.indexOf(req);
  if (i >= 0) pending.splice(i, 1);
}

function fail(req, e) {
  if (req.replied) return;
  finish(req);
  const err = errorOf(e);
  ops.op_jan_reply(req.id, "error", err);
}

async function deliver(req, value) {
  if (req.replied) return;
  if (typeof value === "string") {
    finish(req);
    ops.op_jan_reply(req.id, "done", value);
    return;
  }
  if (value && typeof value === "object" && typeof value[Symbol.asyncIterator] === "function") {
    finish(req);
    try {
      let text = "";
      for await (const chunk of value) {
        const s = typeof chunk === "string" ? chunk : chunk && typeof chunk.content === "string" ? chunk.content : String(chunk);
        text += s;
        ops.op_jan_reply(req.id, "delta", s);
      }
      ops.op_jan_reply(req.id, "done", text);
    } catch (e) {
      req.replied = false;
      fail(req, e);
    }
    return;
  }
  if (value && typeof value === "object" && Array.isArray(value.tool_calls) && value.tool_calls.length > 0) {
    let calls;
    try {
      calls = value.tool_calls.map(toolCall);
    } catch (e) {
      fail(req, e);
      return;
    }
    finish(req);
    ops.op_jan_reply(req.id, "tool_calls", calls);
    ops.op_jan_reply(req.id, "done", typeof value.content === "string" ? value.content : "");
    return;
  }
  if (value && typeof value === "object" && typeof value.content === "string") {
    finish(req);
    ops.op_jan_reply(req.id, "done", value.content);
    return;
  }
  fail(req, new TypeError("the reply must be a string, { content }, { tool_calls }, or an async iterable of strings; got " + JSON.stringify(value)));
}

// One of a reply's tool calls, in OpenAI's shape: `{ name, arguments }` or
// `{ function: { name, arguments } }`; arguments as an object or a JSON
// string; an id is made up when missing.
function toolCall(c) {
  const fn = c && typeof c === "object" ? (c.function ?? c) : undefined;
  if (!fn || typeof fn.name !== "string" || fn.name === "") {
    throw new TypeError("each tool call needs a function name; got " + JSON.stringify(c));
  }
  const args = fn.arguments === undefined ? "{}" : typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments);
  const id = typeof c.id === "string" && c.id !== "" ? c.id : "call_" + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
  return { id, type: "function", function: { name: fn.name, arguments: args } };
}

// The seed's pattern: a handler answers by emitting on its own topic.
setEmitHook((topic, payload) => {
  if (topic === info.topic && pending.length > 0) {
    const req = pending.find((r) => !r.replied);
    if (req) deliver(req, payload);
  }
});

function dispatch(event) {
  setCause(event.hops);
  try {
    dispatchNow(event);
  } finally {
    setCause(-1);
  }
}

function dispatchNow(event) {
  const { topic, payload, source } = event;
  // A call to a registered tool: the host delivers these to this isolate
  // only (never through the bus).
  if (topic === info.topic && source === "host" && payload && payload.type === "tool_call" && typeof payload.id === "string") {
    runTool(payload);
    return;
  }
  // Requests come from the host only; anything else on this topic (another
  // assistant emitting here) is an ordinary event.
  const isRequest = topic === info.topic && source === "host" && payload && payload.type === "message" && typeof payload.id === "string";
  const fns = handlersFor(topic);
  if (!isRequest) {
    for (const fn of fns) {
      try {
        const r = fn(payload, { topic, source });
        if (r && typeof r.then === "function") r.then(undefined, (e) => console.error(e));
      } catch (e) {
        console.error(e);
      }
    }
    return;
  }
  const req = { id: payload.id, replied: false };
  pending.push(req);
  if (fns.length === 0) {
    fail(req, new Error("no handler for " + topic));
    return;
  }
  for (const fn of fns) {
    let result;
    try {
      result = fn(payload, { topic, source });
    } catch (e) {
      console.error(e);
      fail(req, e);
      continue;
    }
    Promise.resolve(result).then(
      (value) => { if (value !== undefined) return deliver(req, value); },
      (e) => { console.error(e); fail(req, e); },
    );
  }
}

// Once loaded, a stray rejection is logged and the assistant keeps running.
// While its modules load, it is not handled here: it fails the load (a
// module that throws must not leave an assistant without its handlers).
core.setUnhandledPromiseRejectionHandler((_promise, reason) => {
  if (!ops.op_jan_loaded()) return false;
  console.error("Uncaught (in promise)", reason);
  return true;
});

(async () => {
  while (true) {
    const event = await ops.op_jan_events_next();
    if (event === null) return;
    dispatch(event);
  }
})();

// Ops are the host's internal interface: assistant code reaches them only
// through the API above. Everything here captured what it needs already.
delete globalThis.Deno;
delete globalThis.__bootstrap;
