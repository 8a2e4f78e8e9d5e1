// node:zlib: gzip, deflate (zlib and raw) and their inverses, computed in
// Rust (flate2) on whole buffers: sync, callback and promise forms, and
// Transform streams that compress what was written when it ends. Brotli
// and zstd are not available.
"use strict";

const { Buffer } = require("buffer");
const { Transform } = require("stream");

function bytesOf(data) {
  if (typeof data === "string") return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const e = new TypeError('The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer');
  e.code = "ERR_INVALID_ARG_TYPE";
  throw e;
}

function run(mode, data, opts) {
  try {
    return Buffer.from(jan.zlib(mode, bytesOf(data), opts?.level ?? -1));
  } catch (e) {
    const m = /^(Z_DATA_ERROR|ERR_BUFFER_TOO_LARGE): (.*)$/s.exec(e.message);
    if (!m) throw e;
    const err = new Error(m[1] === "Z_DATA_ERROR" ? "incorrect header check" : m[2]);
    err.code = m[1];
    if (m[1] === "Z_DATA_ERROR") err.errno = -3;
    throw err;
  }
}

const modes = ["gzip", "gunzip", "deflate", "inflate", "deflateRaw", "inflateRaw", "unzip"];
const api = {};
for (const mode of modes) {
  const sync = (data, opts) => run(mode, data, opts);
  api[`${mode}Sync`] = sync;
  api[mode] = (data, opts, cb) => {
    if (typeof opts === "function") {
      cb = opts;
      opts = {};
    }
    let out;
    try {
      out = sync(data, opts);
    } catch (e) {
      queueMicrotask(() => cb(e));
      return;
    }
    queueMicrotask(() => cb(null, out));
  };
  const Name = mode[0].toUpperCase() + mode.slice(1);
  const Stream = class extends Transform {
    constructor(opts = {}) {
      super(opts);
      this._chunks = [];
      this._opts = opts;
      this.bytesWritten = 0;
    }
    _transform(chunk, _enc, cb) {
      this._chunks.push(Buffer.from(chunk));
      this.bytesWritten += chunk.length;
      cb();
    }
    _flush(cb) {
      try {
        cb(null, run(mode, Buffer.concat(this._chunks), this._opts));
      } catch (e) {
        cb(e);
      }
    }
    close(cb) {
      this.destroy();
      if (cb) queueMicrotask(cb);
    }
  };
  Object.defineProperty(Stream, "name", { value: Name });
  api[Name] = Stream;
  api[`create${Name}`] = (opts) => new Stream(opts);
}

function unavailable(name) {
  return () => {
    throw new Error(`zlib.${name} is not available in jan assistants (gzip and deflate are)`);
  };
}

const constants = {
  Z_NO_FLUSH: 0,
  Z_PARTIAL_FLUSH: 1,
  Z_SYNC_FLUSH: 2,
  Z_FULL_FLUSH: 3,
  Z_FINISH: 4,
  Z_BLOCK: 5,
  Z_OK: 0,
  Z_STREAM_END: 1,
  Z_NEED_DICT: 2,
  Z_ERRNO: -1,
  Z_STREAM_ERROR: -2,
  Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4,
  Z_BUF_ERROR: -5,
  Z_VERSION_ERROR: -6,
  Z_NO_COMPRESSION: 0,
  Z_BEST_SPEED: 1,
  Z_BEST_COMPRESSION: 9,
  Z_DEFAULT_COMPRESSION: -1,
  Z_FILTERED: 1,
  Z_HUFFMAN_ONLY: 2,
  Z_RLE: 3,
  Z_FIXED: 4,
  Z_DEFAULT_STRATEGY: 0,
  BROTLI_OPERATION_PROCESS: 0,
  BROTLI_OPERATION_FLUSH: 1,
  BROTLI_OPERATION_FINISH: 2,
  BROTLI_PARAM_MODE: 0,
  BROTLI_PARAM_QUALITY: 1,
};

module.exports = {
  gzip: api.gzip,
  gzipSync: api.gzipSync,
  gunzip: api.gunzip,
  gunzipSync: api.gunzipSync,
  deflate: api.deflate,
  deflateSync: api.deflateSync,
  inflate: api.inflate,
  inflateSync: api.inflateSync,
  deflateRaw: api.deflateRaw,
  deflateRawSync: api.deflateRawSync,
  inflateRaw: api.inflateRaw,
  inflateRawSync: api.inflateRawSync,
  unzip: api.unzip,
  unzipSync: api.unzipSync,
  Gzip: api.Gzip,
  Gunzip: api.Gunzip,
  Deflate: api.Deflate,
  Inflate: api.Inflate,
  DeflateRaw: api.DeflateRaw,
  InflateRaw: api.InflateRaw,
  Unzip: api.Unzip,
  createGzip: api.createGzip,
  createGunzip: api.createGunzip,
  createDeflate: api.createDeflate,
  createInflate: api.createInflate,
  createDeflateRaw: api.createDeflateRaw,
  createInflateRaw: api.createInflateRaw,
  createUnzip: api.createUnzip,
  brotliCompress: unavailable("brotliCompress"),
  brotliCompressSync: unavailable("brotliCompressSync"),
  brotliDecompress: unavailable("brotliDecompress"),
  brotliDecompressSync: unavailable("brotliDecompressSync"),
  createBrotliCompress: unavailable("createBrotliCompress"),
  createBrotliDecompress: unavailable("createBrotliDecompress"),
  constants,
  codes: { Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_DATA_ERROR: -3, Z_BUF_ERROR: -5 },
};
