// `events`: the bus shared by all assistants, the API server and the CLI.
const ops = globalThis.Deno.core.ops;

/** pattern -> array of { fn, once } */
const handlers = new Map();

function checkTopic(topic, what) {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new TypeError("events." + what + ": the topic must be a non-empty string");
  }
}

function matches(pattern, topic) {
  return pattern.endsWith("*") ? topic.startsWith(pattern.slice(0, -1)) : pattern === topic;
}

function add(topic, fn, once) {
  checkTopic(topic, once ? "once" : "on");
  if (typeof fn !== "function") {
    throw new TypeError("events." + (once ? "once" : "on") + ": the handler must be a function");
  }
  let list = handlers.get(topic);
  if (!list) {
    ops.op_jan_events_subscribe(topic);
    handlers.set(topic, (list = []));
  }
  list.push({ fn, once });
  return () => off(topic, fn);
}

export function on(topic, handler) {
  return add(topic, handler, false);
}

/**
 * Calls `handler` for the next event on `topic` only. Without a handler,
 * returns a Promise of the next event's payload.
 */
export function once(topic, handler) {
  if (handler === undefined) {
    return new Promise((resolve) => add(topic, (payload) => resolve(payload), true));
  }
  return add(topic, handler, true);
}

export function off(topic, handler) {
  const list = handlers.get(topic);
  if (!list) return;
  const i = list.findIndex((h) => h.fn === handler);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0 || handler === undefined) {
    handlers.delete(topic);
    ops.op_jan_events_unsubscribe(topic);
  }
}

// The hops of the event whose handler is running: an emit it makes is
// caused by that event and counts one hop more, and the bus drops events
// past its hop limit, so events bouncing between assistants die out. The
// count lives in the async context (the engine's continuation-preserved
// data, which node:async_hooks's AsyncLocalStorage also uses), so it follows
// the handler through `await`s and timers: `async (n) => { await x;
// events.emit(...) }` still counts. An event that arrives while a handler
// awaits (a reply) does not change the awaiting handler's count.
const core = globalThis.Deno.core;
const HOPS = Symbol("jan.hops");

function causeHops() {
  const ctx = core.getAsyncContext();
  return ctx instanceof Map && ctx.has(HOPS) ? ctx.get(HOPS) : -1;
}

/** Runs `fn` (an event's handlers) as caused by an event with `hops`. */
export function withCause(hops, fn) {
  const previous = core.getAsyncContext();
  const next = new Map(previous instanceof Map ? previous : undefined);
  next.set(HOPS, hops);
  core.setAsyncContext(next);
  try {
    return fn();
  } finally {
    core.setAsyncContext(previous);
  }
}

let emitHook = null;
/** Set by the request/reply layer: sees every emit before it goes out. */
export function setEmitHook(hook) {
  emitHook = hook;
}

export function emit(topic, payload) {
  checkTopic(topic, "emit");
  // Payloads are JSON: send exactly what JSON.stringify would keep.
  const value = payload === undefined ? null : JSON.parse(JSON.stringify(payload) ?? "null");
  ops.op_jan_events_emit(topic, value, causeHops() + 1);
  if (emitHook) emitHook(topic, value);
}

/** The handlers that an event on `topic` reaches, in subscription order. */
export function handlersFor(topic) {
  const out = [];
  for (const [pattern, list] of handlers) {
    if (!matches(pattern, topic)) continue;
    for (const h of list.slice()) {
      if (h.once) off(pattern, h.fn);
      out.push(h.fn);
    }
  }
  return out;
}

/**
 * Asks another assistant (`assistant:<id>`) and resolves to its answer's
 * text: a user turn (a string) or `{ messages, model?, instructions? }`.
 * Only that assistant can answer, and only the asker sees the answer.
 */
export function request(topic, payload, options = {}) {
  checkTopic(topic, "request");
  const timeout = options && options.timeout !== undefined ? Number(options.timeout) : 60000;
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    return Promise.reject(new TypeError("events.request: timeout must be a positive, finite number of milliseconds"));
  }
  const value = payload === undefined ? null : JSON.parse(JSON.stringify(payload) ?? "null");
  return ops.op_jan_events_request(topic, value, timeout, causeHops() + 1);
}

export const events = { on, once, off, emit, request };
