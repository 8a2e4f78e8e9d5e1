// Entry point of the @janhq/core extension: builds the public API, installs
// the Node-ish globals, and runs this assistant's side of the request/reply
// contract.
import "ext:jan_core/00_web.js";
import "ext:jan_core/40_fetch.js";
import "ext:jan_core/45_streams.js";
import "ext:jan_core/47_eventsource.js";
import "ext:jan_core/48_websocket.js";
import "ext:jan_core/60_intl.js";
import { events, handlersFor, setEmitHook, withCause } from "ext:jan_core/10_events.js";
import { makeModels } from "ext:jan_core/20_models.js";
import { loadBuiltin, setCoreApi, setHostInfo } from "ext:jan_core/30_require.js";
import { runTool, tools } from "ext:jan_core/50_tools.js";

const core = globalThis.Deno.core;
const ops = core.ops;

const info = ops.op_jan_init();
const assistant = Object.freeze(info.assistant);
const models = makeModels(info.models, assistant.instructions);
const api = Object.freeze({ events, models, assistant, tools });
globalThis[Symbol.for("jan.core")] = api;
setCoreApi(api);

setHostInfo(info);

// Node's `process`, as far as an assistant has one: the environment is only
// the variables granted in permissions.env; the working folder is the
// assistant's folder; it cannot exit the server.
const startedAt = ops.op_jan_now();
const processListeners = new Map();
const proc = {
  env: { ...info.env },
  argv: [],
  execArgv: [],
  platform: info.os.platform,
  arch: info.os.arch,
  // The Node API level the built-ins follow (as Deno reports one): packages
  // such as undici check it before they load.
  version: "v22.12.0",
  versions: { node: "22.12.0", jan: "0.1.0" },
  pid: 0,
  ppid: 0,
  title: "jan-assistant",
  exitCode: undefined,
  nextTick: (cb, ...args) => queueMicrotask(() => cb(...args)),
  cwd: () => info.root,
  chdir: () => {
    throw new Error("process.chdir() is not available in jan assistants");
  },
  exit: (code) => {
    throw new Error(`process.exit(${code ?? ""}) is not available in jan assistants: throw an error or return from the handler`);
  },
  abort: () => {
    throw new Error("process.abort() is not available in jan assistants");
  },
  kill: () => {
    throw new Error("process.kill() is not available in jan assistants");
  },
  umask: () => 0o22,
  uptime: () => (ops.op_jan_now() - startedAt) / 1000,
  hrtime: Object.assign(
    (prev) => {
      const ns = BigInt(Math.round(ops.op_jan_now() * 1e6));
      let s = Number(ns / 1000000000n);
      let n = Number(ns % 1000000000n);
      if (prev) {
        s -= prev[0];
        n -= prev[1];
        if (n < 0) {
          s -= 1;
          n += 1e9;
        }
      }
      return [s, n];
    },
    { bigint: () => BigInt(Math.round(ops.op_jan_now() * 1e6)) },
  ),
  memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
  cpuUsage: () => ({ user: 0, system: 0 }),
  emitWarning: (warning, type) => console.warn(`${typeof type === "string" ? type : "Warning"}: ${warning?.message ?? warning}`),
  on(event, fn) {
    if (!processListeners.has(event)) processListeners.set(event, []);
    processListeners.get(event).push(fn);
    return proc;
  },
  off(event, fn) {
    const l = processListeners.get(event);
    if (l) processListeners.set(event, l.filter((f) => f !== fn));
    return proc;
  },
  emit(event, ...args) {
    const l = processListeners.get(event) ?? [];
    for (const fn of l.slice()) fn(...args);
    return l.length > 0;
  },
  listeners: (event) => (processListeners.get(event) ?? []).slice(),
  listenerCount: (event) => (processListeners.get(event) ?? []).length,
  stdout: { write: (s) => (ops.op_jan_log("info", String(s).replace(/\n$/, "")), true), isTTY: false, fd: 1 },
  stderr: { write: (s) => (ops.op_jan_log("error", String(s).replace(/\n$/, "")), true), isTTY: false, fd: 2 },
  stdin: { isTTY: false, fd: 0 },
  features: {},
  release: { name: "jan" },
  config: { variables: {} },
};
proc.once = proc.on;
proc.addListener = proc.on;
proc.removeListener = proc.off;
proc.removeAllListeners = (event) => {
  if (event === undefined) processListeners.clear();
  else processListeners.delete(event);
  return proc;
};
proc.prependListener = proc.on;
globalThis.process = proc;

// Node's other globals. `Buffer` loads node:buffer on first use.
globalThis.global = globalThis;
Object.defineProperty(globalThis, "Buffer", {
  configurable: true,
  enumerable: false,
  get() {
    const { Buffer } = loadBuiltin("buffer");
    Object.defineProperty(globalThis, "Buffer", { value: Buffer, configurable: true, writable: true, enumerable: false });
    return Buffer;
  },
  set(v) {
    Object.defineProperty(globalThis, "Buffer", { value: v, configurable: true, writable: true, enumerable: false });
  },
});
globalThis.setImmediate = (cb, ...args) => setTimeout(cb, 0, ...args);
globalThis.clearImmediate = (id) => clearTimeout(id);

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
  withCause(event.hops, () => dispatchNow(event));
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
