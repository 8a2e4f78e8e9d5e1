// node:path (POSIX): Node's semantics for join, resolve, normalize,
// relative, parse and format. Relative paths resolve against
// process.cwd(), which is the assistant's folder.
"use strict";

function check(p, name = "path") {
  if (typeof p !== "string") {
    const e = new TypeError(`The "${name}" argument must be of type string. Received ${p === null ? "null" : typeof p}`);
    e.code = "ERR_INVALID_ARG_TYPE";
    throw e;
  }
}

// Applies `.` and `..` to a path's segments; keeps leading `..` only for
// relative paths.
function normalizeSegments(path, absolute) {
  const out = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else {
      out.push(seg);
    }
  }
  return out.join("/");
}

function normalize(path) {
  check(path);
  if (path.length === 0) return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  let out = normalizeSegments(path, absolute);
  if (out.length === 0) return absolute ? "/" : trailing ? "./" : ".";
  if (trailing) out += "/";
  return absolute ? "/" + out : out;
}

function join(...parts) {
  for (const p of parts) check(p);
  const joined = parts.filter((p) => p.length > 0).join("/");
  return joined.length === 0 ? "." : normalize(joined);
}

function resolve(...parts) {
  let resolved = "";
  let absolute = false;
  for (let i = parts.length - 1; i >= -1 && !absolute; i--) {
    const p = i >= 0 ? parts[i] : globalThis.process.cwd();
    check(p);
    if (p.length === 0) continue;
    resolved = p + "/" + resolved;
    absolute = p.startsWith("/");
  }
  const out = normalizeSegments(resolved, absolute);
  return absolute ? "/" + out : out.length ? out : ".";
}

function isAbsolute(path) {
  check(path);
  return path.startsWith("/");
}

function relative(from, to) {
  check(from, "from");
  check(to, "to");
  if (from === to) return "";
  const a = resolve(from).split("/").filter(Boolean);
  const b = resolve(to).split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...Array(a.length - i).fill(".."), ...b.slice(i)].join("/");
}

function trimSlashes(path) {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

function dirname(path) {
  check(path);
  if (path.length === 0) return ".";
  const p = trimSlashes(path);
  const i = p.lastIndexOf("/");
  if (i === -1) return ".";
  if (i === 0) return "/";
  return trimSlashes(p.slice(0, i));
}

function basename(path, ext) {
  check(path);
  if (ext !== undefined) check(ext, "ext");
  let p = trimSlashes(path);
  if (p === "/") return "";
  p = p.slice(p.lastIndexOf("/") + 1);
  if (ext !== undefined && ext !== p && p.endsWith(ext)) p = p.slice(0, p.length - ext.length);
  return p;
}

function extname(path) {
  check(path);
  const base = basename(path);
  const i = base.lastIndexOf(".");
  if (i <= 0 || (base.length === 2 && base === "..")) return "";
  return base.slice(i);
}

function parse(path) {
  check(path);
  const root = path.startsWith("/") ? "/" : "";
  if (path === root) return { root, dir: root, base: "", ext: "", name: "" };
  const base = basename(path);
  const ext = extname(path);
  // Node leaves `dir` empty when the path names no folder.
  const dir = trimSlashes(path).includes("/") ? dirname(path) : "";
  return { root, dir, base, ext, name: ext ? base.slice(0, base.length - ext.length) : base };
}

function format(obj) {
  if (obj === null || typeof obj !== "object") {
    throw new TypeError(`The "pathObject" argument must be of type object. Received ${obj === null ? "null" : typeof obj}`);
  }
  const dir = obj.dir || obj.root;
  const base = obj.base || `${obj.name || ""}${obj.ext ? (obj.ext.startsWith(".") ? "" : ".") + obj.ext : ""}`;
  if (!dir) return base;
  return dir === obj.root ? `${dir}${base}` : `${dir}/${base}`;
}

function toNamespacedPath(path) {
  return path;
}

function matchesGlob() {
  throw new Error("path.matchesGlob is not available in jan assistants");
}

module.exports = {
  sep: "/",
  delimiter: ":",
  normalize,
  join,
  resolve,
  isAbsolute,
  relative,
  dirname,
  basename,
  extname,
  parse,
  format,
  toNamespacedPath,
  matchesGlob,
};
module.exports.posix = module.exports;
