//! The synchronisation primitives of the code that threads share without a registry lock: a
//! port's wake-up protocol, actors' mailboxes and the outbox drain.
//!
//! In a normal build these are `std`'s atomics and `parking_lot`'s mutex. Built with
//! `RUSTFLAGS="--cfg loom"` they are [loom](https://docs.rs/loom)'s, so that the model tests
//! (`loom_model` modules in `port.rs` and `outbox.rs`) explore every interleaving of that code
//! as it is, not of a copy. The rest of the crate (registries, the timer) keeps its own locks.

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::sync::MutexGuard;

#[cfg(loom)]
pub(crate) use loom::thread::{current as current_thread, Thread};
/// A handle to a thread that can be woken from [`park_timeout`].
#[cfg(not(loom))]
pub(crate) use std::thread::{current as current_thread, Thread};

/// Sleeps the calling thread until another thread unparks it or `timeout` passes (or
/// spuriously earlier). Under loom the timeout never fires: a model that sleeps through a wake
/// therefore deadlocks, which loom reports.
#[cfg(not(loom))]
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    std::thread::park_timeout(timeout);
}

#[cfg(loom)]
pub(crate) fn park_timeout(_timeout: std::time::Duration) {
    loom::thread::park();
}

/// loom's mutex with `parking_lot`'s signature (`lock` cannot fail: no code here panics while
/// holding one).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    /// Locks it, waiting for other holders.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The outbox ring's memory: 32-bit cells that the owning JS thread writes and the core reads
/// without a lock. Each cell is an `UnsafeCell`, so the compiler assumes nothing about its
/// contents across a read; who may touch which cell when is the outbox protocol's business
/// (see [`crate::outbox`]). In the loom build the cells are loom's, which check that protocol:
/// a read not ordered after the write it sees (through the head and tail counters) fails the
/// model.
pub(crate) struct Cells {
    #[cfg(not(loom))]
    cells: Box<[std::cell::UnsafeCell<u32>]>,
    #[cfg(loom)]
    cells: Box<[loom::cell::UnsafeCell<u32>]>,
}

// SAFETY: the cells are only reached through `Cells`' methods: `as_ptr` hands out a raw pointer
// (dereferencing it is its user's `unsafe`), and the reads and writes are `unsafe fn`s whose
// callers promise the protocol that keeps a cell from being written while it is read.
unsafe impl Sync for Cells {}

impl Cells {
    /// `n` cells holding 0.
    pub(crate) fn new(n: usize) -> Self {
        Cells {
            cells: (0..n).map(|_| Default::default()).collect(),
        }
    }

    /// Start of the memory, for building the JS view (the cells are contiguous `u32`s:
    /// `UnsafeCell<u32>` has the layout of `u32`).
    #[cfg(not(loom))]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        std::cell::UnsafeCell::raw_get(self.cells.as_ptr()).cast()
    }

    /// Reads cell `i` (panics if out of range).
    ///
    /// # Safety
    /// No one writes cell `i` during the call: the last write to it happens before this read.
    pub(crate) unsafe fn read(&self, i: usize) -> u32 {
        #[cfg(not(loom))]
        {
            // SAFETY: the cell exists (indexing checked it) and, by the caller's contract, is
            // not written concurrently.
            unsafe { self.cells[i].get().read() }
        }
        #[cfg(loom)]
        {
            // SAFETY: as above; loom checks the contract.
            self.cells[i].with(|p| unsafe { p.read() })
        }
    }

    /// Appends `len` bytes starting at byte `at` to `out` (panics if out of range).
    ///
    /// # Safety
    /// No one writes those bytes during the call.
    pub(crate) unsafe fn copy_bytes(&self, at: usize, len: usize, out: &mut Vec<u8>) {
        let end = at.checked_add(len).expect("byte range overflows");
        assert!(end <= self.cells.len() * 4, "byte range out of bounds");
        #[cfg(not(loom))]
        {
            out.reserve(len);
            // SAFETY: `at..end` lies inside the cells (asserted above), which are contiguous
            // bytes; nobody writes them meanwhile (the caller's contract); `out` has room for
            // `len` more bytes, which become initialised by the copy.
            unsafe {
                let src = self.as_ptr().add(at);
                std::ptr::copy_nonoverlapping(src, out.as_mut_ptr().add(out.len()), len);
                out.set_len(out.len() + len);
            }
        }
        #[cfg(loom)]
        for b in at..end {
            // SAFETY: as above, cell by cell (little-endian, as the JS engines we run on).
            let word = unsafe { self.read(b / 4) };
            out.push(word.to_le_bytes()[b % 4]);
        }
    }

    /// Writes `value` to cell `i`, as the owning JS thread does (tests only).
    ///
    /// # Safety
    /// No one reads or writes cell `i` during the call.
    #[cfg(test)]
    pub(crate) unsafe fn write(&self, i: usize, value: u32) {
        #[cfg(not(loom))]
        {
            // SAFETY: the cell exists; the caller's contract excludes other accesses.
            unsafe { self.cells[i].get().write(value) }
        }
        #[cfg(loom)]
        {
            // SAFETY: as above; loom checks the contract.
            self.cells[i].with_mut(|p| unsafe { p.write(value) })
        }
    }
}
