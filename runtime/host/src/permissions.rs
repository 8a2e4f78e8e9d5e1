//! What an assistant's code may reach: the checks behind every op that
//! touches a file, the network or the environment.
//!
//! Paths are resolved before they are checked: `..` is taken apart and every
//! symbolic link is followed (`canonicalize`), for the path asked for and for
//! each grant alike, so neither `..` nor a link inside the folder can lead
//! outside it. Without grants an assistant may read its own folder and
//! nothing else.

use std::path::{Component, Path, PathBuf};

use jan_assistant::{Assistant, NetGrant};

/// A refused access; the message names the grant that would allow it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// One assistant's grants.
#[derive(Debug, Clone)]
pub struct Permissions {
    /// The assistant folder (canonical): always readable.
    root: PathBuf,
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    net: Vec<NetGrant>,
    env: Vec<String>,
}

/// What access is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Permissions {
    pub fn of(a: &Assistant) -> Permissions {
        let p = a.permissions();
        let root = a.dir.canonicalize().unwrap_or_else(|_| a.dir.clone());
        Permissions {
            read: p.paths(&root, false),
            write: p.paths(&root, true),
            net: p.net_grants(),
            env: p.env.clone(),
            root,
        }
    }

    /// The assistant folder, resolved.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `path` (relative to the assistant folder) and checks it
    /// against the grants; returns the resolved path to use. A path to a
    /// file that does not exist yet is resolved through its nearest existing
    /// folder.
    pub fn check(&self, path: &Path, access: Access) -> Result<PathBuf, Denied> {
        let wanted = self.root.join(path);
        let resolved = resolve(&wanted).ok_or_else(|| unresolvable(path))?;
        self.allow(resolved, &wanted, access)
    }

    /// Like [`check`](Self::check) for ops on a directory entry itself
    /// (remove, rename, lstat): the folder it is in is resolved, the last
    /// name is kept, so a link is checked (and acted on) as the link.
    pub fn check_entry(&self, path: &Path, access: Access) -> Result<PathBuf, Denied> {
        let wanted = self.root.join(path);
        let (Some(parent), Some(name)) = (wanted.parent(), wanted.file_name()) else {
            return self.check(path, access);
        };
        let resolved = resolve(parent)
            .ok_or_else(|| unresolvable(path))?
            .join(name);
        self.allow(resolved, &wanted, access)
    }

    /// Where a grant leads. A grant written inside the assistant folder
    /// (`./state`) must stay there: if the folder ships `state` as a link
    /// to somewhere else, the grant the user approved as "./state" would
    /// open that place, so it counts for nothing.
    fn grant(&self, g: &Path) -> Option<PathBuf> {
        let r = resolve(g)?;
        if g.starts_with(&self.root) && !r.starts_with(&self.root) {
            return None;
        }
        Some(r)
    }

    /// Checks a resolved path; a refusal names the path as it was asked
    /// for (`shown`), so it does not reveal where links lead.
    fn allow(&self, resolved: PathBuf, shown: &Path, access: Access) -> Result<PathBuf, Denied> {
        let allowed = |grants: &[PathBuf]| {
            grants
                .iter()
                .filter_map(|g| self.grant(g))
                .any(|g| resolved.starts_with(g))
        };
        let ok = match access {
            Access::Read => {
                resolved.starts_with(&self.root) || allowed(&self.read) || allowed(&self.write)
            }
            Access::Write => allowed(&self.write),
        };
        if ok {
            return Ok(resolved);
        }
        let (verb, field) = match access {
            Access::Read => ("read", "read"),
            Access::Write => ("write", "write"),
        };
        Err(Denied(format!(
            "{verb} access to {} is not granted; add it to permissions.{field} in assistant.json",
            shown.display()
        )))
    }

    /// May the code connect to `host:port`?
    pub fn check_net(&self, host: &str, port: u16) -> Result<(), Denied> {
        if self.net.iter().any(|g| g.allows(host, port)) {
            return Ok(());
        }
        let shown = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Err(Denied(format!(
            "net access to {shown} is not granted; add it to permissions.net in assistant.json"
        )))
    }

    /// Does a `permissions.net` grant name this address itself (any port)?
    pub fn grants_address(&self, ip: std::net::IpAddr) -> bool {
        self.net.iter().any(|g| {
            g.host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|granted| granted.to_canonical() == ip.to_canonical())
        })
    }

    /// The environment variables the code may see, with their values.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.clone(), v)))
            .collect()
    }
}

fn unresolvable(path: &Path) -> Denied {
    Denied(format!(
        "{}: the path cannot be resolved (it goes above the root)",
        path.display()
    ))
}

/// The path with every link followed and `.`/`..` applied, one component
/// at a time: after each name the path so far is canonicalized by the OS
/// when it exists (so a link is followed wherever it appears, also after a
/// `..` that climbed out of a folder that does not exist); names that do
/// not exist hold no links and are kept as written. `None` for a path
/// that climbs above `/`.
fn resolve(path: &Path) -> Option<PathBuf> {
    let mut links = MAX_LINKS;
    resolve_within(path, &mut links)
}

/// How many dangling links one resolution may follow in all (the OS's
/// ELOOP limit); shared by the whole resolution, so links that name each
/// other cannot make it take exponential time.
const MAX_LINKS: u32 = 40;

fn resolve_within(path: &Path, links: &mut u32) -> Option<PathBuf> {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                // `out` is canonical up to its first missing name, so its
                // parent is the real parent.
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(n) => {
                out.push(n);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                } else if let Ok(target) = std::fs::read_link(&out) {
                    // A dangling link: creating a file through it would
                    // create its target, so resolve to where it points.
                    if *links == 0 {
                        return None;
                    }
                    *links -= 1;
                    out.pop();
                    out = resolve_within(&out.join(target), links)?;
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assistant(dir: &Path, json: &str) -> Assistant {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("assistant.json"), json).unwrap();
        Assistant::load(dir).unwrap()
    }

    #[test]
    fn own_folder_is_readable_and_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("secret"), "s").unwrap();
        let a = assistant(&t.path().join("a"), "{}");
        let p = Permissions::of(&a);
        assert!(p.check(Path::new("assistant.json"), Access::Read).is_ok());
        for bad in [
            "../secret",
            "./../secret",
            "src/../../secret",
            "/etc/passwd",
            "/proc/self/environ",
        ] {
            let err = p.check(Path::new(bad), Access::Read).unwrap_err();
            assert!(err.0.contains("permissions.read"), "{bad}: {err}");
        }
        let abs = t.path().join("a").join("..").join("secret");
        assert!(p.check(&abs, Access::Read).is_err());
        // Nothing is writable without a grant, not even the own folder.
        let err = p.check(Path::new("x.txt"), Access::Write).unwrap_err();
        assert!(err.0.contains("permissions.write"), "{err}");
    }

    #[test]
    fn links_are_followed_before_checking() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("secret"), "s").unwrap();
        std::fs::create_dir_all(t.path().join("outside")).unwrap();
        let a = assistant(
            &t.path().join("a"),
            r#"{"permissions": {"write": ["./state"]}}"#,
        );
        std::os::unix::fs::symlink(t.path().join("secret"), a.dir.join("link")).unwrap();
        std::os::unix::fs::symlink(t.path().join("outside"), a.dir.join("state")).unwrap();
        let p = Permissions::of(&a);
        assert!(p.check(Path::new("link"), Access::Read).is_err());
        // A grant written inside the folder cannot be led out of it by a
        // link: `state` points outside, so the grant opens nothing.
        assert!(p.check(Path::new("state/new.txt"), Access::Write).is_err());
        // New files climbing out through `..` are refused.
        assert!(p.check(Path::new("state/../../x"), Access::Write).is_err());
        assert!(
            p.check(Path::new("state/nope/../../../x"), Access::Write)
                .is_err()
        );
    }

    #[test]
    fn grants_open_exactly_what_they_name() {
        let t = tempfile::tempdir().unwrap();
        let docs = t.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("a.md"), "a").unwrap();
        std::fs::write(t.path().join("docs2"), "x").unwrap();
        let json = serde_json::json!({"permissions": {"read": [docs], "net": ["127.0.0.1:1337", "example.com"], "env": ["JAN_TEST_GRANTED"]}});
        let a = assistant(&t.path().join("a"), &json.to_string());
        let p = Permissions::of(&a);
        assert!(p.check(&docs.join("a.md"), Access::Read).is_ok());
        assert!(p.check(&t.path().join("docs2"), Access::Read).is_err());
        assert!(p.check(&docs.join("a.md"), Access::Write).is_err());
        assert!(p.check_net("127.0.0.1", 1337).is_ok());
        assert!(p.check_net("example.com", 8443).is_ok());
        let err = p.check_net("127.0.0.1", 1338).unwrap_err();
        assert_eq!(
            err.0,
            "net access to 127.0.0.1:1338 is not granted; add it to permissions.net in assistant.json"
        );
        assert!(p.check_net("localhost", 1337).is_err());
        assert!(
            p.check_net("::1", 1337)
                .unwrap_err()
                .0
                .contains("[::1]:1337")
        );
    }

    /// Links are followed wherever they appear: after a `..` out of a
    /// folder that does not exist, and when they dangle (creating a file
    /// through a dangling link creates its target).
    #[test]
    fn links_lead_where_they_point_after_missing_folders_and_when_dangling() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::write(root.join("secret.txt"), "s").unwrap();
        let json = serde_json::json!({"permissions": {"write": ["./state"]}});
        let a = assistant(&root.join("a"), &json.to_string());
        let state = root.join("a/state");
        std::fs::create_dir_all(&state).unwrap();
        std::os::unix::fs::symlink(&root, state.join("up")).unwrap();
        std::os::unix::fs::symlink(root.join("planted.txt"), state.join("dangling")).unwrap();
        std::os::unix::fs::symlink(state.join("loop"), state.join("loop")).unwrap();
        let p = Permissions::of(&a);
        for access in [Access::Read, Access::Write] {
            for path in [
                "state/nope/../up/secret.txt",
                "state/nope/deeper/../../up/secret.txt",
                "state/dangling",
                "state/up/a/state/../../secret.txt",
            ] {
                assert!(
                    p.check(Path::new(path), access).is_err(),
                    "{path} {access:?}"
                );
            }
        }
        assert!(
            p.check_entry(Path::new("state/nope/../up/x"), Access::Write)
                .is_err()
        );
        assert!(p.check(Path::new("state/loop"), Access::Write).is_err());
        // The refusal names the path as asked for, not the link's target.
        let e = p
            .check(Path::new("state/dangling"), Access::Write)
            .unwrap_err();
        assert!(
            e.0.contains("state/dangling") && !e.0.contains("planted"),
            "{e}"
        );
        // Missing names inside the grant are fine.
        assert!(
            p.check(Path::new("state/new/file.txt"), Access::Write)
                .is_ok()
        );
        assert!(
            p.check(Path::new("state/nope/../file.txt"), Access::Write)
                .is_ok()
        );
    }

    /// A grant written as a folder inside the assistant cannot be pointed
    /// elsewhere by a link the package ships in its place.
    #[test]
    fn a_relative_grant_that_is_a_link_out_of_the_folder_opens_nothing() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let outside = root.join("ssh");
        std::fs::create_dir_all(&outside).unwrap();
        let json = serde_json::json!({"permissions": {"write": ["./state", "./later"], "read": ["./docs"]}});
        let a = assistant(&root.join("a"), &json.to_string());
        std::os::unix::fs::symlink(&outside, root.join("a/state")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("a/later")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("a/docs")).unwrap();
        let p = Permissions::of(&a);
        assert!(
            p.check(Path::new("state/authorized_keys"), Access::Write)
                .is_err()
        );
        assert!(p.check(&outside.join("x"), Access::Write).is_err());
        assert!(p.check(Path::new("later/x"), Access::Write).is_err());
        assert!(p.check(Path::new("docs/x"), Access::Read).is_err());
    }

    /// Links that name each other through `..` cost one budget in all.
    #[test]
    fn chains_of_dangling_links_resolve_in_bounded_time() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(d.join("missing"), d.join("L0")).unwrap();
        for k in 1..40 {
            std::os::unix::fs::symlink(
                format!("L{}/../L{}", k - 1, k - 1),
                d.join(format!("L{k}")),
            )
            .unwrap();
        }
        // 2^40 follows without a shared budget; with it, refused.
        assert_eq!(resolve(&d.join("L39/x")), None);
    }
}
