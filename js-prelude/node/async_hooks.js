// node:async_hooks: AsyncLocalStorage and AsyncResource. The store follows
// the code through awaits, promise callbacks and timers, on the engine's
// continuation-preserved data (the same mechanism Deno uses).
"use strict";

const { getAsyncContext, setAsyncContext } = jan.asyncContext;

// The context is an immutable Map from storage to value.
function withValue(storage, value) {
  const current = getAsyncContext();
  const next = new Map(current instanceof Map ? current : undefined);
  next.set(storage, value);
  return next;
}

class AsyncLocalStorage {
  static bind(fn) {
    return AsyncResource.bind(fn);
  }

  static snapshot() {
    const ctx = getAsyncContext();
    return (fn, ...args) => {
      const prev = getAsyncContext();
      setAsyncContext(ctx);
      try {
        return fn(...args);
      } finally {
        setAsyncContext(prev);
      }
    };
  }

  getStore() {
    const ctx = getAsyncContext();
    return ctx instanceof Map ? ctx.get(this) : undefined;
  }

  run(store, fn, ...args) {
    const prev = getAsyncContext();
    setAsyncContext(withValue(this, store));
    try {
      return fn(...args);
    } finally {
      setAsyncContext(prev);
    }
  }

  exit(fn, ...args) {
    return this.run(undefined, fn, ...args);
  }

  enterWith(store) {
    setAsyncContext(withValue(this, store));
  }

  disable() {
    const ctx = getAsyncContext();
    if (ctx instanceof Map && ctx.has(this)) {
      const next = new Map(ctx);
      next.delete(this);
      setAsyncContext(next);
    }
  }
}

class AsyncResource {
  // Private: the context also carries jan's own bookkeeping (the event
  // hop count).
  #ctx;

  constructor(type) {
    this.type = type;
    this.#ctx = getAsyncContext();
  }

  static bind(fn, type, thisArg) {
    return new AsyncResource(type ?? fn.name ?? "bound-anonymous-fn").bind(fn, thisArg);
  }

  runInAsyncScope(fn, thisArg, ...args) {
    const prev = getAsyncContext();
    setAsyncContext(this.#ctx);
    try {
      return fn.apply(thisArg, args);
    } finally {
      setAsyncContext(prev);
    }
  }

  bind(fn, thisArg) {
    const resource = this;
    const bound = function (...args) {
      return resource.runInAsyncScope(fn, thisArg ?? this, ...args);
    };
    Object.defineProperty(bound, "length", { value: fn.length });
    return bound;
  }

  emitDestroy() {
    return this;
  }

  asyncId() {
    return 0;
  }

  triggerAsyncId() {
    return 0;
  }
}

function createHook() {
  return { enable() { return this; }, disable() { return this; } };
}

module.exports = {
  AsyncLocalStorage,
  AsyncResource,
  createHook,
  executionAsyncId: () => 0,
  triggerAsyncId: () => 0,
  executionAsyncResource: () => ({}),
  asyncWrapProviders: {},
};
