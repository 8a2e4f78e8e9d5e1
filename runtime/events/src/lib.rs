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
//!
//! Three rules keep one assistant from hurting the others:
//! - **Private request topics.** Owners registered with [`Bus::confine`]
//!   (assistants) receive events on another assistant's topic
//!   (`assistant:<other>`) only when a pattern of theirs names it
//!   explicitly: users' prompts travel on those topics.
//! - **Bounded queues, dropping.** Each subscriber's queue holds
//!   [`QUEUE_CAPACITY`] events. An event for a full queue is dropped for that
//!   subscriber (and logged): a slow or flooded subscriber never makes the
//!   publisher wait, and never grows memory without bound.
//! - **A hop limit.** An event caused by another event carries its cause's
//!   `hops` plus one; past [`MAX_HOPS`] it is dropped, so events that bounce
//!   between assistants die out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

/// How many events one subscriber's queue holds before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 1024;

/// How many times an event may be passed on (an assistant emitting while it
/// handles another event) before it is dropped.
pub const MAX_HOPS: u32 = 16;

/// The prefix of the topics that carry requests to one assistant.
pub const ASSISTANT_TOPIC_PREFIX: &str = "assistant:";

/// One published event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub topic: String,
    pub payload: Value,
    /// Who published it: an assistant id, `api`, `cli`, `host`.
    pub source: String,
    /// How many events led to this one (0: published on its own).
    pub hops: u32,
}

/// A topic pattern: exact, `*`, or `prefix*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(pattern: impl Into<String>) -> Self {
        Pattern(pattern.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
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

    /// Does this pattern name assistant request topics explicitly (it
    /// starts with `assistant:`, rather than matching them through `*`)?
    fn names_assistant_topics(&self) -> bool {
        self.0.starts_with(ASSISTANT_TOPIC_PREFIX)
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

/// The assistant a request topic belongs to: `assistant:<id>` → `<id>`.
pub fn topic_owner(topic: &str) -> Option<&str> {
    topic.strip_prefix(ASSISTANT_TOPIC_PREFIX)
}

/// The sending half of a subscriber's queue.
pub type Sender = mpsc::Sender<Arc<Event>>;
/// The receiving half of a subscriber's queue.
pub type Receiver = mpsc::Receiver<Arc<Event>>;

/// A fresh subscriber queue of [`QUEUE_CAPACITY`] events.
pub fn queue() -> (Sender, Receiver) {
    mpsc::channel(QUEUE_CAPACITY)
}

struct Sub {
    id: u64,
    owner: String,
    pattern: Pattern,
    tx: Sender,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    subs: Vec<Sub>,
    /// Confined owners (assistants): whether they may read other
    /// assistants' request topics is decided per pattern.
    confined: std::collections::HashSet<String>,
    /// Events dropped per owner because its queue was full.
    dropped: HashMap<String, u64>,
}

impl Inner {
    /// May `sub` see an event on `topic`? Another assistant's request topic
    /// reaches a confined owner only through a pattern that names it.
    fn may_read(&self, sub: &Sub, topic: &str) -> bool {
        match topic_owner(topic) {
            Some(owner) if owner != sub.owner && self.confined.contains(&sub.owner) => {
                sub.pattern.names_assistant_topics()
            }
            _ => true,
        }
    }
}

/// What one `emit` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Emitted {
    /// Subscriptions that received the event.
    pub delivered: usize,
    /// Subscriptions whose queue was full.
    pub dropped: usize,
    /// Whether the owner the caller asked about received it.
    pub reached: bool,
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
        // (every mutation is a single push/retain/insert), so poisoning is
        // ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes an event to every subscriber whose pattern matches, except
    /// subscriptions owned by the publisher itself. Returns how many
    /// subscriptions received it.
    pub fn emit(&self, source: &str, topic: &str, payload: Value) -> usize {
        self.publish(source, topic, payload, 0, None).delivered
    }

    /// [`Bus::emit`] for an event caused by another one `hops` away, telling
    /// also whether `owner` received it. Past [`MAX_HOPS`] nothing is sent.
    pub fn publish(
        &self,
        source: &str,
        topic: &str,
        payload: Value,
        hops: u32,
        owner: Option<&str>,
    ) -> Emitted {
        if hops > MAX_HOPS {
            tracing::warn!(
                source,
                topic,
                "event dropped: it was passed on more than {MAX_HOPS} times (events bouncing between assistants?)"
            );
            return Emitted::default();
        }
        let event = Arc::new(Event {
            topic: topic.to_string(),
            payload,
            source: source.to_string(),
            hops,
        });
        let mut inner = self.lock();
        let mut out = Emitted::default();
        let mut full: Vec<String> = Vec::new();
        let keep: Vec<bool> = inner
            .subs
            .iter()
            .map(|sub| {
                if sub.owner == source || !sub.pattern.matches(topic) || !inner.may_read(sub, topic)
                {
                    return !sub.tx.is_closed();
                }
                match sub.tx.try_send(event.clone()) {
                    Ok(()) => {
                        out.delivered += 1;
                        out.reached |= owner == Some(sub.owner.as_str());
                        true
                    }
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        out.dropped += 1;
                        full.push(sub.owner.clone());
                        true
                    }
                    // Closed receivers are dropped here, so a subscriber that
                    // went away without unsubscribing does not leak.
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            })
            .collect();
        let mut keep = keep.into_iter();
        inner.subs.retain(|_| keep.next().unwrap_or(true));
        for o in full {
            let n = inner.dropped.entry(o.clone()).or_default();
            *n += 1;
            // Log the first drop and then every thousandth, not each one.
            if *n == 1 || (*n).is_multiple_of(1000) {
                tracing::warn!(
                    subscriber = %o,
                    topic,
                    dropped = *n,
                    "event dropped: the subscriber's queue of {QUEUE_CAPACITY} events is full"
                );
            }
        }
        out
    }

    /// How many events were dropped for `owner` because its queue was full.
    pub fn dropped(&self, owner: &str) -> u64 {
        self.lock().dropped.get(owner).copied().unwrap_or(0)
    }

    /// Marks `owner` as an assistant: other assistants' request topics
    /// reach it only through patterns that name them (`assistant:x`,
    /// `assistant:*`), never through `*`.
    pub fn confine(&self, owner: &str) {
        self.lock().confined.insert(owner.to_string());
    }

    /// Adds a subscription that feeds `tx`. Several subscriptions may share
    /// one sender (an assistant's isolate has one inbox for all its topics).
    pub fn subscribe_with(&self, owner: &str, pattern: Pattern, tx: Sender) -> SubscriptionId {
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
        let (tx, rx) = queue();
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
        let inner = self.lock();
        inner.subs.iter().any(|s| {
            s.owner == owner
                && s.pattern.matches(topic)
                && inner.may_read(s, topic)
                && !s.tx.is_closed()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionId(u64);

/// A subscription with its own queue.
pub struct Subscription {
    id: SubscriptionId,
    rx: Receiver,
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
    async fn full_queues_drop_instead_of_growing() {
        let bus = Bus::new();
        let mut slow = bus.subscribe("slow", Pattern::new("flood"));
        let mut total = Emitted::default();
        for i in 0..QUEUE_CAPACITY + 500 {
            let e = bus.publish("pub", "flood", json!(i), 0, Some("slow"));
            total.delivered += e.delivered;
            total.dropped += e.dropped;
            assert_eq!(e.reached, i < QUEUE_CAPACITY, "event {i}");
        }
        assert_eq!(total.delivered, QUEUE_CAPACITY);
        assert_eq!(total.dropped, 500);
        assert_eq!(bus.dropped("slow"), 500);
        // The queued ones arrive in order; the queue then takes events again.
        for i in 0..QUEUE_CAPACITY {
            assert_eq!(slow.recv().await.unwrap().payload, json!(i));
        }
        assert_eq!(bus.emit("pub", "flood", json!("again")), 1);
        assert_eq!(slow.recv().await.unwrap().payload, json!("again"));
    }

    #[tokio::test]
    async fn events_past_the_hop_limit_are_dropped() {
        let bus = Bus::new();
        let mut s = bus.subscribe("a", Pattern::new("*"));
        assert_eq!(bus.publish("b", "x", json!(1), MAX_HOPS, None).delivered, 1);
        assert_eq!(s.recv().await.unwrap().hops, MAX_HOPS);
        assert_eq!(
            bus.publish("b", "x", json!(2), MAX_HOPS + 1, None)
                .delivered,
            0
        );
        assert!(s.try_recv().is_none());
    }

    #[tokio::test]
    async fn assistants_do_not_see_other_assistants_requests_through_wildcards() {
        let bus = Bus::new();
        bus.confine("spy");
        bus.confine("victim");
        let mut spy_all = bus.subscribe("spy", Pattern::new("*"));
        let mut victim = bus.subscribe("victim", Pattern::new("assistant:victim"));
        let mut api = bus.subscribe("api", Pattern::new("*"));
        bus.emit("host", "assistant:victim", json!("secret prompt"));
        assert_eq!(victim.recv().await.unwrap().payload, json!("secret prompt"));
        assert_eq!(api.recv().await.unwrap().payload, json!("secret prompt"));
        assert!(spy_all.try_recv().is_none());
        assert!(!bus.has_subscriber("spy", "assistant:victim"));
        // Other topics still reach `*`.
        bus.emit("host", "thread.created", json!(1));
        assert_eq!(spy_all.recv().await.unwrap().topic, "thread.created");
        // A pattern that names the topic is an explicit choice (the host
        // allows it only when assistant.json grants it).
        let mut named = bus.subscribe("spy", Pattern::new("assistant:*"));
        bus.emit("host", "assistant:victim", json!(2));
        assert_eq!(named.recv().await.unwrap().payload, json!(2));
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
