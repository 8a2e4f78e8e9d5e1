//! Where answers to requests go: the host registers a channel per request,
//! the assistant's isolate sends into it through `op_jan_reply` (the same
//! [`TurnEvent`]s the default answer's turn loop sends).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use jan_turn::{TurnError, TurnEvent};

struct Pending {
    owner: String,
    generation: u64,
    tx: mpsc::UnboundedSender<TurnEvent>,
}

#[derive(Clone, Default)]
pub struct Replies(Arc<Mutex<HashMap<String, Pending>>>);

impl Replies {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(
        &self,
        id: &str,
        owner: &str,
        generation: u64,
    ) -> mpsc::UnboundedReceiver<TurnEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().insert(
            id.to_string(),
            Pending {
                owner: owner.to_string(),
                generation,
                tx,
            },
        );
        rx
    }

    /// Delivers a piece; a final piece closes the request. Answers to
    /// unknown (finished, timed out) requests are dropped.
    pub fn send(&self, id: &str, reply: TurnEvent) {
        let mut map = self.lock();
        let last = matches!(reply, TurnEvent::Done(_) | TurnEvent::Error(_));
        if let Some(p) = map.get(id) {
            let _ = p.tx.send(reply);
        }
        if last {
            map.remove(id);
        }
    }

    /// Fails every open request of one isolate generation (it stopped).
    pub fn fail_generation(&self, owner: &str, generation: u64, message: &str) {
        let mut map = self.lock();
        map.retain(|_, p| {
            if p.owner == owner && p.generation == generation {
                let _ = p.tx.send(TurnEvent::Error(TurnError::new(message)));
                false
            } else {
                true
            }
        });
    }

    /// Was request `id` made to this owner's isolate of this generation?
    pub fn owned_by(&self, id: &str, owner: &str, generation: u64) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|p| p.owner == owner && p.generation == generation)
    }

    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}
