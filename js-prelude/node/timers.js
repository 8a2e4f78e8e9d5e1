// node:timers and node:timers/promises: Node's Timeout objects (ref,
// unref, refresh, hasRef, and usable as numbers) on jan's timers.
"use strict";

const { abortError } = jan.errors;

// ref/unref only record the wish: an assistant's timers never keep a
// process alive or let it exit.
class Referenced {
  _ref = true;
  ref() {
    this._ref = true;
    return this;
  }
  unref() {
    this._ref = false;
    return this;
  }
  hasRef() {
    return this._ref;
  }
}

class Timeout extends Referenced {
  constructor(cb, ms, args, repeat) {
    super();
    this._cb = cb;
    this._ms = Math.max(1, Number(ms) || 1);
    this._args = args;
    this._repeat = repeat;
    this._start();
  }
  _start() {
    const fire = () => {
      if (!this._repeat) this._id = null;
      this._cb(...this._args);
    };
    this._id = this._repeat ? globalThis.setInterval(fire, this._ms) : globalThis.setTimeout(fire, this._ms);
  }
  refresh() {
    if (this._id !== null) {
      this._clear();
      this._start();
    }
    return this;
  }
  close() {
    this._clear();
    return this;
  }
  _clear() {
    if (this._id !== null && this._id !== undefined) {
      (this._repeat ? globalThis.clearInterval : globalThis.clearTimeout)(this._id);
    }
    this._id = null;
  }
  [Symbol.toPrimitive]() {
    return this._id ?? -1;
  }
}

class Immediate extends Referenced {
  constructor(cb, args) {
    super();
    this._cleared = false;
    queueMicrotask(() => globalThis.setTimeout(() => {
      if (!this._cleared) cb(...args);
    }, 0));
  }
}

function clear(t) {
  if (t instanceof Timeout) t._clear();
  else if (t instanceof Immediate) t._cleared = true;
  else if (t !== undefined && t !== null) globalThis.clearTimeout(t);
}

function delayed(make) {
  return (ms, value, options = {}) => {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const t = make(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      }, ms);
      const onAbort = () => {
        clear(t);
        reject(abortError(signal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  };
}

const promises = {
  setTimeout: delayed((fn, ms) => new Timeout(fn, ms, [], false)),
  setImmediate: (value, options) => delayed((fn) => new Immediate(fn, []))(0, value, options),
  setInterval: async function* (ms, value, options = {}) {
    const signal = options.signal;
    let pending = 0;
    let wake = null;
    const t = new Timeout(() => {
      pending++;
      if (wake) wake();
    }, ms, [], true);
    try {
      while (true) {
        if (signal?.aborted) throw abortError(signal);
        if (pending === 0) {
          await new Promise((resolve, reject) => {
            wake = resolve;
            signal?.addEventListener("abort", () => reject(abortError(signal)), { once: true });
          });
          wake = null;
        }
        pending--;
        yield value;
      }
    } finally {
      t.close();
    }
  },
  scheduler: {
    wait: (ms, options) => delayed((fn, d) => new Timeout(fn, d, [], false))(ms, undefined, options),
    yield: () => new Promise((resolve) => new Immediate(resolve, [])),
  },
};

module.exports = {
  setTimeout: (cb, ms, ...args) => new Timeout(cb, ms, args, false),
  setInterval: (cb, ms, ...args) => new Timeout(cb, ms, args, true),
  setImmediate: (cb, ...args) => new Immediate(cb, args),
  clearTimeout: clear,
  clearInterval: clear,
  clearImmediate: clear,
  Timeout,
  Immediate,
  promises,
};
