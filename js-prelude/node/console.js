// node:console: the global console, and Console writing to given streams.
"use strict";

const { format, inspect } = require("util");

class Console {
  constructor(stdout, stderr) {
    if (stdout && typeof stdout.write !== "function") ({ stdout, stderr } = stdout);
    const out = stdout ?? globalThis.process.stdout;
    const err = stderr ?? out;
    const line = (stream) => (...args) => stream.write(format(...args) + "\n");
    this.log = line(out);
    this.info = line(out);
    this.debug = line(out);
    this.warn = line(err);
    this.error = line(err);
    this.trace = line(err);
    this.dir = (v, options) => out.write(inspect(v, options) + "\n");
    this.table = (v) => out.write(inspect(v) + "\n");
    this.assert = (cond, ...args) => {
      if (!cond) err.write("Assertion failed" + (args.length ? ": " + format(...args) : "") + "\n");
    };
    const counts = new Map();
    this.count = (label = "default") => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      out.write(`${label}: ${n}\n`);
    };
    this.countReset = (label = "default") => counts.delete(label);
    const times = new Map();
    this.time = (label = "default") => times.set(label, performance.now());
    this.timeLog = (label = "default", ...args) => {
      const t = times.get(label);
      if (t !== undefined) out.write(`${label}: ${(performance.now() - t).toFixed(3)}ms${args.length ? " " + format(...args) : ""}\n`);
    };
    this.timeEnd = (label = "default") => {
      this.timeLog(label);
      times.delete(label);
    };
    this.group = () => {};
    this.groupCollapsed = () => {};
    this.groupEnd = () => {};
  }
}

const c = globalThis.console;

module.exports = {
  Console,
  log: c.log,
  info: c.info,
  debug: c.debug,
  warn: c.warn,
  error: c.error,
  trace: c.trace,
  dir: c.dir,
  table: c.table,
  assert: c.assert,
  count: c.count,
  time: c.time,
  timeEnd: c.timeEnd,
  group: c.group,
  groupEnd: c.groupEnd,
};
