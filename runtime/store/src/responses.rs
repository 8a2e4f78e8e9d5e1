//! Responses (the Responses API), kept beside the threads:
//!
//! ```text
//! responses/<resp_id>.json          the response object (atomic rewrites)
//! responses/<resp_id>.input.json    its input items, as sent, with ids
//! responses/<resp_id>.context.json  the chat messages it was answered from
//!                                   (the chain so far and its input),
//!                                   without instructions
//! responses/<resp_id>.events.json   a background response's stream, every
//!                                   event as sent, written when it ends
//!                                   (for `GET …?stream=true` replays)
//! ```
//!
//! A later response names an earlier one in `previous_response_id`: its
//! context is the earlier context, the earlier output, then its own input.

use std::path::PathBuf;

use jan_assistant::valid_id;
use serde_json::{Value, json};

use crate::{Result, Store, StoreError, read_json, read_list, write_json};

impl Store {
    /// Creates `responses/`; responses left `queued` or `in_progress` by a
    /// crash are marked `failed`.
    pub(crate) fn open_responses(&self) -> Result<()> {
        std::fs::create_dir_all(&self.responses)?;
        let Ok(entries) = std::fs::read_dir(&self.responses) else {
            return Ok(());
        };
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                let _ = std::fs::remove_file(e.path());
                continue;
            }
            let Some(id) = name.strip_suffix(".json").filter(|n| !n.contains('.')) else {
                // What a crash between a delete's removals leaves.
                if let Some(id) = name
                    .strip_suffix(".input.json")
                    .or_else(|| name.strip_suffix(".context.json"))
                    .or_else(|| name.strip_suffix(".events.json"))
                    && !self.responses.join(format!("{id}.json")).is_file()
                {
                    let _ = std::fs::remove_file(e.path());
                }
                continue;
            };
            let mut r = match self.response(id) {
                Ok(r) => r,
                Err(StoreError::Unreadable(e)) => {
                    e.warn_skipped();
                    continue;
                }
                Err(_) => continue,
            };
            if matches!(r["status"].as_str(), Some("queued" | "in_progress")) {
                r["status"] = "failed".into();
                r["error"] = json!({"code": "server_error", "message": "The server stopped while this response was in progress."});
                if let Err(err) = self.put_response(&r) {
                    tracing::error!("cannot mark {} failed: {err}", e.path().display());
                }
            }
        }
        Ok(())
    }

    fn response_path(&self, id: &str, kind: &str) -> Result<PathBuf> {
        if !valid_id(id) || !id.starts_with("resp_") {
            return Err(StoreError::NotFound("response", id.to_string()));
        }
        Ok(self.responses.join(format!("{id}{kind}.json")))
    }

    /// Writes a response object (atomically).
    pub fn put_response(&self, response: &Value) -> Result<()> {
        let id = response["id"].as_str().unwrap_or_default();
        write_json(&self.response_path(id, "")?, response)
    }

    /// Writes a new response with its input items and context.
    pub fn create_response(
        &self,
        response: &Value,
        input: &[Value],
        context: &[Value],
    ) -> Result<()> {
        let id = response["id"].as_str().unwrap_or_default();
        write_json(
            &self.response_path(id, ".input")?,
            &Value::from(input.to_vec()),
        )?;
        write_json(
            &self.response_path(id, ".context")?,
            &Value::from(context.to_vec()),
        )?;
        self.put_response(response)
    }

    pub fn response(&self, id: &str) -> Result<Value> {
        let path = self.response_path(id, "")?;
        if !path.is_file() {
            return Err(StoreError::NotFound("response", id.to_string()));
        }
        read_json(&path)
    }

    /// The input items a response was created with.
    pub fn response_input(&self, id: &str) -> Result<Vec<Value>> {
        self.response(id)?;
        read_list(&self.response_path(id, ".input")?)
    }

    /// The chat messages a response was answered from (no instructions).
    pub fn response_context(&self, id: &str) -> Result<Vec<Value>> {
        self.response(id)?;
        read_list(&self.response_path(id, ".context")?)
    }

    /// Keeps a finished background response's stream (atomically).
    pub fn put_response_events(&self, id: &str, events: &[Value]) -> Result<()> {
        write_json(
            &self.response_path(id, ".events")?,
            &Value::from(events.to_vec()),
        )
    }

    /// The stream a background response sent, if it was kept (a response
    /// cut short by a crash has none).
    pub fn response_events(&self, id: &str) -> Result<Option<Vec<Value>>> {
        self.response(id)?;
        let path = self.response_path(id, ".events")?;
        if !path.is_file() {
            return Ok(None);
        }
        read_list(&path).map(Some)
    }

    /// Removes a response's kept stream (a response deleted while its
    /// events were being written).
    pub fn delete_response_events(&self, id: &str) -> Result<()> {
        match std::fs::remove_file(self.response_path(id, ".events")?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub fn delete_response(&self, id: &str) -> Result<()> {
        let main = self.response_path(id, "")?;
        if !main.is_file() {
            return Err(StoreError::NotFound("response", id.to_string()));
        }
        // The object first: once it is gone the response is gone.
        std::fs::remove_file(&main)?;
        for kind in [".input", ".context", ".events"] {
            let _ = std::fs::remove_file(self.response_path(id, kind)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::now;

    #[test]
    fn responses_persist_and_unfinished_ones_fail_on_reopen() {
        let t = tempfile::tempdir().unwrap();
        let threads = t.path().join("threads");
        let s = Store::open(&threads).unwrap();
        let r = json!({"id": "resp_a1", "object": "response", "status": "in_progress", "created_at": now()});
        s.create_response(
            &r,
            &[json!({"id": "msg_1"})],
            &[json!({"role": "user", "content": "hi"})],
        )
        .unwrap();
        assert!(t.path().join("responses/resp_a1.json").is_file());
        let s = Store::open(&threads).unwrap();
        assert_eq!(s.response("resp_a1").unwrap()["status"], "failed");
        assert_eq!(s.response_input("resp_a1").unwrap()[0]["id"], "msg_1");
        assert_eq!(s.response_context("resp_a1").unwrap()[0]["content"], "hi");
        assert_eq!(s.response_events("resp_a1").unwrap(), None);
        s.put_response_events("resp_a1", &[json!({"sequence_number": 0})])
            .unwrap();
        assert_eq!(s.response_events("resp_a1").unwrap().unwrap().len(), 1);
        s.delete_response("resp_a1").unwrap();
        assert!(matches!(
            s.response("resp_a1"),
            Err(StoreError::NotFound(..))
        ));
        assert!(matches!(
            s.response("../threads"),
            Err(StoreError::NotFound(..))
        ));
        assert_eq!(
            std::fs::read_dir(t.path().join("responses"))
                .unwrap()
                .count(),
            0
        );
    }
}
