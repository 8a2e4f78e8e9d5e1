//! Records in the data folder that exist but cannot be read, and the one
//! policy for them: a list skips the record and logs its path (once per
//! process and cause, so a polled list does not flood the log), and a
//! request for that record fails with [`UnreadableRecord`], which names
//! the file. Nothing is rewritten over it: the user decides what to keep.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file of the data folder that is there but is not what it must be
/// (not JSON, not an object, unreadable).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} cannot be read ({cause}); fix or remove that file", path.display())]
pub struct UnreadableRecord {
    pub path: PathBuf,
    pub cause: String,
}

impl UnreadableRecord {
    pub fn new(path: impl Into<PathBuf>, cause: impl std::fmt::Display) -> Self {
        UnreadableRecord {
            path: path.into(),
            cause: cause.to_string(),
        }
    }

    /// Logs that a list left this record out (once per path and cause).
    pub fn warn_skipped(&self) {
        warn_once(format!("skipping {}: {}", self.path.display(), self.cause));
    }
}

/// Why a record could not be read: the file itself (kept, named), or the
/// system (too many open files, an I/O error: nothing says the file is
/// bad, so it is not reported as such).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Unreadable(#[from] UnreadableRecord),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads the JSON in `path`. A missing file is `Ok(None)`; a file that is
/// not JSON (or not a file) is an [`UnreadableRecord`].
pub fn read_json(path: &Path) -> Result<Option<serde_json::Value>, ReadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::IsADirectory | std::io::ErrorKind::InvalidData
            ) =>
        {
            return Err(UnreadableRecord::new(path, e).into());
        }
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| UnreadableRecord::new(path, format!("invalid JSON: {e}")).into())
}

/// [`read_json`] of a file that must hold an object.
pub fn read_json_object(path: &Path) -> Result<Option<serde_json::Value>, ReadError> {
    match read_json(path)? {
        Some(v) if !v.is_object() => Err(UnreadableRecord::new(path, "not a JSON object").into()),
        v => Ok(v),
    }
}

/// Logs `message` as a warning the first time this process sees it.
pub fn warn_once(message: String) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: past this many distinct messages, log them all again.
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.len() >= 10_000 {
        seen.clear();
    }
    if seen.insert(message.clone()) {
        tracing::warn!("{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_none_and_broken_names_the_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("r.json");
        assert!(read_json_object(&p).unwrap().is_none());
        for (text, cause) in [("{ no", "invalid JSON"), ("[1]", "not a JSON object")] {
            std::fs::write(&p, text).unwrap();
            let ReadError::Unreadable(e) = read_json_object(&p).unwrap_err() else {
                panic!("not unreadable")
            };
            let msg = e.to_string();
            assert!(
                msg.contains(&p.display().to_string()) && msg.contains(cause),
                "{msg}"
            );
        }
        std::fs::write(&p, "{\"a\": 1}").unwrap();
        assert_eq!(read_json_object(&p).unwrap().unwrap()["a"], 1);
    }
}
