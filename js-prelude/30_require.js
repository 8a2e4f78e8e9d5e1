// CommonJS: `require`, `module.exports`, and the loader's facade for
// `import x from "some-cjs-package"`. Files are resolved and read by Rust
// (confined to the assistant's folder); they run here, wrapped the way Node
// wraps them.
const core = globalThis.Deno.core;
const ops = core.ops;

const cache = new Map();
// Captured before any assistant code runs: user code may replace
// Function.prototype.call and friends, and must not see the private
// arguments the built-ins are called with.
const ReflectApply = Reflect.apply;
const ObjectFreeze = Object.freeze;
let coreApi = null;

export function setCoreApi(api) {
  coreApi = api;
}

// Node built-ins that load but can never work in an assistant (processes,
// threads, raw sockets): importing them succeeds, as packages such as
// undici import `net` when they load; using them throws.
const UNAVAILABLE_LIST = ["child_process", "net", "tls", "dgram", "cluster", "http2", "dns", "vm", "v8", "inspector"];
const UNAVAILABLE = new Set(UNAVAILABLE_LIST);
const unavailableCache = new Map();

function unavailable(name) {
  let stub = unavailableCache.get(name);
  if (stub) return stub;
  const fail = (what) => {
    throw new Error(
      "node:" + name + " is not available in jan assistants (" + what +
        "): assistants cannot start processes or threads, open raw sockets or compile code outside the module loader; use fetch or node:http for HTTP",
    );
  };
  const make = (path) =>
    new Proxy(function () {}, {
      get(_t, key) {
        if (key === "prototype") return {};
        if (typeof key === "symbol") return undefined;
        if (key === "then") return undefined;
        return make(path + "." + key);
      },
      apply() { fail(path + "()"); },
      construct() { fail("new " + path + "()"); },
    });
  stub = make(name);
  unavailableCache.set(name, stub);
  return stub;
}
globalThis[Symbol.for("jan.unavailable")] = unavailable;

// Node's built-in modules (js-prelude/node/, compiled into the binary):
// CommonJS, run on first use with a private last argument `jan` that holds
// the ops they wrap. Assistant code never receives `jan`.
const BUILTIN_LIST = ops.op_jan_builtin_names();
const BUILTINS = new Set(BUILTIN_LIST);
const builtinCache = new Map();
let internals = null;

function nodeInternals() {
  if (internals) return internals;
  internals = ObjectFreeze({
    fs: ObjectFreeze({
      read: (p) => ops.op_jan_fs_read(p),
      write: (p, data, append, exclusive) => ops.op_jan_fs_write(p, data, append, exclusive),
      stat: (p, follow) => ops.op_jan_fs_stat(p, follow),
      readdir: (p) => ops.op_jan_fs_readdir(p),
      mkdir: (p, recursive) => ops.op_jan_fs_mkdir(p, recursive),
      remove: (p, kind, recursive, force) => ops.op_jan_fs_remove(p, kind, recursive, force),
      rename: (a, b) => ops.op_jan_fs_rename(a, b),
      copy: (a, b, exclusive) => ops.op_jan_fs_copy(a, b, exclusive),
      realpath: (p) => ops.op_jan_fs_realpath(p),
      checkWrite: (p) => ops.op_jan_fs_check_write(p),
    }),
    hash: (alg, data, key) => ops.op_jan_hash(alg, data, key),
    zlib: (mode, data, level) => ops.op_jan_zlib(mode, data, level),
    os: ObjectFreeze({ arch: hostInfo.os.arch, platform: hostInfo.os.platform, type: hostInfo.os.type, cpus: hostInfo.os.cpus }),
    asyncContext: ObjectFreeze({ getAsyncContext: core.getAsyncContext, setAsyncContext: core.setAsyncContext }),
    createRequire: (file) => makeRequire(file),
    errors: ObjectFreeze({ abortError }),
    // The prelude's own fetch, whatever assistant code later puts on
    // globalThis (a polyfill built on node:http would recurse).
    fetch: preludeFetch,
    Headers: preludeHeaders,
    builtinModules: ObjectFreeze(BUILTIN_LIST.concat(UNAVAILABLE_LIST)),
  });
  return internals;
}

// Evaluated after 40_fetch.js (99_main.js imports it first).
const preludeFetch = globalThis.fetch;
const preludeHeaders = globalThis.Headers;

// Node's AbortError, as the built-ins throw it.
function abortError(signal) {
  const e = new Error("The operation was aborted");
  e.name = "AbortError";
  e.code = "ABORT_ERR";
  e.cause = signal?.reason;
  return e;
}

let hostInfo = { os: {} };
export function setHostInfo(info) {
  hostInfo = info;
}

export function loadBuiltin(name) {
  const cached = builtinCache.get(name);
  if (cached) return cached.exports;
  if (UNAVAILABLE.has(name)) return unavailable(name);
  const url = "jan:node/" + name;
  const module = { exports: {}, id: url, filename: url, loaded: false, children: [], paths: [] };
  builtinCache.set(name, module);
  try {
    const code = ops.op_jan_builtin_source(name);
    const wrapper = "(function (exports, require, module, __filename, __dirname, jan) {" + code + "\n})";
    const [fn, error] = core.evalContext(wrapper, url);
    if (error) throw error.thrown;
    ReflectApply(fn, module.exports, [module.exports, makeRequire("/"), module, url, "/", nodeInternals()]);
  } catch (e) {
    builtinCache.delete(name);
    throw e;
  }
  module.loaded = true;
  return module.exports;
}
globalThis[Symbol.for("jan.builtin")] = loadBuiltin;

function builtinName(specifier) {
  const s = String(specifier);
  const bare = s.startsWith("node:") ? s.slice(5) : s;
  return BUILTINS.has(bare) || UNAVAILABLE.has(bare) ? bare : null;
}

function makeRequire(parent) {
  const require = (specifier) => {
    if (specifier === "@janhq/core") return coreApi;
    const name = builtinName(specifier);
    if (name !== null) return loadBuiltin(name);
    return load(ops.op_jan_require_resolve(String(specifier), parent));
  };
  require.resolve = (specifier) => {
    const name = builtinName(specifier);
    if (name !== null) return String(specifier);
    return ops.op_jan_require_resolve(String(specifier), parent);
  };
  require.cache = cache;
  return require;
}

function load(path) {
  const cached = cache.get(path);
  if (cached) return cached.exports;
  const { kind, code, url } = ops.op_jan_require_load(path);
  if (kind === "esm") {
    throw new Error("require() of ES module " + path + " is not supported; use import instead");
  }
  const module = { exports: {}, id: path, filename: path, loaded: false, children: [], paths: [] };
  cache.set(path, module);
  try {
    if (kind === "json") {
      module.exports = JSON.parse(code);
    } else {
      const wrapper = "(function (exports, require, module, __filename, __dirname) {" + code + "\n})";
      const [fn, error] = core.evalContext(wrapper, url);
      if (error) throw error.thrown;
      const dirname = path.slice(0, path.lastIndexOf("/")) || "/";
      ReflectApply(fn, module.exports, [module.exports, makeRequire(path), module, path, dirname]);
    }
  } catch (e) {
    cache.delete(path);
    throw e;
  }
  module.loaded = true;
  return module.exports;
}

globalThis[Symbol.for("jan.require")] = load;
