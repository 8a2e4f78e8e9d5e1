//! The event bus: one pub/sub channel shared by every assistant, the HTTP API
//! and the CLI.
//!
//! Topics are plain strings. A subscription pattern is either an exact topic,
//! `*` (everything), or a prefix ending in `*` (`thread.*`). Payloads are JSON
//! values. Delivery keeps each publisher's order: `emit` hands the event to
//! every matching subscriber's queue while holding the bus lock, so two events
//! from one publisher reach every subscriber in the order they were emitted.
//!
//! Every event carries the name of its publisher (`source`). A subscriber
//! never receives events it published itself, so an assistant that answers on
//! its own topic (`assistant:<id>`) does not hear its own answer as a new
//! request.

use std::sync::{Arc, Mutex, Weak};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

/// One published event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub topic: String,
    pub payload: Value,
    /// Who published it: an assistant id, `api`, `cli`, `host`.
    pub source: String,
}

/// A topic pattern: exact, `*`, or `prefix*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(pattern: impl Into<String>) -> Self {
        Pattern(pattern.into())
    }

    /// Does this pattern match `topic`?
    pub fn matches(&self, topic: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => topic.starts_with(prefix),
            None => self.0 == topic,
        }
    }

    /// Does this pattern only ever match topics that `other` also matches?
    /// Used for permission checks: subscribing to `thread.*` needs a grant
    /// that covers every topic it could deliver.
    pub fn within(&self, other: &Pattern) -> bool {
        match (self.0.strip_suffix('*'), other.0.strip_suffix('*')) {
            (_, Some(grant)) => self.0.starts_with(grant),
            (None, None) => self.0 == other.0,
            (Some(_), None) => false,
        }
    }
}

/// A set of patterns: what an assistant may subscribe to or emit on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grants {
    All,
    Only(Vec<Pattern>),
}

impl Grants {
    pub fn allows_topic(&self, topic: &str) -> bool {
        match self {
            Grants::All => true,
            Grants::Only(list) => list.iter().any(|p| p.matches(topic)),
        }
    }

    pub fn allows_pattern(&self, pattern: &Pattern) -> bool {
        match self {
            Grants::All => true,
            Grants::Only(list) => list.iter().any(|g| pattern.within(g)),
        }
    }
}

struct Sub {
    id: u64,
    owner: String,
    pattern: Pattern,
    tx: mpsc::UnboundedSender<Arc<Event>>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    subs: Vec<Sub>,
}

/// The bus. Cloning gives another handle to the same bus.
#[derive(Clone, Default)]
pub struct Bus {
    inner: Arc<Mutex<Inner>>,
}

impl Bus {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated
        // (every mutation is a single push/retain), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes an event to every subscriber whose pattern matches, except
    /// subscriptions owned by the publisher itself. Returns how many
    /// subscriptions received it.
    pub fn emit(&self, source: &str, topic: &str, payload: Value) -> usize {
        let event = Arc::new(Event {
            topic: topic.to_string(),
            payload,
            source: source.to_string(),
        });
        let mut inner = self.lock();
        let mut delivered = 0;
        // Closed receivers are dropped here, so a subscriber that went away
        // without unsubscribing does not leak.
        inner.subs.retain(|sub| {
            if sub.owner == source || !sub.pattern.matches(topic) {
                return !sub.tx.is_closed();
            }
            match sub.tx.send(event.clone()) {
                Ok(()) => {
                    delivered += 1;
                    true
                }
                Err(_) => false,
            }
        });
        delivered
    }

    /// Adds a subscription that feeds `tx`. Several subscriptions may share
    /// one sender (an assistant's isolate has one inbox for all its topics).
    pub fn subscribe_with(
        &self,
        owner: &str,
        pattern: Pattern,
        tx: mpsc::UnboundedSender<Arc<Event>>,
    ) -> SubscriptionId {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.subs.push(Sub {
            id,
            owner: owner.to_string(),
            pattern,
            tx,
        });
        SubscriptionId(id)
    }

    /// Subscribes with a fresh queue; dropping the [`Subscription`] ends it.
    pub fn subscribe(&self, owner: &str, pattern: Pattern) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.subscribe_with(owner, pattern, tx);
        Subscription {
            id,
            rx,
            bus: Arc::downgrade(&self.inner),
        }
    }

    pub fn unsubscribe(&self, id: SubscriptionId) {
        self.lock().subs.retain(|s| s.id != id.0);
    }

    /// Removes every subscription of `owner` (an assistant being restarted).
    pub fn unsubscribe_owner(&self, owner: &str) {
        self.lock().subs.retain(|s| s.owner != owner);
    }

    /// Would an event on `topic` published by someone else reach `owner`?
    pub fn has_subscriber(&self, owner: &str, topic: &str) -> bool {
        self.lock()
            .subs
            .iter()
            .any(|s| s.owner == owner && s.pattern.matches(topic) && !s.tx.is_closed())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionId(u64);

/// A subscription with its own queue.
pub struct Subscription {
    id: SubscriptionId,
    rx: mpsc::UnboundedReceiver<Arc<Event>>,
    bus: Weak<Mutex<Inner>>,
}

impl Subscription {
    /// The next event, or `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        self.rx.recv().await
    }

    /// The next event if one is already queued.
    pub fn try_recv(&mut self) -> Option<Arc<Event>> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.bus.upgrade() {
            let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.subs.retain(|s| s.id != self.id.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_match_exact_prefix_and_all() {
        assert!(Pattern::new("a.b").matches("a.b"));
        assert!(!Pattern::new("a.b").matches("a.bc"));
        assert!(Pattern::new("thread.*").matches("thread.created"));
        assert!(!Pattern::new("thread.*").matches("run.created"));
        assert!(Pattern::new("*").matches("anything"));
    }

    #[test]
    fn grants_cover_patterns() {
        let g = Grants::Only(vec![Pattern::new("thread.*"), Pattern::new("x")]);
        assert!(g.allows_pattern(&Pattern::new("thread.created")));
        assert!(g.allows_pattern(&Pattern::new("thread.message.*")));
        assert!(!g.allows_pattern(&Pattern::new("*")));
        assert!(!g.allows_pattern(&Pattern::new("x*")));
        assert!(g.allows_topic("x"));
        assert!(!g.allows_topic("y"));
        assert!(Grants::All.allows_pattern(&Pattern::new("*")));
    }

    #[tokio::test]
    async fn delivery_keeps_order_and_skips_the_publisher() {
        let bus = Bus::new();
        let mut a = bus.subscribe("a", Pattern::new("t*"));
        let mut own = bus.subscribe("pub", Pattern::new("*"));
        for i in 0..100 {
            bus.emit("pub", &format!("t{}", i % 3), json!(i));
        }
        for i in 0..100 {
            let e = a.recv().await.unwrap();
            assert_eq!(e.payload, json!(i));
            assert_eq!(e.source, "pub");
        }
        assert!(own.try_recv().is_none());
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes() {
        let bus = Bus::new();
        let s = bus.subscribe("a", Pattern::new("x"));
        assert!(bus.has_subscriber("a", "x"));
        drop(s);
        assert!(!bus.has_subscriber("a", "x"));
        assert_eq!(bus.emit("b", "x", json!(null)), 0);
    }
}
