// node:http (and node:https): the client, on jan's fetch, so every request
// obeys permissions.net like fetch does. A request's body is sent when
// end() is called (no streamed uploads); the response streams. Servers are
// not available to assistants.
"use strict";

const { abortError } = jan.errors;

const EventEmitter = require("events");
const { Readable, Writable } = require("stream");
const { Buffer } = require("buffer");

const METHODS = ["ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH", "PURGE", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE"];

const STATUS_CODES = {
  100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
  200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used",
  300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large", 414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a Teapot", 421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests", 431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported", 506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected", 509: "Bandwidth Limit Exceeded", 510: "Not Extended", 511: "Network Authentication Required",
};

// Set by fetch itself, or meaningless without a socket of our own.
const SKIPPED = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "proxy-connection"]);

class Agent extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = { path: null, ...options };
    this.keepAlive = !!options.keepAlive;
    this.keepAliveMsecs = options.keepAliveMsecs ?? 1000;
    this.maxSockets = options.maxSockets ?? Infinity;
    this.maxFreeSockets = options.maxFreeSockets ?? 256;
    this.maxTotalSockets = options.maxTotalSockets ?? Infinity;
    this.defaultPort = 80;
    this.protocol = "http:";
    this.sockets = {};
    this.freeSockets = {};
    this.requests = {};
  }
  destroy() {}
  getName(options = {}) {
    return `${options.host || "localhost"}:${options.port || ""}:${options.localAddress || ""}`;
  }
}

function fakeSocket() {
  const s = new EventEmitter();
  Object.assign(s, {
    remoteAddress: undefined,
    remotePort: undefined,
    encrypted: false,
    setTimeout: () => s,
    setNoDelay: () => s,
    setKeepAlive: () => s,
    ref: () => s,
    unref: () => s,
    destroy: () => s,
    end: () => s,
  });
  return s;
}

class IncomingMessage extends Readable {
  constructor(response, socket) {
    super();
    this.statusCode = response.status;
    this.statusMessage = response.statusText || STATUS_CODES[response.status] || "";
    this.httpVersion = "1.1";
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.url = "";
    this.method = null;
    this.complete = false;
    this.aborted = false;
    this.socket = socket;
    this.connection = socket;
    this.headers = {};
    this.headersDistinct = {};
    this.rawHeaders = [];
    this.trailers = {};
    this.rawTrailers = [];
    for (const [k, v] of response.headers) {
      this.rawHeaders.push(k, v);
      (this.headersDistinct[k] ??= []).push(v);
      if (k === "set-cookie") (this.headers[k] ??= []).push(v);
      else this.headers[k] = this.headers[k] === undefined ? v : `${this.headers[k]}, ${v}`;
    }
    const cookies = response.headers.getSetCookie?.();
    if (cookies?.length) this.headers["set-cookie"] = cookies;
    this._reader = response.body ? response.body.getReader() : null;
  }

  _read() {
    this.req?._activity();
    if (!this._reader) {
      this.complete = true;
      this.push(null);
      return;
    }
    this._reader.read().then(
      ({ value, done }) => {
        if (done) {
          this.complete = true;
          this.push(null);
        } else {
          this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        }
      },
      (e) => this.destroy(e),
    );
  }

  _destroy(err, cb) {
    if (!this.complete) {
      this.aborted = true;
      this._reader?.cancel().catch(() => {});
    }
    cb(err);
  }

  setTimeout(_ms, cb) {
    if (cb) this.once("timeout", cb);
    return this;
  }
}

function isUrl(v) {
  return typeof v === "string" || v instanceof URL;
}

class ClientRequest extends Writable {
  constructor(defaultProtocol, args) {
    // Finishing the body must not end the request: the response is still
    // to come.
    super({ autoDestroy: false });
    let [input, options, cb] = args;
    if (typeof options === "function") {
      cb = options;
      options = {};
    }
    if (isUrl(input)) {
      const u = new URL(input);
      options = {
        protocol: u.protocol,
        hostname: u.hostname.replace(/^\[|\]$/g, ""),
        port: u.port,
        path: u.pathname + u.search,
        auth: u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined,
        ...(options ?? {}),
      };
    } else {
      cb = typeof options === "function" ? options : cb;
      options = input ?? {};
    }
    const protocol = options.protocol ?? defaultProtocol;
    if (protocol !== defaultProtocol) {
      const e = new TypeError(`Protocol "${protocol}" not supported. Expected "${defaultProtocol}"`);
      e.code = "ERR_INVALID_PROTOCOL";
      throw e;
    }
    this.protocol = protocol;
    this.method = String(options.method ?? "GET").toUpperCase();
    this.host = options.hostname ?? options.host ?? "localhost";
    if (typeof options.host === "string" && !options.hostname && /:\d+$/.test(options.host) && !options.host.includes("]")) {
      this.host = options.host.replace(/:\d+$/, "");
    }
    this.port = options.port || (protocol === "https:" ? 443 : 80);
    this.path = options.path ?? "/";
    this.timeout = options.timeout;
    this.aborted = false;
    this.finished = false;
    this.headersSent = false;
    this.reusedSocket = false;
    this.maxHeadersCount = null;
    this.socket = fakeSocket();
    this.connection = this.socket;
    this._headers = new Map();
    this._chunks = [];
    this._abort = new AbortController();
    const headers = options.headers;
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
    } else if (headers) {
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.setHeader(k, v);
    }
    if (options.auth && !this.hasHeader("authorization")) {
      this.setHeader("Authorization", "Basic " + Buffer.from(options.auth).toString("base64"));
    }
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => this.destroy(abortError(options.signal)));
      else options.signal.addEventListener("abort", () => this.destroy(abortError(options.signal)), { once: true });
    }
    if (cb) this.once("response", cb);
    if (this.timeout) this.setTimeout(this.timeout);
    queueMicrotask(() => this.emit("socket", this.socket));
  }

  setHeader(name, value) {
    if (this.headersSent) {
      const e = new Error("Cannot set headers after they are sent to the client");
      e.code = "ERR_HTTP_HEADERS_SENT";
      throw e;
    }
    this._headers.set(String(name).toLowerCase(), [String(name), value]);
    return this;
  }
  getHeader(name) {
    return this._headers.get(String(name).toLowerCase())?.[1];
  }
  hasHeader(name) {
    return this._headers.has(String(name).toLowerCase());
  }
  removeHeader(name) {
    this._headers.delete(String(name).toLowerCase());
  }
  getHeaders() {
    const out = Object.create(null);
    for (const [k, [, v]] of this._headers) out[k] = v;
    return out;
  }
  getHeaderNames() {
    return [...this._headers.keys()];
  }
  getRawHeaderNames() {
    return [...this._headers.values()].map(([n]) => n);
  }
  flushHeaders() {}
  setNoDelay() {}
  setSocketKeepAlive() {}

  setTimeout(ms, cb) {
    if (cb) this.once("timeout", cb);
    this._idle = ms;
    this._activity();
    return this;
  }

  // The idle timer: restarted whenever the request or its body moves.
  _activity() {
    clearTimeout(this._timer);
    if (this._idle > 0 && !this.destroyed) this._timer = setTimeout(() => this.emit("timeout"), this._idle);
  }

  abort() {
    if (this.aborted) return;
    this.aborted = true;
    queueMicrotask(() => this.emit("abort"));
    this.destroy();
  }

  _write(chunk, _enc, cb) {
    this._chunks.push(chunk);
    cb();
  }

  _final(cb) {
    this.headersSent = true;
    this.finished = true;
    const headers = new jan.Headers();
    for (const [k, [, v]] of this._headers) {
      if (SKIPPED.has(k)) continue;
      for (const one of Array.isArray(v) ? v : [v]) headers.append(k, String(one));
    }
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    const url = `${this.protocol}//${host}:${this.port}${this.path.startsWith("/") ? "" : "/"}${this.path}`;
    const body = this.method === "GET" || this.method === "HEAD" ? undefined : Buffer.concat(this._chunks);
    cb();
    jan.fetch(url, { method: this.method, headers, body, redirect: "manual", signal: this._abort.signal }).then(
      (response) => {
        const res = new IncomingMessage(response, this.socket);
        res.req = this;
        this.res = res;
        // The request is done when its response is.
        res.once("end", () => {
          clearTimeout(this._timer);
          this.emit("close");
        });
        res.once("close", () => clearTimeout(this._timer));
        if (!this.emit("response", res)) res.resume();
      },
      (e) => {
        clearTimeout(this._timer);
        // destroy() already reported its own error (and aborted this fetch).
        if (this.destroyed) return;
        this.emit("error", e);
      },
    );
  }

  _destroy(err, cb) {
    clearTimeout(this._timer);
    this._abort.abort(err ?? undefined);
    this.res?.destroy();
    cb(err);
  }
}

function noServer() {
  throw new Error("HTTP servers are not available in jan assistants: an assistant answers through @janhq/core's events");
}

function client(protocol) {
  const request = (...args) => new ClientRequest(protocol, args);
  const get = (...args) => {
    const req = request(...args);
    req.end();
    return req;
  };
  return { request, get };
}

const http = client("http:");
const globalAgent = new Agent();

module.exports = {
  request: http.request,
  get: http.get,
  Agent,
  globalAgent,
  ClientRequest,
  IncomingMessage,
  METHODS,
  STATUS_CODES,
  createServer: noServer,
  Server: noServer,
  OutgoingMessage: Writable,
  ServerResponse: noServer,
  maxHeaderSize: 16384,
  validateHeaderName: (name) => {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      const e = new TypeError(`Header name must be a valid HTTP token ["${name}"]`);
      e.code = "ERR_INVALID_HTTP_TOKEN";
      throw e;
    }
  },
  validateHeaderValue: (name, value) => {
    if (value === undefined || /[^\t\x20-\x7e\x80-\xff]/.test(String(value))) {
      const e = new TypeError(`Invalid value "${value}" for header "${name}"`);
      e.code = "ERR_INVALID_CHAR";
      throw e;
    }
  },
  setMaxIdleHTTPParsers: () => {},
};
module.exports._client = client;
