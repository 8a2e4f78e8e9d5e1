// CommonJS: `require`, `module.exports`, and the loader's facade for
// `import x from "some-cjs-package"`. Files are resolved and read by Rust
// (confined to the assistant's folder); they run here, wrapped the way Node
// wraps them.
const core = globalThis.Deno.core;
const ops = core.ops;

const cache = new Map();
let coreApi = null;

export function setCoreApi(api) {
  coreApi = api;
}

// Node built-ins that load but can never work in an assistant (processes,
// threads, raw sockets): importing them succeeds, as packages such as
// undici import `net` when they load; using them throws.
const UNAVAILABLE = new Set(["child_process", "worker_threads", "net", "tls", "dgram", "cluster"]);
const unavailableCache = new Map();

function unavailable(name) {
  let stub = unavailableCache.get(name);
  if (stub) return stub;
  const fail = (what) => {
    throw new Error(
      "node:" + name + " is not available in jan assistants (" + what +
        "): assistants cannot start processes or threads or open raw sockets; use fetch for HTTP",
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

function makeRequire(parent) {
  const require = (specifier) => {
    if (specifier === "@janhq/core") return coreApi;
    const bare = String(specifier).replace(/^node:/, "");
    if (UNAVAILABLE.has(bare)) return unavailable(bare);
    return load(ops.op_jan_require_resolve(String(specifier), parent));
  };
  require.resolve = (specifier) => ops.op_jan_require_resolve(String(specifier), parent);
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
      fn.call(module.exports, module.exports, makeRequire(path), module, path, dirname);
    }
  } catch (e) {
    cache.delete(path);
    throw e;
  }
  module.loaded = true;
  return module.exports;
}

globalThis[Symbol.for("jan.require")] = load;
