// node:events: EventEmitter with Node's semantics (listener order, once,
// prepend, 'newListener'/'removeListener', an unhandled 'error' throws,
// the max-listeners warning), plus once() and on() as promises/iterators.
"use strict";

const { abortError } = jan.errors;

const kCapture = Symbol("kCapture");
const errorMonitor = Symbol("events.errorMonitor");
let defaultMaxListeners = 10;

function checkListener(listener) {
  if (typeof listener !== "function") {
    const e = new TypeError(`The "listener" argument must be of type function. Received ${listener === null ? "null" : typeof listener}`);
    e.code = "ERR_INVALID_ARG_TYPE";
    throw e;
  }
}

function EventEmitter(opts) {
  EventEmitter.init.call(this, opts);
}

EventEmitter.init = function (opts) {
  if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
    this._events = Object.create(null);
    this._eventsCount = 0;
  }
  this._maxListeners = this._maxListeners || undefined;
  if (opts?.captureRejections) this[kCapture] = true;
};

Object.defineProperty(EventEmitter, "defaultMaxListeners", {
  enumerable: true,
  get: () => defaultMaxListeners,
  set: (n) => {
    if (typeof n !== "number" || n < 0 || Number.isNaN(n)) throw new RangeError(`The value of "defaultMaxListeners" is out of range. Received ${n}`);
    defaultMaxListeners = n;
  },
});

const proto = EventEmitter.prototype;
proto._events = undefined;
proto._eventsCount = 0;
proto._maxListeners = undefined;

proto.setMaxListeners = function (n) {
  if (typeof n !== "number" || n < 0 || Number.isNaN(n)) throw new RangeError(`The value of "n" is out of range. Received ${n}`);
  this._maxListeners = n;
  return this;
};

proto.getMaxListeners = function () {
  return this._maxListeners === undefined ? defaultMaxListeners : this._maxListeners;
};

proto.emit = function (type, ...args) {
  const events = this._events;
  if (type === "error" && events !== undefined && events[errorMonitor] !== undefined) {
    this.emit(errorMonitor, ...args);
  }
  const handler = events === undefined ? undefined : events[type];
  if (handler === undefined) {
    if (type === "error") {
      const er = args[0];
      if (er instanceof Error) throw er;
      const err = new Error("Unhandled error." + (er === undefined ? "" : ` (${er})`));
      err.code = "ERR_UNHANDLED_ERROR";
      err.context = er;
      throw err;
    }
    return false;
  }
  const call = (fn) => {
    const r = fn.apply(this, args);
    if (this[kCapture] && r && typeof r.then === "function") {
      r.then(undefined, (e) => queueMicrotask(() => this.emit("error", e)));
    }
  };
  if (typeof handler === "function") {
    call(handler);
  } else {
    for (const fn of handler.slice()) call(fn);
  }
  return true;
};

function addListener(target, type, listener, prepend) {
  checkListener(listener);
  let events = target._events;
  if (events === undefined) {
    events = target._events = Object.create(null);
    target._eventsCount = 0;
  } else if (events.newListener !== undefined) {
    target.emit("newListener", type, listener.listener ? listener.listener : listener);
    events = target._events;
  }
  const existing = events[type];
  if (existing === undefined) {
    events[type] = listener;
    target._eventsCount++;
  } else {
    const list = typeof existing === "function" ? [existing] : existing;
    if (prepend) list.unshift(listener);
    else list.push(listener);
    events[type] = list;
    const m = target.getMaxListeners();
    if (m > 0 && list.length > m && !list.warned) {
      list.warned = true;
      console.warn(`MaxListenersExceededWarning: Possible EventEmitter memory leak detected. ${list.length} ${String(type)} listeners added. Use emitter.setMaxListeners() to increase limit`);
    }
  }
  return target;
}

proto.addListener = function (type, listener) {
  return addListener(this, type, listener, false);
};
proto.on = proto.addListener;
proto.prependListener = function (type, listener) {
  return addListener(this, type, listener, true);
};

function onceWrapper(target, type, listener) {
  const state = { fired: false, target, type, listener };
  const wrapped = function (...args) {
    if (state.fired) return undefined;
    state.target.removeListener(state.type, wrapped);
    state.fired = true;
    return state.listener.apply(state.target, args);
  };
  wrapped.listener = listener;
  return wrapped;
}

proto.once = function (type, listener) {
  checkListener(listener);
  return this.on(type, onceWrapper(this, type, listener));
};
proto.prependOnceListener = function (type, listener) {
  checkListener(listener);
  return this.prependListener(type, onceWrapper(this, type, listener));
};

proto.removeListener = function (type, listener) {
  checkListener(listener);
  const events = this._events;
  if (events === undefined) return this;
  const list = events[type];
  if (list === undefined) return this;
  if (list === listener || list.listener === listener) {
    if (--this._eventsCount === 0) this._events = Object.create(null);
    else delete events[type];
    if (events.removeListener) this.emit("removeListener", type, list.listener || listener);
  } else if (typeof list !== "function") {
    let i = list.length - 1;
    while (i >= 0 && list[i] !== listener && list[i].listener !== listener) i--;
    if (i < 0) return this;
    list.splice(i, 1);
    if (list.length === 1) events[type] = list[0];
    if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
  }
  return this;
};
proto.off = proto.removeListener;

proto.removeAllListeners = function (type) {
  const events = this._events;
  if (events === undefined) return this;
  if (events.removeListener === undefined) {
    if (arguments.length === 0) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    } else if (events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = Object.create(null);
      else delete events[type];
    }
    return this;
  }
  if (arguments.length === 0) {
    for (const key of Reflect.ownKeys(events)) {
      if (key !== "removeListener") this.removeAllListeners(key);
    }
    this.removeAllListeners("removeListener");
    this._events = Object.create(null);
    this._eventsCount = 0;
    return this;
  }
  const listeners = events[type];
  if (typeof listeners === "function") this.removeListener(type, listeners);
  else if (listeners !== undefined) for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
  return this;
};

function listenersOf(target, type, unwrap) {
  const l = target._events === undefined ? undefined : target._events[type];
  if (l === undefined) return [];
  const list = typeof l === "function" ? [l] : l.slice();
  return unwrap ? list.map((f) => f.listener || f) : list;
}

proto.listeners = function (type) {
  return listenersOf(this, type, true);
};
proto.rawListeners = function (type) {
  return listenersOf(this, type, false);
};
proto.listenerCount = function (type, listener) {
  const list = listenersOf(this, type, true);
  return listener === undefined ? list.length : list.filter((f) => f === listener).length;
};
proto.eventNames = function () {
  return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : [];
};

EventEmitter.listenerCount = (emitter, type) => emitter.listenerCount(type);

function addAny(target, type, fn, once) {
  if (typeof target.on === "function") {
    if (once) target.once(type, fn);
    else target.on(type, fn);
    return () => target.removeListener(type, fn);
  }
  target.addEventListener(type, fn, { once });
  return () => target.removeEventListener(type, fn);
}

function once(emitter, name, options = {}) {
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const cleanups = [];
    const done = () => cleanups.forEach((c) => c());
    cleanups.push(addAny(emitter, name, (...args) => {
      done();
      resolve(typeof emitter.on === "function" ? args : args);
    }, true));
    if (name !== "error" && typeof emitter.on === "function") {
      cleanups.push(addAny(emitter, "error", (err) => {
        done();
        reject(err);
      }, true));
    }
    if (signal) {
      const onAbort = () => {
        done();
        reject(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener("abort", onAbort));
    }
  });
}

function on(emitter, event, options = {}) {
  const signal = options.signal;
  const queue = [];
  const waiting = [];
  let error = null;
  let finished = false;
  const cleanups = [];
  const push = (item) => {
    const w = waiting.shift();
    if (w) w.resolve({ value: item, done: false });
    else queue.push(item);
  };
  cleanups.push(addAny(emitter, event, (...args) => push(args), false));
  if (event !== "error" && typeof emitter.on === "function") {
    cleanups.push(addAny(emitter, "error", (err) => {
      error = err;
      const w = waiting.shift();
      if (w) w.reject(err);
      iterator.return();
    }, false));
  }
  const close = () => {
    finished = true;
    cleanups.forEach((c) => c());
    for (const w of waiting.splice(0)) w.resolve({ value: undefined, done: true });
  };
  if (signal) {
    signal.addEventListener("abort", () => {
      error = abortError(signal);
      for (const w of waiting.splice(0)) w.reject(error);
      close();
    }, { once: true });
  }
  const iterator = {
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
      if (error) {
        const e = error;
        error = null;
        return Promise.reject(e);
      }
      if (finished) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err) {
      error = err;
      close();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}

function getEventListeners(target, type) {
  if (typeof target.listeners === "function") return target.listeners(type);
  return [];
}

function setMaxListeners(n = defaultMaxListeners, ...targets) {
  if (targets.length === 0) defaultMaxListeners = n;
  for (const t of targets) if (typeof t.setMaxListeners === "function") t.setMaxListeners(n);
}

function addAbortListener(signal, listener) {
  if (signal.aborted) {
    queueMicrotask(() => listener());
    return { [Symbol.dispose ?? Symbol.for("dispose")]() {} };
  }
  signal.addEventListener("abort", listener, { once: true });
  return { [Symbol.dispose ?? Symbol.for("dispose")]: () => signal.removeEventListener("abort", listener) };
}

Object.defineProperty(EventEmitter, "captureRejections", {
  get: () => false,
  set: () => {},
  enumerable: true,
});
module.exports = EventEmitter;
module.exports.EventEmitter = EventEmitter;
module.exports.once = once;
module.exports.on = on;
module.exports.errorMonitor = errorMonitor;
module.exports.captureRejectionSymbol = Symbol.for("nodejs.rejection");
module.exports.getEventListeners = getEventListeners;
module.exports.setMaxListeners = setMaxListeners;
module.exports.addAbortListener = addAbortListener;
module.exports.usingDomains = false;
