// node:stream: Readable, Writable, Duplex, Transform and PassThrough with
// Node's events and back-pressure signals (push/write return values,
// 'drain', 'readable'), pipe, async iteration, Readable.from, pipeline and
// finished, and the web-stream adapters.
"use strict";

const { abortError } = jan.errors;

const EE = require("events");
const { Buffer } = require("buffer");

const nextTick = (fn, ...args) => queueMicrotask(() => fn(...args));

function codeError(Ctor, code, message) {
  const e = new Ctor(message);
  e.code = code;
  return e;
}

const prematureClose = () => codeError(Error, "ERR_STREAM_PREMATURE_CLOSE", "Premature close");

let defaultHwm = 64 * 1024;
let defaultObjectHwm = 16;

function hwm(opts, objectMode, key) {
  const v = opts?.[key] ?? opts?.highWaterMark;
  return v === undefined ? (objectMode ? defaultObjectHwm : defaultHwm) : v;
}

function Stream(opts) {
  EE.call(this, opts);
}
Object.setPrototypeOf(Stream.prototype, EE.prototype);
Object.setPrototypeOf(Stream, EE);
Stream.prototype.pipe = function (dest, options) {
  return Readable.prototype.pipe.call(this, dest, options);
};

// ---- Readable --------------------------------------------------------------------

function Readable(opts = {}) {
  if (!(this instanceof Readable)) return new Readable(opts);
  Stream.call(this, opts);
  const objectMode = !!(opts.objectMode || opts.readableObjectMode);
  this._rs = {
    objectMode,
    highWaterMark: hwm(opts, objectMode, "readableHighWaterMark"),
    buffer: [],
    length: 0,
    flowing: null,
    ended: false,
    endEmitted: false,
    reading: false,
    flowScheduled: false,
    readableScheduled: false,
    decoder: null,
    encoding: null,
    pipes: [],
    errored: null,
    closed: false,
    dataEmitted: false,
  };
  this.destroyed = false;
  this._autoDestroy = opts.autoDestroy !== false;
  this._emitClose = opts.emitClose !== false;
  if (opts.encoding) this.setEncoding(opts.encoding);
  if (typeof opts.read === "function") this._read = opts.read;
  if (typeof opts.destroy === "function") this._destroy = opts.destroy;
  if (typeof opts.construct === "function") this._construct = opts.construct;
  if (opts.signal) addAbortSignal(opts.signal, this);
  if (typeof this._construct === "function") {
    this._constructing = true;
    nextTick(() =>
      this._construct((err) => {
        this._constructing = false;
        if (err) this.destroy(err);
        else if (this._rs?.flowing) scheduleFlow(this);
      }),
    );
  }
}
Object.setPrototypeOf(Readable.prototype, Stream.prototype);
Object.setPrototypeOf(Readable, Stream);

const R = Readable.prototype;

R._read = function () {
  throw codeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The _read() method is not implemented");
};

function chunkLength(rs, chunk) {
  return rs.objectMode ? 1 : chunk.length;
}

function addChunk(stream, chunk, encoding, front) {
  const rs = stream._rs;
  if (chunk === null) {
    rs.reading = false;
    if (!rs.ended) {
      if (rs.decoder) {
        const rest = rs.decoder.end();
        if (rest) {
          rs.buffer.push(rest);
          rs.length += rest.length;
        }
      }
      rs.ended = true;
      scheduleReadable(stream);
      scheduleFlow(stream);
    }
    return false;
  }
  if (!rs.objectMode) {
    if (typeof chunk === "string") {
      if (!rs.decoder) chunk = Buffer.from(chunk, encoding);
    } else if (chunk instanceof Uint8Array) {
      if (!(chunk instanceof Buffer)) chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    } else if (chunk !== undefined) {
      stream.destroy(codeError(TypeError, "ERR_INVALID_ARG_TYPE", 'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array'));
      return false;
    }
    if (rs.decoder && typeof chunk !== "string") chunk = rs.decoder.write(chunk);
  }
  if (rs.ended && !front) {
    stream.destroy(codeError(Error, "ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF"));
    return false;
  }
  rs.reading = false;
  if (chunk === undefined || (!rs.objectMode && chunk.length === 0)) return rs.length < rs.highWaterMark;
  if (front) rs.buffer.unshift(chunk);
  else rs.buffer.push(chunk);
  rs.length += chunkLength(rs, chunk);
  scheduleReadable(stream);
  scheduleFlow(stream);
  return rs.length < rs.highWaterMark;
}

R.push = function (chunk, encoding) {
  if (this.destroyed) return false;
  return addChunk(this, chunk, encoding, false);
};

R.unshift = function (chunk, encoding) {
  return addChunk(this, chunk, encoding, true);
};

function joinBuffered(rs) {
  if (rs.objectMode) return rs.buffer.shift();
  if (rs.buffer.length === 1) return rs.buffer.shift();
  const all = rs.buffer.splice(0);
  return typeof all[0] === "string" ? all.join("") : Buffer.concat(all);
}

function takeBytes(rs, n) {
  let out = [];
  let got = 0;
  while (got < n && rs.buffer.length) {
    const c = rs.buffer[0];
    if (c.length <= n - got) {
      out.push(rs.buffer.shift());
      got += c.length;
    } else {
      out.push(c.slice(0, n - got));
      rs.buffer[0] = c.slice(n - got);
      got = n;
    }
  }
  return typeof out[0] === "string" ? out.join("") : Buffer.concat(out);
}

function callRead(stream) {
  const rs = stream._rs;
  if (rs.reading || rs.ended || stream.destroyed || stream._constructing) return;
  rs.reading = true;
  try {
    stream._read(rs.highWaterMark);
  } catch (e) {
    stream.destroy(e);
  }
}

R.read = function (n) {
  const rs = this._rs;
  let chunk = null;
  if (rs.length > 0 && (n === undefined || n === 0 || rs.objectMode || n >= rs.length || true)) {
    if (n === 0) {
      chunk = null;
    } else if (n === undefined || rs.objectMode || n >= rs.length) {
      if (n !== undefined && !rs.objectMode && n > rs.length && !rs.ended) {
        chunk = null;
      } else {
        chunk = joinBuffered(rs);
        rs.length -= chunk === null ? 0 : chunkLength(rs, chunk);
        if (!rs.objectMode && rs.buffer.length === 0) rs.length = 0;
      }
    } else {
      chunk = takeBytes(rs, n);
      rs.length -= chunk.length;
    }
  }
  if (rs.length < rs.highWaterMark) callRead(this);
  if (chunk !== null && chunk !== undefined) {
    rs.dataEmitted = true;
    this.emit("data", chunk);
  }
  if (rs.ended && rs.length === 0) endSoon(this);
  return chunk === undefined ? null : chunk;
};

function scheduleReadable(stream) {
  const rs = stream._rs;
  if (rs.readableScheduled || rs.flowing) return;
  rs.readableScheduled = true;
  nextTick(() => {
    rs.readableScheduled = false;
    if (stream.destroyed) return;
    if (rs.length > 0 || rs.ended) stream.emit("readable");
    if (rs.ended && rs.length === 0) endSoon(stream);
  });
}

function scheduleFlow(stream) {
  const rs = stream._rs;
  if (!rs.flowing || rs.flowScheduled) return;
  rs.flowScheduled = true;
  nextTick(() => {
    rs.flowScheduled = false;
    flow(stream);
  });
}

function flow(stream) {
  const rs = stream._rs;
  while (rs.flowing && rs.buffer.length && !stream.destroyed) {
    const chunk = rs.buffer.shift();
    rs.length -= chunkLength(rs, chunk);
    rs.dataEmitted = true;
    stream.emit("data", chunk);
  }
  if (stream.destroyed) return;
  if (rs.ended && rs.length === 0) {
    endSoon(stream);
  } else if (rs.flowing && rs.length < rs.highWaterMark) {
    callRead(stream);
  }
}

function endSoon(stream) {
  const rs = stream._rs;
  if (rs.endEmitted || rs.endScheduled) return;
  rs.endScheduled = true;
  nextTick(() => {
    if (rs.endEmitted || rs.length > 0 || stream.destroyed) return;
    rs.endEmitted = true;
    stream.emit("end");
    const ws = stream._ws;
    if (ws && stream._allowHalfOpen === false && !ws.ending) stream.end();
    if (stream._autoDestroy && (!ws || ws.finished)) stream.destroy();
  });
}

R.on = function (ev, fn) {
  const r = Stream.prototype.on.call(this, ev, fn);
  const rs = this._rs;
  if (ev === "data") {
    if (rs.flowing !== false) this.resume();
  } else if (ev === "readable") {
    rs.flowing = false;
    if (rs.length || rs.ended) scheduleReadable(this);
    else nextTick(() => callRead(this));
  }
  return r;
};
R.addListener = R.on;

R.resume = function () {
  const rs = this._rs;
  if (!rs.flowing) {
    rs.flowing = true;
    scheduleFlow(this);
    if (rs.length === 0 && !rs.ended) nextTick(() => callRead(this));
    this.emit("resume");
  }
  return this;
};

R.pause = function () {
  if (this._rs.flowing !== false) {
    this._rs.flowing = false;
    this.emit("pause");
  }
  return this;
};

R.isPaused = function () {
  return this._rs.flowing === false;
};

R.setEncoding = function (enc) {
  const { StringDecoder } = require("string_decoder");
  const rs = this._rs;
  rs.decoder = new StringDecoder(enc);
  rs.encoding = rs.decoder.encoding;
  const pending = rs.buffer.splice(0);
  rs.length = 0;
  for (const c of pending) {
    const s = typeof c === "string" ? c : rs.decoder.write(c);
    rs.buffer.push(s);
    rs.length += s.length;
  }
  return this;
};

R.pipe = function (dest, options = {}) {
  const src = this;
  const rs = src._rs;
  rs?.pipes.push(dest);
  const ondata = (chunk) => {
    if (dest.write(chunk) === false) src.pause();
  };
  const ondrain = () => src.resume();
  src.on("data", ondata);
  dest.on("drain", ondrain);
  if (options.end !== false) {
    src.once("end", () => dest.end());
  }
  const cleanup = () => {
    src.removeListener("data", ondata);
    dest.removeListener("drain", ondrain);
  };
  src.once("close", cleanup);
  dest.once("unpipe", cleanup);
  dest.emit("pipe", src);
  if (typeof src.resume === "function") src.resume();
  return dest;
};

R.unpipe = function (dest) {
  const rs = this._rs;
  const targets = dest ? [dest] : rs.pipes.splice(0);
  if (dest) rs.pipes = rs.pipes.filter((d) => d !== dest);
  for (const d of targets) d.emit("unpipe", this);
  if (rs.pipes.length === 0) this.pause();
  return this;
};

function destroyImpl(stream, err, cb) {
  if (stream.destroyed) {
    if (typeof cb === "function") cb(err);
    return stream;
  }
  stream.destroyed = true;
  const states = [stream._rs, stream._ws].filter(Boolean);
  for (const s of states) if (err && !s.errored) s.errored = err;
  const finish = (e) => {
    for (const s of states) {
      s.closed = true;
      if (e && !s.errored) s.errored = e;
    }
    if (typeof cb === "function") cb(e);
    nextTick(() => {
      if (e) stream.emit("error", e);
      if (stream._emitClose) stream.emit("close");
    });
  };
  try {
    stream._destroy(err ?? null, (e) => finish(e ?? err));
  } catch (e) {
    finish(e);
  }
  return stream;
}

R._destroy = function (err, cb) {
  cb(err);
};
R.destroy = function (err, cb) {
  return destroyImpl(this, err, cb);
};

R[Symbol.asyncIterator] = function () {
  return iterate(this);
};
R.iterator = function (options) {
  return iterate(this, options);
};

async function* iterate(stream, options = {}) {
  const rs = stream._rs;
  let error = null;
  let wake = null;
  const poke = () => {
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const onError = (e) => {
    error = e;
    poke();
  };
  stream.on("readable", poke);
  stream.on("end", poke);
  stream.on("close", poke);
  stream.on("error", onError);
  let done = false;
  try {
    while (true) {
      if (error) throw error;
      const chunk = stream.destroyed ? null : stream.read();
      if (chunk !== null) {
        yield chunk;
        continue;
      }
      if (rs.endEmitted || (rs.ended && rs.length === 0)) {
        done = true;
        return;
      }
      if (stream.destroyed) {
        if (error || rs.errored) throw error || rs.errored;
        throw prematureClose();
      }
      await new Promise((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.removeListener("readable", poke);
    stream.removeListener("end", poke);
    stream.removeListener("close", poke);
    stream.removeListener("error", onError);
    if (!done && options.destroyOnReturn !== false && !stream.destroyed) stream.destroy();
  }
}

R.toArray = async function () {
  const out = [];
  for await (const c of this) out.push(c);
  return out;
};

R.map = function (fn, options) {
  const src = this;
  return Readable.from((async function* () {
    for await (const c of src) yield await fn(c, options);
  })());
};

R.filter = function (fn, options) {
  const src = this;
  return Readable.from((async function* () {
    for await (const c of src) if (await fn(c, options)) yield c;
  })());
};

R.forEach = async function (fn, options) {
  for await (const c of this) await fn(c, options);
};

R.wrap = function (old) {
  old.on("data", (c) => {
    if (!this.push(c)) old.pause?.();
  });
  old.on("end", () => this.push(null));
  old.on("error", (e) => this.destroy(e));
  this._read = () => old.resume?.();
  return this;
};

const readableProps = {
  readable: function () {
    return !this.destroyed && !this._rs.endEmitted && !this._rs.errored;
  },
  readableEnded: function () {
    return this._rs.endEmitted;
  },
  readableFlowing: function () {
    return this._rs.flowing;
  },
  readableLength: function () {
    return this._rs.length;
  },
  readableHighWaterMark: function () {
    return this._rs.highWaterMark;
  },
  readableObjectMode: function () {
    return this._rs.objectMode;
  },
  readableEncoding: function () {
    return this._rs.encoding;
  },
  readableAborted: function () {
    return this.destroyed && !this._rs.endEmitted;
  },
  readableDidRead: function () {
    return this._rs.dataEmitted;
  },
  errored: function () {
    return this._rs?.errored ?? this._ws?.errored ?? null;
  },
  closed: function () {
    return (this._rs ?? this._ws).closed;
  },
};
for (const [k, get] of Object.entries(readableProps)) {
  Object.defineProperty(R, k, { get, configurable: true, enumerable: false, set(v) { Object.defineProperty(this, k, { value: v, writable: true, configurable: true }); } });
}

Readable.from = function (iterable, opts = {}) {
  if (typeof iterable === "string" || iterable instanceof Uint8Array) {
    const once = iterable;
    let sent = false;
    return new Readable({
      objectMode: true,
      ...opts,
      read() {
        this.push(sent ? null : once);
        sent = true;
      },
    });
  }
  const it = iterable?.[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable?.[Symbol.iterator] ? iterable[Symbol.iterator]() : null;
  if (!it) throw codeError(TypeError, "ERR_INVALID_ARG_TYPE", 'The "iterable" argument must be an instance of Iterable');
  let busy = false;
  return new Readable({
    objectMode: true,
    ...opts,
    async read() {
      if (busy) return;
      busy = true;
      try {
        while (true) {
          const { value, done } = await it.next();
          if (done) {
            this.push(null);
            break;
          }
          const v = await value;
          if (v === null) {
            throw codeError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
          }
          if (!this.push(v)) break;
        }
      } catch (e) {
        this.destroy(e);
      } finally {
        busy = false;
      }
    },
    destroy(err, cb) {
      Promise.resolve(typeof it.return === "function" ? it.return() : undefined).then(() => cb(err), () => cb(err));
    },
  });
};

Readable.fromWeb = function (web, opts) {
  const reader = web.getReader();
  return Readable.from((async function* () {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  })(), { objectMode: false, ...opts });
};

Readable.toWeb = function (stream) {
  const it = iterate(stream);
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) controller.close();
      else controller.enqueue(typeof value === "string" ? new TextEncoder().encode(value) : value);
    },
    cancel() {
      return it.return();
    },
  });
};

Readable.isDisturbed = (s) => !!s?._rs?.dataEmitted;

// ---- Writable --------------------------------------------------------------------

function initWritable(stream, opts) {
  const objectMode = !!(opts.objectMode || opts.writableObjectMode);
  stream._ws = {
    objectMode,
    highWaterMark: hwm(opts, objectMode, "writableHighWaterMark"),
    decodeStrings: opts.decodeStrings !== false,
    defaultEncoding: opts.defaultEncoding ?? "utf8",
    length: 0,
    queue: [],
    writing: false,
    corked: 0,
    needDrain: false,
    ending: false,
    ended: false,
    finished: false,
    finalCalled: false,
    errored: null,
    closed: false,
    pendingCb: 0,
  };
  if (typeof opts.write === "function") stream._write = opts.write;
  if (typeof opts.writev === "function") stream._writev = opts.writev;
  if (typeof opts.final === "function") stream._final = opts.final;
  if (typeof opts.destroy === "function") stream._destroy = opts.destroy;
}

function Writable(opts = {}) {
  if (!(this instanceof Writable) && !(this instanceof Duplex)) return new Writable(opts);
  Stream.call(this, opts);
  initWritable(this, opts);
  this.destroyed = false;
  this._autoDestroy = opts.autoDestroy !== false;
  this._emitClose = opts.emitClose !== false;
  if (opts.signal) addAbortSignal(opts.signal, this);
}
Object.setPrototypeOf(Writable.prototype, Stream.prototype);
Object.setPrototypeOf(Writable, Stream);
Object.defineProperty(Writable, Symbol.hasInstance, {
  value(obj) {
    if (Function.prototype[Symbol.hasInstance].call(this, obj)) return true;
    return this === Writable && !!obj?._ws;
  },
});

const W = Writable.prototype;

W._write = function (chunk, encoding, cb) {
  if (this._writev) this._writev([{ chunk, encoding }], cb);
  else throw codeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The _write() method is not implemented");
};

W.write = function (chunk, encoding, cb) {
  const ws = this._ws;
  if (typeof encoding === "function") {
    cb = encoding;
    encoding = null;
  }
  encoding = encoding || ws.defaultEncoding;
  if (chunk === null) throw codeError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
  if (!ws.objectMode) {
    if (typeof chunk === "string") {
      if (ws.decodeStrings) {
        chunk = Buffer.from(chunk, encoding);
        encoding = "buffer";
      }
    } else if (chunk instanceof Uint8Array) {
      if (!(chunk instanceof Buffer)) chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      encoding = "buffer";
    } else {
      throw codeError(TypeError, "ERR_INVALID_ARG_TYPE", 'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
    }
  }
  let err = null;
  if (ws.ending) err = codeError(Error, "ERR_STREAM_WRITE_AFTER_END", "write after end");
  else if (this.destroyed) err = codeError(Error, "ERR_STREAM_DESTROYED", "Cannot call write after a stream was destroyed");
  if (err) {
    nextTick(() => {
      if (typeof cb === "function") cb(err);
    });
    if (ws.ending && !this.destroyed) this.destroy(err);
    return false;
  }
  const len = ws.objectMode ? 1 : chunk.length;
  ws.length += len;
  const ret = ws.length < ws.highWaterMark;
  if (!ret) ws.needDrain = true;
  ws.queue.push({ chunk, encoding, cb, len });
  ws.pendingCb++;
  if (!ws.writing && !ws.corked) writeNext(this);
  return ret;
};

function writeNext(stream) {
  const ws = stream._ws;
  if (ws.writing || stream.destroyed) return;
  const item = ws.queue.shift();
  if (!item) {
    if (ws.needDrain && ws.length === 0) {
      ws.needDrain = false;
      nextTick(() => stream.emit("drain"));
    }
    if (ws.ending) maybeFinish(stream);
    return;
  }
  ws.writing = true;
  let sync = true;
  const onwrite = (err) => {
    const done = () => {
      ws.writing = false;
      ws.length -= item.len;
      ws.pendingCb--;
      if (err) {
        if (typeof item.cb === "function") item.cb(err);
        stream.destroy(err);
        return;
      }
      if (typeof item.cb === "function") item.cb(null);
      writeNext(stream);
    };
    if (sync) nextTick(done);
    else done();
  };
  try {
    stream._write(item.chunk, item.encoding, onwrite);
  } catch (e) {
    onwrite(e);
  }
  sync = false;
}

function maybeFinish(stream) {
  const ws = stream._ws;
  if (ws.finished || ws.finalCalled || ws.writing || ws.queue.length || stream.destroyed) return;
  ws.finalCalled = true;
  const finish = (err) => {
    if (err) {
      stream.destroy(err);
      return;
    }
    ws.finished = true;
    stream.emit("finish");
    const rs = stream._rs;
    if (stream._autoDestroy && (!rs || rs.endEmitted || stream._readableSide === false)) stream.destroy();
  };
  if (typeof stream._final === "function") {
    nextTick(() => {
      try {
        stream._final((err) => nextTick(finish, err));
      } catch (e) {
        finish(e);
      }
    });
  } else {
    nextTick(finish);
  }
}

W.end = function (chunk, encoding, cb) {
  const ws = this._ws;
  if (typeof chunk === "function") {
    cb = chunk;
    chunk = null;
    encoding = null;
  } else if (typeof encoding === "function") {
    cb = encoding;
    encoding = null;
  }
  if (chunk !== null && chunk !== undefined) this.write(chunk, encoding);
  if (ws.corked) {
    ws.corked = 1;
    this.uncork();
  }
  if (typeof cb === "function") {
    if (ws.finished) nextTick(cb);
    else if (ws.ending) this.once("finish", () => cb());
    else {
      this.once("finish", () => cb());
      this.once("error", (e) => cb(e));
    }
  }
  if (!ws.ending) {
    ws.ending = true;
    ws.ended = true;
    if (!ws.writing) writeNext(this);
  }
  return this;
};

W.cork = function () {
  this._ws.corked++;
};

W.uncork = function () {
  const ws = this._ws;
  if (ws.corked) {
    ws.corked--;
    if (!ws.corked && !ws.writing) writeNext(this);
  }
};

W.setDefaultEncoding = function (enc) {
  this._ws.defaultEncoding = enc;
  return this;
};

W._destroy = function (err, cb) {
  cb(err);
};
W.destroy = function (err, cb) {
  return destroyImpl(this, err, cb);
};

const writableProps = {
  writable: function () {
    const ws = this._ws;
    return !this.destroyed && !ws.ending && !ws.errored;
  },
  writableEnded: function () {
    return this._ws.ending;
  },
  writableFinished: function () {
    return this._ws.finished;
  },
  writableLength: function () {
    return this._ws.length;
  },
  writableHighWaterMark: function () {
    return this._ws.highWaterMark;
  },
  writableObjectMode: function () {
    return this._ws.objectMode;
  },
  writableCorked: function () {
    return this._ws.corked;
  },
  writableNeedDrain: function () {
    return this._ws.needDrain;
  },
  writableAborted: function () {
    return this.destroyed && !this._ws.finished;
  },
};
for (const [k, get] of Object.entries(writableProps)) {
  Object.defineProperty(W, k, { get, configurable: true, enumerable: false, set(v) { Object.defineProperty(this, k, { value: v, writable: true, configurable: true }); } });
}
Object.defineProperty(W, "errored", Object.getOwnPropertyDescriptor(R, "errored"));
Object.defineProperty(W, "closed", Object.getOwnPropertyDescriptor(R, "closed"));

Writable.fromWeb = function (web) {
  const writer = web.getWriter();
  return new Writable({
    write(chunk, _enc, cb) {
      writer.write(chunk).then(() => cb(), cb);
    },
    final(cb) {
      writer.close().then(() => cb(), cb);
    },
    destroy(err, cb) {
      writer.abort(err).then(() => cb(err), () => cb(err));
    },
  });
};

// ---- Duplex, Transform, PassThrough -----------------------------------------------

function Duplex(opts = {}) {
  if (!(this instanceof Duplex)) return new Duplex(opts);
  Readable.call(this, opts);
  initWritable(this, opts);
  this._allowHalfOpen = opts.allowHalfOpen !== false;
  if (opts.readable === false) {
    this._rs.ended = true;
    this._rs.endEmitted = true;
    this._readableSide = false;
  }
  if (opts.writable === false) {
    this._ws.ending = true;
    this._ws.finished = true;
  }
}
Object.setPrototypeOf(Duplex.prototype, Readable.prototype);
Object.setPrototypeOf(Duplex, Readable);
for (const key of Reflect.ownKeys(W)) {
  if (key === "constructor" || key === "destroy" || key === "_destroy" || key === "errored" || key === "closed") continue;
  if (!Object.prototype.hasOwnProperty.call(Duplex.prototype, key)) {
    Object.defineProperty(Duplex.prototype, key, Object.getOwnPropertyDescriptor(W, key));
  }
}

Duplex.from = function (body) {
  if (body instanceof Duplex) return body;
  if (body instanceof Readable) return body;
  if (body && (body.readable || body.writable) && (body.readable instanceof ReadableStream || body.writable instanceof WritableStream)) {
    const r = body.readable ? Readable.fromWeb(body.readable) : null;
    const w = body.writable ? Writable.fromWeb(body.writable) : null;
    const d = new Duplex({
      read() {
        r?.resume();
      },
      write(c, e, cb) {
        w ? w.write(c, e, cb) : cb();
      },
      final(cb) {
        w ? w.end(cb) : cb();
      },
    });
    r?.on("data", (c) => d.push(c));
    r?.on("end", () => d.push(null));
    return d;
  }
  return Readable.from(body);
};

function Transform(opts = {}) {
  if (!(this instanceof Transform)) return new Transform(opts);
  Duplex.call(this, opts);
  if (typeof opts.transform === "function") this._transform = opts.transform;
  if (typeof opts.flush === "function") this._flush = opts.flush;
  this._rs.sync = false;
}
Object.setPrototypeOf(Transform.prototype, Duplex.prototype);
Object.setPrototypeOf(Transform, Duplex);

Transform.prototype._transform = function () {
  throw codeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The _transform() method is not implemented");
};

Transform.prototype._write = function (chunk, encoding, cb) {
  this._transform(chunk, encoding, (err, data) => {
    if (err) return cb(err);
    if (data !== undefined && data !== null) this.push(data);
    // Back-pressure: while the readable side is full, the next write waits
    // for a read.
    if (this._rs.length >= this._rs.highWaterMark && !this.destroyed) this._waiting = cb;
    else cb();
  });
};

Transform.prototype._read = function () {
  const cb = this._waiting;
  if (cb) {
    this._waiting = null;
    cb();
  }
};

Transform.prototype._final = function (cb) {
  const done = (err, data) => {
    if (err) return cb(err);
    if (data !== undefined && data !== null) this.push(data);
    this.push(null);
    cb();
  };
  if (typeof this._flush === "function") this._flush(done);
  else done();
};

function PassThrough(opts) {
  if (!(this instanceof PassThrough)) return new PassThrough(opts);
  Transform.call(this, opts);
}
Object.setPrototypeOf(PassThrough.prototype, Transform.prototype);
Object.setPrototypeOf(PassThrough, Transform);
PassThrough.prototype._transform = function (chunk, _enc, cb) {
  cb(null, chunk);
};

// ---- finished, pipeline -----------------------------------------------------------

function finished(stream, opts, cb) {
  if (typeof opts === "function") {
    cb = opts;
    opts = {};
  }
  let called = false;
  const done = (err) => {
    if (called) return;
    called = true;
    cleanup();
    cb.call(stream, err);
  };
  const readable = opts.readable ?? (!!stream._rs && stream._readableSide !== false);
  const writable = opts.writable ?? !!stream._ws;
  let ended = !readable || stream._rs?.endEmitted;
  let finishedW = !writable || stream._ws?.finished;
  const onend = () => {
    ended = true;
    if (finishedW) done();
  };
  const onfinish = () => {
    finishedW = true;
    if (ended) done();
  };
  const onerror = (e) => done(e);
  const onclose = () => {
    if (ended && finishedW) done();
    else done(stream._rs?.errored ?? stream._ws?.errored ?? prematureClose());
  };
  stream.on("end", onend);
  stream.on("finish", onfinish);
  if (opts.error !== false) stream.on("error", onerror);
  stream.on("close", onclose);
  const cleanup = () => {
    stream.removeListener("end", onend);
    stream.removeListener("finish", onfinish);
    stream.removeListener("error", onerror);
    stream.removeListener("close", onclose);
  };
  if (ended && finishedW) nextTick(done);
  else if (stream.destroyed) nextTick(onclose);
  return cleanup;
}

function isStream(s) {
  return s && typeof s === "object" && typeof s.on === "function" && (s._rs || s._ws || typeof s.pipe === "function" || typeof s.write === "function");
}

function pipeline(...args) {
  const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
  if (!cb) throw codeError(TypeError, "ERR_INVALID_ARG_TYPE", 'The "callback" argument must be of type function');
  let streams = Array.isArray(args[0]) && args.length === 1 ? args[0] : args;
  let opts = {};
  if (!isStream(streams[streams.length - 1]) && typeof streams[streams.length - 1] === "object" && streams.length > 2 && !streams[streams.length - 1]?.[Symbol.asyncIterator]) {
    opts = streams[streams.length - 1];
    streams = streams.slice(0, -1);
  }
  const chain = [];
  let lastPromise = null;
  streams.forEach((s, i) => {
    if (isStream(s)) {
      chain.push(s);
    } else if (typeof s === "function") {
      const prev = chain[chain.length - 1];
      const out = s(prev ?? undefined, { signal: opts.signal });
      if (i === streams.length - 1 && out && typeof out.then === "function") {
        lastPromise = out;
      } else {
        chain.push(Readable.from(out, { objectMode: true }));
      }
    } else {
      chain.push(Readable.from(s));
    }
  });
  let error = null;
  let called = false;
  const done = (err) => {
    if (called) return;
    called = true;
    if (err) for (const s of chain) if (!s.destroyed && typeof s.destroy === "function") s.destroy(err);
    cb(err ?? undefined, lastValue);
  };
  let lastValue;
  for (let i = 0; i < chain.length - 1; i++) {
    // A function stage already consumes the stream before it.
    if (streams.includes(chain[i + 1])) chain[i].pipe(chain[i + 1]);
    finished(chain[i], { writable: false }, (err) => {
      if (err) {
        error = error ?? err;
        done(err);
      }
    });
  }
  const last = chain[chain.length - 1];
  if (lastPromise) {
    lastPromise.then((v) => {
      lastValue = v;
      done();
    }, done);
  } else if (last) {
    // The pipeline is done when the last stream has taken everything
    // (a readable last stage is read by whoever holds it).
    finished(last, { readable: !last._ws }, (err) => done(err ?? error));
    if (last._rs && !last._ws) last.resume();
  }
  if (opts.signal) {
    opts.signal.addEventListener("abort", () => done(abortError(opts.signal)), { once: true });
  }
  return last;
}

function addAbortSignal(signal, stream) {
  const onAbort = () => stream.destroy(abortError(signal));
  if (signal.aborted) nextTick(onAbort);
  else signal.addEventListener("abort", onAbort, { once: true });
  return stream;
}

const promises = {
  pipeline: (...streams) =>
    new Promise((resolve, reject) => {
      pipeline(...streams, (err, value) => (err ? reject(err) : resolve(value)));
    }),
  finished: (stream, opts = {}) =>
    new Promise((resolve, reject) => {
      finished(stream, opts, (err) => (err ? reject(err) : resolve()));
    }),
};

function compose(...streams) {
  if (streams.length === 1) return Duplex.from(streams[0]);
  const head = streams[0];
  const tail = streams[streams.length - 1];
  for (let i = 0; i < streams.length - 1; i++) streams[i].pipe(streams[i + 1]);
  const d = new Duplex({
    objectMode: true,
    write(c, e, cb) {
      head.write(c, e, cb);
    },
    final(cb) {
      head.end();
      finished(tail, { writable: false }, (err) => cb(err));
    },
    read() {
      tail.resume();
    },
  });
  tail.on("data", (c) => d.push(c));
  tail.on("end", () => d.push(null));
  return d;
}

module.exports = Stream;
module.exports.Stream = Stream;
module.exports.Readable = Readable;
module.exports.Writable = Writable;
module.exports.Duplex = Duplex;
module.exports.Transform = Transform;
module.exports.PassThrough = PassThrough;
module.exports.pipeline = pipeline;
module.exports.finished = finished;
module.exports.compose = compose;
module.exports.addAbortSignal = addAbortSignal;
module.exports.promises = promises;
module.exports.isReadable = (s) => !!s?._rs && !s.destroyed && !s._rs.endEmitted;
module.exports.isWritable = (s) => !!s?._ws && !s.destroyed && !s._ws.ending;
module.exports.isErrored = (s) => !!(s?._rs?.errored || s?._ws?.errored);
module.exports.isDisturbed = Readable.isDisturbed;
module.exports.getDefaultHighWaterMark = (objectMode) => (objectMode ? defaultObjectHwm : defaultHwm);
module.exports.setDefaultHighWaterMark = (objectMode, v) => {
  if (objectMode) defaultObjectHwm = v;
  else defaultHwm = v;
};
