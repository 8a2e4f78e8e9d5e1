//! A chat's events on their way from the engine to whoever renders them.

use tokio::sync::mpsc;

use crate::{ChatEvent, Completion};

type Item = anyhow::Result<ChatEvent>;

/// The receiving end of a chat. Dropping it tells the engine to stop.
pub struct ChatStream {
    rx: mpsc::UnboundedReceiver<Item>,
}

/// The engine's end of a chat.
#[derive(Clone)]
pub struct ChatSender {
    tx: mpsc::UnboundedSender<Item>,
}

impl ChatSender {
    /// Sends an event; false once the stream was dropped (stop working).
    pub fn send(&self, event: ChatEvent) -> bool {
        self.tx.send(Ok(event)).is_ok()
    }

    /// Ends the stream with an error.
    pub fn fail(&self, error: anyhow::Error) {
        let _ = self.tx.send(Err(error));
    }

    /// Has the stream been dropped?
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the stream is dropped.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

impl ChatStream {
    pub fn channel() -> (ChatSender, ChatStream) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ChatSender { tx }, ChatStream { rx })
    }

    /// A stream that ends at once with `error`.
    pub fn failed(error: anyhow::Error) -> ChatStream {
        let (tx, stream) = ChatStream::channel();
        tx.fail(error);
        stream
    }

    /// A stream of these events (stand-ins, tests).
    pub fn of(events: Vec<ChatEvent>) -> ChatStream {
        let (tx, stream) = ChatStream::channel();
        for e in events {
            tx.send(e);
        }
        stream
    }

    /// The next event; `None` after `Done` or an error, and also if the
    /// engine went away without finishing (treat that as an error).
    pub async fn next(&mut self) -> Option<anyhow::Result<ChatEvent>> {
        self.rx.recv().await
    }

    /// Waits for the end, ignoring the pieces.
    pub async fn completion(mut self) -> anyhow::Result<Completion> {
        while let Some(event) = self.next().await {
            if let ChatEvent::Done(c) = event? {
                return Ok(c);
            }
        }
        anyhow::bail!("the model engine stopped without an answer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_the_stream_is_seen_by_the_engine() {
        let (tx, stream) = ChatStream::channel();
        assert!(tx.send(ChatEvent::Text("a".into())));
        drop(stream);
        assert!(tx.is_closed());
        assert!(!tx.send(ChatEvent::Text("b".into())));
    }

    #[tokio::test]
    async fn completion_skips_pieces_and_reports_a_lost_engine() {
        let done = Completion::text("m", "ab");
        let s = ChatStream::of(vec![
            ChatEvent::Text("ab".into()),
            ChatEvent::Done(done.clone()),
        ]);
        assert_eq!(s.completion().await.unwrap(), done);
        let s = ChatStream::of(vec![ChatEvent::Text("ab".into())]);
        let e = s.completion().await.unwrap_err();
        assert!(e.to_string().contains("without an answer"), "{e}");
    }
}
