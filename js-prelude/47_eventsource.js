// EventSource (server-sent events) on fetch, so permissions.net applies to
// every connection and reconnection. Parsing follows the HTML standard's
// event-stream rules: lines end in CR, LF or CRLF; `data` lines join with
// "\n"; `event`, `id` and `retry` fields; `:` comments; a blank line
// dispatches. A dropped stream reconnects after `retry` (3 s by default)
// with Last-Event-ID; a wrong status or content type ends it.
// Evaluated after 40_fetch.js and 45_streams.js (see 99_main.js).

const fetchImpl = globalThis.fetch;
const MessageEventImpl = globalThis.MessageEvent;

class EventSource extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  CONNECTING = 0;
  OPEN = 1;
  CLOSED = 2;
  // EventTarget calls these for their event types.
  onopen = null;
  onmessage = null;
  onerror = null;

  #url;
  #state = 0;
  #abort = null;
  #retry = 3000;
  #lastEventId = "";
  #timer = null;

  constructor(url, init = {}) {
    super();
    let parsed;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new DOMException(`Failed to construct 'EventSource': The URL '${url}' is invalid.`, "SyntaxError");
    }
    this.#url = parsed.href;
    this.withCredentials = !!init?.withCredentials;
    queueMicrotask(() => this.#connect());
  }

  get url() {
    return this.#url;
  }

  get readyState() {
    return this.#state;
  }

  close() {
    this.#state = 2;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  #fail(reconnect) {
    if (this.#state === 2) return;
    this.#state = reconnect ? 0 : 2;
    this.dispatchEvent(new Event("error"));
    if (reconnect && this.#state === 0) {
      this.#timer = setTimeout(() => this.#connect(), this.#retry);
    }
  }

  async #connect() {
    if (this.#state === 2) return;
    this.#abort = new AbortController();
    const headers = { Accept: "text/event-stream", "Cache-Control": "no-store" };
    if (this.#lastEventId) headers["Last-Event-ID"] = this.#lastEventId;
    let response;
    try {
      response = await fetchImpl(this.#url, { headers, signal: this.#abort.signal });
    } catch (e) {
      // A refused host (permissions.net) will never work: do not retry it.
      const message = String(e?.message ?? e);
      this.#fail(!message.includes("not granted") && !message.includes("is refused"));
      return;
    }
    const type = response.headers.get("content-type") ?? "";
    if (response.status !== 200 || !/^text\/event-stream\b/i.test(type)) {
      response.body?.cancel().catch(() => {});
      this.#fail(false);
      return;
    }
    if (this.#state === 2) return;
    this.#state = 1;
    this.dispatchEvent(new Event("open"));
    try {
      await this.#read(response.body);
    } catch {
      // dropped: reconnect below
    }
    this.#fail(true);
  }

  async #read(body) {
    const decoder = new TextDecoder();
    let buffer = "";
    let data = "";
    let event = "";
    let id = this.#lastEventId;
    const line = (text) => {
      if (text === "") {
        this.#lastEventId = id;
        if (data !== "") {
          const ev = new MessageEventImpl(event || "message", {
            data: data.endsWith("\n") ? data.slice(0, -1) : data,
            lastEventId: this.#lastEventId,
            origin: new URL(this.#url).origin,
          });
          if (this.#state !== 2) this.dispatchEvent(ev);
        }
        data = "";
        event = "";
        return;
      }
      if (text.startsWith(":")) return;
      const colon = text.indexOf(":");
      const field = colon === -1 ? text : text.slice(0, colon);
      let value = colon === -1 ? "" : text.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data += value + "\n";
      else if (field === "event") event = value;
      else if (field === "id" && !value.includes("\0")) id = value;
      // At least 100 ms: a server's `retry: 0` must not make a busy loop.
      else if (field === "retry" && /^\d+$/.test(value)) this.#retry = Math.max(100, Number(value));
    };
    for await (const chunk of body) {
      if (this.#state === 2) return;
      buffer += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = buffer.search(/\r\n|\r|\n/)) !== -1) {
        // A CR at the very end may be the first half of a CRLF.
        if (buffer[at] === "\r" && at === buffer.length - 1) break;
        const ending = buffer.startsWith("\r\n", at) ? 2 : 1;
        line(buffer.slice(0, at));
        buffer = buffer.slice(at + ending);
      }
    }
  }
}

globalThis.EventSource = EventSource;
