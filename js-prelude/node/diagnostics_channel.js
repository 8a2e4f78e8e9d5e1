// node:diagnostics_channel: named channels that subscribers can listen on.
"use strict";

const channels = new Map();

class Channel {
  constructor(name) {
    this.name = name;
    this._subscribers = [];
  }
  get hasSubscribers() {
    return this._subscribers.length > 0;
  }
  subscribe(fn) {
    this._subscribers.push(fn);
  }
  unsubscribe(fn) {
    const i = this._subscribers.indexOf(fn);
    if (i < 0) return false;
    this._subscribers.splice(i, 1);
    return true;
  }
  publish(message) {
    for (const fn of this._subscribers.slice()) {
      try {
        fn(message, this.name);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
  bindStore() {}
  unbindStore() {}
  runStores(_data, fn, thisArg, ...args) {
    return fn.apply(thisArg, args);
  }
}

function channel(name) {
  let c = channels.get(name);
  if (!c) {
    c = new Channel(name);
    channels.set(name, c);
  }
  return c;
}

function tracingChannel(name) {
  const names = ["start", "end", "asyncStart", "asyncEnd", "error"];
  const t = {};
  for (const n of names) t[n] = channel(`tracing:${name}:${n}`);
  return {
    ...t,
    subscribe: (handlers) => names.forEach((n) => handlers[n] && t[n].subscribe(handlers[n])),
    unsubscribe: (handlers) => names.forEach((n) => handlers[n] && t[n].unsubscribe(handlers[n])),
    traceSync: (fn, _ctx, thisArg, ...args) => fn.apply(thisArg, args),
    tracePromise: (fn, _ctx, thisArg, ...args) => fn.apply(thisArg, args),
    traceCallback: (fn, _pos, _ctx, thisArg, ...args) => fn.apply(thisArg, args),
    get hasSubscribers() {
      return names.some((n) => t[n].hasSubscribers);
    },
  };
}

module.exports = {
  channel,
  hasSubscribers: (name) => channels.get(name)?.hasSubscribers ?? false,
  subscribe: (name, fn) => channel(name).subscribe(fn),
  unsubscribe: (name, fn) => channel(name).unsubscribe(fn),
  tracingChannel,
  Channel,
};
