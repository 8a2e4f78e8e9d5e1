// WebSocket (the WHATWG API) over runtime/host/src/websocket.rs, so
// permissions.net applies to the connection as to fetch. Messages arrive
// as MessageEvents (text as strings, binary as Blob or ArrayBuffer by
// binaryType); close() runs the closing handshake; a dropped connection
// closes with code 1006.
// Evaluated after 00_web.js and 40_fetch.js (see 99_main.js).
const core = globalThis.Deno.core;
const ops = core.ops;
const MessageEventImpl = globalThis.MessageEvent;
const BlobImpl = globalThis.Blob;

class CloseEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? "";
    this.wasClean = !!init.wasClean;
  }
}

// How long the closing handshake may take before the socket is dropped.
const CLOSE_TIMEOUT_MS = 30000;

// Sockets the code dropped without closing are freed when collected.
const collected = new FinalizationRegistry((rid) => ops.op_jan_ws_drop(rid));

class WebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  CONNECTING = 0;
  OPEN = 1;
  CLOSING = 2;
  CLOSED = 3;
  // EventTarget calls these for their event types.
  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;

  #url;
  #state = 0;
  #rid = null;
  #protocol = "";
  #binaryType = "blob";
  #closing = null;
  #sending = Promise.resolve();
  #buffered = 0;

  constructor(url, protocols = []) {
    super();
    let parsed;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new DOMException(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`, "SyntaxError");
    }
    if (parsed.protocol === "http:") parsed.protocol = "ws:";
    else if (parsed.protocol === "https:") parsed.protocol = "wss:";
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
      throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'ws' or 'wss'. '${parsed.protocol}' is not allowed.`, "SyntaxError");
    }
    if (parsed.hash) {
      throw new DOMException("Failed to construct 'WebSocket': The URL contains a fragment identifier.", "SyntaxError");
    }
    const list = typeof protocols === "string" ? [protocols] : [...protocols];
    if (new Set(list).size !== list.length || list.some((p) => !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p))) {
      throw new DOMException("Failed to construct 'WebSocket': The subprotocol is invalid or duplicated.", "SyntaxError");
    }
    this.#url = parsed.href;
    this.#connect(list);
  }

  get url() {
    return this.#url;
  }
  get readyState() {
    return this.#state;
  }
  get protocol() {
    return this.#protocol;
  }
  get extensions() {
    return "";
  }
  get bufferedAmount() {
    return this.#buffered;
  }
  get binaryType() {
    return this.#binaryType;
  }
  set binaryType(v) {
    if (v === "blob" || v === "arraybuffer") this.#binaryType = v;
  }

  async #connect(protocols) {
    let opened;
    try {
      opened = await ops.op_jan_ws_open(this.#url, protocols);
    } catch (e) {
      this.#state = 3;
      this.dispatchEvent(Object.assign(new Event("error"), { message: String(e?.message ?? e), error: e }));
      this.dispatchEvent(new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
      return;
    }
    this.#rid = opened.rid;
    this.#protocol = opened.protocol;
    collected.register(this, opened.rid, this);
    if (this.#closing) {
      // close() was called while connecting.
      ops.op_jan_ws_close(this.#rid, this.#closing.code, this.#closing.reason).catch(() => {});
      const rid = this.#rid;
      setTimeout(() => {
        if (this.#state !== 3) ops.op_jan_ws_drop(rid);
      }, CLOSE_TIMEOUT_MS);
    } else {
      this.#state = 1;
      this.dispatchEvent(new Event("open"));
    }
    for (;;) {
      let m;
      try {
        m = await ops.op_jan_ws_next(this.#rid);
      } catch {
        m = { kind: "close", code: 1006, reason: "", clean: false };
      }
      if (m.kind === "close") {
        this.#state = 3;
        collected.unregister(this);
        if (!m.clean) this.dispatchEvent(new Event("error"));
        this.dispatchEvent(new CloseEvent("close", { code: m.code, reason: m.reason, wasClean: m.clean }));
        return;
      }
      let data = m.data;
      if (m.kind === "binary") {
        const bytes = new Uint8Array(data);
        data = this.#binaryType === "arraybuffer" ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) : new BlobImpl([bytes]);
      }
      if (this.#state === 1 || this.#state === 2) {
        this.dispatchEvent(new MessageEventImpl("message", { data, origin: new URL(this.#url).origin }));
      }
    }
  }

  send(data) {
    if (this.#state === 0) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
    if (this.#state !== 1) return;
    let text = null;
    let bytes = null;
    if (typeof data === "string") text = data;
    // Copies: the caller may reuse its buffer once send() returns.
    else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data.slice(0));
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    else if (data instanceof BlobImpl) bytes = data.arrayBuffer().then((b) => new Uint8Array(b));
    else text = String(data);
    const size = text !== null ? new TextEncoder().encode(text).length : bytes.byteLength ?? 0;
    this.#buffered += size;
    const rid = this.#rid;
    // Messages go out in the order they were sent.
    this.#sending = this.#sending.then(async () => {
      try {
        const b = await bytes;
        await ops.op_jan_ws_send(rid, text, b ?? new Uint8Array(0));
      } catch {
        // A failed send shows as the connection closing (op_jan_ws_next).
      } finally {
        this.#buffered -= size;
      }
    });
  }

  close(code = undefined, reason = "") {
    // WebIDL [Clamp] unsigned short.
    if (code !== undefined) code = Math.min(65535, Math.max(0, Math.round(Number(code) || 0)));
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, "InvalidAccessError");
    }
    if (new TextEncoder().encode(String(reason)).length > 123) {
      throw new DOMException("Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.", "SyntaxError");
    }
    if (this.#state === 2 || this.#state === 3) return;
    this.#closing = { code: code ?? 1000, reason: String(reason) };
    this.#state = 2;
    if (this.#rid === null) return; // still connecting: closed once it is
    const rid = this.#rid;
    this.#sending = this.#sending.then(() => ops.op_jan_ws_close(rid, this.#closing.code, this.#closing.reason)).catch(() => {});
    // A peer that never answers the close must not keep the socket.
    setTimeout(() => {
      if (this.#state !== 3) ops.op_jan_ws_drop(rid);
    }, CLOSE_TIMEOUT_MS);
  }
}

globalThis.WebSocket = WebSocket;
globalThis.CloseEvent = CloseEvent;
