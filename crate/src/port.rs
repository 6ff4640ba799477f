//! Ports: one per JS thread that receives from the core (an actor's worker thread, or a
//! supervisor on the host thread).
//!
//! A port has an urgent queue (replies, start and stop orders, host events) and, on worker
//! threads, the actor currently bound to it, whose mailbox it drains one message at a time.
//!
//! Wake-ups are coalesced with the `scheduled` flag: a sender rings the waker only when it flips
//! the flag from false to true, the thread drains everything it finds, and on `park` clears the
//! flag and re-checks for work before going idle. One wake therefore drains a whole batch.

use crate::actor::Actor;
use crate::envelope::{batch_json, Envelope};
use crate::outbox::Outbox;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Most urgent envelopes handed to the owning thread per [`Port::take_urgent`].
pub const URGENT_BATCH: usize = 4096;

/// Words shared with the owning JS thread (exposed to it as a `Uint32Array` over this memory).
pub const CONTROL_WORDS: usize = 5;

/// Memory the owning JS thread reads and writes without a native call. Word 0 counts the
/// messages the thread has finished handling; the core reads it to acknowledge batches, and
/// after the thread died to know exactly which message was in flight. Word 1 is the thread's
/// JS heap in use (KiB), refreshed about once a second, for diagnostics. Words 2 and 3 are the
/// head (JS) and tail (core) of the thread's outbox (see [`crate::outbox`]); word 4 counts the
/// targets the core found dead for good while draining it, so the thread knows when to ask
/// which ones.
pub struct ControlBlock {
    words: [AtomicU32; CONTROL_WORDS],
}

impl ControlBlock {
    pub(crate) fn new() -> Self {
        ControlBlock {
            words: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Messages handled so far (wrapping).
    pub fn handled(&self) -> u32 {
        self.words[0].load(Ordering::Acquire)
    }

    /// The JS heap the thread last reported (word 1, in KiB), in bytes.
    pub fn heap_used(&self) -> u64 {
        u64::from(self.words[1].load(Ordering::Relaxed)) * 1024
    }

    /// Sets the handled counter (what the JS thread does; used by tests).
    pub fn set_handled(&self, n: u32) {
        self.words[0].store(n, Ordering::Release);
    }

    /// Bytes the owning thread has published to its outbox (wrapping counter).
    pub fn outbox_head(&self) -> u32 {
        self.words[2].load(Ordering::Acquire)
    }

    /// Publishes outbox bytes (what the JS thread does; used by tests).
    pub fn set_outbox_head(&self, head: u32) {
        self.words[2].store(head, Ordering::Release);
    }

    /// Outbox bytes the core has consumed (wrapping counter).
    pub fn outbox_tail(&self) -> u32 {
        self.words[3].load(Ordering::Acquire)
    }

    /// Frees outbox bytes up to `tail`.
    pub fn set_outbox_tail(&self, tail: u32) {
        self.words[3].store(tail, Ordering::Release);
    }

    /// Start of the shared words, for building the JS view.
    pub fn as_ptr(&self) -> *mut u32 {
        self.words.as_ptr() as *mut u32
    }
}

/// Wakes the event loop of the thread that owns a port. Implemented by the binding layer
/// (a Node-API threadsafe function); tests use plain closures.
pub trait Waker: Send + Sync {
    /// Schedules a drain on the owning thread. Returns false once that thread is gone.
    fn wake(&self) -> bool;
}

/// Identifies a port in the runtime's registry.
pub type PortId = u64;

/// The receiving end of one JS thread.
pub struct Port {
    /// Registry id.
    pub id: PortId,
    scheduled: AtomicBool,
    closed: AtomicBool,
    waker: Mutex<Option<Arc<dyn Waker>>>,
    urgent: Mutex<VecDeque<Envelope>>,
    actor: Mutex<Option<Arc<Actor>>>,
    actor_id: AtomicU64,
    control: Arc<ControlBlock>,
    outbox: std::sync::OnceLock<Arc<Outbox>>,
    dead: Mutex<Vec<u64>>,
}

impl Port {
    /// A new port with no waker yet. Rings before the waker is registered are remembered in
    /// the flag; the owning thread drains as soon as it registers.
    pub fn new(id: PortId) -> Self {
        Port {
            id,
            scheduled: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            waker: Mutex::new(None),
            urgent: Mutex::new(VecDeque::new()),
            actor: Mutex::new(None),
            actor_id: AtomicU64::new(0),
            control: Arc::new(ControlBlock::new()),
            outbox: std::sync::OnceLock::new(),
            dead: Mutex::new(Vec::new()),
        }
    }

    /// The outbox of the owning thread, created on first use.
    pub fn outbox(&self) -> &Arc<Outbox> {
        self.outbox.get_or_init(Default::default)
    }

    /// The outbox, if the owning thread ever asked for one.
    pub fn outbox_if_any(&self) -> Option<&Arc<Outbox>> {
        self.outbox.get()
    }

    /// Notes that mail from this thread found `target` dead for good (the thread learns it
    /// through control word 4 and [`Port::take_dead`]).
    pub fn note_dead(&self, target: u64) {
        let mut d = self.dead.lock();
        if d.len() < 4096 {
            d.push(target);
        }
        self.control.words[4].fetch_add(1, Ordering::Release);
    }

    /// The targets noted dead since the last call.
    pub fn take_dead(&self) -> Vec<u64> {
        std::mem::take(&mut *self.dead.lock())
    }

    /// The words shared with the owning thread.
    pub fn control(&self) -> &Arc<ControlBlock> {
        &self.control
    }

    /// Id of the actor bound to this port (0 if none): the `from` of what its thread sends.
    pub fn actor_id(&self) -> u64 {
        self.actor_id.load(Ordering::Acquire)
    }

    /// Installs the waker of the owning thread, which must drain right after.
    pub fn set_waker(&self, waker: Arc<dyn Waker>) {
        *self.waker.lock() = Some(waker);
        self.scheduled.store(true, Ordering::SeqCst);
    }

    /// True once the owning thread is gone (or the port was closed by its owner).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the port closed, drops the waker and unbinds the actor. Returns the actor that
    /// was bound, if any. Idempotent.
    pub fn close(&self) -> Option<Arc<Actor>> {
        self.closed.store(true, Ordering::Release);
        let waker = self.waker.lock().take();
        drop(waker);
        self.urgent.lock().clear();
        self.actor.lock().take()
    }

    /// Wakes the owning thread unless a wake is already pending or it is draining.
    pub fn ring(&self) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let waker = self.waker.lock().clone();
        if let Some(w) = waker {
            if !w.wake() {
                self.closed.store(true, Ordering::Release);
            }
        }
    }

    /// Queues an urgent envelope and wakes the thread. Returns false if the port is closed.
    pub fn push_urgent(&self, env: Envelope) -> bool {
        if self.is_closed() {
            return false;
        }
        self.urgent.lock().push_back(env);
        self.ring();
        true
    }

    /// Called by the owning thread when it starts draining: takes the urgent envelopes as one
    /// JSON batch, at most [`URGENT_BATCH`] of them (the thread calls again until it gets
    /// nothing, and a backlog of millions must not become one string larger than a JS engine
    /// can hold). Also marks the thread as draining so senders do not ring.
    pub fn take_urgent(&self) -> Option<String> {
        self.scheduled.store(true, Ordering::SeqCst);
        let mut q = self.urgent.lock();
        if q.is_empty() {
            return None;
        }
        let n = q.len().min(URGENT_BATCH);
        let text = batch_json(q.iter().take(n));
        q.drain(..n);
        Some(text)
    }

    /// Binds the actor whose mailbox this thread drains.
    pub fn bind(&self, actor: Arc<Actor>) {
        self.actor_id.store(actor.id, Ordering::Release);
        *self.actor.lock() = Some(actor);
    }

    /// The bound actor, if any.
    pub fn actor(&self) -> Option<Arc<Actor>> {
        self.actor.lock().clone()
    }

    /// Removes the bound actor if it is `actor_id`.
    pub fn unbind(&self, actor_id: u64) {
        let mut slot = self.actor.lock();
        if slot.as_ref().map(|a| a.id) == Some(actor_id) {
            *slot = None;
        }
    }

    /// Called by the owning thread when it found nothing more to do. Clears the flag, then
    /// re-checks: returns true if work arrived meanwhile and this thread took the flag back
    /// (keep draining); false if the thread may go idle (a pending wake will call it again).
    pub fn park(&self) -> bool {
        self.scheduled.store(false, Ordering::SeqCst);
        let has_work =
            !self.urgent.lock().is_empty() || self.actor().is_some_and(|a| a.has_deliverable());
        if has_work {
            return !self.scheduled.swap(true, Ordering::AcqRel);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Kind;
    use std::sync::atomic::AtomicUsize;

    struct Counter(AtomicUsize);
    impl Waker for Counter {
        fn wake(&self) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            true
        }
    }

    #[test]
    fn wakes_are_coalesced_until_park() {
        let port = Port::new(1);
        let waker = Arc::new(Counter(AtomicUsize::new(0)));
        port.set_waker(waker.clone());
        assert!(port.take_urgent().is_none());
        assert!(!port.park());
        for i in 0..100 {
            port.push_urgent(Envelope::new(Kind::Reply, 0, i, "1"));
        }
        assert_eq!(waker.0.load(Ordering::SeqCst), 1, "one wake for a burst");
        let batch = port.take_urgent().unwrap();
        let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 100);
        assert!(!port.park());
        port.push_urgent(Envelope::new(Kind::Reply, 0, 0, "1"));
        assert_eq!(waker.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_backlog_is_taken_in_bounded_batches_in_order() {
        let port = Port::new(1);
        let total = URGENT_BATCH * 2 + 7;
        for i in 0..total {
            port.push_urgent(Envelope::new(Kind::Reply, 0, i as u64, "1"));
        }
        let mut corrs = Vec::new();
        while let Some(batch) = port.take_urgent() {
            let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
            let items = v.as_array().unwrap();
            assert!(items.len() <= URGENT_BATCH);
            corrs.extend(items.iter().map(|e| e[2].as_u64().unwrap()));
        }
        assert_eq!(corrs, (0..total as u64).collect::<Vec<_>>());
    }

    #[test]
    fn park_reclaims_when_work_raced_in() {
        let port = Port::new(1);
        port.set_waker(Arc::new(Counter(AtomicUsize::new(0))));
        // Simulate a push that lands while the thread is still draining (flag set: no ring).
        port.urgent
            .lock()
            .push_back(Envelope::new(Kind::Reply, 0, 0, "1"));
        assert!(
            port.park(),
            "work found after clearing the flag: keep draining"
        );
    }

    #[test]
    fn closed_port_refuses() {
        let port = Port::new(1);
        port.close();
        assert!(!port.push_urgent(Envelope::new(Kind::Reply, 0, 0, "1")));
    }
}
