// The rest of WHATWG streams that npm packages build on (the ai SDK's
// event-stream parser is a TransformStream): WritableStream and its writer,
// TransformStream, pipeTo/pipeThrough on ReadableStream, the text
// encoder/decoder streams and the queuing strategies. Back-pressure is a
// one-chunk high-water mark: a write resolves once the sink took it.
// Evaluated after 40_fetch.js (99_main.js imports them in that order).

const RS = globalThis.ReadableStream;

class WritableStream {
  #sink;
  #state = "writable";
  #error = undefined;
  #queue = Promise.resolve();
  #pending = 0;
  #writer = null;
  #controller;
  #started;
  #closedWaiters = [];

  constructor(sink = {}, _strategy = undefined) {
    if (sink === null || typeof sink !== "object") sink = {};
    this.#sink = sink;
    const stream = this;
    const abortController = new AbortController();
    this.#controller = {
      error(e) {
        stream.#fail(e);
      },
      get signal() {
        return abortController.signal;
      },
    };
    this._abortController = abortController;
    this.#started = Promise.resolve()
      .then(() => (typeof sink.start === "function" ? sink.start(this.#controller) : undefined))
      .catch((e) => this.#fail(e));
  }

  #fail(e) {
    if (this.#state === "errored" || this.#state === "closed") return;
    this.#state = "errored";
    this.#error = e;
    this.#settle();
  }

  #settle() {
    const w = this.#closedWaiters;
    this.#closedWaiters = [];
    for (const f of w) f();
  }

  get locked() {
    return this.#writer !== null;
  }

  _write(chunk) {
    if (this.#state !== "writable") {
      return Promise.reject(this.#state === "errored" ? this.#error : new TypeError("WritableStream is closed"));
    }
    this.#pending++;
    const run = this.#queue.then(async () => {
      await this.#started;
      if (this.#state === "errored") throw this.#error;
      try {
        if (typeof this.#sink.write === "function") await this.#sink.write(chunk, this.#controller);
      } catch (e) {
        this.#fail(e);
        throw e;
      } finally {
        this.#pending--;
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  _close() {
    if (this.#state !== "writable") {
      return Promise.reject(this.#state === "errored" ? this.#error : new TypeError("WritableStream is closed"));
    }
    this.#state = "closing";
    const run = this.#queue.then(async () => {
      await this.#started;
      if (this.#state === "errored") throw this.#error;
      try {
        if (typeof this.#sink.close === "function") await this.#sink.close();
      } catch (e) {
        this.#state = "writable";
        this.#fail(e);
        throw e;
      }
      this.#state = "closed";
      this.#settle();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async _abort(reason) {
    if (this.#state === "closed" || this.#state === "errored") return;
    this._abortController.abort(reason);
    this.#fail(reason);
    if (typeof this.#sink.abort === "function") await this.#sink.abort(reason);
  }

  _closed() {
    return (async () => {
      while (this.#state === "writable" || this.#state === "closing") {
        await new Promise((r) => this.#closedWaiters.push(r));
      }
      if (this.#state === "errored") throw this.#error;
    })();
  }

  _desiredSize() {
    if (this.#state === "errored") return null;
    if (this.#state !== "writable") return 0;
    return 1 - this.#pending;
  }

  _ready() {
    return this.#queue.then(() => {
      if (this.#state === "errored") throw this.#error;
    });
  }

  abort(reason = undefined) {
    if (this.#writer) return Promise.reject(new TypeError("WritableStream is locked"));
    return this._abort(reason);
  }

  close() {
    if (this.#writer) return Promise.reject(new TypeError("WritableStream is locked"));
    return this._close();
  }

  getWriter() {
    if (this.#writer) throw new TypeError("WritableStream is locked to a writer");
    const stream = this;
    let released = false;
    let closed = null;
    const check = () => {
      if (released) throw new TypeError("the writer was released");
    };
    const writer = {
      write(chunk) {
        try {
          check();
        } catch (e) {
          return Promise.reject(e);
        }
        return stream._write(chunk);
      },
      close() {
        try {
          check();
        } catch (e) {
          return Promise.reject(e);
        }
        return stream._close();
      },
      abort(reason) {
        return stream._abort(reason);
      },
      releaseLock() {
        released = true;
        if (stream.#writer === writer) stream.#writer = null;
      },
      get ready() {
        return stream._ready();
      },
      get closed() {
        closed ??= stream._closed();
        return closed;
      },
      get desiredSize() {
        return stream._desiredSize();
      },
    };
    this.#writer = writer;
    return writer;
  }
}

async function pipeTo(source, dest, options = {}) {
  const { preventClose = false, preventAbort = false, preventCancel = false, signal } = options ?? {};
  const reader = source.getReader();
  const writer = dest.getWriter();
  let aborted = null;
  const onAbort = () => {
    aborted = signal.reason ?? new DOMException("The operation was aborted", "AbortError");
  };
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  // A read that waits on an idle source must still end when the signal
  // aborts.
  const abortedWhileReading = signal
    ? new Promise((_, reject) => signal.addEventListener("abort", () => reject(aborted ?? signal.reason), { once: true }))
    : null;
  abortedWhileReading?.catch(() => {});
  try {
    for (;;) {
      if (aborted) throw aborted;
      let r;
      try {
        r = await (abortedWhileReading ? Promise.race([reader.read(), abortedWhileReading]) : reader.read());
      } catch (e) {
        if (aborted) throw aborted;
        if (!preventAbort) await writer.abort(e);
        throw e;
      }
      if (r.done) break;
      try {
        await writer.write(r.value);
      } catch (e) {
        if (!preventCancel) await reader.cancel(e).catch(() => {});
        throw e;
      }
    }
    if (!preventClose) await writer.close();
  } catch (e) {
    if (aborted) {
      if (!preventAbort) await writer.abort(aborted).catch(() => {});
      if (!preventCancel) await reader.cancel(aborted).catch(() => {});
    }
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
    writer.releaseLock();
  }
}

RS.prototype.pipeTo = function (dest, options) {
  if (this.locked) return Promise.reject(new TypeError("ReadableStream is locked"));
  if (dest.locked) return Promise.reject(new TypeError("WritableStream is locked"));
  return pipeTo(this, dest, options);
};

RS.prototype.pipeThrough = function (transform, options) {
  if (this.locked) throw new TypeError("ReadableStream is locked");
  const p = pipeTo(this, transform.writable, options);
  p.catch(() => {});
  return transform.readable;
};

class TransformStream {
  constructor(transformer = {}, _writableStrategy = undefined, _readableStrategy = undefined) {
    if (transformer === null || typeof transformer !== "object") transformer = {};
    let readController;
    let terminated = false;
    let failed = false;
    // Writers waiting for the reader to take what was enqueued: a
    // transform never runs more than one chunk ahead of its reader.
    let pulls = [];
    const wakeWriters = () => {
      const w = pulls;
      pulls = [];
      for (const f of w) f();
    };
    // A pull ends when there is something new for the reader (a chunk,
    // the end, an error), so a waiting read does not spin.
    let readers = [];
    const wakeReaders = () => {
      const w = readers;
      readers = [];
      for (const f of w) f();
    };
    const readable = new RS({
      start(c) {
        readController = c;
      },
      pull() {
        wakeWriters();
        return new Promise((r) => readers.push(r));
      },
      cancel(reason) {
        terminated = true;
        wakeWriters();
        wakeReaders();
        writable._abort(reason).catch(() => {});
      },
    });
    // An error anywhere ends both sides: the reader sees it too.
    const fail = (e) => {
      if (failed) return;
      failed = true;
      try {
        readController.error(e);
      } catch {
        // already closed
      }
      wakeWriters();
      wakeReaders();
    };
    const controller = {
      enqueue(chunk) {
        readController.enqueue(chunk);
        wakeReaders();
      },
      error(e) {
        fail(e);
        writable._abort(e).catch(() => {});
      },
      terminate() {
        terminated = true;
        readController.close();
        wakeWriters();
        wakeReaders();
      },
      get desiredSize() {
        return readController.desiredSize;
      },
    };
    const started = Promise.resolve().then(() =>
      typeof transformer.start === "function" ? transformer.start(controller) : undefined,
    );
    started.catch(fail);
    const guarded = async (fn) => {
      try {
        return await fn();
      } catch (e) {
        fail(e);
        throw e;
      }
    };
    const writable = new WritableStream({
      write(chunk) {
        return guarded(async () => {
          await started;
          if (terminated) throw new TypeError("the TransformStream was terminated");
          if (typeof transformer.transform === "function") await transformer.transform(chunk, controller);
          else controller.enqueue(chunk);
          while (readController.desiredSize <= 0 && !terminated && !failed) {
            await new Promise((r) => pulls.push(r));
          }
        });
      },
      close() {
        return guarded(async () => {
          await started;
          if (typeof transformer.flush === "function") await transformer.flush(controller);
          if (!terminated && !failed) readController.close();
          wakeReaders();
        });
      },
      async abort(reason) {
        if (typeof transformer.cancel === "function") await transformer.cancel(reason);
        fail(reason);
      },
    });
    this.readable = readable;
    this.writable = writable;
  }
}

class TextDecoderStream extends TransformStream {
  constructor(label = "utf-8", options = {}) {
    const decoder = new TextDecoder(label, options);
    super({
      transform(chunk, c) {
        const s = decoder.decode(chunk, { stream: true });
        if (s) c.enqueue(s);
      },
      flush(c) {
        const s = decoder.decode();
        if (s) c.enqueue(s);
      },
    });
    this.encoding = decoder.encoding;
    this.fatal = decoder.fatal;
    this.ignoreBOM = decoder.ignoreBOM;
  }
}

class TextEncoderStream extends TransformStream {
  constructor() {
    const encoder = new TextEncoder();
    let high = "";
    super({
      transform(chunk, c) {
        let s = high + String(chunk);
        high = "";
        // Keep a lone high surrogate for the next chunk.
        const last = s.charCodeAt(s.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          high = s.slice(-1);
          s = s.slice(0, -1);
        }
        if (s) c.enqueue(encoder.encode(s));
      },
      flush(c) {
        if (high) c.enqueue(encoder.encode(high));
      },
    });
    this.encoding = "utf-8";
  }
}

class CountQueuingStrategy {
  constructor({ highWaterMark }) {
    this.highWaterMark = highWaterMark;
  }
  size() {
    return 1;
  }
}

class ByteLengthQueuingStrategy {
  constructor({ highWaterMark }) {
    this.highWaterMark = highWaterMark;
  }
  size(chunk) {
    return chunk.byteLength;
  }
}

globalThis.WritableStream = WritableStream;
globalThis.TransformStream = TransformStream;
globalThis.TextDecoderStream = TextDecoderStream;
globalThis.TextEncoderStream = TextEncoderStream;
globalThis.CountQueuingStrategy = CountQueuingStrategy;
globalThis.ByteLengthQueuingStrategy = ByteLengthQueuingStrategy;
