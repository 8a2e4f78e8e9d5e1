// The same checks run in a jan assistant and in node; the test compares
// the two answers. Every value is plain JSON.
import { Buffer } from "node:buffer";
import bufferDefault from "buffer";
import * as path from "node:path";
import { EventEmitter, once } from "node:events";
import util, { format, inspect, promisify, isDeepStrictEqual } from "node:util";
import { StringDecoder } from "node:string_decoder";
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { Readable, Writable, Transform, PassThrough, pipeline } from "node:stream";
import { pipeline as pipelineP, finished as finishedP } from "node:stream/promises";
import zlib from "node:zlib";
import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL, parse as urlParse, format as urlFormat } from "node:url";
import querystring from "node:querystring";
import assert from "node:assert";
import { strict as assertStrict } from "node:assert";
import os from "node:os";
import { createRequire } from "node:module";
import timers from "node:timers";

const errOf = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    return { code: e.code ?? null, name: e.name };
  }
};

async function errOfAsync(f) {
  try {
    await f();
    return null;
  } catch (e) {
    return { code: e.code ?? null, name: e.name };
  }
}

export async function checks(scratchUrl) {
  const out = {};

  // buffer
  const b = Buffer.from("héllo wörld €😀", "utf8");
  out.buffer = {
    len: b.length,
    hex: b.toString("hex"),
    b64: b.toString("base64"),
    b64url: b.toString("base64url"),
    latin1: Buffer.from("héllo", "latin1").toString("hex"),
    utf16: Buffer.from("hi€", "utf16le").toString("hex"),
    fromHex: Buffer.from("48656c6c6f", "hex").toString(),
    fromB64: Buffer.from("aGVsbG8gd29ybGQ=", "base64").toString(),
    fromB64Url: Buffer.from("aGk_Pz4-", "base64url").toString("hex"),
    concat: Buffer.concat([Buffer.from("ab"), Buffer.from("cd")], 3).toString(),
    sliceShares: (() => {
      const x = Buffer.from("abc");
      x.slice(1)[0] = 0x7a;
      return x.toString();
    })(),
    compare: [Buffer.compare(Buffer.from("a"), Buffer.from("b")), Buffer.from("b").compare(Buffer.from("a"))],
    equals: Buffer.from("x").equals(Buffer.from("x")),
    indexOf: [b.indexOf("wörld"), b.indexOf(0x6c), b.lastIndexOf("l"), b.includes("€")],
    ints: (() => {
      const x = Buffer.alloc(16);
      x.writeUInt32BE(0xdeadbeef, 0);
      x.writeInt16LE(-2, 4);
      x.writeDoubleLE(1.5, 8);
      return [x.readUInt32BE(0), x.readInt16LE(4), x.readDoubleLE(8), x.readUIntBE(0, 3), x.readIntLE(4, 2), x.toString("hex")];
    })(),
    bigint: (() => {
      const x = Buffer.alloc(8);
      x.writeBigUInt64LE(2n ** 63n + 5n);
      return x.readBigUInt64LE(0).toString();
    })(),
    alloc: Buffer.alloc(5, "ab").toString(),
    write: (() => {
      const x = Buffer.alloc(4);
      const n = x.write("€€", 0);
      return [n, x.toString("hex")];
    })(),
    json: JSON.stringify(Buffer.from([1, 2, 3])),
    isBuffer: [Buffer.isBuffer(b), Buffer.isBuffer(new Uint8Array(2)), b instanceof Uint8Array],
    byteLength: [Buffer.byteLength("€"), Buffer.byteLength("aGk=", "base64"), Buffer.byteLength("abcd", "hex")],
    isEncoding: [Buffer.isEncoding("UTF-8"), Buffer.isEncoding("nope")],
    badEncoding: errOf(() => Buffer.from("x", "nope")),
    outOfRange: errOf(() => Buffer.alloc(2).readUInt32LE(0)),
    defaultExport: bufferDefault.Buffer === Buffer,
    global: globalThis.Buffer === Buffer,
    inspect: inspect(Buffer.from("hi")),
  };

  // path
  out.path = {
    join: path.join("/a/b", "../c", "./d", ""),
    joinRel: path.join("a", "", "..", "..", "b"),
    normalize: [path.normalize("/a//b/../c/."), path.normalize("./x/"), path.normalize("")],
    relative: [path.relative("/a/b/c", "/a/d"), path.relative("/a", "/a/b/c")],
    dirname: [path.dirname("/a/b/"), path.dirname("a"), path.dirname("/")],
    basename: [path.basename("/a/b.txt"), path.basename("/a/b.txt", ".txt"), path.basename("/a/b/")],
    extname: [path.extname("a.tar.gz"), path.extname(".bashrc"), path.extname("a."), path.extname("a")],
    parse: path.parse("/home/u/file.txt"),
    parseRel: path.parse("file"),
    format: path.format({ dir: "/x", name: "y", ext: ".z" }),
    isAbsolute: [path.isAbsolute("/a"), path.isAbsolute("a")],
    resolveAbs: path.resolve("/a/b", "../c", "d"),
    sep: [path.sep, path.delimiter, path.posix === path.posix.posix],
  };

  // events
  {
    const e = new EventEmitter();
    const seen = [];
    e.on("x", (v) => seen.push("a" + v));
    e.prependListener("x", (v) => seen.push("p" + v));
    e.once("x", (v) => seen.push("o" + v));
    e.emit("x", 1);
    e.emit("x", 2);
    const unhandled = errOf(() => e.emit("error", new TypeError("boom")));
    const later = once(e, "y");
    e.emit("y", 7, 8);
    out.events = {
      seen,
      count: e.listenerCount("x"),
      names: e.eventNames(),
      unhandled,
      once: await later,
      max: e.getMaxListeners(),
    };
  }

  // util
  out.util = {
    format: [format("%s is %d years and %i%%", "Al", 42.5, 7.9), format("%j", { a: 1 }), format("a", 1, { b: 2 })],
    inspect: [
      inspect({ a: 1, b: "two", c: [1, 2, { d: 3 }], e: null, f: undefined }),
      inspect(new Map([["k", 1]])),
      inspect(new Set([1, "x"])),
      inspect({ a: { b: { c: { d: 1 } } } }),
      inspect("str"),
      inspect([1, , 3]),
      inspect(Symbol("s")),
      inspect(function named() {}),
      inspect(class K {}),
      inspect({ "needs-quote": 1 }),
      inspect(new Date(0)),
      inspect(-0),
      inspect(12n),
    ],
    promisify: await promisify((x, cb) => setTimeout(() => cb(null, x * 2), 1))(21),
    promisifyErr: await promisify((cb) => cb(new RangeError("no")))().catch((e) => e.name),
    deep: [isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), isDeepStrictEqual({ a: 1 }, { a: "1" }), isDeepStrictEqual(new Set([1]), new Set([1]))],
    types: [util.types.isPromise(Promise.resolve()), util.types.isDate(new Date()), util.types.isRegExp(/x/), util.types.isUint8Array(Buffer.alloc(1))],
    inherits: (() => {
      function A() {}
      A.prototype.hi = () => "hi";
      function B() {}
      util.inherits(B, A);
      return [new B().hi(), B.super_ === A];
    })(),
  };

  // string_decoder
  {
    const d = new StringDecoder("utf8");
    const euro = Buffer.from("€");
    out.stringDecoder = [d.write(euro.subarray(0, 1)), d.write(euro.subarray(1)), d.end(Buffer.from([0xe2]))];
  }

  // crypto
  out.crypto = {
    md5: createHash("md5").update("abc").digest("hex"),
    sha1: createHash("sha1").update("a").update("bc").digest("hex"),
    sha256: createHash("sha256").update(Buffer.from("abc")).digest("base64"),
    sha512: createHash("sha512").update("").digest("hex").slice(0, 32),
    hmac: createHmac("sha256", "key").update("The quick brown fox").digest("hex"),
    randomLen: randomBytes(24).length,
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(randomUUID()),
    tse: [timingSafeEqual(Buffer.from("ab"), Buffer.from("ab")), timingSafeEqual(Buffer.from("ab"), Buffer.from("ac"))],
    randomInt: (() => {
      const r = randomInt(3, 5);
      return r >= 3 && r < 5;
    })(),
    badAlgo: errOf(() => createHash("nope")) !== null,
  };

  // fs, in the assistant's granted scratch folder
  {
    const dir = fileURLToPath(scratchUrl);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "sub", "deeper"), { recursive: true });
    fs.writeFileSync(path.join(dir, "a.txt"), "hello");
    fs.appendFileSync(path.join(dir, "a.txt"), " world");
    await fsp.writeFile(path.join(dir, "sub", "b.json"), JSON.stringify({ ok: true }));
    const st = fs.statSync(path.join(dir, "a.txt"));
    fs.renameSync(path.join(dir, "a.txt"), path.join(dir, "c.txt"));
    fs.copyFileSync(path.join(dir, "c.txt"), path.join(dir, "d.txt"));
    const cb = await new Promise((resolve) => fs.readFile(path.join(dir, "d.txt"), "utf8", (err, data) => resolve([err, data])));
    out.fs = {
      read: fs.readFileSync(path.join(dir, "c.txt"), "utf8"),
      readBuf: fs.readFileSync(path.join(dir, "c.txt")).length,
      json: JSON.parse(await fsp.readFile(path.join(dir, "sub", "b.json"), { encoding: "utf8" })),
      stat: [st.isFile(), st.isDirectory(), st.size, st.mtime instanceof Date],
      exists: [fs.existsSync(path.join(dir, "a.txt")), fs.existsSync(path.join(dir, "c.txt"))],
      readdir: fs.readdirSync(dir),
      withTypes: fs.readdirSync(dir, { withFileTypes: true }).map((d) => [d.name, d.isDirectory()]),
      recursive: fs.readdirSync(dir, { recursive: true }).sort(),
      callback: cb,
      enoent: errOf(() => fs.readFileSync(path.join(dir, "missing"))),
      enoentAsync: await errOfAsync(() => fsp.readFile(path.join(dir, "missing"))),
      eexist: errOf(() => fs.mkdirSync(path.join(dir, "sub"))),
      notEmpty: errOf(() => fs.rmdirSync(path.join(dir, "sub"))),
      statMissing: fs.statSync(path.join(dir, "nope"), { throwIfNoEntry: false }) ?? null,
    };
    fs.unlinkSync(path.join(dir, "d.txt"));
    const ws = fs.createWriteStream(path.join(dir, "s.txt"));
    ws.write("one ");
    ws.end("two");
    await finishedP(ws);
    const chunks = [];
    for await (const c of fs.createReadStream(path.join(dir, "s.txt"), { encoding: "utf8", highWaterMark: 3 })) chunks.push(c);
    out.fs.streams = chunks.join("");
    out.fs.after = fs.readdirSync(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    out.fs.removed = fs.existsSync(dir);
  }

  // stream
  {
    const r = Readable.from(["a", "b", "c"]);
    const got = [];
    for await (const x of r) got.push(x);
    const upper = new Transform({
      transform(chunk, _enc, cb) {
        cb(null, chunk.toString().toUpperCase());
      },
    });
    const sink = [];
    const w = new Writable({
      write(chunk, _enc, cb) {
        sink.push(chunk.toString());
        cb();
      },
    });
    await pipelineP(Readable.from(["x", "y"]), upper, w);
    const events = [];
    const pt = new PassThrough();
    pt.on("data", (d) => events.push("data:" + d));
    pt.on("end", () => events.push("end"));
    pt.on("finish", () => events.push("finish"));
    pt.write("1");
    pt.end("2");
    await finishedP(pt);
    await sleep(5);
    const cbDone = await new Promise((resolve) =>
      pipeline(Readable.from(["q"]), new PassThrough(), new Writable({ write: (_c, _e, cb) => cb() }), (err) => resolve(err ?? "ok")),
    );
    const failing = await new Promise((resolve) =>
      pipeline(
        new Readable({ read() { this.destroy(new Error("src broke")); } }),
        new PassThrough(),
        (err) => resolve(err?.message),
      ),
    );
    const paused = new Readable({ read() {} });
    paused.push("abc");
    paused.push("def");
    paused.push(null);
    const readAll = [];
    await new Promise((resolve) => {
      paused.on("readable", () => {
        let c;
        while ((c = paused.read(2)) !== null) readAll.push(c.toString());
      });
      paused.on("end", resolve);
    });
    const bp = new Writable({ highWaterMark: 4, write: (_c, _e, cb) => setTimeout(cb, 1) });
    const first = bp.write("12345");
    const drained = await new Promise((resolve) => bp.once("drain", () => resolve(true)));
    out.stream = { got, sink, events: events.sort(), cbDone, failing, readAll, backpressure: [first, drained], writableInstance: new PassThrough() instanceof Writable };
  }

  // zlib
  {
    const text = "jan ".repeat(100);
    const gz = zlib.gzipSync(text);
    out.zlib = {
      gunzip: zlib.gunzipSync(gz).toString() === text,
      smaller: gz.length < text.length,
      magic: gz.subarray(0, 2).toString("hex"),
      inflate: zlib.inflateSync(zlib.deflateSync("abc")).toString(),
      raw: zlib.inflateRawSync(zlib.deflateRawSync("abc")).toString(),
      unzip: zlib.unzipSync(gz).toString().length,
      cb: await new Promise((resolve) => zlib.gzip("x", (err, buf) => zlib.gunzip(buf, (e2, back) => resolve(back.toString())))),
      bad: errOf(() => zlib.gunzipSync(Buffer.from("not gzip"))) !== null,
    };
  }

  // async_hooks
  {
    const als = new AsyncLocalStorage();
    const seen = [];
    await als.run({ id: 1 }, async () => {
      seen.push(als.getStore()?.id);
      await sleep(2);
      seen.push(als.getStore()?.id);
      await Promise.all([
        als.run({ id: 2 }, async () => {
          await null;
          seen.push(als.getStore()?.id);
        }),
        (async () => {
          await sleep(1);
          seen.push(als.getStore()?.id);
        })(),
      ]);
      await new Promise((resolve) => setTimeout(() => {
        seen.push(als.getStore()?.id);
        resolve();
      }, 1));
    });
    seen.push(als.getStore() ?? "none");
    out.asyncHooks = seen;
  }

  // url, querystring
  out.url = {
    fromFile: fileURLToPath("file:///a/b%20c.txt"),
    toFile: pathToFileURL("/x/y z#.txt").href,
    parse: (() => {
      const u = urlParse("http://user:pw@Host.com:8080/p/a/t/h?query=string#hash", true);
      return [u.protocol, u.auth, u.host, u.hostname, u.port, u.pathname, u.search, u.query, u.hash, u.path];
    })(),
    format: urlFormat({ protocol: "https", hostname: "example.com", pathname: "/a", query: { b: "c d" } }),
    qs: [querystring.stringify({ a: [1, 2], b: "x y", c: "é" }), querystring.parse("a=1&a=2&b=x+y&c=%C3%A9")],
  };

  // assert
  out.assert = {
    ok: errOf(() => assert.ok(true)),
    fails: errOf(() => assert.strictEqual(1, 2)),
    deep: errOf(() => assert.deepStrictEqual({ a: [1] }, { a: [1] })),
    deepFails: errOf(() => assertStrict.deepEqual({ a: 1 }, { a: "1" })),
    loose: errOf(() => assert.deepEqual({ a: 1 }, { a: "1" })),
    throws: errOf(() => assert.throws(() => { throw new TypeError("x"); }, TypeError)),
    rejects: await errOfAsync(() => assert.rejects(Promise.reject(new Error("y")), /y/)),
  };

  // os, module, process
  const require = createRequire(import.meta.url);
  out.misc = {
    eol: os.EOL,
    tmpdir: typeof os.tmpdir(),
    requireBuiltin: require("path").join("a", "b"),
    requireNode: require("node:events") === EventEmitter,
    hrtime: Array.isArray(process.hrtime()),
    nextTick: await new Promise((resolve) => process.nextTick(resolve, "ticked")),
    cwdAbsolute: path.isAbsolute(process.cwd()),
  };
  // Cases a review found different from node, kept equal.
  {
    const paths = [".bashrc", "a/", ".", "/", "a/b/"].map((p) => path.parse(p));
    const urls = ["//foo/bar", "mailto:a@b.c", "javascript:alert(1)", "file:///etc/x"].map((u) => {
      const x = urlParse(u);
      return [x.protocol, x.slashes, x.auth, x.host, x.pathname, x.href];
    });
    const piped = await new Promise((resolve) => pipeline(Readable.from(["a"]), new PassThrough(), (err) => resolve(err ?? "ok")));
    const t = new Transform({ transform: (c, _e, cb) => cb(null, c) });
    let writes = 0;
    while (t.write("x".repeat(1024)) && writes < 1000) writes++;
    let cancelled = "fired";
    const timer = timers.setTimeout(() => (cancelled = "fired"), 5);
    cancelled = "cancelled";
    clearTimeout(timer);
    await sleep(10);
    out.more = {
      paths,
      urls,
      piped,
      transformBackpressure: writes < 1000,
      promisifyFirst: await promisify((cb) => cb(null, 1, 2))(),
      bufferCtor: [Buffer.from("a").constructor === Buffer, Buffer.alloc(1) instanceof Buffer, Buffer.from("ab").subarray(1).constructor === Buffer, Buffer(2).length],
      randomIntRange: errOf(() => randomInt(0, 2 ** 50)),
      clearTimeoutObject: cancelled,
      subtle: await (async () => {
        const hex = (b) => Buffer.from(b).toString("hex");
        const digest = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc")));
        const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("key"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
        const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("msg"));
        const ok = await crypto.subtle.verify("HMAC", key, sig, new TextEncoder().encode("msg"));
        const bad = await crypto.subtle.verify("HMAC", key, sig, new TextEncoder().encode("msg!"));
        const gen = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-512" }, true, ["sign"]);
        return [digest, hex(sig), ok, bad, key.algorithm.length, (await crypto.subtle.exportKey("raw", gen)).byteLength, gen.algorithm.hash.name];
      })(),
      messageChannel: await new Promise((resolve) => {
        const { port1, port2 } = new MessageChannel();
        port1.onmessage = (e) => {
          resolve([e.data, e.data === sent]);
          port1.close();
          port2.close();
        };
        const sent = { a: [1, 2], b: "x" };
        port2.postMessage(sent);
      }),
      webStreams: await (async () => {
        const upper = new TransformStream({ transform: (chunk, c) => c.enqueue(chunk.toUpperCase()) });
        const text = ReadableStream.from(["h\u00e9", "llo"]).pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream()).pipeThrough(upper);
        const parts = [];
        for await (const p of text) parts.push(p);
        const written = [];
        await ReadableStream.from([1, 2, 3]).pipeTo(new WritableStream({ write: (c) => void written.push(c * 2) }));
        const failing = ReadableStream.from(["a"]).pipeThrough(new TransformStream({ transform() { throw new Error("boom"); } }));
        const error = await failing.getReader().read().then(() => "read", (e) => e.message);
        const ac = new AbortController();
        const idle = new ReadableStream({ pull: () => new Promise(() => {}) });
        const piping = idle.pipeTo(new WritableStream(), { signal: ac.signal }).then(() => "resolved", (e) => e.name);
        setTimeout(() => ac.abort(), 5);
        return [parts.join(""), written, error, await piping];
      })(),
    };
  }
  // Intl with locale data (node uses ICU; jan ICU4X; both CLDR).
  {
    const when = new Date(Date.UTC(2025, 0, 15, 16, 9, 35));
    const utc = { timeZone: "UTC" };
    out.intl = {
      numbers: [
        new Intl.NumberFormat("de-DE").format(1234.5),
        new Intl.NumberFormat("en-US").format(1234567.891),
        new Intl.NumberFormat("fr-FR").format(1234.5),
        new Intl.NumberFormat("en-IN").format(12345678),
        new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(1234.5),
        new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(-12.3),
        new Intl.NumberFormat("ja-JP", { style: "currency", currency: "JPY" }).format(1234),
        new Intl.NumberFormat("en-US", { style: "percent" }).format(0.256),
        new Intl.NumberFormat("de-DE", { style: "percent", maximumFractionDigits: 1 }).format(0.2567),
        new Intl.NumberFormat("en-US", { minimumFractionDigits: 2 }).format(3),
        new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(2.5),
        new Intl.NumberFormat("en-US", { useGrouping: false }).format(1234567),
        new Intl.NumberFormat("en-US", { minimumIntegerDigits: 3 }).format(7),
        new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 }).format(123456),
        (1234.5).toLocaleString("de-DE"),
        new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 }).format(1234.5),
        new Intl.NumberFormat("en-US", { style: "percent" }).format(0.145),
        (1234.5).toLocaleString(),
      ],
      dates: [
        when.toLocaleDateString("en-US", utc),
        // (de-DE's numeric date is left out: V8 prints CLDR's yMd skeleton,
        // 15.1.2025; jan the short date pattern with the full year,
        // 15.01.2025.)
        when.toLocaleDateString("en-GB", utc),
        when.toLocaleTimeString("en-US", utc),
        when.toLocaleTimeString("de-DE", utc),
        new Intl.DateTimeFormat("en-US", { dateStyle: "full", timeZone: "UTC" }).format(when),
        new Intl.DateTimeFormat("de-DE", { dateStyle: "long", timeZone: "UTC" }).format(when),
        new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeZone: "UTC" }).format(when),
        new Intl.DateTimeFormat("en-US", { timeStyle: "short", timeZone: "UTC" }).format(when),
        new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit", hour12: false, timeZone: "UTC" }).format(when),
        new Intl.DateTimeFormat("en-US", { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, timeStyle: "short" }).format(when),
      ],
      collation: [
        ["z", "a", "\u00e4", "A", "b"].sort(new Intl.Collator("de").compare),
        ["a10", "a2", "a1"].sort(new Intl.Collator("en", { numeric: true }).compare),
        "a".localeCompare("B"),
        "\u00e4".localeCompare("a", "de", { sensitivity: "base" }),
      ],
      plurals: [
        [0, 1, 2, 5].map((n) => new Intl.PluralRules("en-US").select(n)),
        [1, 2, 3, 4, 11, 21].map((n) => new Intl.PluralRules("en-US", { type: "ordinal" }).select(n)),
        [0, 1, 2, 5, 22].map((n) => new Intl.PluralRules("ru").select(n)),
        [0, 1, 2, 3, 11, 100].map((n) => new Intl.PluralRules("ar").select(n)),
      ],
      segments: [
        [...new Intl.Segmenter("en", { granularity: "grapheme" }).segment("e\u0301\ud83d\udc4d\ud83c\udffdx")].map((s) => s.segment),
        [...new Intl.Segmenter("en", { granularity: "word" }).segment("Hello, world! It's 3.5 km.")].filter((s) => s.isWordLike).map((s) => s.segment),
        [...new Intl.Segmenter("en", { granularity: "sentence" }).segment("One. Two? Three!")].map((s) => s.segment),
      ],
      lists: [
        new Intl.ListFormat("en", { type: "conjunction" }).format(["a", "b", "c"]),
        new Intl.ListFormat("de", { type: "disjunction" }).format(["a", "b", "c"]),
        new Intl.ListFormat("es").format(["x", "y"]),
      ],
      canonical: Intl.getCanonicalLocales(["EN-us", "de-de"]),
    };
  }
  return out;
}
