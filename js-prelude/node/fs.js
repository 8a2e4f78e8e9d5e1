// node:fs and node:fs/promises, through the assistant's grants: every path
// is resolved (links followed) and checked against permissions.read /
// permissions.write in Rust before it is used. Relative paths are relative
// to the assistant's folder (process.cwd()). Sync, callback and promise
// forms share one implementation.
"use strict";

const { Buffer } = require("buffer");
// Captured now: the shared path module can be changed by assistant code.
const resolvePath = require("path").resolve;
const { Readable, Writable } = require("stream");
const ops = jan.fs;

function fsError(e, path) {
  if (!(e instanceof Error)) return e;
  const m = /^([A-Z_]+): (.*)$/s.exec(e.message);
  if (!m) return e;
  const plain = m[1] === "ERR_ACCESS_DENIED" || m[1] === "ERR_FS_FILE_TOO_LARGE";
  const err = new (e instanceof RangeError ? RangeError : Error)(plain ? m[2] : e.message);
  err.code = m[1];
  if (!plain) {
    const sys = /, (\w+) '/.exec(e.message);
    if (sys) err.syscall = sys[1];
    err.errno = -({ ENOENT: 2, EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOSPC: 28, ENOTEMPTY: 39 }[m[1]] ?? 5);
    if (path !== undefined) err.path = path;
  } else if (m[1] === "ERR_ACCESS_DENIED") {
    err.permission = /^write/.test(m[2]) ? "FileSystemWrite" : "FileSystemRead";
    if (path !== undefined) err.resource = path;
  }
  return err;
}

function toPath(p, name = "path") {
  if (p instanceof URL) {
    if (p.protocol !== "file:") {
      const e = new TypeError("The URL must be of scheme file");
      e.code = "ERR_INVALID_URL_SCHEME";
      throw e;
    }
    p = decodeURIComponent(p.pathname);
  } else if (p instanceof Uint8Array) {
    p = Buffer.from(p).toString();
  }
  if (typeof p !== "string") {
    const e = new TypeError(`The "${name}" argument must be of type string or an instance of Buffer or URL. Received ${p === null ? "null" : typeof p}`);
    e.code = "ERR_INVALID_ARG_TYPE";
    throw e;
  }
  if (p.includes("\0")) {
    const e = new TypeError(`The argument '${name}' must be a string without null bytes`);
    e.code = "ERR_INVALID_ARG_VALUE";
    throw e;
  }
  return resolvePath(p);
}

function call(fn, path, ...args) {
  try {
    return fn(...args);
  } catch (e) {
    throw fsError(e, path);
  }
}

function encodingOf(options) {
  if (typeof options === "string") return options;
  return options?.encoding ?? null;
}

function toBytes(data, encoding) {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const e = new TypeError(`The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${data === null ? "null" : typeof data}`);
  e.code = "ERR_INVALID_ARG_TYPE";
  throw e;
}

// What kind of entry a Stats or Dirent describes.
class Kind {
  isFile() { return this.kind === "file"; }
  isDirectory() { return this.kind === "dir"; }
  isSymbolicLink() { return this.kind === "symlink"; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
  isFIFO() { return false; }
  isSocket() { return false; }
}

class Stats extends Kind {
  constructor(s) {
    super();
    this.dev = s.dev;
    this.mode = s.mode;
    this.nlink = s.nlink;
    this.uid = s.uid;
    this.gid = s.gid;
    this.rdev = 0;
    this.blksize = 4096;
    this.ino = s.ino;
    this.size = s.size;
    this.blocks = Math.ceil(s.size / 512);
    this.atimeMs = s.atimeMs;
    this.mtimeMs = s.mtimeMs;
    this.ctimeMs = s.ctimeMs;
    this.birthtimeMs = s.birthtimeMs;
    this.atime = new Date(s.atimeMs);
    this.mtime = new Date(s.mtimeMs);
    this.ctime = new Date(s.ctimeMs);
    this.birthtime = new Date(s.birthtimeMs);
    Object.defineProperty(this, "kind", { value: s.kind, enumerable: false });
  }
}

class Dirent extends Kind {
  constructor(name, kind, parentPath) {
    super();
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    Object.defineProperty(this, "kind", { value: kind, enumerable: false });
  }
}

function notFound(syscall, path) {
  const e = new Error(`ENOENT: no such file or directory, ${syscall} '${path}'`);
  e.code = "ENOENT";
  e.errno = -2;
  e.syscall = syscall;
  e.path = path;
  return e;
}

// ---- sync ---------------------------------------------------------------------

function readFileSync(path, options) {
  if (typeof path === "number") throw new Error("file descriptors are not available in jan assistants");
  const p = toPath(path);
  const bytes = call(ops.read, path, p);
  const enc = encodingOf(options);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return enc ? buf.toString(enc) : buf;
}

function writeFileSync(path, data, options) {
  const p = toPath(path);
  const flag = (typeof options === "object" && options?.flag) || "w";
  call(ops.write, path, p, toBytes(data, encodingOf(options)), flag.startsWith("a"), flag.includes("x"));
}

function appendFileSync(path, data, options) {
  const p = toPath(path);
  call(ops.write, path, p, toBytes(data, encodingOf(options)), true, false);
}

function statOf(path, options, follow) {
  const s = call(ops.stat, path, toPath(path), follow);
  if (s === null) {
    if (options?.throwIfNoEntry === false) return undefined;
    throw notFound(follow ? "stat" : "lstat", path);
  }
  return new Stats(s);
}

function statSync(path, options) {
  return statOf(path, options, true);
}

function lstatSync(path, options) {
  return statOf(path, options, false);
}

function existsSync(path) {
  try {
    return ops.stat(toPath(path), true) !== null;
  } catch {
    return false;
  }
}

function accessSync(path, mode) {
  const p = toPath(path);
  if (call(ops.stat, path, p, true) === null) throw notFound("access", path);
  if (mode & 2) call(ops.checkWrite, path, p);
}

function readdirSync(path, options) {
  const p = toPath(path);
  const entries = call(ops.readdir, path, p);
  const withTypes = typeof options === "object" && options?.withFileTypes;
  if (typeof options === "object" && options?.recursive) {
    const out = [];
    const walk = (dir, rel) => {
      for (const e of call(ops.readdir, path, dir)) {
        const relName = rel ? rel + "/" + e.name : e.name;
        out.push(withTypes ? new Dirent(e.name, e.kind, dir) : relName);
        if (e.kind === "dir") walk(dir + "/" + e.name, relName);
      }
    };
    walk(p, "");
    return out;
  }
  if (withTypes) return entries.map((e) => new Dirent(e.name, e.kind, p));
  const enc = encodingOf(options);
  return entries.map((e) => (enc === "buffer" ? Buffer.from(e.name) : e.name));
}

function mkdirSync(path, options) {
  const recursive = typeof options === "object" && !!options?.recursive;
  const created = call(ops.mkdir, path, toPath(path), recursive);
  return recursive ? (created ?? undefined) : undefined;
}

function rmSync(path, options) {
  call(ops.remove, path, toPath(path), "any", !!options?.recursive, !!options?.force);
}

function rmdirSync(path, options) {
  call(ops.remove, path, toPath(path), "dir", !!options?.recursive, false);
}

function unlinkSync(path) {
  call(ops.remove, path, toPath(path), "file", false, false);
}

function renameSync(from, to) {
  call(ops.rename, from, toPath(from, "oldPath"), toPath(to, "newPath"));
}

function copyFileSync(from, to, mode = 0) {
  call(ops.copy, from, toPath(from, "src"), toPath(to, "dest"), (mode & 1) === 1);
}

function realpathSync(path) {
  return call(ops.realpath, path, toPath(path));
}
realpathSync.native = realpathSync;

function mkdtempSync(prefix) {
  for (let i = 0; i < 10; i++) {
    const name = prefix + Math.random().toString(36).slice(2, 8);
    try {
      call(ops.mkdir, name, toPath(name), false);
      return name;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    }
  }
  throw new Error("mkdtemp: no free name");
}

function unavailable(name) {
  return () => {
    throw new Error(`fs.${name} is not available in jan assistants`);
  };
}

// ---- promises and callbacks ----------------------------------------------------

function promised(fn) {
  return (...args) => {
    try {
      return Promise.resolve(fn(...args));
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

const promises = {
  readFile: promised(readFileSync),
  writeFile: promised(writeFileSync),
  appendFile: promised(appendFileSync),
  stat: promised(statSync),
  lstat: promised(lstatSync),
  access: promised(accessSync),
  readdir: promised(readdirSync),
  mkdir: promised(mkdirSync),
  rm: promised(rmSync),
  rmdir: promised(rmdirSync),
  unlink: promised(unlinkSync),
  rename: promised(renameSync),
  copyFile: promised(copyFileSync),
  realpath: promised(realpathSync),
  mkdtemp: promised(mkdtempSync),
  open: unavailable("promises.open"),
  constants: undefined,
};

function callbackified(fn) {
  return (...args) => {
    const cb = args.pop();
    if (typeof cb !== "function") {
      const e = new TypeError('The "cb" argument must be of type function');
      e.code = "ERR_INVALID_ARG_TYPE";
      throw e;
    }
    let result;
    try {
      result = fn(...args);
    } catch (e) {
      queueMicrotask(() => cb(e));
      return;
    }
    queueMicrotask(() => cb(null, result));
  };
}

function exists(path, cb) {
  const r = existsSync(path);
  queueMicrotask(() => cb(r));
}

// ---- streams --------------------------------------------------------------------

function createReadStream(path, options) {
  const opts = typeof options === "string" ? { encoding: options } : options ?? {};
  const highWaterMark = opts.highWaterMark ?? 64 * 1024;
  let data = null;
  let pos = opts.start ?? 0;
  const stream = new Readable({
    highWaterMark,
    encoding: opts.encoding,
    read() {
      try {
        if (data === null) {
          data = readFileSync(path);
          const end = opts.end === undefined ? data.length : Math.min(data.length, opts.end + 1);
          data = data.subarray(0, end);
          queueMicrotask(() => stream.emit("open", 0));
          queueMicrotask(() => stream.emit("ready"));
        }
      } catch (e) {
        this.destroy(e);
        return;
      }
      if (pos >= data.length) {
        this.push(null);
        return;
      }
      const chunk = data.subarray(pos, pos + highWaterMark);
      pos += chunk.length;
      this.bytesRead = pos;
      this.push(chunk);
    },
  });
  stream.path = path;
  stream.bytesRead = 0;
  return stream;
}

function createWriteStream(path, options) {
  const opts = typeof options === "string" ? { encoding: options } : options ?? {};
  let first = !(opts.flags ?? "w").startsWith("a");
  const stream = new Writable({
    decodeStrings: true,
    write(chunk, encoding, cb) {
      try {
        const p = toPath(path);
        call(ops.write, path, p, toBytes(chunk, encoding), !first, false);
        first = false;
        stream.bytesWritten += chunk.length;
        cb();
      } catch (e) {
        cb(e);
      }
    },
    final(cb) {
      if (first) {
        try {
          call(ops.write, path, toPath(path), new Uint8Array(0), false, false);
        } catch (e) {
          return cb(e);
        }
      }
      cb();
    },
  });
  stream.path = path;
  stream.bytesWritten = 0;
  queueMicrotask(() => {
    stream.emit("open", 0);
    stream.emit("ready");
  });
  return stream;
}

const constants = {
  F_OK: 0,
  R_OK: 4,
  W_OK: 2,
  X_OK: 1,
  COPYFILE_EXCL: 1,
  COPYFILE_FICLONE: 2,
  COPYFILE_FICLONE_FORCE: 4,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 64,
  O_EXCL: 128,
  O_TRUNC: 512,
  O_APPEND: 1024,
  S_IFMT: 61440,
  S_IFREG: 32768,
  S_IFDIR: 16384,
  S_IFLNK: 40960,
};
promises.constants = constants;

module.exports = {
  readFileSync,
  writeFileSync,
  appendFileSync,
  statSync,
  lstatSync,
  existsSync,
  accessSync,
  readdirSync,
  mkdirSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  renameSync,
  copyFileSync,
  realpathSync,
  mkdtempSync,
  readFile: callbackified(readFileSync),
  writeFile: callbackified(writeFileSync),
  appendFile: callbackified(appendFileSync),
  stat: callbackified(statSync),
  lstat: callbackified(lstatSync),
  access: callbackified(accessSync),
  readdir: callbackified(readdirSync),
  mkdir: callbackified(mkdirSync),
  rm: callbackified(rmSync),
  rmdir: callbackified(rmdirSync),
  unlink: callbackified(unlinkSync),
  rename: callbackified(renameSync),
  copyFile: callbackified(copyFileSync),
  realpath: callbackified(realpathSync),
  mkdtemp: callbackified(mkdtempSync),
  exists,
  createReadStream,
  createWriteStream,
  promises,
  constants,
  Stats,
  Dirent,
  F_OK: 0,
  R_OK: 4,
  W_OK: 2,
  X_OK: 1,
  openSync: unavailable("openSync"),
  open: unavailable("open"),
  closeSync: unavailable("closeSync"),
  close: unavailable("close"),
  readSync: unavailable("readSync"),
  writeSync: unavailable("writeSync"),
  symlinkSync: unavailable("symlinkSync"),
  symlink: unavailable("symlink"),
  watch: unavailable("watch"),
  watchFile: unavailable("watchFile"),
  chmodSync: unavailable("chmodSync"),
  chmod: unavailable("chmod"),
};
module.exports.realpath.native = module.exports.realpath;
