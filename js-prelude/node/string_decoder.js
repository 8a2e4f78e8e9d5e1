// node:string_decoder: decodes a byte stream without splitting characters
// across chunks.
"use strict";

const { Buffer } = require("buffer");

function charLength(lead) {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

class StringDecoder {
  constructor(encoding = "utf8") {
    const enc = String(encoding).toLowerCase().replace("-", "");
    if (!Buffer.isEncoding(encoding)) {
      const e = new TypeError(`Unknown encoding: ${encoding}`);
      e.code = "ERR_UNKNOWN_ENCODING";
      throw e;
    }
    this.encoding = { utf8: "utf8", ucs2: "utf16le", utf16le: "utf16le", binary: "latin1" }[enc] ?? enc;
    this.pending = Buffer.alloc(0);
  }

  // The bytes at the end of `buf` that start an unfinished character.
  held(buf) {
    if (this.encoding === "utf8") {
      for (let back = 1; back <= Math.min(3, buf.length); back++) {
        const b = buf[buf.length - back];
        if ((b & 0xc0) === 0x80) continue;
        return b >= 0xc0 && charLength(b) > back ? back : 0;
      }
      return 0;
    }
    if (this.encoding === "utf16le") {
      if (buf.length % 2) return 1;
      const hi = buf[buf.length - 1];
      return buf.length >= 2 && hi >= 0xd8 && hi <= 0xdb ? 2 : 0;
    }
    if (this.encoding === "base64" || this.encoding === "base64url") return buf.length % 3;
    return 0;
  }

  write(chunk) {
    if (typeof chunk === "string") return chunk;
    const buf = Buffer.concat([this.pending, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)]);
    const keep = this.held(buf);
    this.pending = Buffer.from(buf.subarray(buf.length - keep));
    return buf.toString(this.encoding, 0, buf.length - keep);
  }

  end(chunk) {
    let out = chunk === undefined ? "" : this.write(chunk);
    if (this.pending.length) {
      out += this.pending.toString(this.encoding);
      this.pending = Buffer.alloc(0);
    }
    return out;
  }
}

module.exports = { StringDecoder };
