// node:querystring: parse and stringify with Node's escaping rules.
"use strict";

function qsEscape(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function qsUnescape(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
}

function stringifyPrimitive(v) {
  if (typeof v === "string") return v;
  if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return "";
}

function stringify(obj, sep = "&", eq = "=", options) {
  const escape = options?.encodeURIComponent ?? module.exports.escape;
  if (obj === null || typeof obj !== "object") return "";
  const parts = [];
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    const key = escape(stringifyPrimitive(k)) + eq;
    if (Array.isArray(v)) for (const x of v) parts.push(key + escape(stringifyPrimitive(x)));
    else parts.push(key + escape(stringifyPrimitive(v)));
  }
  return parts.join(sep);
}

function parse(qs, sep = "&", eq = "=", options) {
  const out = Object.create(null);
  if (typeof qs !== "string" || qs.length === 0) return out;
  const unescape = options?.decodeURIComponent ?? module.exports.unescape;
  const max = options?.maxKeys ?? 1000;
  let pairs = qs.split(sep);
  if (max > 0) pairs = pairs.slice(0, max);
  for (const pair of pairs) {
    if (pair.length === 0) continue;
    const i = pair.indexOf(eq);
    const k = unescape((i >= 0 ? pair.slice(0, i) : pair).replace(/\+/g, " "));
    const v = i >= 0 ? unescape(pair.slice(i + eq.length).replace(/\+/g, " ")) : "";
    if (!(k in out)) out[k] = v;
    else if (Array.isArray(out[k])) out[k].push(v);
    else out[k] = [out[k], v];
  }
  return out;
}

module.exports = {
  parse,
  stringify,
  decode: parse,
  encode: stringify,
  escape: qsEscape,
  unescape: qsUnescape,
};
