// Web-platform globals that common npm packages expect, built on deno_core's
// primitives and a few jan ops. Loaded once per assistant isolate.
const core = globalThis.Deno.core;
const ops = core.ops;

// ---- console ---------------------------------------------------------------

function inspect(v, depth, seen) {
  if (typeof v === "string") return depth ? JSON.stringify(v) : v;
  if (typeof v === "bigint") return v + "n";
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "function") return "[Function " + (v.name || "(anonymous)") + "]";
  if (v === null || typeof v !== "object") return String(v);
  if (v instanceof Error) return v.stack ? String(v.stack) : v.name + ": " + v.message;
  if (seen.has(v)) return "[Circular]";
  if (depth > 3) return Array.isArray(v) ? "[Array]" : "[Object]";
  seen.add(v);
  try {
    if (Array.isArray(v)) {
      return "[ " + v.map((x) => inspect(x, depth + 1, seen)).join(", ") + " ]";
    }
    if (v instanceof Map) {
      const parts = [];
      for (const [k, x] of v) parts.push(inspect(k, depth + 1, seen) + " => " + inspect(x, depth + 1, seen));
      return "Map(" + v.size + ") { " + parts.join(", ") + " }";
    }
    if (v instanceof Set) {
      return "Set(" + v.size + ") { " + [...v].map((x) => inspect(x, depth + 1, seen)).join(", ") + " }";
    }
    if (v instanceof Date) return v.toISOString();
    if (ArrayBuffer.isView(v)) return v.constructor.name + "(" + v.length + ") [ " + Array.from(v).join(", ") + " ]";
    const keys = Object.keys(v);
    if (keys.length === 0) return "{}";
    return "{ " + keys.map((k) => k + ": " + inspect(v[k], depth + 1, seen)).join(", ") + " }";
  } catch (_) {
    return "[object]";
  } finally {
    seen.delete(v);
  }
}

function format(args) {
  if (args.length === 0) return "";
  let out = [];
  let i = 0;
  if (typeof args[0] === "string" && args[0].includes("%")) {
    i = 1;
    out.push(args[0].replace(/%[sdifjoO%]/g, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      if (m === "%d" || m === "%i") return String(parseInt(a, 10));
      if (m === "%f") return String(parseFloat(a));
      if (m === "%j") return JSON.stringify(a);
      return inspect(a, m === "%s" ? 0 : 1, new Set());
    }));
  }
  for (; i < args.length; i++) out.push(inspect(args[i], 0, new Set()));
  return out.join(" ");
}

const counts = new Map();
const timersByLabel = new Map();
const log = (level) => (...args) => ops.op_jan_log(level, format(args));
globalThis.console = {
  log: log("info"),
  info: log("info"),
  debug: log("debug"),
  trace: log("debug"),
  warn: log("warn"),
  error: log("error"),
  dir: (v) => ops.op_jan_log("info", inspect(v, 0, new Set())),
  assert: (cond, ...args) => {
    if (!cond) ops.op_jan_log("error", "Assertion failed" + (args.length ? ": " + format(args) : ""));
  },
  count: (label = "default") => {
    const n = (counts.get(label) || 0) + 1;
    counts.set(label, n);
    ops.op_jan_log("info", label + ": " + n);
  },
  time: (label = "default") => timersByLabel.set(label, ops.op_jan_now()),
  timeEnd: (label = "default") => {
    const t = timersByLabel.get(label);
    timersByLabel.delete(label);
    if (t !== undefined) ops.op_jan_log("info", label + ": " + (ops.op_jan_now() - t).toFixed(3) + "ms");
  },
  table: (v) => ops.op_jan_log("info", inspect(v, 0, new Set())),
  group: () => {},
  groupEnd: () => {},
};

// ---- timers ----------------------------------------------------------------

const timers = new Map();
function makeTimer(repeat, cb, ms, args) {
  if (typeof cb !== "function") {
    throw new TypeError("The callback must be a function");
  }
  let timer;
  // The callback runs in the async context it was scheduled from (what
  // AsyncLocalStorage reads), as in Node and Deno.
  const context = core.getAsyncContext();
  const run = (...a) => {
    if (!repeat) timers.delete(timer._timerId);
    const previous = core.getAsyncContext();
    core.setAsyncContext(context);
    try {
      cb(...a);
    } finally {
      core.setAsyncContext(previous);
    }
  };
  timer = core.createTimer(run, ms, args, repeat, true);
  timers.set(timer._timerId, timer);
  return timer._timerId;
}
function clearTimer(id) {
  // node:timers' Timeout objects cancel through the global functions too.
  if (id !== null && typeof id === "object" && typeof id.close === "function") {
    id.close();
    return;
  }
  const t = timers.get(id);
  if (t) {
    timers.delete(id);
    core.cancelTimer(t);
  }
}
globalThis.setTimeout = (cb, ms, ...args) => makeTimer(false, cb, ms, args);
globalThis.setInterval = (cb, ms, ...args) => makeTimer(true, cb, ms, args);
globalThis.clearTimeout = clearTimer;
globalThis.clearInterval = clearTimer;
if (typeof globalThis.queueMicrotask !== "function") {
  globalThis.queueMicrotask = (cb) => {
    if (typeof cb !== "function") throw new TypeError("The callback must be a function");
    Promise.resolve().then(cb);
  };
}

// ---- structuredClone, encoding, base64 --------------------------------------

if (typeof globalThis.structuredClone !== "function") {
  globalThis.structuredClone = (value) => core.structuredClone(value);
}

class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input = "") { return core.encode(String(input)); }
  encodeInto(input, dest) {
    const bytes = core.encode(String(input));
    const n = Math.min(bytes.length, dest.length);
    dest.set(bytes.subarray(0, n));
    return { read: input.length, written: n };
  }
}

class TextDecoder {
  #label;
  #fatal;
  #pending = null;
  constructor(label = "utf-8", options = {}) {
    const l = String(label).toLowerCase();
    if (l !== "utf-8" && l !== "utf8" && l !== "unicode-1-1-utf-8") {
      throw new RangeError("TextDecoder: only utf-8 is supported, not " + label);
    }
    this.#label = "utf-8";
    this.#fatal = !!options.fatal;
  }
  get encoding() { return this.#label; }
  get fatal() { return this.#fatal; }
  decode(input, options = {}) {
    let bytes = input === undefined ? new Uint8Array(0)
      : input instanceof ArrayBuffer ? new Uint8Array(input)
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (this.#pending) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
      this.#pending = null;
    }
    if (options.stream) {
      // Hold back an incomplete UTF-8 sequence at the end for the next call.
      let cut = bytes.length;
      for (let i = Math.max(0, bytes.length - 3); i < bytes.length; i++) {
        const b = bytes[i];
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
        if (need && i + need > bytes.length) { cut = i; break; }
      }
      if (cut < bytes.length) {
        this.#pending = bytes.slice(cut);
        bytes = bytes.subarray(0, cut);
      }
    }
    if (this.#fatal) return ops.op_jan_utf8_decode_fatal(bytes);
    let s = core.decode(bytes);
    if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    return s;
  }
}
globalThis.TextEncoder = TextEncoder;
globalThis.TextDecoder = TextDecoder;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
globalThis.btoa = (s) => {
  s = String(s);
  let out = "";
  for (let i = 0; i < s.length; i += 3) {
    const c = [s.charCodeAt(i), s.charCodeAt(i + 1), s.charCodeAt(i + 2)];
    for (const x of c) {
      if (x > 255) throw new DOMException("btoa: the string has characters outside Latin1", "InvalidCharacterError");
    }
    const n = (c[0] << 16) | ((c[1] || 0) << 8) | (c[2] || 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
      (i + 1 < s.length ? B64[(n >> 6) & 63] : "=") +
      (i + 2 < s.length ? B64[n & 63] : "=");
  }
  return out;
};
globalThis.atob = (s) => {
  s = String(s).replace(/[\t\n\f\r ]/g, "");
  if (s.length % 4 === 0) s = s.replace(/==?$/, "");
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) {
    throw new DOMException("atob: the string is not valid base64", "InvalidCharacterError");
  }
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const ch of s) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 255);
    }
  }
  return out;
};

// ---- DOMException, Event, EventTarget, AbortController ---------------------

class DOMException extends Error {
  constructor(message = "", name = "Error") {
    super(message);
    this.name = name;
  }
}
if (typeof globalThis.DOMException !== "function") globalThis.DOMException = DOMException;

class Event {
  #type;
  #stop = false;
  constructor(type, init = {}) {
    if (arguments.length === 0) throw new TypeError("Event: type is required");
    this.#type = String(type);
    this.bubbles = !!init.bubbles;
    this.cancelable = !!init.cancelable;
    this.defaultPrevented = false;
    this.timeStamp = ops.op_jan_now();
    this.target = null;
    this.currentTarget = null;
  }
  get type() { return this.#type; }
  preventDefault() { if (this.cancelable) this.defaultPrevented = true; }
  stopImmediatePropagation() { this.#stop = true; }
  stopPropagation() {}
  get _stopped() { return this.#stop; }
}
class CustomEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.detail = init.detail === undefined ? null : init.detail;
  }
}

class EventTarget {
  #listeners = new Map();
  addEventListener(type, listener, options) {
    if (!listener) return;
    const once = typeof options === "object" && options !== null && !!options.once;
    const signal = typeof options === "object" && options !== null ? options.signal : undefined;
    let list = this.#listeners.get(type);
    if (!list) this.#listeners.set(type, (list = []));
    if (list.some((l) => l.listener === listener)) return;
    const entry = { listener, once };
    list.push(entry);
    if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, listener));
  }
  removeEventListener(type, listener) {
    const list = this.#listeners.get(type);
    if (!list) return;
    const i = list.findIndex((l) => l.listener === listener);
    if (i >= 0) list.splice(i, 1);
  }
  dispatchEvent(event) {
    event.target = this;
    event.currentTarget = this;
    const list = (this.#listeners.get(event.type) || []).slice();
    for (const { listener, once } of list) {
      if (once) this.removeEventListener(event.type, listener);
      try {
        if (typeof listener === "function") listener.call(this, event);
        else listener.handleEvent(event);
      } catch (e) {
        console.error(e);
      }
      if (event._stopped) break;
    }
    const handler = this["on" + event.type];
    if (typeof handler === "function") {
      // As a listener's: an error in a handler is reported, never thrown
      // into the code that dispatched (a socket's read loop, say).
      try {
        handler.call(this, event);
      } catch (e) {
        console.error(e);
      }
    }
    return !event.defaultPrevented;
  }
}

class AbortSignal extends EventTarget {
  aborted = false;
  reason = undefined;
  onabort = null;
  throwIfAborted() { if (this.aborted) throw this.reason; }
  static abort(reason) {
    const c = new AbortController();
    c.abort(reason);
    return c.signal;
  }
  static timeout(ms) {
    const c = new AbortController();
    setTimeout(() => c.abort(new DOMException("The operation timed out.", "TimeoutError")), ms);
    return c.signal;
  }
  static any(signals) {
    const c = new AbortController();
    for (const s of signals) {
      if (s.aborted) { c.abort(s.reason); break; }
      s.addEventListener("abort", () => c.abort(s.reason), { once: true });
    }
    return c.signal;
  }
}
class AbortController {
  #signal = new AbortSignal();
  get signal() { return this.#signal; }
  abort(reason) {
    const s = this.#signal;
    if (s.aborted) return;
    s.aborted = true;
    s.reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
    s.dispatchEvent(new Event("abort"));
  }
}
// MessageChannel / MessagePort within one assistant: a message is a
// structured clone delivered to the other port on a later task, once that
// port is started (onmessage or start()).
class MessageEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.data = init.data;
    this.origin = init.origin ?? "";
    this.lastEventId = init.lastEventId ?? "";
    this.source = init.source ?? null;
    this.ports = init.ports ?? [];
  }
}

class MessagePort extends EventTarget {
  #other = null;
  #queue = [];
  #started = false;
  #closed = false;
  #onmessage = null;
  static _pair(a, b) {
    a.#other = b;
    b.#other = a;
  }
  postMessage(message) {
    const other = this.#other;
    if (this.#closed || !other || other.#closed) return;
    other.#queue.push(structuredClone(message));
    other.#flush();
  }
  #flush() {
    if (!this.#started) return;
    setTimeout(() => {
      while (this.#queue.length && !this.#closed) {
        this.dispatchEvent(new MessageEvent("message", { data: this.#queue.shift() }));
      }
    }, 0);
  }
  start() {
    this.#started = true;
    this.#flush();
  }
  close() {
    this.#closed = true;
  }
  get onmessage() {
    return this.#onmessage;
  }
  // EventTarget calls onmessage itself; setting it starts the port.
  set onmessage(fn) {
    this.#onmessage = typeof fn === "function" ? fn : null;
    if (this.#onmessage) this.start();
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
}

class MessageChannel {
  constructor() {
    this.port1 = new MessagePort();
    this.port2 = new MessagePort();
    MessagePort._pair(this.port1, this.port2);
  }
}

globalThis.MessageEvent = MessageEvent;
globalThis.MessagePort = MessagePort;
globalThis.MessageChannel = MessageChannel;
globalThis.Event = Event;
globalThis.CustomEvent = CustomEvent;
globalThis.EventTarget = EventTarget;
globalThis.AbortSignal = AbortSignal;
globalThis.AbortController = AbortController;

// ---- URL -------------------------------------------------------------------

class URLSearchParams {
  #list = [];
  #url = null;
  constructor(init = "") {
    if (typeof init === "string") {
      this.#parse(init);
    } else if (init && typeof init[Symbol.iterator] === "function") {
      for (const [k, v] of init) this.#list.push([String(k), String(v)]);
    } else if (init && typeof init === "object") {
      for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
    }
  }
  #parse(s) {
    this.#list = [];
    if (s.startsWith("?")) s = s.slice(1);
    for (const part of s.split("&")) {
      if (!part) continue;
      const i = part.indexOf("=");
      const k = i < 0 ? part : part.slice(0, i);
      const v = i < 0 ? "" : part.slice(i + 1);
      this.#list.push([decodeForm(k), decodeForm(v)]);
    }
  }
  static _attach(params, url, query) { params.#url = url; params.#parse(query); }
  #update() { if (this.#url) this.#url._setQuery(this.toString()); }
  append(k, v) { this.#list.push([String(k), String(v)]); this.#update(); }
  delete(k) { this.#list = this.#list.filter(([x]) => x !== k); this.#update(); }
  get(k) { const e = this.#list.find(([x]) => x === k); return e ? e[1] : null; }
  getAll(k) { return this.#list.filter(([x]) => x === k).map(([, v]) => v); }
  has(k) { return this.#list.some(([x]) => x === k); }
  set(k, v) {
    const i = this.#list.findIndex(([x]) => x === k);
    if (i < 0) this.#list.push([String(k), String(v)]);
    else {
      this.#list[i][1] = String(v);
      this.#list = this.#list.filter(([x], j) => x !== k || j === i);
    }
    this.#update();
  }
  sort() { this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this.#update(); }
  forEach(cb, thisArg) { for (const [k, v] of this.#list) cb.call(thisArg, v, k, this); }
  keys() { return this.#list.map(([k]) => k)[Symbol.iterator](); }
  values() { return this.#list.map(([, v]) => v)[Symbol.iterator](); }
  entries() { return this.#list.map(([k, v]) => [k, v])[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  get size() { return this.#list.length; }
  toString() { return this.#list.map(([k, v]) => encodeForm(k) + "=" + encodeForm(v)).join("&"); }
}
function decodeForm(s) {
  try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch (_) { return s; }
}
function encodeForm(s) {
  return encodeURIComponent(s).replace(/%20/g, "+").replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

const PARTS = Symbol("url.parts");
const PARAMS = Symbol("url.params");
const URL_PARTS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];
class URL {
  constructor(url, base) {
    const parts = ops.op_jan_url_parse(String(url), base === undefined ? null : String(base));
    if (parts === null) throw new TypeError("Invalid URL: " + url);
    Object.defineProperty(this, PARTS, { value: parts, writable: true });
    Object.defineProperty(this, PARAMS, { value: new URLSearchParams() });
    URLSearchParams._attach(this[PARAMS], this, parts.search);
  }
  static canParse(url, base) {
    return ops.op_jan_url_parse(String(url), base === undefined ? null : String(base)) !== null;
  }
  static parse(url, base) {
    try { return new URL(url, base); } catch (_) { return null; }
  }
  _setQuery(q) {
    const parts = ops.op_jan_url_set(this[PARTS].href, "search", q);
    if (parts !== null) this[PARTS] = parts;
  }
  get searchParams() { return this[PARAMS]; }
  toString() { return this[PARTS].href; }
  toJSON() { return this[PARTS].href; }
}
for (const p of URL_PARTS) {
  Object.defineProperty(URL.prototype, p, {
    get() { return this[PARTS][p]; },
    set(v) {
      if (p === "origin") return;
      const parts = p === "href"
        ? ops.op_jan_url_parse(String(v), null)
        : ops.op_jan_url_set(this[PARTS].href, p, String(v));
      if (parts === null) {
        if (p === "href") throw new TypeError("Invalid URL: " + v);
        return;
      }
      this[PARTS] = parts;
      if (p === "href" || p === "search") URLSearchParams._attach(this[PARAMS], this, parts.search);
    },
    enumerable: true,
    configurable: true,
  });
}
globalThis.URL = URL;
globalThis.URLSearchParams = URLSearchParams;

// ---- crypto, performance -----------------------------------------------------

globalThis.crypto = {
  getRandomValues(array) {
    if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array) {
      throw new TypeError("getRandomValues: expected an integer typed array");
    }
    if (array.byteLength > 65536) {
      throw new DOMException("getRandomValues: at most 65536 bytes", "QuotaExceededError");
    }
    const bytes = ops.op_jan_random_bytes(array.byteLength);
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes);
    return array;
  },
  randomUUID() { return ops.op_jan_random_uuid(); },
};

// crypto.subtle: digests (SHA-1/256/384/512) and HMAC keys (raw import,
// generate, export, sign, verify), computed in Rust. Other algorithms
// reject with NotSupportedError.
const HASHES = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
// HMAC keys default to the hash's block size.
const BLOCK_BYTES = { sha1: 64, sha256: 64, sha384: 128, sha512: 128 };
function hashName(alg) {
  const name = typeof alg === "string" ? alg : alg?.name;
  const h = HASHES[String(name).toUpperCase()];
  if (!h) throw new DOMException(`Unrecognized algorithm name: ${name}`, "NotSupportedError");
  return h;
}
function bufferSource(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("Argument is not an ArrayBuffer or ArrayBufferView");
}
const keyBytes = new WeakMap();
class CryptoKey {
  #type;
  #extractable;
  #algorithm;
  #usages;
  constructor(type, extractable, algorithm, usages) {
    this.#type = type;
    this.#extractable = extractable;
    this.#algorithm = Object.freeze(algorithm);
    this.#usages = Object.freeze(usages);
  }
  get type() { return this.#type; }
  get extractable() { return this.#extractable; }
  get algorithm() { return this.#algorithm; }
  get usages() { return this.#usages; }
}
function usable(key, usage) {
  if (!key.usages.includes(usage)) throw new DOMException(`key usages do not include '${usage}'`, "InvalidAccessError");
}
function hmacKey(bytes, hash, extractable, usages) {
  const key = new CryptoKey("secret", extractable, { name: "HMAC", hash: Object.freeze({ name: Object.keys(HASHES).find((k) => HASHES[k] === hash) }), length: bytes.length * 8 }, usages);
  keyBytes.set(key, bytes.slice());
  return key;
}
function hmacOf(key, data) {
  const bytes = keyBytes.get(key);
  if (!bytes || key.algorithm.name !== "HMAC") throw new DOMException("The key is not an HMAC key", "InvalidAccessError");
  return ops.op_jan_hash(HASHES[key.algorithm.hash.name], bufferSource(data), bytes);
}
const subtle = {
  async digest(alg, data) {
    return ops.op_jan_hash(hashName(alg), bufferSource(data), null).buffer;
  },
  async importKey(format, keyData, alg, extractable, usages) {
    if (format !== "raw" || (alg?.name ?? alg) !== "HMAC") {
      throw new DOMException(`importKey: only raw HMAC keys are supported in jan assistants`, "NotSupportedError");
    }
    return hmacKey(bufferSource(keyData), hashName(alg.hash), !!extractable, [...usages]);
  },
  async generateKey(alg, extractable, usages) {
    if ((alg?.name ?? alg) !== "HMAC") throw new DOMException("generateKey: only HMAC keys are supported in jan assistants", "NotSupportedError");
    const hash = hashName(alg.hash);
    const length = alg.length ? alg.length / 8 : BLOCK_BYTES[hash];
    return hmacKey(globalThis.crypto.getRandomValues(new Uint8Array(length)), hash, !!extractable, [...usages]);
  },
  async exportKey(format, key) {
    if (format !== "raw") throw new DOMException("exportKey: only raw keys are supported in jan assistants", "NotSupportedError");
    if (!key.extractable) throw new DOMException("key is not extractable", "InvalidAccessError");
    return keyBytes.get(key).slice().buffer;
  },
  async sign(alg, key, data) {
    if ((alg?.name ?? alg) !== "HMAC") throw new DOMException("sign: only HMAC is supported in jan assistants", "NotSupportedError");
    usable(key, "sign");
    return hmacOf(key, data).buffer;
  },
  async verify(alg, key, signature, data) {
    if ((alg?.name ?? alg) !== "HMAC") throw new DOMException("verify: only HMAC is supported in jan assistants", "NotSupportedError");
    usable(key, "verify");
    const want = hmacOf(key, data);
    const got = bufferSource(signature);
    if (want.length !== got.length) return false;
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff |= want[i] ^ got[i];
    return diff === 0;
  },
};
for (const name of ["encrypt", "decrypt", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]) {
  subtle[name] = async () => {
    throw new DOMException(`crypto.subtle.${name} is not supported in jan assistants (digest and HMAC are)`, "NotSupportedError");
  };
}
globalThis.crypto.subtle = subtle;
globalThis.CryptoKey = CryptoKey;
globalThis.performance = {
  now() { return ops.op_jan_now(); },
  timeOrigin: Date.now() - ops.op_jan_now(),
};
