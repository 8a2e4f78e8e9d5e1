// node:crypto: hashes and HMACs (md5, sha1, sha2 family) computed in Rust,
// random bytes/ints/UUIDs, timingSafeEqual and the web crypto object.
"use strict";

const { Buffer } = require("buffer");
const { Transform } = require("stream");

function bytesOf(data, encoding) {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const e = new TypeError(`The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${data === null ? "null" : typeof data}`);
  e.code = "ERR_INVALID_ARG_TYPE";
  throw e;
}

function normalizeAlgorithm(a) {
  const s = String(a).toLowerCase().replace(/^rsa-/, "");
  return { "sha-1": "sha1", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512", "sha-224": "sha224" }[s] ?? s;
}

class Hash extends Transform {
  constructor(algorithm, key) {
    super();
    this._algorithm = normalizeAlgorithm(algorithm);
    this._key = key;
    this._chunks = [];
    this._done = false;
    // Fail now, as Node does, for an unknown algorithm.
    jan.hash(this._algorithm, new Uint8Array(0), key ?? null);
  }

  update(data, encoding) {
    if (this._done) {
      const e = new Error("Digest already called");
      e.code = "ERR_CRYPTO_HASH_FINALIZED";
      throw e;
    }
    this._chunks.push(Buffer.from(bytesOf(data, encoding)));
    return this;
  }

  digest(encoding) {
    if (this._done) {
      const e = new Error("Digest already called");
      e.code = "ERR_CRYPTO_HASH_FINALIZED";
      throw e;
    }
    this._done = true;
    const out = Buffer.from(jan.hash(this._algorithm, Buffer.concat(this._chunks), this._key ?? null));
    return encoding && encoding !== "buffer" ? out.toString(encoding) : out;
  }

  copy() {
    const h = new Hash(this._algorithm, this._key);
    h._chunks = this._chunks.slice();
    return h;
  }

  _transform(chunk, encoding, cb) {
    this.update(chunk, encoding);
    cb();
  }

  _flush(cb) {
    this.push(this.digest());
    cb();
  }
}

function createHash(algorithm) {
  return new Hash(algorithm);
}

function createHmac(algorithm, key) {
  // A copy: changing the key buffer afterwards must not change the MAC.
  return new Hash(algorithm, Buffer.from(key?.export ? key.export() : bytesOf(key)));
}

function hash(algorithm, data, outputEncoding = "hex") {
  return createHash(algorithm).update(data).digest(outputEncoding);
}

function randomBytes(size, cb) {
  if (typeof size !== "number" || size < 0 || size > 2 ** 31 - 1) {
    const e = new RangeError(`The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${size}`);
    e.code = "ERR_OUT_OF_RANGE";
    throw e;
  }
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, i + 65536));
  if (typeof cb === "function") {
    queueMicrotask(() => cb(null, out));
    return undefined;
  }
  return out;
}

function randomFillSync(buf, offset = 0, size) {
  const bytes = new Uint8Array(buf.buffer ?? buf, buf.byteOffset ?? 0, buf.byteLength);
  const end = size === undefined ? bytes.length : offset + size;
  bytes.set(randomBytes(end - offset), offset);
  return buf;
}

function randomFill(buf, offset, size, cb) {
  if (typeof offset === "function") [cb, offset, size] = [offset, 0, undefined];
  else if (typeof size === "function") [cb, size] = [size, undefined];
  randomFillSync(buf, offset, size);
  queueMicrotask(() => cb(null, buf));
}

function randomInt(min, max, cb) {
  if (max === undefined || typeof max === "function") {
    cb = max;
    max = min;
    min = 0;
  }
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
    const e = new RangeError(`The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
    e.code = "ERR_OUT_OF_RANGE";
    throw e;
  }
  const range = max - min;
  if (range > 2 ** 48 - 1) {
    const e = new RangeError(`The value of "max - min" is out of range. It must be <= 281474976710655. Received ${range}`);
    e.code = "ERR_OUT_OF_RANGE";
    throw e;
  }
  // Rejection sampling over 48 random bits: no modulo bias.
  const limit = 2 ** 48 - (2 ** 48 % range);
  let x;
  do {
    x = randomBytes(6).readUIntBE(0, 6);
  } while (x >= limit);
  const r = min + (x % range);
  if (typeof cb === "function") {
    queueMicrotask(() => cb(null, r));
    return undefined;
  }
  return r;
}

function timingSafeEqual(a, b) {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) {
    const e = new RangeError("Input buffers must have the same byte length");
    e.code = "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH";
    throw e;
  }
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

function getHashes() {
  return ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
}

function unavailable(name) {
  return () => {
    throw new Error(`crypto.${name} is not available in jan assistants (hashes, HMAC and random values are)`);
  };
}

module.exports = {
  createHash,
  createHmac,
  hash,
  Hash,
  Hmac: Hash,
  randomBytes,
  pseudoRandomBytes: randomBytes,
  randomFillSync,
  randomFill,
  randomInt,
  randomUUID: () => globalThis.crypto.randomUUID(),
  getRandomValues: (a) => globalThis.crypto.getRandomValues(a),
  timingSafeEqual,
  getHashes,
  getCiphers: () => [],
  getCurves: () => [],
  webcrypto: globalThis.crypto,
  subtle: globalThis.crypto.subtle,
  createCipheriv: unavailable("createCipheriv"),
  createDecipheriv: unavailable("createDecipheriv"),
  createSign: unavailable("createSign"),
  createVerify: unavailable("createVerify"),
  createPublicKey: unavailable("createPublicKey"),
  createPrivateKey: unavailable("createPrivateKey"),
  createSecretKey: unavailable("createSecretKey"),
  generateKeyPair: unavailable("generateKeyPair"),
  generateKeyPairSync: unavailable("generateKeyPairSync"),
  pbkdf2: unavailable("pbkdf2"),
  pbkdf2Sync: unavailable("pbkdf2Sync"),
  scrypt: unavailable("scrypt"),
  scryptSync: unavailable("scryptSync"),
  createECDH: unavailable("createECDH"),
  createDiffieHellman: unavailable("createDiffieHellman"),
  publicEncrypt: unavailable("publicEncrypt"),
  privateDecrypt: unavailable("privateDecrypt"),
  sign: unavailable("sign"),
  verify: unavailable("verify"),
  constants: {},
};
