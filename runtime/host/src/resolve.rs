//! Module resolution the way Node resolves it, confined to one assistant's
//! folder: relative paths (with the extension guessing TypeScript users
//! expect), and bare specifiers from `node_modules` through package.json
//! `exports` (conditions and subpaths, `*` patterns), then `main`, then
//! `index.js`.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

/// Which condition set applies: `import` for ES modules, `require` for
/// CommonJS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Import,
    Require,
}

impl Mode {
    fn conditions(self) -> &'static [&'static str] {
        match self {
            Mode::Import => &["import", "node", "default"],
            Mode::Require => &["require", "node", "default"],
        }
    }
}

/// What a resolution failed on; the messages are shown to assistant authors.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ResolveError {
    #[error(
        "Cannot find package '{package}' imported from {importer}. Run `npm install` in {root} (jan never runs npm itself)."
    )]
    PackageNotFound {
        package: String,
        importer: String,
        root: String,
    },
    #[error("Cannot find module '{specifier}' imported from {importer}")]
    ModuleNotFound { specifier: String, importer: String },
    #[error(
        "Package subpath '{subpath}' is not exported by package '{package}' (imported from {importer})"
    )]
    NotExported {
        package: String,
        subpath: String,
        importer: String,
    },
    #[error(
        "'{specifier}' resolves outside the assistant folder; assistants may only load their own files"
    )]
    OutsideRoot { specifier: String, path: PathBuf },
    #[error(
        "Node built-in module '{name}' is not available in jan assistants yet (imported by {importer})"
    )]
    Builtin { name: String, importer: String },
}

const EXTENSIONS: &[&str] = &["ts", "mts", "tsx", "js", "mjs", "cjs", "json"];

/// Resolves `specifier` imported from the file `importer`, within `root`.
pub fn resolve(
    specifier: &str,
    importer: &Path,
    root: &Path,
    mode: Mode,
) -> Result<PathBuf, ResolveError> {
    let base = importer.parent().unwrap_or(root);
    let found = if specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier == "."
        || specifier == ".."
        || specifier.starts_with('/')
    {
        let target = normalize(&base.join(specifier));
        file_or_dir(&target).ok_or_else(|| ResolveError::ModuleNotFound {
            specifier: specifier.to_string(),
            importer: importer.display().to_string(),
        })?
    } else if specifier.starts_with('#') {
        resolve_imports(specifier, importer, root, mode)?
    } else if let Some(name) = specifier.strip_prefix("node:") {
        return Err(builtin(name, importer));
    } else if is_node_builtin(specifier) {
        return Err(builtin(specifier, importer));
    } else {
        resolve_package(specifier, importer, root, mode)?
    };
    let found = found.canonicalize().unwrap_or(found);
    if !found.starts_with(root) {
        return Err(ResolveError::OutsideRoot {
            specifier: specifier.to_string(),
            path: found,
        });
    }
    Ok(found)
}

/// A refused built-in, naming who asked for it: the npm package when the
/// importer is inside `node_modules` (the package a user never wrote is the
/// one to look at), else the file.
fn builtin(name: &str, importer: &Path) -> ResolveError {
    let parts: Vec<String> = importer
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let package = parts
        .iter()
        .rposition(|p| p == "node_modules")
        .and_then(|i| match parts.get(i + 1) {
            Some(scope) if scope.starts_with('@') => {
                parts.get(i + 2).map(|n| format!("{scope}/{n}"))
            }
            other => other.cloned(),
        });
    let importer = match package {
        Some(p) => format!("package '{p}', in {}", importer.display()),
        None => importer.display().to_string(),
    };
    ResolveError::Builtin {
        name: name.to_string(),
        importer,
    }
}

/// Removes `.` and `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn with_ext(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The file itself, or with an extension added, or the folder's index.
fn file_or_dir(p: &Path) -> Option<PathBuf> {
    if p.is_file() {
        return Some(p.to_path_buf());
    }
    if let Some(f) = EXTENSIONS
        .iter()
        .map(|e| with_ext(p, e))
        .find(|f| f.is_file())
    {
        return Some(f);
    }
    // `import "./x.js"` written in TypeScript for a file that is `x.ts`.
    if let Some(stem) = p.extension().filter(|e| *e == "js").and(p.file_stem()) {
        let ts = p.with_file_name(stem).with_extension("ts");
        if ts.is_file() {
            return Some(ts);
        }
    }
    if p.is_dir() {
        return EXTENSIONS
            .iter()
            .map(|e| p.join(format!("index.{e}")))
            .find(|f| f.is_file());
    }
    None
}

/// Splits `@scope/name/sub/path` into (`@scope/name`, `./sub/path`).
fn split_package(specifier: &str) -> (String, String) {
    let mut parts = specifier.splitn(3, '/');
    let first = parts.next().unwrap_or_default();
    let (name, rest) = if first.starts_with('@') {
        let second = parts.next().unwrap_or_default();
        (format!("{first}/{second}"), parts.next())
    } else {
        let rest = specifier.split_once('/').map(|(_, r)| r);
        (first.to_string(), rest)
    };
    let sub = match rest {
        Some(r) if !r.is_empty() => format!("./{r}"),
        _ => ".".to_string(),
    };
    (name, sub)
}

fn resolve_package(
    specifier: &str,
    importer: &Path,
    root: &Path,
    mode: Mode,
) -> Result<PathBuf, ResolveError> {
    let (name, subpath) = split_package(specifier);
    let mut dir = importer.parent();
    let pkg_dir = loop {
        let Some(d) = dir else {
            return Err(ResolveError::PackageNotFound {
                package: name,
                importer: importer.display().to_string(),
                root: root.display().to_string(),
            });
        };
        let candidate = d.join("node_modules").join(&name);
        if candidate.is_dir() {
            break candidate;
        }
        // Node walks up to the file system root; an assistant stops at its
        // own folder.
        if d == root || !d.starts_with(root) {
            dir = None;
        } else {
            dir = d.parent();
        }
    };
    let manifest: Value = std::fs::read_to_string(pkg_dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let not_found = || ResolveError::ModuleNotFound {
        specifier: specifier.to_string(),
        importer: importer.display().to_string(),
    };
    if let Some(exports) = manifest.get("exports").filter(|e| !e.is_null()) {
        let target =
            resolve_exports(exports, &subpath, mode).ok_or_else(|| ResolveError::NotExported {
                package: name.clone(),
                subpath: subpath.clone(),
                importer: importer.display().to_string(),
            })?;
        let p = normalize(&pkg_dir.join(target));
        return if p.is_file() { Ok(p) } else { Err(not_found()) };
    }
    if subpath != "." {
        return file_or_dir(&normalize(&pkg_dir.join(&subpath))).ok_or_else(not_found);
    }
    // `main` only, as Node: `module` is for bundlers, and often points at
    // builds that only a bundler can run.
    if let Some(entry) = manifest.get("main").and_then(Value::as_str)
        && let Some(f) = file_or_dir(&normalize(&pkg_dir.join(entry)))
    {
        return Ok(f);
    }
    file_or_dir(&pkg_dir.join("index")).ok_or_else(not_found)
}

/// package.json `exports`: a string, a condition object, or a subpath map
/// (keys starting with `.`), with `*` patterns.
fn resolve_exports(exports: &Value, subpath: &str, mode: Mode) -> Option<String> {
    let is_subpath_map = exports
        .as_object()
        .is_some_and(|m| m.keys().next().is_some_and(|k| k.starts_with('.')));
    if !is_subpath_map {
        return if subpath == "." {
            resolve_target(exports, mode, None)
        } else {
            None
        };
    }
    match_map(exports.as_object()?, subpath, mode)
}

/// The target for `key` in an `exports` subpath map or an `imports` map:
/// an exact key, else the longest matching `*` pattern, as in Node.
fn match_map(map: &serde_json::Map<String, Value>, key: &str, mode: Mode) -> Option<String> {
    if let Some(target) = map.get(key) {
        return resolve_target(target, mode, None);
    }
    let mut best: Option<(&str, &Value, String)> = None;
    for (pattern, target) in map {
        let Some((pre, post)) = pattern.split_once('*') else {
            continue;
        };
        if key.len() >= pre.len() + post.len() && key.starts_with(pre) && key.ends_with(post) {
            let star = key[pre.len()..key.len() - post.len()].to_string();
            if best.as_ref().is_none_or(|(k, _, _)| pre.len() > k.len()) {
                best = Some((pre, target, star));
            }
        }
    }
    let (_, target, star) = best?;
    resolve_target(target, mode, Some(&star))
}

/// `#name` specifiers: the `imports` map of the package the importer is
/// in. A target is a file of that package (`./src/x.js`) or another
/// package (`some-dep/sub`).
fn resolve_imports(
    specifier: &str,
    importer: &Path,
    root: &Path,
    mode: Mode,
) -> Result<PathBuf, ResolveError> {
    let not_found = || ResolveError::ModuleNotFound {
        specifier: specifier.to_string(),
        importer: importer.display().to_string(),
    };
    let (dir, manifest) = package_scope(importer, root).ok_or_else(not_found)?;
    let target = manifest
        .get("imports")
        .and_then(Value::as_object)
        .and_then(|map| match_map(map, specifier, mode))
        .ok_or_else(not_found)?;
    if target.starts_with("./") {
        let p = normalize(&dir.join(&target));
        return if p.is_file() { Ok(p) } else { Err(not_found()) };
    }
    resolve_package(&target, importer, root, mode)
}

fn resolve_target(target: &Value, mode: Mode, star: Option<&str>) -> Option<String> {
    match target {
        Value::String(s) => Some(match star {
            Some(st) => s.replace('*', st),
            None => s.clone(),
        }),
        Value::Array(items) => items.iter().find_map(|t| resolve_target(t, mode, star)),
        Value::Object(conds) => conds.iter().find_map(|(cond, t)| {
            if mode.conditions().contains(&cond.as_str()) {
                resolve_target(t, mode, star)
            } else {
                None
            }
        }),
        _ => None,
    }
}

fn is_node_builtin(s: &str) -> bool {
    const BUILTINS: &[&str] = &[
        "assert",
        "buffer",
        "child_process",
        "cluster",
        "crypto",
        "dgram",
        "dns",
        "events",
        "fs",
        "fs/promises",
        "http",
        "http2",
        "https",
        "net",
        "os",
        "path",
        "process",
        "querystring",
        "readline",
        "stream",
        "string_decoder",
        "tls",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "worker_threads",
        "zlib",
    ];
    BUILTINS.contains(&s)
}

/// The `type` field of the nearest package.json above `file`, within `root`
/// and not past a `node_modules` folder.
pub fn package_type(file: &Path, root: &Path) -> Option<String> {
    package_scope(file, root)
        .and_then(|(_, v)| v.get("type").and_then(Value::as_str).map(String::from))
}

/// The package `file` belongs to: the folder of the nearest package.json
/// above it, and that file's contents.
fn package_scope(file: &Path, root: &Path) -> Option<(PathBuf, Value)> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        let pj = d.join("package.json");
        if pj.is_file() {
            let v = std::fs::read_to_string(pj)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .unwrap_or(Value::Null);
            return Some((d.to_path_buf(), v));
        }
        // As in Node, a package's scope ends at `node_modules`.
        if d == root || d.file_name().is_some_and(|n| n == "node_modules") {
            break;
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        write(&root, "src/index.ts", "");
        write(&root, "src/util.ts", "");
        write(&root, "src/lib/index.js", "");
        write(
            &root,
            "node_modules/cond/package.json",
            &json!({"exports": {".": {"import": "./esm/i.mjs", "require": "./cjs/i.cjs"},
                                "./feature": {"default": "./f.js"},
                                "./sub/*": "./lib/*.js"}})
            .to_string(),
        );
        for f in ["esm/i.mjs", "cjs/i.cjs", "f.js", "lib/a/b.js"] {
            write(&root, &format!("node_modules/cond/{f}"), "");
        }
        write(
            &root,
            "node_modules/@sc/pkg/package.json",
            r#"{"module":"m.js","main":"c.js"}"#,
        );
        write(&root, "node_modules/@sc/pkg/m.js", "");
        write(&root, "node_modules/@sc/pkg/c.js", "");
        write(&root, "node_modules/plain/index.js", "");
        (t, root)
    }

    #[test]
    fn relative_imports_guess_extensions_and_index() {
        let (_t, root) = setup();
        let from = root.join("src/index.ts");
        let r = |s| resolve(s, &from, &root, Mode::Import);
        assert_eq!(r("./util").unwrap(), root.join("src/util.ts"));
        assert_eq!(r("./util.js").unwrap(), root.join("src/util.ts"));
        assert_eq!(r("./lib").unwrap(), root.join("src/lib/index.js"));
        assert!(matches!(
            r("./nope"),
            Err(ResolveError::ModuleNotFound { .. })
        ));
        assert!(r("../../etc/passwd").is_err());
    }

    #[test]
    fn exports_conditions_subpaths_and_patterns() {
        let (_t, root) = setup();
        let from = root.join("src/index.ts");
        let nm = root.join("node_modules/cond");
        assert_eq!(
            resolve("cond", &from, &root, Mode::Import).unwrap(),
            nm.join("esm/i.mjs")
        );
        assert_eq!(
            resolve("cond", &from, &root, Mode::Require).unwrap(),
            nm.join("cjs/i.cjs")
        );
        assert_eq!(
            resolve("cond/feature", &from, &root, Mode::Import).unwrap(),
            nm.join("f.js")
        );
        assert_eq!(
            resolve("cond/sub/a/b", &from, &root, Mode::Import).unwrap(),
            nm.join("lib/a/b.js")
        );
        assert!(matches!(
            resolve("cond/private", &from, &root, Mode::Import),
            Err(ResolveError::NotExported { .. })
        ));
    }

    #[test]
    fn main_never_module_then_index_and_scoped_names() {
        let (_t, root) = setup();
        let from = root.join("src/index.ts");
        let sc = root.join("node_modules/@sc/pkg");
        // `module` is a bundler field: Node (and jan) ignore it.
        assert_eq!(
            resolve("@sc/pkg", &from, &root, Mode::Import).unwrap(),
            sc.join("c.js")
        );
        assert_eq!(
            resolve("@sc/pkg", &from, &root, Mode::Require).unwrap(),
            sc.join("c.js")
        );
        assert_eq!(
            resolve("plain", &from, &root, Mode::Import).unwrap(),
            root.join("node_modules/plain/index.js")
        );
    }

    #[test]
    fn missing_packages_and_builtins_say_what_to_do() {
        let (_t, root) = setup();
        let from = root.join("src/index.ts");
        let e = resolve("left-pad", &from, &root, Mode::Import)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'left-pad'") && e.contains("index.ts") && e.contains("npm install"),
            "{e}"
        );
        let e = resolve("node:fs", &from, &root, Mode::Import)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'fs'") && e.contains("src/index.ts"), "{e}");
        // Inside a package, the package is named: it is the one to blame.
        let deep = root.join("node_modules/@sc/pkg/lib/x.js");
        let e = resolve("fs", &deep, &root, Mode::Require)
            .unwrap_err()
            .to_string();
        assert!(e.contains("package '@sc/pkg'"), "{e}");
        let e = resolve(
            "node:net",
            &root.join("node_modules/plain/index.js"),
            &root,
            Mode::Import,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("'net'") && e.contains("package 'plain'"), "{e}");
    }

    #[test]
    fn split_names() {
        assert_eq!(split_package("a"), ("a".into(), ".".into()));
        assert_eq!(split_package("a/b/c"), ("a".into(), "./b/c".into()));
        assert_eq!(split_package("@s/a"), ("@s/a".into(), ".".into()));
        assert_eq!(split_package("@s/a/x"), ("@s/a".into(), "./x".into()));
    }

    #[test]
    fn package_imports_map_hash_specifiers() {
        let (_t, root) = setup();
        write(
            &root,
            "node_modules/pkg/package.json",
            r##"{"imports": {"#internal": "./lib/internal.js", "#util/*": {"require": "./cjs/*.js", "default": "./esm/*.js"}, "#dep": "dep/sub"}}"##,
        );
        write(&root, "node_modules/pkg/lib/internal.js", "");
        write(&root, "node_modules/pkg/cjs/a.js", "");
        write(&root, "node_modules/pkg/esm/a.js", "");
        write(&root, "node_modules/dep/sub.js", "");
        let from = root.join("node_modules/pkg/index.js");
        let r = |s: &str, m: Mode| resolve(s, &from, &root, m);
        assert_eq!(
            r("#internal", Mode::Import).unwrap(),
            root.join("node_modules/pkg/lib/internal.js")
        );
        assert_eq!(
            r("#util/a", Mode::Require).unwrap(),
            root.join("node_modules/pkg/cjs/a.js")
        );
        assert_eq!(
            r("#util/a", Mode::Import).unwrap(),
            root.join("node_modules/pkg/esm/a.js")
        );
        assert_eq!(
            r("#dep", Mode::Import).unwrap(),
            root.join("node_modules/dep/sub.js")
        );
        assert!(matches!(
            r("#missing", Mode::Import),
            Err(ResolveError::ModuleNotFound { .. })
        ));
    }

    /// Bounded fuzzing: specifiers and package.json maps built from the
    /// pieces of path escapes (`..`, absolute paths, links out, `*`
    /// patterns, `#imports`) never resolve to a file outside the root, and
    /// never panic. A file outside the root is there to be found.
    #[test]
    fn no_specifier_or_package_map_resolves_outside_the_root() {
        use proptest::prelude::*;

        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        let root = base.join("a");
        let out = base.join("outside");
        write(&out, "secret.js", "");
        write(&out, "index.js", "");
        write(&out, "package.json", r#"{"main": "secret.js"}"#);
        write(&root, "src/index.js", "");
        write(&root, "node_modules/ok/index.js", "");
        std::os::unix::fs::symlink(&out, root.join("node_modules/link")).unwrap();
        std::os::unix::fs::symlink(out.join("secret.js"), root.join("src/secret.js")).unwrap();
        let abs = out.join("secret.js").display().to_string();
        let pieces: Vec<String> = [
            "./",
            "../",
            "..",
            ".",
            "/",
            "outside/",
            "secret.js",
            "secret",
            "index",
            "src/",
            "node_modules/",
            "link",
            "link/",
            "ok",
            "evil",
            "evil/",
            "#",
            "#x",
            "*",
            "%2e%2e/",
            "\\..\\",
            "a/",
            "\u{0}",
            "@s/",
            "x.js",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([abs.clone(), format!("file://{abs}")])
        .collect();
        let targets: Vec<Value> = [
            "./index.js",
            "../../outside/secret.js",
            "./../../../outside/secret.js",
            "./x/../../../outside/secret.js",
            "../link/secret.js",
            "./*",
            "./*/../../../outside/*",
            "link/secret.js",
            "../outside",
            "#x",
            "ok",
        ]
        .iter()
        .map(|s| json!(s))
        .chain([
            json!(abs),
            json!({"import": "../../outside/secret.js", "default": "./index.js"}),
        ])
        .collect();
        let spec =
            prop::collection::vec(prop::sample::select(pieces), 1..5).prop_map(|p| p.concat());
        let target = prop::sample::select(targets);
        let map = prop::collection::btree_map(
            prop::sample::select(vec![".", "./*", "./sub/*", "#x", "#*", "./secret"]),
            target.clone(),
            0..4,
        );
        let config = ProptestConfig {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(20261129),
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let found = std::cell::Cell::new(0);
        runner
            .run(
                &(spec, map, target, any::<bool>()),
                |(spec, map, main, import)| {
                    let evil = root.join("node_modules/evil");
                    let map: serde_json::Map<String, Value> =
                        map.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                    let pkg = json!({"main": main, "exports": map.clone(), "imports": map});
                    write(&root, "node_modules/evil/package.json", &pkg.to_string());
                    write(&root, "package.json", &pkg.to_string());
                    for from in [root.join("src/index.js"), evil.join("index.js")] {
                        let mode = if import { Mode::Import } else { Mode::Require };
                        if let Ok(p) = resolve(&spec, &from, &root, mode) {
                            found.set(found.get() + 1);
                            let real = p.canonicalize().unwrap_or(p.clone());
                            prop_assert!(
                                p.starts_with(&root) && real.starts_with(&root),
                                "{spec:?} from {from:?} with {pkg} resolved to {p:?}"
                            );
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
        // Not vacuous: many specifiers did resolve (inside).
        assert!(found.get() > 50, "{}", found.get());
    }
}
