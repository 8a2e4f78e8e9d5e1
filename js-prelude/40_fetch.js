// fetch, Request, Response, Headers, and the ReadableStream their bodies
// are, on the host's fetch ops (runtime/host/src/fetch.rs). The host checks
// every URL, and every redirect, against permissions.net.
const ops = globalThis.Deno.core.ops;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---- Headers ---------------------------------------------------------------

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerName(n) {
  n = String(n);
  if (!TOKEN.test(n)) throw new TypeError("Invalid header name: " + JSON.stringify(n));
  return n.toLowerCase();
}

function headerValue(v) {
  v = String(v).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(v)) throw new TypeError("Invalid header value: " + JSON.stringify(v));
  return v;
}

class Headers {
  #list = [];
  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const pair of init.#list) this.#list.push(pair.slice());
    } else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
      for (const entry of init) {
        const pair = [...entry];
        if (pair.length !== 2) throw new TypeError("Headers: each entry must be a [name, value] pair");
        this.append(pair[0], pair[1]);
      }
    } else if (typeof init === "object") {
      for (const k of Object.keys(init)) this.append(k, init[k]);
    } else {
      throw new TypeError("Headers: expected an object, an iterable or Headers");
    }
  }
  append(name, value) {
    this.#list.push([headerName(name), headerValue(value)]);
  }
  delete(name) {
    const n = headerName(name);
    this.#list = this.#list.filter(([k]) => k !== n);
  }
  get(name) {
    const n = headerName(name);
    const values = this.#list.filter(([k]) => k === n).map(([, v]) => v);
    return values.length === 0 ? null : values.join(", ");
  }
  getSetCookie() {
    return this.#list.filter(([k]) => k === "set-cookie").map(([, v]) => v);
  }
  has(name) {
    const n = headerName(name);
    return this.#list.some(([k]) => k === n);
  }
  set(name, value) {
    const n = headerName(name);
    const v = headerValue(value);
    const i = this.#list.findIndex(([k]) => k === n);
    if (i < 0) {
      this.#list.push([n, v]);
      return;
    }
    this.#list[i] = [n, v];
    this.#list = this.#list.filter(([k], j) => k !== n || j === i);
  }
  forEach(callback, thisArg = undefined) {
    for (const [k, v] of this) callback.call(thisArg, v, k, this);
  }
  *entries() {
    const names = [...new Set(this.#list.map(([k]) => k))].sort();
    for (const n of names) {
      if (n === "set-cookie") {
        for (const v of this.getSetCookie()) yield [n, v];
      } else {
        yield [n, this.get(n)];
      }
    }
  }
  *keys() {
    for (const [k] of this.entries()) yield k;
  }
  *values() {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  get [Symbol.toStringTag]() {
    return "Headers";
  }
  /** Every field as sent, repeated names included. */
  static pairs(h) {
    return h.#list.map((p) => p.slice());
  }
}

// ---- ReadableStream --------------------------------------------------------

// The part of WHATWG streams that fetch bodies and the npm packages reading
// them use: an underlying source with start/pull/cancel, a default reader,
// async iteration, cancel and tee.
class ReadableStream {
  #queue = [];
  #state = "readable";
  #error = undefined;
  #source;
  #started;
  #pulling = null;
  #waiters = [];
  #reader = null;
  #controller;

  constructor(source = {}, _strategy = undefined) {
    if (source === null || typeof source !== "object") source = {};
    this.#source = source;
    const stream = this;
    this.#controller = {
      enqueue(chunk) {
        if (stream.#state !== "readable") throw new TypeError("ReadableStream: cannot enqueue after close");
        stream.#queue.push(chunk);
        stream.#wake();
      },
      close() {
        if (stream.#state !== "readable") return;
        stream.#state = "closed";
        stream.#wake();
      },
      error(e) {
        stream.#fail(e);
      },
      get desiredSize() {
        return stream.#state === "readable" ? Math.max(0, 1 - stream.#queue.length) : 0;
      },
    };
    this.#started = Promise.resolve()
      .then(() => (typeof source.start === "function" ? source.start(this.#controller) : undefined))
      .catch((e) => this.#fail(e));
  }

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r();
  }

  #fail(e) {
    if (this.#state !== "readable") return;
    this.#state = "errored";
    this.#error = e;
    this.#queue = [];
    this.#wake();
  }

  async #pull() {
    if (typeof this.#source.pull !== "function") {
      await new Promise((r) => this.#waiters.push(r));
      return;
    }
    if (!this.#pulling) {
      this.#pulling = Promise.resolve()
        .then(() => this.#source.pull(this.#controller))
        .catch((e) => this.#fail(e))
        .finally(() => { this.#pulling = null; });
    }
    await this.#pulling;
  }

  async _read() {
    await this.#started;
    for (;;) {
      if (this.#queue.length > 0) return { value: this.#queue.shift(), done: false };
      if (this.#state === "errored") throw this.#error;
      if (this.#state === "closed") return { value: undefined, done: true };
      await this.#pull();
    }
  }

  async _cancel(reason) {
    if (this.#state === "closed") return;
    if (this.#state === "errored") throw this.#error;
    this.#queue = [];
    this.#state = "closed";
    this.#wake();
    if (typeof this.#source.cancel === "function") await this.#source.cancel(reason);
  }

  get locked() {
    return this.#reader !== null;
  }

  cancel(reason = undefined) {
    if (this.#reader) return Promise.reject(new TypeError("ReadableStream is locked"));
    return this._cancel(reason);
  }

  getReader(options = undefined) {
    if (options && options.mode === "byob") throw new TypeError("ReadableStream: byob readers are not supported");
    if (this.#reader) throw new TypeError("ReadableStream is locked to a reader");
    const stream = this;
    let released = false;
    const reader = {
      read() {
        if (released) return Promise.reject(new TypeError("the reader was released"));
        return stream._read();
      },
      cancel(reason) {
        return stream._cancel(reason);
      },
      releaseLock() {
        released = true;
        if (stream.#reader === reader) stream.#reader = null;
      },
      get closed() {
        return (async () => {
          while (stream.#state === "readable") await new Promise((r) => stream.#waiters.push(r));
          if (stream.#state === "errored") throw stream.#error;
        })();
      },
    };
    this.#reader = reader;
    return reader;
  }

  async *values(options = undefined) {
    const reader = this.getReader();
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        yield value;
      }
    } finally {
      if (!finished && !(options && options.preventCancel)) await this._cancel(undefined);
      reader.releaseLock();
    }
  }

  [Symbol.asyncIterator](options = undefined) {
    return this.values(options);
  }

  tee() {
    const reader = this.getReader();
    const branches = [[], []];
    const controllers = [];
    let reading = null;
    const pullInto = async (i) => {
      if (branches[i].length === 0) {
        if (!reading) {
          reading = reader.read().then((r) => {
            reading = null;
            for (const b of branches) b.push(r);
          });
        }
        await reading;
      }
      const r = branches[i].shift();
      if (r.done) controllers[i].close();
      else controllers[i].enqueue(r.value);
    };
    const make = (i) =>
      new ReadableStream({
        start(c) { controllers[i] = c; },
        pull() { return pullInto(i); },
      });
    return [make(0), make(1)];
  }

  static from(iterable) {
    const it = typeof iterable[Symbol.asyncIterator] === "function"
      ? iterable[Symbol.asyncIterator]()
      : iterable[Symbol.iterator]();
    return new ReadableStream({
      async pull(c) {
        const { value, done } = await it.next();
        if (done) c.close();
        else c.enqueue(value);
      },
      async cancel(reason) {
        if (typeof it.return === "function") await it.return(reason);
      },
    });
  }
}

// ---- Blob, File, FormData --------------------------------------------------

const kBytes = Symbol("bytes");

class Blob {
  #type;
  constructor(parts = [], options = {}) {
    if (parts === null || typeof parts !== "object" || typeof parts[Symbol.iterator] !== "function") {
      throw new TypeError("Blob: parts must be an iterable");
    }
    const chunks = [];
    for (const p of parts) {
      if (p instanceof Blob) chunks.push(p[kBytes]);
      else if (p instanceof ArrayBuffer || ArrayBuffer.isView(p)) chunks.push(bytesOf(p).slice());
      else chunks.push(encoder.encode(String(p)));
    }
    this[kBytes] = concat(chunks);
    const type = options && options.type !== undefined ? String(options.type) : "";
    this.#type = /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "";
  }
  get size() { return this[kBytes].byteLength; }
  get type() { return this.#type; }
  async arrayBuffer() { return this[kBytes].slice().buffer; }
  async bytes() { return this[kBytes].slice(); }
  async text() { return decoder.decode(this[kBytes]); }
  slice(start = 0, end = this.size, type = "") {
    const b = new Blob([], { type });
    b[kBytes] = this[kBytes].slice(start, end);
    return b;
  }
  stream() { return fixedStream(this[kBytes].slice()); }
  get [Symbol.toStringTag]() { return "Blob"; }
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(parts, name, options = {}) {
    if (arguments.length < 2) throw new TypeError("File: a name is required");
    super(parts, options);
    this.#name = String(name);
    this.#lastModified = options && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get [Symbol.toStringTag]() { return "File"; }
}

class FormData {
  #entries = [];
  constructor(form = undefined) {
    if (form !== undefined) throw new TypeError("FormData: there are no HTML forms in jan assistants");
  }
  static #value(value, filename) {
    if (value instanceof Blob) {
      if (value instanceof File && filename === undefined) return value;
      return new File([value], filename ?? (value instanceof File ? value.name : "blob"), { type: value.type });
    }
    return String(value);
  }
  append(name, value, filename = undefined) {
    this.#entries.push([String(name), FormData.#value(value, filename)]);
  }
  set(name, value, filename = undefined) {
    name = String(name);
    const v = FormData.#value(value, filename);
    const i = this.#entries.findIndex(([k]) => k === name);
    if (i < 0) return void this.#entries.push([name, v]);
    this.#entries[i] = [name, v];
    this.#entries = this.#entries.filter(([k], j) => k !== name || j === i);
  }
  get(name) {
    const e = this.#entries.find(([k]) => k === String(name));
    return e ? e[1] : null;
  }
  getAll(name) { return this.#entries.filter(([k]) => k === String(name)).map(([, v]) => v); }
  has(name) { return this.#entries.some(([k]) => k === String(name)); }
  delete(name) { this.#entries = this.#entries.filter(([k]) => k !== String(name)); }
  forEach(callback, thisArg = undefined) { for (const [k, v] of this) callback.call(thisArg, v, k, this); }
  *entries() { yield* this.#entries.map((e) => e.slice()); }
  *keys() { for (const [k] of this.#entries) yield k; }
  *values() { for (const [, v] of this.#entries) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "FormData"; }
  /** multipart/form-data: [bytes, content type]. */
  static encode(form) {
    const boundary = "----jan" + crypto.randomUUID().replaceAll("-", "");
    const esc = (s) => s.replace(/\r?\n|\r/g, "\r\n").replace(/"/g, "%22");
    const chunks = [];
    for (const [name, value] of form.#entries) {
      let head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + esc(name) + "\"";
      if (value instanceof File) {
        head += "; filename=\"" + esc(value.name) + "\"\r\nContent-Type: " + (value.type || "application/octet-stream");
        chunks.push(encoder.encode(head + "\r\n\r\n"), value[kBytes], encoder.encode("\r\n"));
      } else {
        chunks.push(encoder.encode(head + "\r\n\r\n" + value.replace(/\r?\n|\r/g, "\r\n") + "\r\n"));
      }
    }
    chunks.push(encoder.encode("--" + boundary + "--\r\n"));
    return [concat(chunks), "multipart/form-data; boundary=" + boundary];
  }
}

// ---- Bodies ----------------------------------------------------------------

function bytesOf(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return encoder.encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("body chunks must be bytes or strings");
}

function concat(chunks) {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A body init as [stream or null, content type or null]. */
function extractBody(init) {
  if (init === undefined || init === null) return [null, null];
  if (init instanceof ReadableStream) return [init, null];
  if (typeof init === "string") return [fixedStream(encoder.encode(init)), "text/plain;charset=UTF-8"];
  if (init instanceof URLSearchParams) {
    return [fixedStream(encoder.encode(init.toString())), "application/x-www-form-urlencoded;charset=UTF-8"];
  }
  if (init instanceof ArrayBuffer || ArrayBuffer.isView(init)) return [fixedStream(bytesOf(init).slice()), null];
  if (init instanceof Blob) return [fixedStream(init[kBytes].slice()), init.type || null];
  if (init instanceof FormData) {
    const [bytes, type] = FormData.encode(init);
    return [fixedStream(bytes), type];
  }
  if (typeof init[Symbol.asyncIterator] === "function") return [ReadableStream.from(init), null];
  throw new TypeError(
    "unsupported body type (strings, bytes, Blob, FormData, URLSearchParams, ReadableStream and async iterables are)",
  );
}

function fixedStream(bytes) {
  return new ReadableStream({
    start(c) {
      if (bytes.byteLength > 0) c.enqueue(bytes);
      c.close();
    },
  });
}

const kBody = Symbol("body");
const kUsed = Symbol("bodyUsed");

async function consume(target) {
  if (target[kUsed]) throw new TypeError("Body is unusable: it has already been read");
  target[kUsed] = true;
  const stream = target[kBody];
  if (stream === null) return new Uint8Array(0);
  const chunks = [];
  for await (const chunk of stream) chunks.push(bytesOf(chunk));
  return concat(chunks);
}

const bodyMethods = {
  get body() {
    return this[kBody];
  },
  get bodyUsed() {
    return this[kUsed];
  },
  async arrayBuffer() {
    const b = await consume(this);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  },
  async bytes() {
    return await consume(this);
  },
  async text() {
    return decoder.decode(await consume(this));
  },
  async json() {
    return JSON.parse(decoder.decode(await consume(this)));
  },
  async blob() {
    const type = this.headers.get("content-type") ?? "";
    return new Blob([await consume(this)], { type });
  },
  async formData() {
    const type = this.headers.get("content-type") ?? "";
    if (!type.startsWith("application/x-www-form-urlencoded")) {
      throw new TypeError("formData(): only application/x-www-form-urlencoded bodies can be parsed in jan assistants");
    }
    const form = new FormData();
    for (const [k, v] of new URLSearchParams(decoder.decode(await consume(this)))) form.append(k, v);
    return form;
  },
};

/** For clone(): the body splits in two; the original keeps one branch. */
function splitBody(target, what) {
  if (target[kUsed]) throw new TypeError(what + " body has already been read");
  const body = target[kBody];
  if (!body) return null;
  const [a, b] = body.tee();
  target[kBody] = a;
  return b;
}

function mixBody(cls) {
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(bodyMethods))) {
    Object.defineProperty(cls.prototype, k, { ...d, enumerable: false });
  }
}

// ---- Request ---------------------------------------------------------------

const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

function parseUrl(input) {
  try {
    return new URL(String(input)).href;
  } catch {
    throw new TypeError("Invalid URL: " + JSON.stringify(String(input)) + " (fetch needs an absolute URL)");
  }
}

class Request {
  #url;
  #method;
  #headers;
  #signal;
  #redirect;
  constructor(input, init = {}) {
    init = init ?? {};
    const from = input instanceof Request ? input : null;
    this.#url = from ? from.url : parseUrl(input);
    let method = init.method !== undefined ? String(init.method) : from ? from.method : "GET";
    if (!TOKEN.test(method)) throw new TypeError("Invalid method: " + JSON.stringify(method));
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError("Forbidden method: " + method);
    this.#method = method;
    this.#headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
    this.#signal = init.signal !== undefined ? init.signal : from ? from.signal : null;
    const redirect = init.redirect !== undefined ? String(init.redirect) : from ? from.redirect : "follow";
    if (!["follow", "manual", "error"].includes(redirect)) {
      throw new TypeError("Invalid redirect mode: " + JSON.stringify(redirect));
    }
    this.#redirect = redirect;
    let body = null;
    if (init.body !== undefined && init.body !== null) {
      if (method === "GET" || method === "HEAD") throw new TypeError("Request with GET/HEAD method cannot have a body");
      const [stream, type] = extractBody(init.body);
      body = stream;
      if (type && !this.#headers.has("content-type")) this.#headers.set("content-type", type);
    } else if (from && init.body === undefined) {
      body = from[kBody];
      if (from[kUsed]) throw new TypeError("Request body has already been read");
    }
    this[kBody] = body;
    this[kUsed] = false;
  }
  get url() { return this.#url; }
  get method() { return this.#method; }
  get headers() { return this.#headers; }
  get signal() { return this.#signal; }
  get redirect() { return this.#redirect; }
  clone() {
    const body = splitBody(this, "Request");
    const r = new Request(this, { body: null });
    r[kBody] = body;
    return r;
  }
  get [Symbol.toStringTag]() { return "Request"; }
}
mixBody(Request);

// ---- Response --------------------------------------------------------------

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const kInit = Symbol("responseInit");

class Response {
  #status = 200;
  #statusText = "";
  #headers;
  #url = "";
  #redirected = false;
  #type = "default";
  constructor(body = null, init = {}) {
    init = init ?? {};
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      if (!(init[kInit] && status >= 0)) throw new RangeError("Response status must be from 200 to 599, got " + init.status);
    }
    this.#status = status;
    this.#statusText = init.statusText === undefined ? "" : String(init.statusText);
    this.#headers = new Headers(init.headers);
    const [stream, type] = extractBody(body);
    if (stream && NULL_BODY.has(status) && !init[kInit]) throw new TypeError("Response with status " + status + " cannot have a body");
    if (type && !this.#headers.has("content-type")) this.#headers.set("content-type", type);
    this[kBody] = stream;
    this[kUsed] = false;
    if (init[kInit]) {
      this.#url = init[kInit].url;
      this.#redirected = init[kInit].redirected;
      this.#type = init[kInit].type;
    }
  }
  get status() { return this.#status; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get statusText() { return this.#statusText; }
  get headers() { return this.#headers; }
  get url() { return this.#url; }
  get redirected() { return this.#redirected; }
  get type() { return this.#type; }
  clone() {
    const body = splitBody(this, "Response");
    const r = new Response(null, {
      status: this.#status,
      statusText: this.#statusText,
      headers: this.#headers,
      [kInit]: { url: this.#url, redirected: this.#redirected, type: this.#type },
    });
    r[kBody] = body;
    return r;
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Response.json: the value cannot be serialized to JSON");
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static error() {
    return new Response(null, { status: 0, [kInit]: { url: "", redirected: false, type: "error" } });
  }
  static redirect(url, status = 302) {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Invalid redirect status " + status);
    return new Response(null, { status, headers: { location: parseUrl(url) } });
  }
  get [Symbol.toStringTag]() { return "Response"; }
}
mixBody(Response);

// ---- fetch -----------------------------------------------------------------

function abortError(signal) {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** `promise`, or the signal's reason once it aborts. */
function abortable(promise, signal, onAbort) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(abortError(signal));
    };
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener("abort", abort); resolve(v); },
      (e) => { signal.removeEventListener("abort", abort); reject(e); },
    );
  });
}

// A body dropped unread still holds a connection in Rust: free it when the
// body's stream is collected (the response keeps its stream alive).
const collected = new FinalizationRegistry((rid) => ops.op_jan_fetch_close(rid));

async function fetch(input, init = undefined) {
  const request = new Request(input, init);
  const signal = request.signal;
  if (signal && signal.aborted) throw abortError(signal);
  const body = request[kBody] === null ? null : await consume(request);
  const rid = ops.op_jan_fetch_start(
    {
      method: request.method,
      url: request.url,
      headers: Headers.pairs(request.headers),
      redirect: request.redirect,
      has_body: body !== null,
    },
    body ?? new Uint8Array(0),
  );
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      ops.op_jan_fetch_close(rid);
    }
  };
  let head;
  try {
    head = await abortable(ops.op_jan_fetch_response(rid), signal, close);
  } catch (e) {
    close();
    throw e;
  }
  if (request.redirect === "error" && head.status >= 300 && head.status < 400) {
    close();
    throw new TypeError("fetch: the response is a redirect, and redirect is \"error\"");
  }
  const nullBody = NULL_BODY.has(head.status) || request.method === "HEAD";
  if (nullBody) close();
  const stream = nullBody
    ? null
    : new ReadableStream({
      async pull(c) {
        let chunk;
        try {
          chunk = await abortable(ops.op_jan_fetch_read(rid), signal, close);
        } catch (e) {
          close();
          c.error(e);
          return;
        }
        if (chunk === null) {
          close();
          c.close();
        } else {
          c.enqueue(chunk);
        }
      },
      cancel() {
        close();
      },
    });
  const response = new Response(null, {
    status: head.status,
    statusText: head.status_text,
    headers: head.headers,
    [kInit]: { url: head.url, redirected: head.url !== request.url, type: "basic" },
  });
  response[kBody] = stream;
  if (stream) collected.register(stream, rid);
  return response;
}

globalThis.Blob = Blob;
globalThis.File = File;
globalThis.FormData = FormData;
globalThis.Headers = Headers;
globalThis.Request = Request;
globalThis.Response = Response;
globalThis.ReadableStream = ReadableStream;
globalThis.fetch = fetch;
