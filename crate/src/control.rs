//! The control block: a few words of memory shared by a JS thread and the core, read and
//! written by both without a native call (the thread's progress counter, its heap size, its
//! outbox's head and tail, the count of dead targets it has not asked about). Each port owns
//! one (`Port::control`) and the outbox reads its head and tail from it, so it lives here,
//! below both.

use crate::sync::AtomicU32;
use std::sync::atomic::Ordering;

/// Words shared with the owning JS thread (exposed to it as a `Uint32Array` over this memory).
pub const CONTROL_WORDS: usize = 5;

/// Memory the owning JS thread reads and writes without a native call. Word 0 counts the
/// messages the thread has finished handling; the core reads it to acknowledge batches, and
/// after the thread died to know exactly which message was in flight. Word 1 is the thread's
/// JS heap in use (KiB), refreshed about once a second, for diagnostics. Words 2 and 3 are the
/// head (JS) and tail (core) of the thread's outbox (see the outbox module); word 4 counts the
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

    /// Counts a target found dead for good (word 4; the thread then asks which ones).
    pub(crate) fn count_dead(&self) {
        self.words[4].fetch_add(1, Ordering::Release);
    }

    /// Start of the shared words, for building the JS view. `AtomicU32` has the layout of
    /// `u32` and mutates through a shared reference, so JS may read and write the words
    /// through this pointer (whole aligned `u32`s) while the core uses them.
    #[cfg(not(loom))]
    pub fn as_ptr(&self) -> *mut u32 {
        self.words.as_ptr().cast_mut().cast()
    }
}
