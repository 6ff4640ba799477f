//! The host thread's mail ring. `ActorRef.receive` from the host to a pooled actor writes a
//! record into a byte ring of this thread (the layout of an actor thread's outbox,
//! crate/src/outbox.rs) instead of making a native call per message. The ring is delivered, in
//! order, at the start of every native call this thread makes (`entry::guard`), so nothing the
//! host does natively afterwards can overtake it; at the end of the JS task that wrote it (a
//! microtask, lib/host/mail.js); and when it is full. Records: target 0 names the supervisor
//! (its id in decimal) that reports dead letters of the records that follow; any other target
//! is a message to that actor.
//!
//! This module depends on no other module of the binding: `entry` calls [`deliver`] from every
//! guard, and the views JS writes through are made in `messages`.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use warden_core::outbox::{record_id, record_text, Outbox};
use warden_core::{runtime, Envelope, Kind, Port};

thread_local! {
    /// The host thread's ring, once it sent through it: a port of its own, never registered
    /// (no thread drains it but this one), used only for its control words and outbox.
    static RING: RefCell<Option<Arc<Port>>> = const { RefCell::new(None) };
    /// The supervisor the ring's last supervisor record named.
    static RING_SUP: Cell<u64> = const { Cell::new(0) };
}

/// Delivers what this thread wrote to its ring (nothing if it has none or it is empty);
/// returns how many messages. Every native entry point calls it first (`entry::guard`).
pub(crate) fn deliver() -> usize {
    RING.with(|m| {
        let m = m.borrow();
        let Some(port) = m.as_ref() else {
            return 0;
        };
        let control = port.control();
        if !Outbox::pending(control) {
            return 0;
        }
        let rt = runtime();
        let mut sup = RING_SUP.with(|s| s.get());
        let mut n = 0;
        let mut wake = Vec::new();
        // The ring space is given back only when the drain is dropped, after the last delivery
        // (and the wakes: a flush that finds the ring empty knows its workers were rung).
        let mut drain = port.outbox().drain(control);
        for (target, json) in &mut drain {
            if target == 0 {
                sup = record_id(&json);
                continue;
            }
            let body = record_text(json);
            // Every refusal is a dead letter, reported by `send` (to the target's supervisor,
            // or to `sup` for an actor no longer known).
            let env = Envelope::new(Kind::User, 0, 0, body);
            let _ = rt.deliver_quiet(u64::from(target), env, sup, &mut wake);
            n += 1;
        }
        for p in wake {
            p.ring(); // each worker once per flush
        }
        drop(drain);
        RING_SUP.with(|s| s.set(sup));
        n
    })
}

/// This thread's ring port, made on first use.
pub(crate) fn port() -> Arc<Port> {
    RING.with(|m| {
        m.borrow_mut()
            .get_or_insert_with(|| Arc::new(Port::new(0)))
            .clone()
    })
}
