// node:url: WHATWG URL, file-URL conversion, and the legacy parse/format/
// resolve API.
"use strict";

const path = require("path");
const querystring = require("querystring");

function fileURLToPath(url) {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol !== "file:") {
    const e = new TypeError("The URL must be of scheme file");
    e.code = "ERR_INVALID_URL_SCHEME";
    throw e;
  }
  if (u.hostname !== "" && u.hostname !== "localhost") {
    const e = new TypeError(`File URL host must be "localhost" or empty on linux`);
    e.code = "ERR_INVALID_FILE_URL_HOST";
    throw e;
  }
  if (/%2f/i.test(u.pathname)) {
    const e = new TypeError("File URL path must not include encoded / characters");
    e.code = "ERR_INVALID_FILE_URL_PATH";
    throw e;
  }
  return decodeURIComponent(u.pathname);
}

function pathToFileURL(p) {
  let resolved = path.resolve(p);
  if (p.endsWith("/") && !resolved.endsWith("/")) resolved += "/";
  const encoded = resolved.replace(/%/g, "%25").replace(/\\/g, "%5C").replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/\t/g, "%09").replace(/#/g, "%23").replace(/\?/g, "%3F");
  return new URL("file://" + encoded);
}

function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

const slashedProtocols = new Set(["http:", "https:", "ftp:", "gopher:", "file:", "ws:", "wss:"]);

function urlParse(input, parseQueryString = false, slashesDenoteHost = false) {
  if (input instanceof Url) return input;
  const u = new Url();
  let rest = String(input).trim();
  const hashAt = rest.indexOf("#");
  if (hashAt >= 0) {
    u.hash = rest.slice(hashAt);
    rest = rest.slice(0, hashAt);
  }
  const qAt = rest.indexOf("?");
  if (qAt >= 0) {
    u.search = rest.slice(qAt);
    u.query = rest.slice(qAt + 1);
    rest = rest.slice(0, qAt);
  } else if (parseQueryString) {
    u.search = "";
    u.query = {};
  }
  if (parseQueryString && typeof u.query === "string") u.query = querystring.parse(u.query);
  const proto = /^([a-z0-9.+-]+:)/i.exec(rest);
  if (proto) {
    u.protocol = proto[1].toLowerCase();
    rest = rest.slice(proto[1].length);
  }
  // Node's rules: `//host` is a host after a protocol (or when asked to),
  // and protocols without slashes (mailto:) still carry user@host.
  const slashes = rest.startsWith("//") && (slashesDenoteHost || !!proto) && u.protocol !== "javascript:";
  if (slashes) {
    u.slashes = true;
    rest = rest.slice(2);
  }
  if (u.protocol !== "javascript:" && (slashes || (proto && !slashedProtocols.has(u.protocol)))) {
    let end = rest.search(/[/\\]/);
    if (end < 0) end = rest.length;
    let host = rest.slice(0, end);
    rest = rest.slice(end);
    const at = host.lastIndexOf("@");
    if (at >= 0) {
      u.auth = decodeURIComponent(host.slice(0, at));
      host = host.slice(at + 1);
    }
    const port = /:(\d*)$/.exec(host);
    if (port) {
      if (port[1]) u.port = port[1];
      host = host.slice(0, host.length - port[0].length);
    }
    u.hostname = host.toLowerCase().replace(/^\[|\]$/g, "");
    u.host = host.toLowerCase() + (u.port ? ":" + u.port : "");
    if (!rest && slashedProtocols.has(u.protocol)) rest = "/";
  }
  if (rest) u.pathname = rest;
  else if (u.slashes && slashedProtocols.has(u.protocol)) u.pathname = "/";
  u.path = (u.pathname ?? "") + (u.search ?? "") || null;
  u.href = urlFormat(u);
  return u;
}

function urlFormat(obj, options) {
  if (typeof obj === "string") obj = urlParse(obj);
  if (obj instanceof URL) {
    const u = new URL(obj.href);
    if (options?.auth === false) {
      u.username = "";
      u.password = "";
    }
    if (options?.search === false) u.search = "";
    if (options?.fragment === false) u.hash = "";
    return u.href;
  }
  let protocol = obj.protocol || "";
  if (protocol && !protocol.endsWith(":")) protocol += ":";
  let auth = obj.auth ? encodeURIComponent(obj.auth).replace(/%3A/i, ":") + "@" : "";
  let host = "";
  if (obj.host) host = auth + obj.host;
  else if (obj.hostname) host = auth + (obj.hostname.includes(":") ? `[${obj.hostname}]` : obj.hostname) + (obj.port ? ":" + obj.port : "");
  let pathname = obj.pathname || "";
  let search = obj.search || "";
  if (!search && obj.query && typeof obj.query === "object") {
    const q = querystring.stringify(obj.query);
    if (q) search = "?" + q;
  }
  if (search && !search.startsWith("?")) search = "?" + search;
  let hash = obj.hash || "";
  if (hash && !hash.startsWith("#")) hash = "#" + hash;
  if (obj.slashes || ((!protocol || slashedProtocols.has(protocol)) && host)) {
    host = "//" + host;
    if (pathname && !pathname.startsWith("/")) pathname = "/" + pathname;
  }
  pathname = pathname.replace(/[?#]/g, encodeURIComponent);
  search = search.replace(/#/g, "%23");
  return protocol + host + pathname + search + hash;
}

function urlResolve(from, to) {
  try {
    return new URL(to, new URL(from, "resolve://")).href.replace(/^resolve:\/\/\/?/, from.startsWith("/") ? "/" : "");
  } catch {
    return to;
  }
}

function domainToASCII(d) {
  try {
    return new URL("http://" + d).hostname;
  } catch {
    return "";
  }
}

function urlToHttpOptions(url) {
  return {
    protocol: url.protocol,
    hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
    hash: url.hash,
    search: url.search,
    pathname: url.pathname,
    path: `${url.pathname || ""}${url.search || ""}`,
    href: url.href,
    port: url.port !== "" ? Number(url.port) : undefined,
    auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
  };
}

module.exports = {
  URL: globalThis.URL,
  URLSearchParams: globalThis.URLSearchParams,
  fileURLToPath,
  pathToFileURL,
  parse: urlParse,
  format: urlFormat,
  resolve: urlResolve,
  Url,
  domainToASCII,
  domainToUnicode: (d) => d,
  urlToHttpOptions,
};
