// node:util: format/inspect in Node's output style, promisify and
// callbackify, inherits, deprecate, debuglog, isDeepStrictEqual and
// util.types.
"use strict";

const types = require("util/types");

const customInspect = Symbol.for("nodejs.util.inspect.custom");
const customPromisify = Symbol.for("nodejs.util.promisify.custom");

function quote(s) {
  const q = !s.includes("'") ? "'" : !s.includes('"') ? '"' : !s.includes("`") ? "`" : "'";
  const escaped = s.replace(/[\\\n\t\r\b\f\v]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v" })[c]);
  return q + (q === "'" ? escaped.replace(/'/g, "\\'") : escaped) + q;
}

function keyName(k) {
  if (typeof k === "symbol") return `[${k.toString()}]`;
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
}

function className(v) {
  const proto = Object.getPrototypeOf(v);
  if (proto === null) return "[Object: null prototype]";
  const name = proto.constructor?.name;
  return name && name !== "Object" ? name : "";
}

function wrap(open, parts, close, prefix, breakLength) {
  if (parts.length === 0) return `${prefix}${open}${close}`;
  const oneLine = `${prefix}${open} ${parts.join(", ")} ${close}`;
  if (oneLine.length <= breakLength && !parts.some((p) => p.includes("\n"))) return oneLine;
  const inner = parts.map((p) => "  " + p.replace(/\n/g, "\n  ")).join(",\n");
  return `${prefix}${open}\n${inner}\n${close}`;
}

function formatValue(v, opts, depth, seen) {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  switch (typeof v) {
    case "string":
      return depth === 0 && opts.topLevelString ? v : quote(v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "bigint":
      return `${v}n`;
    case "boolean":
      return String(v);
    case "symbol":
      return v.toString();
  }
  if (opts.customInspect !== false && typeof v[customInspect] === "function") {
    const r = v[customInspect](opts.depth - depth, { ...opts, stylize: (s) => s }, inspect);
    if (r !== v) return typeof r === "string" ? r : formatValue(r, opts, depth, seen);
  }
  if (seen.includes(v)) return "[Circular *1]";
  if (typeof v === "function") {
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(v));
    const kind = types.isAsyncFunction(v) ? "AsyncFunction" : isClass ? "class" : "Function";
    const base = isClass ? `[class ${v.name || "(anonymous)"}]` : `[${kind}${v.name ? ": " + v.name : " (anonymous)"}]`;
    const keys = Object.keys(v);
    if (keys.length === 0 || depth > opts.depth) return base;
    return formatObject(v, opts, depth, seen, base + " ", keys);
  }
  if (v instanceof Error) {
    const stack = v.stack ? String(v.stack) : `${v.name}: ${v.message}`;
    return stack.includes(v.message) ? stack : `${v.name}: ${v.message}\n${stack}`;
  }
  if (types.isDate(v)) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (types.isRegExp(v)) return String(v);
  if (types.isBoxedPrimitive(v)) return `[${typeof v.valueOf()}: ${formatValue(v.valueOf(), opts, depth, seen)}]`.replace(/^\[(\w)/, (_, c) => "[" + c.toUpperCase());
  if (types.isPromise(v)) return "Promise { <unknown> }";
  if (v instanceof WeakMap) return "WeakMap { <items unknown> }";
  if (v instanceof WeakSet) return "WeakSet { <items unknown> }";
  if (depth > opts.depth) {
    if (Array.isArray(v)) return "[Array]";
    const name = className(v);
    return `[${name || "Object"}]`;
  }
  seen.push(v);
  try {
    if (Array.isArray(v)) {
      const parts = [];
      const max = Math.min(v.length, opts.maxArrayLength);
      let holes = 0;
      for (let i = 0; i < max; i++) {
        if (!(i in v)) {
          holes++;
          continue;
        }
        if (holes) {
          parts.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
          holes = 0;
        }
        parts.push(formatValue(v[i], opts, depth + 1, seen));
      }
      if (holes) parts.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
      if (v.length > max) parts.push(`... ${v.length - max} more item${v.length - max > 1 ? "s" : ""}`);
      for (const k of Object.keys(v)) if (!/^\d+$/.test(k)) parts.push(`${keyName(k)}: ${formatValue(v[k], opts, depth + 1, seen)}`);
      const name = className(v);
      return wrap("[", parts, "]", name && name !== "Array" ? `${name}(${v.length}) ` : "", opts.breakLength);
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = className(v);
      if (name === "Buffer") {
        const hex = Array.from(v.subarray(0, 50), (b) => b.toString(16).padStart(2, "0"));
        return `<Buffer${hex.length ? " " + hex.join(" ") : ""}${v.length > 50 ? ` ... ${v.length - 50} more bytes` : ""}>`;
      }
      const parts = Array.from(v.subarray(0, opts.maxArrayLength), (x) => formatValue(x, opts, depth + 1, seen));
      if (v.length > opts.maxArrayLength) parts.push(`... ${v.length - opts.maxArrayLength} more items`);
      return wrap("[", parts, "]", `${name}(${v.length}) `, opts.breakLength);
    }
    if (v instanceof ArrayBuffer) {
      const bytes = Array.from(new Uint8Array(v, 0, Math.min(50, v.byteLength)), (b) => b.toString(16).padStart(2, "0"));
      return `ArrayBuffer { [Uint8Contents]: <${bytes.join(" ")}${v.byteLength > 50 ? ` ... ${v.byteLength - 50} more bytes` : ""}>, byteLength: ${v.byteLength} }`;
    }
    if (v instanceof Map) {
      const parts = [];
      for (const [k, x] of v) parts.push(`${formatValue(k, opts, depth + 1, seen)} => ${formatValue(x, opts, depth + 1, seen)}`);
      return wrap("{", parts, "}", `${className(v) || "Map"}(${v.size}) `, opts.breakLength);
    }
    if (v instanceof Set) {
      const parts = [];
      for (const x of v) parts.push(formatValue(x, opts, depth + 1, seen));
      return wrap("{", parts, "}", `${className(v) || "Set"}(${v.size}) `, opts.breakLength);
    }
    const name = className(v);
    return formatObject(v, opts, depth, seen, name ? name + " " : "", null);
  } finally {
    seen.pop();
  }
}

function formatObject(v, opts, depth, seen, prefix, keys) {
  const own = keys ?? [
    ...Object.keys(v),
    ...Object.getOwnPropertySymbols(v).filter((s) => Object.getOwnPropertyDescriptor(v, s).enumerable),
  ];
  const parts = own.map((k) => {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d && (d.get || d.set) && !("value" in d)) {
      return `${keyName(k)}: ${d.get && d.set ? "[Getter/Setter]" : d.get ? "[Getter]" : "[Setter]"}`;
    }
    return `${keyName(k)}: ${formatValue(v[k], opts, depth + 1, seen)}`;
  });
  if (parts.length === 0 && prefix) return `${prefix}{}`;
  return wrap("{", parts, "}", prefix, opts.breakLength);
}

const defaultOptions = {
  depth: 2,
  colors: false,
  customInspect: true,
  showHidden: false,
  maxArrayLength: 100,
  maxStringLength: 10000,
  breakLength: 80,
  compact: 3,
  sorted: false,
  getters: false,
};

function inspect(value, opts, ...legacy) {
  let o = { ...defaultOptions };
  if (typeof opts === "boolean") {
    o.showHidden = opts;
    if (legacy[0] !== undefined) o.depth = legacy[0];
  } else if (opts && typeof opts === "object") {
    o = { ...o, ...opts };
  }
  if (o.depth === null) o.depth = Infinity;
  return formatValue(value, o, 0, []);
}
inspect.custom = customInspect;
inspect.defaultOptions = defaultOptions;
inspect.colors = {};
inspect.styles = {};

function formatWithOptions(opts, ...args) {
  const first = args[0];
  let out = "";
  let i = 0;
  if (typeof first === "string") {
    i = 1;
    let last = 0;
    for (let j = 0; j < first.length - 1; j++) {
      if (first[j] !== "%") continue;
      const c = first[j + 1];
      let rep;
      if (c === "%") {
        rep = "%";
      } else if (i < args.length && "sdifjoOc".includes(c)) {
        const a = args[i++];
        switch (c) {
          case "s":
            rep = typeof a === "string" ? a : typeof a === "bigint" ? `${a}n` : typeof a === "object" && a !== null ? inspect(a, { ...opts, depth: 1 }) : String(a);
            break;
          case "d":
          case "i":
            rep = typeof a === "bigint" ? `${a}n` : typeof a === "symbol" ? "NaN" : String(c === "i" ? parseInt(a, 10) : Number(a));
            break;
          case "f":
            rep = typeof a === "symbol" ? "NaN" : String(parseFloat(a));
            break;
          case "j":
            try {
              rep = JSON.stringify(a);
            } catch {
              rep = "[Circular]";
            }
            break;
          case "o":
            rep = inspect(a, { ...opts, showHidden: true, depth: 4 });
            break;
          case "O":
            rep = inspect(a, opts);
            break;
          case "c":
            rep = "";
            break;
        }
      } else {
        continue;
      }
      out += first.slice(last, j) + rep;
      last = j + 2;
      j++;
    }
    out += first.slice(last);
  }
  for (; i < args.length; i++) {
    const a = args[i];
    out += (out.length || i > 0 ? " " : "") + (typeof a === "string" ? a : inspect(a, opts));
  }
  return out;
}

function format(...args) {
  return formatWithOptions({}, ...args);
}

function promisify(original) {
  if (typeof original !== "function") {
    const e = new TypeError('The "original" argument must be of type function');
    e.code = "ERR_INVALID_ARG_TYPE";
    throw e;
  }
  if (original[customPromisify]) {
    const fn = original[customPromisify];
    return Object.defineProperty(fn, customPromisify, { value: fn, enumerable: false, writable: false, configurable: true });
  }
  function fn(...args) {
    return new Promise((resolve, reject) => {
      Reflect.apply(original, this, [...args, (err, ...values) => {
        if (err) return reject(err);
        resolve(values[0]);
      }]);
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  Object.defineProperty(fn, customPromisify, { value: fn, enumerable: false, writable: false, configurable: true });
  return Object.defineProperties(fn, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

function callbackify(original) {
  if (typeof original !== "function") throw new TypeError('The "original" argument must be of type function');
  return function (...args) {
    const cb = args.pop();
    if (typeof cb !== "function") throw new TypeError("The last argument must be of type function");
    Reflect.apply(original, this, args).then(
      (v) => queueMicrotask(() => cb(null, v)),
      (e) => {
        if (!e) {
          const err = new Error("Promise was rejected with a falsy value");
          err.code = "ERR_FALSY_VALUE_REJECTION";
          err.reason = e;
          e = err;
        }
        queueMicrotask(() => cb(e));
      },
    );
  };
}

function inherits(ctor, superCtor) {
  if (typeof ctor !== "function" || typeof superCtor !== "function" || superCtor.prototype === undefined) {
    throw new TypeError('The "ctor" and "superCtor" arguments must be functions with prototypes');
  }
  Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const warned = new Set();
function deprecate(fn, msg, code) {
  return function (...args) {
    const key = code || msg;
    if (!warned.has(key)) {
      warned.add(key);
      console.warn(`${code ? `[${code}] ` : ""}DeprecationWarning: ${msg}`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : Reflect.apply(fn, this, args);
  };
}

function debuglog(section) {
  const names = String(globalThis.process?.env?.NODE_DEBUG ?? "").toUpperCase().split(/[\s,]+/);
  const enabled = names.includes(String(section).toUpperCase()) || names.includes("*");
  const fn = enabled ? (...args) => console.error(`${String(section).toUpperCase()}: ${format(...args)}`) : () => {};
  fn.enabled = enabled;
  return fn;
}

function isDeepStrictEqual(a, b) {
  return deepEqual(a, b, true, []);
}

function deepEqual(a, b, strict, memo) {
  if (strict ? Object.is(a, b) : a == b || (a !== a && b !== b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const tag = Object.prototype.toString.call(a);
  if (tag !== Object.prototype.toString.call(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  for (const [x, y] of memo) if (x === a && y === b) return true;
  memo = [...memo, [a, b]];
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp) return String(a) === String(b) && a.lastIndex === b.lastIndex;
  if (a instanceof Error && (a.message !== b.message || a.name !== b.name)) return false;
  if (types.isBoxedPrimitive(a) && !Object.is(a.valueOf(), b.valueOf())) return false;
  if (ArrayBuffer.isView(a)) {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  if (a instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k), strict, memo)) return false;
  } else if (a instanceof Set) {
    if (a.size !== b.size) return false;
    outer: for (const v of a) {
      if (b.has(v)) continue;
      if (typeof v === "object" && v !== null) {
        for (const w of b) if (deepEqual(v, w, strict, memo)) continue outer;
      }
      return false;
    }
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual(a[k], b[k], strict, memo)) return false;
  }
  if (strict) {
    const sa = Object.getOwnPropertySymbols(a).filter((s) => Object.prototype.propertyIsEnumerable.call(a, s));
    const sb = Object.getOwnPropertySymbols(b).filter((s) => Object.prototype.propertyIsEnumerable.call(b, s));
    if (sa.length !== sb.length) return false;
    for (const s of sa) if (!deepEqual(a[s], b[s], strict, memo)) return false;
  }
  return true;
}

function stripVTControlCharacters(s) {
  return String(s).replace(/[\u001B\u009B][[\]()#;?]*(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007|(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~])/g, "");
}

function toUSVString(s) {
  return String(s).toWellFormed ? String(s).toWellFormed() : String(s).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

function aborted(signal, _resource) {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

module.exports = {
  format,
  formatWithOptions,
  inspect,
  promisify,
  callbackify,
  inherits,
  deprecate,
  debuglog,
  debug: debuglog,
  isDeepStrictEqual,
  types,
  TextEncoder: globalThis.TextEncoder,
  TextDecoder: globalThis.TextDecoder,
  stripVTControlCharacters,
  toUSVString,
  aborted,
  styleText: (_format, text) => String(text),
  isArray: Array.isArray,
  isBoolean: (v) => typeof v === "boolean",
  isNull: (v) => v === null,
  isNullOrUndefined: (v) => v == null,
  isNumber: (v) => typeof v === "number",
  isString: (v) => typeof v === "string",
  isSymbol: (v) => typeof v === "symbol",
  isUndefined: (v) => v === undefined,
  isRegExp: types.isRegExp,
  isObject: (v) => v !== null && typeof v === "object",
  isDate: types.isDate,
  isError: (v) => v instanceof Error,
  isFunction: (v) => typeof v === "function",
  isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
};
module.exports._deepEqual = deepEqual;
