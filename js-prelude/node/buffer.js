// node:buffer: Buffer as a Uint8Array subclass with Node's encodings
// (utf8, hex, base64, base64url, latin1/binary, ascii, utf16le/ucs2),
// slices that share memory, and the typed read/write methods.
"use strict";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const kMaxLength = 2 ** 32;
const kStringMaxLength = 2 ** 29 - 24;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  B64_INDEX[B64.charCodeAt(i)] = i;
  B64_INDEX[B64URL.charCodeAt(i)] = i;
}

function typeError(code, message) {
  const e = new TypeError(message);
  e.code = code;
  return e;
}

function rangeError(code, message) {
  const e = new RangeError(message);
  e.code = code;
  return e;
}

function normalizeEncoding(enc) {
  if (enc === undefined || enc === null || enc === "") return "utf8";
  switch (String(enc).toLowerCase()) {
    case "utf8":
    case "utf-8":
      return "utf8";
    case "hex":
      return "hex";
    case "base64":
      return "base64";
    case "base64url":
      return "base64url";
    case "latin1":
    case "binary":
      return "latin1";
    case "ascii":
      return "ascii";
    case "ucs2":
    case "ucs-2":
    case "utf16le":
    case "utf-16le":
      return "utf16le";
  }
  return null;
}

function encodingOf(enc) {
  const e = normalizeEncoding(enc);
  if (e === null) throw typeError("ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
  return e;
}

function base64Decode(str) {
  const out = new Uint8Array(Math.ceil((str.length * 3) / 4));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c === 61) break; // '='
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) continue; // Node skips characters outside the alphabet
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function base64Encode(bytes, url) {
  const abc = url ? B64URL : B64;
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + abc[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += abc[n >> 18] + abc[(n >> 12) & 63] + (url ? "" : "==");
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + (url ? "" : "=");
  }
  return out;
}

function hexDecode(str) {
  const out = new Uint8Array(str.length >>> 1);
  let n = 0;
  for (; n < out.length; n++) {
    const byte = parseInt(str.substr(n * 2, 2), 16);
    if (Number.isNaN(byte) || !/^[0-9a-fA-F]{2}$/.test(str.substr(n * 2, 2))) break;
    out[n] = byte;
  }
  return out.subarray(0, n);
}

function encode(string, enc) {
  switch (enc) {
    case "utf8":
      return encoder.encode(string);
    case "hex":
      return hexDecode(string);
    case "base64":
    case "base64url":
      return base64Decode(string);
    case "latin1":
    case "ascii": {
      const out = new Uint8Array(string.length);
      for (let i = 0; i < string.length; i++) out[i] = string.charCodeAt(i) & 0xff;
      return out;
    }
    case "utf16le": {
      const out = new Uint8Array(string.length * 2);
      for (let i = 0; i < string.length; i++) {
        const c = string.charCodeAt(i);
        out[i * 2] = c & 0xff;
        out[i * 2 + 1] = c >> 8;
      }
      return out;
    }
  }
  throw typeError("ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
}

function decode(bytes, enc) {
  switch (enc) {
    case "utf8":
      return decoder.decode(bytes);
    case "hex": {
      let out = "";
      for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
      return out;
    }
    case "base64":
      return base64Encode(bytes, false);
    case "base64url":
      return base64Encode(bytes, true);
    case "latin1":
    case "ascii": {
      let out = "";
      const mask = enc === "ascii" ? 0x7f : 0xff;
      for (let i = 0; i < bytes.length; i += 4096) {
        const chunk = bytes.subarray(i, i + 4096);
        out += String.fromCharCode.apply(null, mask === 0xff ? chunk : Array.from(chunk, (b) => b & mask));
      }
      return out;
    }
    case "utf16le": {
      let out = "";
      for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
      return out;
    }
  }
  throw typeError("ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
}

function checkSize(size) {
  if (typeof size !== "number") throw typeError("ERR_INVALID_ARG_TYPE", `The "size" argument must be of type number. Received ${typeof size}`);
  if (!(size >= 0 && size <= kMaxLength)) throw rangeError("ERR_OUT_OF_RANGE", `The value of "size" is out of range. It must be >= 0 && <= ${kMaxLength}. Received ${size}`);
}

function checkOffset(buf, offset, byteLength) {
  if (offset === undefined) offset = 0;
  if (typeof offset !== "number") throw typeError("ERR_INVALID_ARG_TYPE", `The "offset" argument must be of type number. Received ${typeof offset}`);
  if (!Number.isInteger(offset)) throw rangeError("ERR_OUT_OF_RANGE", `The value of "offset" is out of range. It must be an integer. Received ${offset}`);
  if (offset < 0 || offset + byteLength > buf.length) {
    if (buf.length - byteLength < 0) throw rangeError("ERR_BUFFER_OUT_OF_BOUNDS", "Attempt to access memory outside buffer bounds");
    throw rangeError("ERR_OUT_OF_RANGE", `The value of "offset" is out of range. It must be >= 0 and <= ${buf.length - byteLength}. Received ${offset}`);
  }
  return offset;
}

function view(buf) {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

class FastBuffer extends Uint8Array {
  static from(value, encodingOrOffset, length) {
    if (typeof value === "string") return fromString(value, encodingOrOffset);
    if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)) {
      const offset = encodingOrOffset === undefined ? 0 : +encodingOrOffset || 0;
      if (offset > value.byteLength) throw rangeError("ERR_BUFFER_OUT_OF_BOUNDS", '"offset" is outside of buffer bounds');
      const len = length === undefined ? value.byteLength - offset : +length || 0;
      if (offset + len > value.byteLength) throw rangeError("ERR_BUFFER_OUT_OF_BOUNDS", '"length" is outside of buffer bounds');
      return new FastBuffer(value, offset, len);
    }
    if (ArrayBuffer.isView(value)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      if (value instanceof Uint8Array || value instanceof Int8Array || value instanceof Uint8ClampedArray) {
        const b = new FastBuffer(value.length);
        b.set(bytes);
        return b;
      }
      return FastBuffer.from(Array.from(value));
    }
    if (value == null) {
      throw typeError("ERR_INVALID_ARG_TYPE", `The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received ${value}`);
    }
    if (typeof value === "object") {
      const prim = typeof value[Symbol.toPrimitive] === "function" ? value[Symbol.toPrimitive]("string") : value.valueOf();
      if (prim != null && prim !== value && (typeof prim === "string" || typeof prim === "object")) {
        return FastBuffer.from(prim, encodingOrOffset, length);
      }
      if (value.type === "Buffer" && Array.isArray(value.data)) return fromArrayLike(value.data);
      if (typeof value.length === "number" || Array.isArray(value)) return fromArrayLike(value);
    }
    throw typeError("ERR_INVALID_ARG_TYPE", `The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received type ${typeof value}`);
  }

  static of(...items) {
    return fromArrayLike(items);
  }

  static alloc(size, fill, encoding) {
    checkSize(size);
    const b = new FastBuffer(size);
    if (fill !== undefined && fill !== 0 && size > 0) b.fill(fill, 0, b.length, encoding);
    return b;
  }

  static allocUnsafe(size) {
    checkSize(size);
    return new FastBuffer(size);
  }

  static allocUnsafeSlow(size) {
    checkSize(size);
    return new FastBuffer(size);
  }

  static isBuffer(b) {
    return b instanceof FastBuffer;
  }

  static isEncoding(enc) {
    return typeof enc === "string" && enc.length > 0 && normalizeEncoding(enc) !== null;
  }

  static byteLength(value, encoding) {
    if (typeof value !== "string") {
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
      throw typeError("ERR_INVALID_ARG_TYPE", `The "string" argument must be of type string or an instance of Buffer or ArrayBuffer. Received ${typeof value}`);
    }
    const enc = normalizeEncoding(encoding) ?? "utf8";
    switch (enc) {
      case "utf8":
        return encoder.encode(value).length;
      case "latin1":
      case "ascii":
        return value.length;
      case "utf16le":
        return value.length * 2;
      case "hex":
        return value.length >>> 1;
      default:
        return base64Decode(value).length;
    }
  }

  static concat(list, totalLength) {
    if (!Array.isArray(list)) throw typeError("ERR_INVALID_ARG_TYPE", 'The "list" argument must be an instance of Array');
    if (list.length === 0) return new FastBuffer(0);
    if (totalLength === undefined) totalLength = list.reduce((n, b) => n + b.length, 0);
    const out = FastBuffer.alloc(totalLength);
    let pos = 0;
    for (const [i, b] of list.entries()) {
      if (!(b instanceof Uint8Array)) throw typeError("ERR_INVALID_ARG_TYPE", `The "list[${i}]" argument must be an instance of Buffer or Uint8Array`);
      if (pos >= totalLength) break;
      const part = b.subarray(0, totalLength - pos);
      out.set(part, pos);
      pos += part.length;
    }
    return out;
  }

  static compare(a, b) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) throw typeError("ERR_INVALID_ARG_TYPE", 'The "buf1" and "buf2" arguments must be instances of Buffer or Uint8Array');
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }

  static copyBytesFrom(view, offset = 0, length) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const per = view.BYTES_PER_ELEMENT ?? 1;
    const end = length === undefined ? view.length : offset + length;
    return FastBuffer.from(bytes.slice(offset * per, end * per));
  }

  get parent() {
    return this.buffer;
  }

  get offset() {
    return this.byteOffset;
  }

  toString(encoding, start = 0, end = this.length) {
    if (arguments.length === 0) return decoder.decode(this);
    const enc = encodingOf(encoding);
    start = Math.max(0, start | 0);
    end = Math.min(this.length, end === undefined ? this.length : end | 0);
    if (end <= start) return "";
    return decode(this.subarray(start, end), enc);
  }

  toLocaleString(encoding, start, end) {
    return this.toString(encoding, start, end);
  }

  toJSON() {
    return { type: "Buffer", data: Array.from(this) };
  }

  equals(other) {
    if (!(other instanceof Uint8Array)) throw typeError("ERR_INVALID_ARG_TYPE", 'The "otherBuffer" argument must be an instance of Buffer or Uint8Array');
    return FastBuffer.compare(this, other) === 0;
  }

  compare(target, tStart = 0, tEnd = target.length, sStart = 0, sEnd = this.length) {
    return FastBuffer.compare(this.subarray(sStart, sEnd), target.subarray(tStart, tEnd));
  }

  copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
    if (sourceEnd > this.length) sourceEnd = this.length;
    if (targetStart >= target.length || sourceStart >= sourceEnd) return 0;
    const n = Math.min(sourceEnd - sourceStart, target.length - targetStart);
    target.set(this.subarray(sourceStart, sourceStart + n), targetStart);
    return n;
  }

  slice(start, end) {
    return this.subarray(start, end);
  }

  fill(value, offset = 0, end = this.length, encoding) {
    if (typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = this.length;
    } else if (typeof end === "string") {
      encoding = end;
      end = this.length;
    }
    if (typeof value === "number") return super.fill(value & 255, offset, end);
    if (typeof value === "boolean") return super.fill(+value, offset, end);
    const bytes = typeof value === "string" ? encode(value, encodingOf(encoding)) : value;
    if (bytes.length === 0) {
      if (typeof value === "string" && value.length > 0) throw typeError("ERR_INVALID_ARG_VALUE", `The argument 'value' is invalid. Received '${value}'`);
      return super.fill(0, offset, end);
    }
    for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
    return this;
  }

  write(string, offset, length, encoding) {
    if (typeof offset === "string") {
      encoding = offset;
      offset = 0;
      length = this.length;
    } else if (typeof length === "string") {
      encoding = length;
      length = this.length - (offset || 0);
    }
    offset = offset === undefined ? 0 : offset >>> 0;
    const room = this.length - offset;
    length = length === undefined ? room : Math.min(room, length >>> 0);
    const enc = encodingOf(encoding);
    let bytes = encode(string, enc);
    if (bytes.length > length) {
      bytes = bytes.subarray(0, length);
      if (enc === "utf8") {
        // Never write half a character.
        let end = length;
        while (end > 0 && (bytes[end - 1] & 0xc0) === 0x80) end--;
        if (end > 0) {
          const lead = bytes[end - 1];
          const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
          if (length - (end - 1) < need) bytes = bytes.subarray(0, end - 1);
        }
      }
    }
    this.set(bytes, offset);
    return bytes.length;
  }

  indexOf(value, byteOffset = 0, encoding) {
    return search(this, value, byteOffset, encoding, true);
  }

  lastIndexOf(value, byteOffset, encoding) {
    return search(this, value, byteOffset, encoding, false);
  }

  includes(value, byteOffset, encoding) {
    return this.indexOf(value, byteOffset, encoding) !== -1;
  }

  swap16() {
    if (this.length % 2 !== 0) throw rangeError("ERR_INVALID_BUFFER_SIZE", "Buffer size must be a multiple of 16-bits");
    for (let i = 0; i < this.length; i += 2) [this[i], this[i + 1]] = [this[i + 1], this[i]];
    return this;
  }

  swap32() {
    if (this.length % 4 !== 0) throw rangeError("ERR_INVALID_BUFFER_SIZE", "Buffer size must be a multiple of 32-bits");
    for (let i = 0; i < this.length; i += 4) this.subarray(i, i + 4).reverse();
    return this;
  }

  swap64() {
    if (this.length % 8 !== 0) throw rangeError("ERR_INVALID_BUFFER_SIZE", "Buffer size must be a multiple of 64-bits");
    for (let i = 0; i < this.length; i += 8) this.subarray(i, i + 8).reverse();
    return this;
  }

  readUIntLE(offset, byteLength) {
    checkOffset(this, offset, byteLength);
    let v = 0;
    for (let i = byteLength - 1; i >= 0; i--) v = v * 256 + this[offset + i];
    return v;
  }

  readUIntBE(offset, byteLength) {
    checkOffset(this, offset, byteLength);
    let v = 0;
    for (let i = 0; i < byteLength; i++) v = v * 256 + this[offset + i];
    return v;
  }

  readIntLE(offset, byteLength) {
    const v = this.readUIntLE(offset, byteLength);
    const limit = 2 ** (8 * byteLength - 1);
    return v >= limit ? v - limit * 2 : v;
  }

  readIntBE(offset, byteLength) {
    const v = this.readUIntBE(offset, byteLength);
    const limit = 2 ** (8 * byteLength - 1);
    return v >= limit ? v - limit * 2 : v;
  }

  writeUIntLE(value, offset, byteLength) {
    checkOffset(this, offset, byteLength);
    checkInt(value, 0, 2 ** (8 * byteLength) - 1);
    for (let i = 0; i < byteLength; i++) {
      this[offset + i] = value % 256;
      value = Math.floor(value / 256);
    }
    return offset + byteLength;
  }

  writeUIntBE(value, offset, byteLength) {
    checkOffset(this, offset, byteLength);
    checkInt(value, 0, 2 ** (8 * byteLength) - 1);
    for (let i = byteLength - 1; i >= 0; i--) {
      this[offset + i] = value % 256;
      value = Math.floor(value / 256);
    }
    return offset + byteLength;
  }

  writeIntLE(value, offset, byteLength) {
    const limit = 2 ** (8 * byteLength - 1);
    checkInt(value, -limit, limit - 1);
    return this.writeUIntLE(value < 0 ? value + limit * 2 : value, offset, byteLength);
  }

  writeIntBE(value, offset, byteLength) {
    const limit = 2 ** (8 * byteLength - 1);
    checkInt(value, -limit, limit - 1);
    return this.writeUIntBE(value < 0 ? value + limit * 2 : value, offset, byteLength);
  }

  inspect() {
    const hex = Array.from(this.subarray(0, 50), (b) => b.toString(16).padStart(2, "0"));
    return `<Buffer${hex.length ? " " + hex.join(" ") : ""}${this.length > 50 ? ` ... ${this.length - 50} more bytes` : ""}>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")]() {
    return this.inspect();
  }
}

function checkInt(value, min, max) {
  if (typeof value !== "number" || value < min || value > max || Number.isNaN(value)) {
    throw rangeError("ERR_OUT_OF_RANGE", `The value of "value" is out of range. It must be >= ${min} and <= ${max}. Received ${value}`);
  }
}

// The fixed-width readers and writers, through a DataView.
const fixed = [
  ["UInt8", "Uint8", 1, 0, 255],
  ["Int8", "Int8", 1, -128, 127],
  ["UInt16", "Uint16", 2, 0, 65535],
  ["Int16", "Int16", 2, -32768, 32767],
  ["UInt32", "Uint32", 4, 0, 4294967295],
  ["Int32", "Int32", 4, -2147483648, 2147483647],
  ["Float", "Float32", 4, -Infinity, Infinity],
  ["Double", "Float64", 8, -Infinity, Infinity],
  ["BigUInt64", "BigUint64", 8, 0n, 2n ** 64n - 1n],
  ["BigInt64", "BigInt64", 8, -(2n ** 63n), 2n ** 63n - 1n],
];
for (const [name, dv, size, min, max] of fixed) {
  const ends = size === 1 ? [""] : ["LE", "BE"];
  for (const end of ends) {
    const little = end === "LE";
    const read = function (offset = 0) {
      checkOffset(this, offset, size);
      return view(this)[`get${dv}`](offset, little);
    };
    const write = function (value, offset = 0) {
      checkOffset(this, offset, size);
      if (typeof min === "bigint") {
        if (typeof value !== "bigint") throw typeError("ERR_INVALID_ARG_TYPE", `The "value" argument must be of type bigint. Received ${typeof value}`);
        if (value < min || value > max) throw rangeError("ERR_OUT_OF_RANGE", `The value of "value" is out of range. Received ${value}n`);
      } else if (Number.isFinite(min)) {
        checkInt(+value, min, max);
      }
      view(this)[`set${dv}`](offset, value, little);
      return offset + size;
    };
    FastBuffer.prototype[`read${name}${end}`] = read;
    FastBuffer.prototype[`write${name}${end}`] = write;
    if (name.includes("UInt")) {
      const alias = name.replace("UInt", "Uint");
      FastBuffer.prototype[`read${alias}${end}`] = read;
      FastBuffer.prototype[`write${alias}${end}`] = write;
    }
  }
}
for (const m of ["readUIntLE", "readUIntBE", "writeUIntLE", "writeUIntBE"]) {
  FastBuffer.prototype[m.replace("UInt", "Uint")] = FastBuffer.prototype[m];
}

function search(buf, value, byteOffset, encoding, forward) {
  if (typeof byteOffset === "string") {
    encoding = byteOffset;
    byteOffset = undefined;
  }
  let needle;
  if (typeof value === "number") needle = Uint8Array.of(value & 255);
  else if (typeof value === "string") needle = encode(value, encodingOf(encoding));
  else if (value instanceof Uint8Array) needle = value;
  else throw typeError("ERR_INVALID_ARG_TYPE", 'The "value" argument must be one of type number or string or an instance of Buffer or Uint8Array');
  let start = byteOffset === undefined ? (forward ? 0 : buf.length) : +byteOffset || 0;
  if (start < 0) start = Math.max(0, buf.length + start);
  if (needle.length === 0) return forward ? Math.min(start, buf.length) : Math.min(start, buf.length);
  const last = buf.length - needle.length;
  const match = (i) => {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) return false;
    return true;
  };
  if (forward) {
    for (let i = start; i <= last; i++) if (match(i)) return i;
  } else {
    for (let i = Math.min(start, last); i >= 0; i--) if (match(i)) return i;
  }
  return -1;
}

function fromString(string, encoding) {
  const bytes = encode(string, encodingOf(encoding));
  const b = new FastBuffer(bytes.length);
  b.set(bytes);
  return b;
}

function fromArrayLike(a) {
  const b = new FastBuffer(a.length >>> 0);
  for (let i = 0; i < b.length; i++) b[i] = a[i] & 255;
  return b;
}

// `Buffer` is a function (Buffer(x) without `new` is Node's deprecated
// form and still works) whose prototype is FastBuffer's, as in Node, so
// `buf.constructor === Buffer` and `buf instanceof Buffer` both hold.
function Buffer(arg, encodingOrOffset, length) {
  return typeof arg === "number" ? FastBuffer.alloc(arg) : FastBuffer.from(arg, encodingOrOffset, length);
}
Object.setPrototypeOf(Buffer, Uint8Array);
for (const key of Object.getOwnPropertyNames(FastBuffer)) {
  if (key !== "length" && key !== "name" && key !== "prototype") {
    Object.defineProperty(Buffer, key, Object.getOwnPropertyDescriptor(FastBuffer, key));
  }
}
Buffer.prototype = FastBuffer.prototype;
FastBuffer.prototype.constructor = Buffer;
Buffer.poolSize = 8192;

function SlowBuffer(size) {
  return FastBuffer.allocUnsafeSlow(size);
}

function isUtf8(input) {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(input);
    return true;
  } catch {
    return false;
  }
}

function isAscii(input) {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return bytes.every((b) => b < 128);
}

function transcode(source, fromEnc, toEnc) {
  return FastBuffer.from(FastBuffer.from(source).toString(encodingOf(fromEnc)), encodingOf(toEnc));
}

module.exports = {
  Buffer,
  SlowBuffer,
  kMaxLength,
  kStringMaxLength,
  constants: { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength },
  INSPECT_MAX_BYTES: 50,
  Blob: globalThis.Blob,
  File: globalThis.File,
  atob: globalThis.atob,
  btoa: globalThis.btoa,
  isUtf8,
  isAscii,
  transcode,
};
