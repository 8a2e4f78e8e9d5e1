use std::path::{Path, PathBuf};

use crate::{Assistant, LoadError, atomic_write};

/// The bundled default assistant, compiled in so the binary works from any
/// folder.
const BUNDLED_JAN: &str = include_str!("../../../assistants/jan/assistant.json");

/// The data folder: `models/`, `threads/`, `assistants/`.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `--data-dir`, else `JAN_DATA_FOLDER`, else `~/jan`.
    pub fn locate(flag: Option<PathBuf>) -> DataDir {
        let root = flag
            .or_else(|| std::env::var_os("JAN_DATA_FOLDER").map(PathBuf::from))
            .unwrap_or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("jan")
            });
        DataDir { root }
    }

    pub fn at(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// Creates the folder layout and installs the bundled `jan` assistant if
    /// it is not there. An existing `jan` is never overwritten.
    pub fn ensure(&self) -> std::io::Result<()> {
        for sub in ["models", "threads", "assistants"] {
            std::fs::create_dir_all(self.root.join(sub))?;
        }
        let jan = self.assistants().join("jan");
        if !jan.exists() {
            // Build it beside, then rename, so a crash leaves no half folder.
            let tmp = self.assistants().join(".jan.tmp");
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp)?;
            atomic_write(&tmp.join("assistant.json"), BUNDLED_JAN.as_bytes())?;
            match std::fs::rename(&tmp, &jan) {
                Ok(()) => {}
                // Another process installed it first.
                Err(_) if jan.exists() => {
                    let _ = std::fs::remove_dir_all(&tmp);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Checks that threads can be written (a server writes them from the
    /// first request on: a read-only folder is an error at start, not a
    /// failure of every later write). Reading commands do not need it.
    pub fn check_writable(&self) -> std::io::Result<()> {
        tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(self.threads())
            .map(drop)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{} is not writable: {e}", self.threads().display()),
                )
            })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }

    pub fn threads(&self) -> PathBuf {
        self.root.join("threads")
    }

    pub fn assistants(&self) -> PathBuf {
        self.root.join("assistants")
    }

    /// Every assistant folder, each loaded on its own: one broken
    /// assistant.json does not hide the others. Sorted by folder name.
    pub fn list_assistants(&self) -> Vec<(PathBuf, Result<Assistant, LoadError>)> {
        let dirs = subfolders(&self.assistants());
        dirs.into_iter()
            .map(|d| {
                let a = Assistant::load(&d);
                (d, a)
            })
            .collect()
    }
}

/// The folders directly inside `dir`, sorted by name, leaving out hidden
/// ones (`.jan.tmp`, `.deleted-…`: half-made or half-removed entries).
pub fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_jan_once_and_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path().join("d"));
        data.ensure().unwrap();
        let file = data.assistants().join("jan/assistant.json");
        let jan = Assistant::load(&data.assistants().join("jan")).unwrap();
        assert_eq!(jan.name, "Jan");
        assert!(jan.allowed_models().is_none());
        std::fs::write(&file, r#"{"name":"Mine"}"#).unwrap();
        data.ensure().unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            r#"{"name":"Mine"}"#
        );
        assert!(data.models().is_dir() && data.threads().is_dir());
    }

    #[test]
    fn a_broken_assistant_does_not_hide_the_others() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path());
        data.ensure().unwrap();
        std::fs::create_dir_all(data.assistants().join("broken")).unwrap();
        std::fs::write(data.assistants().join("broken/assistant.json"), "{").unwrap();
        let list = data.list_assistants();
        assert_eq!(list.len(), 2);
        assert!(list[0].1.is_err());
        assert_eq!(list[1].1.as_ref().unwrap().id, "jan");
    }
}
