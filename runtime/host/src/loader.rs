//! Loads an assistant's modules: its own files, TypeScript (transpiled with
//! deno_ast, with source maps), JSON, ES-module and CommonJS npm packages,
//! and the built-in `@janhq/core`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use deno_ast::{MediaType, ParseParams, SourceMapOption};
use deno_core::error::ModuleLoaderError;
use deno_core::{
    ModuleLoadOptions, ModuleLoadReferrer, ModuleLoadResponse, ModuleLoader, ModuleSource,
    ModuleSourceCode, ModuleSpecifier, ModuleType, ResolutionKind,
};
use deno_error::JsErrorBox;

use crate::permissions::{Access, Permissions};
use crate::resolve::{self, Mode};

/// The specifier `@janhq/core` resolves to.
pub const CORE_SPECIFIER: &str = "jan:core";

const CORE_FACADE: &str = r#"const api = globalThis[Symbol.for("jan.core")];
export const events = api.events;
export const models = api.models;
export const assistant = api.assistant;
export const tools = api.tools;
export default api;
"#;

/// Node built-ins that packages import when they load (undici imports
/// `net`) but that an assistant can never use: they import, with their
/// usual names, and every use throws a clear error. Each with the names
/// packages import from it.
pub const UNAVAILABLE_BUILTINS: &[(&str, &[&str])] = &[
    (
        "child_process",
        &[
            "spawn",
            "exec",
            "execFile",
            "fork",
            "spawnSync",
            "execSync",
            "execFileSync",
            "ChildProcess",
        ],
    ),
    (
        "net",
        &[
            "connect",
            "createConnection",
            "createServer",
            "Socket",
            "Server",
            "isIP",
            "isIPv4",
            "isIPv6",
        ],
    ),
    (
        "tls",
        &[
            "connect",
            "createServer",
            "createSecureContext",
            "TLSSocket",
            "Server",
            "rootCertificates",
        ],
    ),
    ("dgram", &["createSocket", "Socket"]),
    (
        "http2",
        &[
            "connect",
            "createServer",
            "createSecureServer",
            "constants",
            "Http2ServerRequest",
            "Http2ServerResponse",
        ],
    ),
    (
        "dns",
        &[
            "lookup",
            "resolve",
            "resolve4",
            "resolve6",
            "promises",
            "Resolver",
            "setDefaultResultOrder",
        ],
    ),
    (
        "vm",
        &[
            "Script",
            "createContext",
            "runInContext",
            "runInNewContext",
            "runInThisContext",
            "isContext",
        ],
    ),
    (
        "v8",
        &[
            "getHeapStatistics",
            "serialize",
            "deserialize",
            "setFlagsFromString",
        ],
    ),
    ("inspector", &["open", "close", "url", "Session"]),
    (
        "cluster",
        &[
            "isPrimary",
            "isMaster",
            "isWorker",
            "fork",
            "workers",
            "setupPrimary",
        ],
    ),
];

/// The module URL of an unavailable built-in (`jan:unavailable/net`).
pub fn unavailable_builtin(specifier: &str) -> Option<&'static str> {
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    UNAVAILABLE_BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| *n)
}

fn unavailable_facade(name: &str) -> String {
    let names = UNAVAILABLE_BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, e)| *e)
        .unwrap_or_default();
    let mut out = format!(
        "const m = globalThis[Symbol.for(\"jan.unavailable\")]({name:?});\nexport default m;\n"
    );
    for n in names {
        out.push_str(&format!("export const {n} = m.{n};\n"));
    }
    out
}

/// The ES-module face of a Node built-in: `default` is its
/// `module.exports`, and each export it lists is a named export.
fn builtin_facade(name: &str) -> String {
    let mut out = format!(
        "const m = globalThis[Symbol.for(\"jan.builtin\")]({name:?});\nexport default m;\n"
    );
    for n in crate::node::export_names(name)
        .iter()
        .filter(|n| is_identifier(n) && *n != "default")
    {
        out.push_str(&format!("export const {n} = m[{n:?}];\n"));
    }
    out
}

/// How a file runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Esm,
    Cjs,
    Json,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Esm => "esm",
            Kind::Cjs => "cjs",
            Kind::Json => "json",
        }
    }
}

/// A file made ready to run: JavaScript (or JSON) text.
pub struct Compiled {
    pub kind: Kind,
    pub code: String,
}

pub struct Loader {
    root: PathBuf,
    permissions: Permissions,
    source_maps: RefCell<HashMap<String, Vec<u8>>>,
}

fn err(msg: impl Into<String>) -> ModuleLoaderError {
    JsErrorBox::generic(msg.into())
}

pub fn file_url(path: &Path) -> Result<ModuleSpecifier, ModuleLoaderError> {
    ModuleSpecifier::from_file_path(path).map_err(|_| err(format!("bad path {}", path.display())))
}

impl Loader {
    pub fn new(permissions: Permissions) -> Self {
        Loader {
            root: permissions.root().to_path_buf(),
            permissions,
            source_maps: RefCell::default(),
        }
    }

    /// Resolves `specifier` from the file `importer` (Node's rules).
    pub fn resolve_path(
        &self,
        specifier: &str,
        importer: &Path,
        mode: Mode,
    ) -> Result<PathBuf, String> {
        match resolve::resolve(specifier, importer, &self.root, mode) {
            // Outside the folder, but readable by grant (a workspace or a
            // pnpm store linked from a granted folder).
            Err(resolve::ResolveError::OutsideRoot { path, .. })
                if self.permissions.check(&path, Access::Read).is_ok() =>
            {
                Ok(path)
            }
            other => other.map_err(|e| e.to_string()),
        }
    }

    /// Reads a file and turns it into runnable JavaScript. Code loads
    /// only from what the assistant may read (its folder, unless granted
    /// more), checked after following links.
    pub fn compile(&self, path: &Path) -> Result<Compiled, String> {
        let real = self
            .permissions
            .check(path, Access::Read)
            .map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        let text = std::fs::read_to_string(&real)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let url = file_url(path).map_err(|e| e.to_string())?;
        let media = MediaType::from_path(path);
        match media {
            MediaType::Json => Ok(Compiled {
                kind: Kind::Json,
                code: text,
            }),
            MediaType::TypeScript | MediaType::Mts | MediaType::Tsx | MediaType::Jsx => {
                self.transpile(&url, text, media, Kind::Esm)
            }
            MediaType::Cts => self.transpile(&url, text, media, Kind::Cjs),
            MediaType::Mjs => Ok(Compiled {
                kind: Kind::Esm,
                code: text,
            }),
            MediaType::Cjs => Ok(Compiled {
                kind: Kind::Cjs,
                code: text,
            }),
            _ => {
                let kind = match resolve::package_type(path, &self.root).as_deref() {
                    Some("module") => Kind::Esm,
                    Some("commonjs") => Kind::Cjs,
                    // No "type": decide by syntax, as Node does.
                    _ => match parse(&url, text.clone(), MediaType::JavaScript) {
                        Ok(p) if p.compute_is_script() => Kind::Cjs,
                        _ => Kind::Esm,
                    },
                };
                Ok(Compiled { kind, code: text })
            }
        }
    }

    fn transpile(
        &self,
        url: &ModuleSpecifier,
        text: String,
        media: MediaType,
        kind: Kind,
    ) -> Result<Compiled, String> {
        let parsed = parse(url, text, media)?;
        let emitted = parsed
            .transpile(
                &deno_ast::TranspileOptions {
                    imports_not_used_as_values: deno_ast::ImportsNotUsedAsValues::Remove,
                    decorators: deno_ast::DecoratorsTranspileOption::Ecma,
                    ..Default::default()
                },
                &deno_ast::TranspileModuleOptions { module_kind: None },
                &deno_ast::EmitOptions {
                    source_map: SourceMapOption::Separate,
                    inline_sources: true,
                    ..Default::default()
                },
            )
            .map_err(|e| format!("{url}: {e}"))?
            .into_source();
        if let Some(map) = emitted.source_map {
            self.source_maps
                .borrow_mut()
                .insert(url.to_string(), map.into_bytes());
        }
        Ok(Compiled {
            kind,
            code: emitted.text,
        })
    }

    /// The ES-module face of a CommonJS file: `default` is `module.exports`,
    /// and each export name the CJS lexer finds becomes a named export.
    fn cjs_facade(&self, path: &Path, code: &str) -> String {
        let mut names = Vec::new();
        self.cjs_exports(path, code, &mut names, 0);
        names.sort();
        names.dedup();
        let path_json = serde_json::to_string(&path.to_string_lossy()).unwrap_or_default();
        let mut out = format!(
            "const m = globalThis[Symbol.for(\"jan.require\")]({path_json});\nexport default m;\n"
        );
        for n in names.iter().filter(|n| is_identifier(n) && *n != "default") {
            out.push_str(&format!("export const {n} = m[{n:?}];\n"));
        }
        out
    }

    fn cjs_exports(&self, path: &Path, code: &str, names: &mut Vec<String>, depth: u32) {
        let Ok(url) = file_url(path) else { return };
        let Ok(parsed) = parse(&url, code.to_string(), MediaType::Cjs) else {
            return;
        };
        let analysis = parsed.analyze_cjs();
        names.extend(analysis.exports);
        if depth >= 4 {
            return;
        }
        // `module.exports = require("./impl")`: follow the re-export.
        for re in analysis.reexports {
            if let Ok(p) = self.resolve_path(&re, path, Mode::Require)
                && let Ok(c) = self.compile(&p)
                && c.kind == Kind::Cjs
            {
                self.cjs_exports(&p, &c.code, names, depth + 1);
            }
        }
    }

    fn load_file(&self, specifier: &ModuleSpecifier) -> Result<ModuleSource, ModuleLoaderError> {
        let path = specifier.to_file_path().map_err(|_| {
            err(format!(
                "cannot load {specifier}: only files can be imported"
            ))
        })?;
        let compiled = self.compile(&path).map_err(err)?;
        let (module_type, code) = match compiled.kind {
            Kind::Json => (ModuleType::Json, compiled.code),
            Kind::Esm => (ModuleType::JavaScript, compiled.code),
            Kind::Cjs => (
                ModuleType::JavaScript,
                self.cjs_facade(&path, &compiled.code),
            ),
        };
        Ok(ModuleSource::new(
            module_type,
            ModuleSourceCode::String(code.into()),
            specifier,
            None,
        ))
    }
}

fn parse(
    url: &ModuleSpecifier,
    text: String,
    media: MediaType,
) -> Result<deno_ast::ParsedSource, String> {
    deno_ast::parse_program(ParseParams {
        specifier: url.clone(),
        text: text.into(),
        media_type: media,
        capture_tokens: false,
        scope_analysis: false,
        maybe_syntax: None,
    })
    .map_err(|e| e.to_string())
}

fn is_identifier(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "let",
        "static",
        "await",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
        "m",
    ];
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !RESERVED.contains(&s)
}

impl ModuleLoader for Loader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        _kind: ResolutionKind,
    ) -> Result<ModuleSpecifier, ModuleLoaderError> {
        if specifier == "@janhq/core" {
            return ModuleSpecifier::parse(CORE_SPECIFIER).map_err(JsErrorBox::from_err);
        }
        if let Some(name) = unavailable_builtin(specifier) {
            return ModuleSpecifier::parse(&format!("jan:unavailable/{name}"))
                .map_err(JsErrorBox::from_err);
        }
        if let Some(name) = crate::node::builtin(specifier) {
            return ModuleSpecifier::parse(&format!("jan:node/{name}"))
                .map_err(JsErrorBox::from_err);
        }
        if let Ok(url) = ModuleSpecifier::parse(specifier) {
            if url.scheme() == "file" || url.scheme() == "jan" {
                return Ok(url);
            }
            if url.scheme() != "node" {
                return Err(err(format!(
                    "cannot import {specifier}: assistants load only their own files and packages"
                )));
            }
        }
        let importer = ModuleSpecifier::parse(referrer)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .unwrap_or_else(|| self.root.join("src").join("index.js"));
        let path = self
            .resolve_path(specifier, &importer, Mode::Import)
            .map_err(err)?;
        file_url(&path)
    }

    fn load(
        &self,
        specifier: &ModuleSpecifier,
        _referrer: Option<&ModuleLoadReferrer>,
        _options: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        if let Some(name) = specifier.as_str().strip_prefix("jan:unavailable/") {
            return ModuleLoadResponse::Sync(Ok(ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(unavailable_facade(name).into()),
                specifier,
                None,
            )));
        }
        if let Some(name) = specifier.as_str().strip_prefix("jan:node/")
            && crate::node::source(name).is_some()
        {
            return ModuleLoadResponse::Sync(Ok(ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(builtin_facade(name).into()),
                specifier,
                None,
            )));
        }
        if specifier.as_str() == CORE_SPECIFIER {
            return ModuleLoadResponse::Sync(Ok(ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(CORE_FACADE.to_string().into()),
                specifier,
                None,
            )));
        }
        ModuleLoadResponse::Sync(self.load_file(specifier))
    }

    fn get_source_map(&self, specifier: &str) -> Option<Cow<'_, [u8]>> {
        self.source_maps
            .borrow()
            .get(specifier)
            .map(|m| Cow::Owned(m.clone()))
    }
}
