//! Node's built-in modules for assistant code: their JavaScript (in
//! `js-prelude/node/`, compiled into the binary) and the ops behind the
//! ones that touch the outside (`fs`, `crypto`'s hashes, `zlib`).
//!
//! Every file op goes through the assistant's [`Permissions`]: the path is
//! resolved (links followed) and checked against `permissions.read` /
//! `permissions.write` before it is used, as `import` does. Ops that act on
//! a directory entry itself (`unlink`, `rename`, `lstat`) resolve the parent
//! folder and keep the last name, so removing a link removes the link, not
//! what it points to.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;
use serde::Serialize;

use crate::ext::Ctx;
use crate::permissions::{Access, Permissions};

/// The built-in modules assistants can import, as `node:x` or bare `x`,
/// with their source. Each is CommonJS, run by the prelude's `require`
/// with a private `jan` argument (the wrapped ops below).
pub const BUILTINS: &[(&str, &str)] = &[
    ("assert", include_str!("../../../js-prelude/node/assert.js")),
    (
        "assert/strict",
        include_str!("../../../js-prelude/node/assert_strict.js"),
    ),
    (
        "async_hooks",
        include_str!("../../../js-prelude/node/async_hooks.js"),
    ),
    ("buffer", include_str!("../../../js-prelude/node/buffer.js")),
    (
        "console",
        include_str!("../../../js-prelude/node/console.js"),
    ),
    ("crypto", include_str!("../../../js-prelude/node/crypto.js")),
    (
        "diagnostics_channel",
        include_str!("../../../js-prelude/node/diagnostics_channel.js"),
    ),
    ("events", include_str!("../../../js-prelude/node/events.js")),
    ("fs", include_str!("../../../js-prelude/node/fs.js")),
    ("http", include_str!("../../../js-prelude/node/http.js")),
    ("https", include_str!("../../../js-prelude/node/https.js")),
    (
        "fs/promises",
        include_str!("../../../js-prelude/node/fs_promises.js"),
    ),
    ("module", include_str!("../../../js-prelude/node/module.js")),
    ("os", include_str!("../../../js-prelude/node/os.js")),
    ("path", include_str!("../../../js-prelude/node/path.js")),
    (
        "path/posix",
        include_str!("../../../js-prelude/node/path.js"),
    ),
    (
        "perf_hooks",
        include_str!("../../../js-prelude/node/perf_hooks.js"),
    ),
    (
        "process",
        include_str!("../../../js-prelude/node/process.js"),
    ),
    (
        "querystring",
        include_str!("../../../js-prelude/node/querystring.js"),
    ),
    ("stream", include_str!("../../../js-prelude/node/stream.js")),
    (
        "stream/promises",
        include_str!("../../../js-prelude/node/stream_promises.js"),
    ),
    (
        "stream/web",
        include_str!("../../../js-prelude/node/stream_web.js"),
    ),
    (
        "string_decoder",
        include_str!("../../../js-prelude/node/string_decoder.js"),
    ),
    ("timers", include_str!("../../../js-prelude/node/timers.js")),
    (
        "timers/promises",
        include_str!("../../../js-prelude/node/timers_promises.js"),
    ),
    ("tty", include_str!("../../../js-prelude/node/tty.js")),
    ("url", include_str!("../../../js-prelude/node/url.js")),
    ("util", include_str!("../../../js-prelude/node/util.js")),
    (
        "util/types",
        include_str!("../../../js-prelude/node/util_types.js"),
    ),
    (
        "worker_threads",
        include_str!("../../../js-prelude/node/worker_threads.js"),
    ),
    ("zlib", include_str!("../../../js-prelude/node/zlib.js")),
];

/// The canonical name of a built-in (`node:fs`, `fs` → `fs`).
pub fn builtin(specifier: &str) -> Option<&'static str> {
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(n, _)| *n)
}

/// A built-in's source.
pub fn source(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The names of the built-ins, for `require` and `module.builtinModules`.
#[op2]
#[serde]
pub fn op_jan_builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}

/// The export names of a built-in, found as for any CommonJS file (so the
/// sources list their exports in a form the analysis sees); computed once.
pub fn export_names(name: &str) -> Vec<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(names) = cache.lock().ok().and_then(|c| c.get(name).cloned()) {
        return names;
    }
    let Some(code) = source(name) else {
        return Vec::new();
    };
    let Ok(url) = deno_core::ModuleSpecifier::parse(&format!("jan:node/{name}")) else {
        return Vec::new();
    };
    let parsed = deno_ast::parse_program(deno_ast::ParseParams {
        specifier: url,
        text: code.into(),
        media_type: deno_ast::MediaType::Cjs,
        capture_tokens: false,
        scope_analysis: false,
        maybe_syntax: None,
    });
    let mut names = parsed.map(|p| p.analyze_cjs().exports).unwrap_or_default();
    names.sort();
    names.dedup();
    if let Ok(mut c) = cache.lock() {
        c.insert(name.to_string(), names.clone());
    }
    names
}

#[op2]
#[string]
pub fn op_jan_builtin_source(#[string] name: &str) -> Result<String, JsErrorBox> {
    source(name)
        .map(str::to_string)
        .ok_or_else(|| JsErrorBox::generic(format!("no built-in module '{name}'")))
}

// ---- fs ---------------------------------------------------------------------

/// An error as Node words it: `ENOENT: no such file or directory, open '/x'`.
/// The prelude reads the code before the colon into `err.code`.
fn io_error(e: std::io::Error, syscall: &str, path: &Path) -> JsErrorBox {
    let (code, text) = match e.raw_os_error() {
        Some(libc::ENOENT) => ("ENOENT", "no such file or directory"),
        Some(libc::EACCES) => ("EACCES", "permission denied"),
        Some(libc::EPERM) => ("EPERM", "operation not permitted"),
        Some(libc::EEXIST) => ("EEXIST", "file already exists"),
        Some(libc::ENOTDIR) => ("ENOTDIR", "not a directory"),
        Some(libc::EISDIR) => ("EISDIR", "illegal operation on a directory"),
        Some(libc::ENOTEMPTY) => ("ENOTEMPTY", "directory not empty"),
        Some(libc::ENOSPC) => ("ENOSPC", "no space left on device"),
        Some(libc::EROFS) => ("EROFS", "read-only file system"),
        Some(libc::EXDEV) => ("EXDEV", "cross-device link not permitted"),
        Some(libc::ELOOP) => ("ELOOP", "too many symbolic links encountered"),
        Some(libc::ENAMETOOLONG) => ("ENAMETOOLONG", "name too long"),
        Some(libc::EMFILE) => ("EMFILE", "too many open files"),
        Some(libc::EINVAL) => ("EINVAL", "invalid argument"),
        _ => match e.kind() {
            ErrorKind::NotFound => ("ENOENT", "no such file or directory"),
            ErrorKind::AlreadyExists => ("EEXIST", "file already exists"),
            ErrorKind::InvalidData => ("EINVAL", "invalid data"),
            _ => ("EIO", "i/o error"),
        },
    };
    JsErrorBox::generic(format!("{code}: {text}, {syscall} '{}'", path.display()))
}

fn denied(e: crate::permissions::Denied) -> JsErrorBox {
    JsErrorBox::generic(format!("ERR_ACCESS_DENIED: {e}"))
}

fn perms(state: &OpState) -> &Permissions {
    &state.borrow::<Ctx>().permissions
}

/// The path to use for `access`, after the permission check.
fn checked(state: &OpState, path: &str, access: Access) -> Result<PathBuf, JsErrorBox> {
    perms(state).check(Path::new(path), access).map_err(denied)
}

/// For ops on a directory entry itself: see [`Permissions::check_entry`].
fn checked_entry(state: &OpState, path: &str, access: Access) -> Result<PathBuf, JsErrorBox> {
    perms(state)
        .check_entry(Path::new(path), access)
        .map_err(denied)
}

/// `access(path, W_OK)`: may the code write there?
#[op2(fast)]
pub fn op_jan_fs_check_write(state: &mut OpState, #[string] path: &str) -> Result<(), JsErrorBox> {
    checked(state, path, Access::Write).map(|_| ())
}

#[op2]
#[buffer]
pub fn op_jan_fs_read(state: &mut OpState, #[string] path: &str) -> Result<Vec<u8>, JsErrorBox> {
    use std::io::Read;
    let real = checked(state, path, Access::Read)?;
    let max = state.borrow::<Ctx>().max_bytes;
    let err = |e| io_error(e, "open", Path::new(path));
    let file = open_nonblocking(&real, false).map_err(err)?;
    regular(&file, path)?;
    let mut out = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| io_error(e, "read", Path::new(path)))?;
    if out.len() > max {
        return Err(too_large(max));
    }
    Ok(out)
}

/// Opens without blocking: opening a FIFO that has no writer (or, for
/// writing, no reader) would otherwise wait inside `open`, on the isolate's
/// thread, where the CPU budget does not run. Reads and writes of regular
/// files are unaffected by the flag.
fn open_nonblocking(path: &Path, write: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Only regular files are read or copied: a FIFO or a device would block
/// the isolate's thread (where the CPU budget does not run) or never end.
fn regular(file: &std::fs::File, path: &str) -> Result<(), JsErrorBox> {
    let meta = file
        .metadata()
        .map_err(|e| io_error(e, "fstat", Path::new(path)))?;
    if meta.is_dir() {
        return Err(io_error(
            std::io::Error::from_raw_os_error(libc::EISDIR),
            "read",
            Path::new(path),
        ));
    }
    if !meta.is_file() {
        return Err(JsErrorBox::generic(format!(
            "EINVAL: not a regular file (pipes and devices cannot be read by assistants), open '{path}'"
        )));
    }
    Ok(())
}

fn too_large(max: usize) -> JsErrorBox {
    JsErrorBox::range_error(format!(
        "ERR_FS_FILE_TOO_LARGE: the file is larger than the assistant's heap limit ({} MiB)",
        max >> 20
    ))
}

#[op2(fast)]
pub fn op_jan_fs_write(
    state: &mut OpState,
    #[string] path: &str,
    #[buffer] data: &[u8],
    append: bool,
    exclusive: bool,
) -> Result<(), JsErrorBox> {
    use std::io::Write;
    let real = checked(state, path, Access::Write)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if exclusive {
        options.create_new(true);
    } else {
        options.create(true);
    }
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    if let Ok(meta) = std::fs::metadata(&real)
        && !meta.is_file()
    {
        let f = open_nonblocking(&real, true).map_err(|e| io_error(e, "open", Path::new(path)))?;
        regular(&f, path)?;
    }
    let mut f = options
        .open(&real)
        .map_err(|e| io_error(e, "open", Path::new(path)))?;
    f.write_all(data)
        .map_err(|e| io_error(e, "write", Path::new(path)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stat {
    kind: &'static str,
    size: f64,
    mode: u32,
    ino: f64,
    dev: f64,
    nlink: f64,
    uid: u32,
    gid: u32,
    atime_ms: f64,
    mtime_ms: f64,
    ctime_ms: f64,
    birthtime_ms: f64,
}

fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "dir"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
}

/// `stat` (links followed) or `lstat`. `None` when the path does not
/// exist, so `existsSync` and `{throwIfNoEntry: false}` need no error.
#[op2]
#[serde]
pub fn op_jan_fs_stat(
    state: &mut OpState,
    #[string] path: &str,
    follow: bool,
) -> Result<Option<Stat>, JsErrorBox> {
    use std::os::unix::fs::MetadataExt;
    let real = if follow {
        checked(state, path, Access::Read)?
    } else {
        checked_entry(state, path, Access::Read)?
    };
    let meta = if follow {
        std::fs::metadata(&real)
    } else {
        std::fs::symlink_metadata(&real)
    };
    let m = match meta {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(io_error(
                e,
                if follow { "stat" } else { "lstat" },
                Path::new(path),
            ));
        }
    };
    let ms = |s: i64, ns: i64| s as f64 * 1000.0 + ns as f64 / 1e6;
    Ok(Some(Stat {
        kind: kind_of(m.file_type()),
        size: m.len() as f64,
        mode: m.mode(),
        ino: m.ino() as f64,
        dev: m.dev() as f64,
        nlink: m.nlink() as f64,
        uid: m.uid(),
        gid: m.gid(),
        atime_ms: ms(m.atime(), m.atime_nsec()),
        mtime_ms: ms(m.mtime(), m.mtime_nsec()),
        ctime_ms: ms(m.ctime(), m.ctime_nsec()),
        birthtime_ms: m
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(ms(m.ctime(), m.ctime_nsec()), |d| d.as_secs_f64() * 1000.0),
    }))
}

#[derive(Serialize)]
pub struct Entry {
    name: String,
    kind: &'static str,
}

#[op2]
#[serde]
pub fn op_jan_fs_readdir(
    state: &mut OpState,
    #[string] path: &str,
) -> Result<Vec<Entry>, JsErrorBox> {
    let real = checked(state, path, Access::Read)?;
    let err = |e| io_error(e, "scandir", Path::new(path));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&real).map_err(err)? {
        let entry = entry.map_err(err)?;
        let kind = entry.file_type().map(kind_of).unwrap_or("other");
        out.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            kind,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Creates a folder; returns the first folder created when `recursive`
/// (Node's return value), `None` when it already existed.
#[op2]
#[string]
pub fn op_jan_fs_mkdir(
    state: &mut OpState,
    #[string] path: &str,
    recursive: bool,
) -> Result<Option<String>, JsErrorBox> {
    let real = checked(state, path, Access::Write)?;
    let err = |e| io_error(e, "mkdir", Path::new(path));
    if !recursive {
        std::fs::create_dir(&real).map_err(err)?;
        return Ok(Some(path.to_string()));
    }
    let mut first = None;
    let mut missing = Vec::new();
    let mut p = real.as_path();
    while !p.exists() {
        missing.push(p.to_path_buf());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    if let Some(top) = missing.last() {
        first = Some(top.to_string_lossy().into_owned());
    }
    std::fs::create_dir_all(&real).map_err(err)?;
    if !real.is_dir() {
        return Err(io_error(
            std::io::Error::from_raw_os_error(libc::EEXIST),
            "mkdir",
            Path::new(path),
        ));
    }
    Ok(first)
}

/// `unlink`, `rmdir` and `rm`: what `kind` allows ("file", "dir", "any").
#[op2(fast)]
pub fn op_jan_fs_remove(
    state: &mut OpState,
    #[string] path: &str,
    #[string] kind: &str,
    recursive: bool,
    force: bool,
) -> Result<(), JsErrorBox> {
    let real = checked_entry(state, path, Access::Write)?;
    let (syscall, result) = match std::fs::symlink_metadata(&real) {
        Err(e) if force && e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => ("stat", Err(e)),
        Ok(m) if m.is_dir() => match kind {
            "file" => (
                "unlink",
                Err(std::io::Error::from_raw_os_error(libc::EISDIR)),
            ),
            _ if recursive => ("rm", std::fs::remove_dir_all(&real)),
            "any" => ("rm", Err(std::io::Error::from_raw_os_error(libc::EISDIR))),
            _ => ("rmdir", std::fs::remove_dir(&real)),
        },
        Ok(_) if kind == "dir" => (
            "rmdir",
            Err(std::io::Error::from_raw_os_error(libc::ENOTDIR)),
        ),
        Ok(_) => ("unlink", std::fs::remove_file(&real)),
    };
    result.map_err(|e| io_error(e, syscall, Path::new(path)))
}

#[op2(fast)]
pub fn op_jan_fs_rename(
    state: &mut OpState,
    #[string] from: &str,
    #[string] to: &str,
) -> Result<(), JsErrorBox> {
    let a = checked_entry(state, from, Access::Write)?;
    let b = checked_entry(state, to, Access::Write)?;
    std::fs::rename(&a, &b).map_err(|e| io_error(e, "rename", Path::new(from)))
}

#[op2(fast)]
pub fn op_jan_fs_copy(
    state: &mut OpState,
    #[string] from: &str,
    #[string] to: &str,
    exclusive: bool,
) -> Result<(), JsErrorBox> {
    let a = checked(state, from, Access::Read)?;
    let b = checked(state, to, Access::Write)?;
    let source =
        open_nonblocking(&a, false).map_err(|e| io_error(e, "copyfile", Path::new(from)))?;
    regular(&source, from)?;
    if let Ok(meta) = std::fs::metadata(&b)
        && !meta.is_file()
    {
        return Err(io_error(
            std::io::Error::from_raw_os_error(if meta.is_dir() {
                libc::EISDIR
            } else {
                libc::EINVAL
            }),
            "copyfile",
            Path::new(to),
        ));
    }
    if exclusive && b.exists() {
        return Err(io_error(
            std::io::Error::from_raw_os_error(libc::EEXIST),
            "copyfile",
            Path::new(to),
        ));
    }
    std::fs::copy(&a, &b)
        .map(|_| ())
        .map_err(|e| io_error(e, "copyfile", Path::new(from)))
}

#[op2]
#[string]
pub fn op_jan_fs_realpath(state: &mut OpState, #[string] path: &str) -> Result<String, JsErrorBox> {
    let real = checked(state, path, Access::Read)?;
    real.canonicalize()
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|e| io_error(e, "realpath", Path::new(path)))
}

// ---- crypto -----------------------------------------------------------------

fn digest<D: sha2::Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

fn mac<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m =
        <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A hash (or, with `key`, an HMAC) of `data`. Node's algorithm names.
#[op2]
#[buffer]
pub fn op_jan_hash(
    #[string] algorithm: &str,
    #[buffer] data: &[u8],
    #[buffer] key: Option<&[u8]>,
) -> Result<Vec<u8>, JsErrorBox> {
    use hmac::Hmac;
    let alg = algorithm.to_ascii_lowercase();
    let out = match (alg.as_str(), key) {
        ("md5", None) => digest::<md5::Md5>(data),
        ("sha1", None) => digest::<sha1::Sha1>(data),
        ("sha224", None) => digest::<sha2::Sha224>(data),
        ("sha256", None) => digest::<sha2::Sha256>(data),
        ("sha384", None) => digest::<sha2::Sha384>(data),
        ("sha512", None) => digest::<sha2::Sha512>(data),
        ("md5", Some(k)) => mac::<Hmac<md5::Md5>>(k, data),
        ("sha1", Some(k)) => mac::<Hmac<sha1::Sha1>>(k, data),
        ("sha224", Some(k)) => mac::<Hmac<sha2::Sha224>>(k, data),
        ("sha256", Some(k)) => mac::<Hmac<sha2::Sha256>>(k, data),
        ("sha384", Some(k)) => mac::<Hmac<sha2::Sha384>>(k, data),
        ("sha512", Some(k)) => mac::<Hmac<sha2::Sha512>>(k, data),
        _ => {
            return Err(JsErrorBox::generic(format!(
                "Digest method not supported: {algorithm} (jan assistants have md5, sha1, sha224, sha256, sha384, sha512)"
            )));
        }
    };
    Ok(out)
}

// ---- zlib -------------------------------------------------------------------

/// Compresses or decompresses `data` whole: `mode` is one of gzip, gunzip,
/// deflate, inflate, deflateRaw, inflateRaw, unzip (gzip or deflate, by
/// the header).
#[op2]
#[buffer]
pub fn op_jan_zlib(
    state: &mut OpState,
    #[string] mode: &str,
    #[buffer] data: &[u8],
    #[smi] level: i32,
) -> Result<Vec<u8>, JsErrorBox> {
    use flate2::Compression;
    use flate2::read::{
        DeflateDecoder, DeflateEncoder, GzDecoder, GzEncoder, ZlibDecoder, ZlibEncoder,
    };
    use std::io::Read;
    let level = if (0..=9).contains(&level) {
        Compression::new(level as u32)
    } else {
        Compression::default()
    };
    let mode = match mode {
        "unzip" if data.starts_with(&[0x1f, 0x8b]) => "gunzip",
        "unzip" => "inflate",
        m => m,
    };
    let reader: Box<dyn Read + '_> = match mode {
        "gzip" => Box::new(GzEncoder::new(data, level)),
        "deflate" => Box::new(ZlibEncoder::new(data, level)),
        "deflateRaw" => Box::new(DeflateEncoder::new(data, level)),
        "gunzip" => Box::new(GzDecoder::new(data)),
        "inflate" => Box::new(ZlibDecoder::new(data)),
        "inflateRaw" => Box::new(DeflateDecoder::new(data)),
        other => {
            return Err(JsErrorBox::generic(format!(
                "zlib mode '{other}' is not available in jan assistants"
            )));
        }
    };
    // A small compressed input can expand without bound: stop at the
    // assistant's heap limit.
    let max = state.borrow::<Ctx>().max_bytes as u64;
    let mut out = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| JsErrorBox::generic(format!("Z_DATA_ERROR: {e}")))?;
    if out.len() as u64 > max {
        return Err(JsErrorBox::range_error(format!(
            "ERR_BUFFER_TOO_LARGE: the output is larger than the assistant's heap limit ({} MiB)",
            max >> 20
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `import { x } from "node:y"` needs the analysis to find `x`: every
    /// built-in lists its exports in a form it sees.
    #[test]
    fn every_builtin_has_named_exports() {
        for (name, _) in BUILTINS {
            let names = export_names(name);
            assert!(!names.is_empty(), "{name}: no named exports");
        }
        assert!(export_names("path").contains(&"join".to_string()));
        assert!(export_names("events").contains(&"once".to_string()));
        assert!(export_names("fs/promises").contains(&"readFile".to_string()));
        assert!(export_names("stream").contains(&"Readable".to_string()));
    }
}
