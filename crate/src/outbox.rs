//! Outboxes: a byte ring per worker thread into which its JavaScript writes `ctx.send`s without
//! a native call. The core drains it, delivering in order, whenever that thread makes a native
//! call that could be observed after its sends (another send, a call, a reply, an emit, taking
//! or parking), when the thread is gone, and periodically from the timer thread — so mail sent
//! just before a hang or a kill is still delivered.
//!
//! Layout: records `[len: u32][target: u32][len bytes of JSON]`, each padded to 4 bytes, at
//! positions `counter % OUTBOX_BYTES`. Two byte counters that wrap at 2^32 live in the port's
//! control words: `head` (written only by the owning JS thread, after the record's bytes) and
//! `tail` (written only by the core, under the drain lock). A record that would cross the end
//! of the ring is preceded by a [`WRAP`] word and starts again at position 0.

use crate::port::ControlBlock;
use parking_lot::{Mutex, MutexGuard};

/// Bytes in one outbox (a power of two).
pub const OUTBOX_BYTES: usize = 64 * 1024;
/// A length word meaning "the rest of the ring is unused; continue at position 0".
pub const WRAP: u32 = u32::MAX;
/// Bytes before a record's JSON.
const HEADER: usize = 8;

/// One thread's outbox memory and the lock that serialises its drains.
pub struct Outbox {
    mem: Box<[u32]>,
    drain: Mutex<()>,
}

// SAFETY: the memory is only written by the owning JS thread in the free part of the ring and
// only read by the core in the published part (between tail and head, under `drain`); the
// counters that hand parts over are atomics in the control block.
unsafe impl Sync for Outbox {}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            mem: vec![0u32; OUTBOX_BYTES / 4].into_boxed_slice(),
            drain: Mutex::new(()),
        }
    }
}

impl Outbox {
    /// Start of the ring, for building the owning thread's view.
    pub fn as_ptr(&self) -> *mut u8 {
        self.mem.as_ptr() as *mut u8
    }

    /// True if the owning thread published records no drain has taken yet.
    pub fn pending(control: &ControlBlock) -> bool {
        control.outbox_head() != control.outbox_tail()
    }

    /// The drain lock. A drainer holds it until it has dealt with everything it took, so that
    /// what one drain hands out is delivered before another drain starts (mail stays in order).
    pub fn lock(&self) -> MutexGuard<'_, ()> {
        self.drain.lock()
    }

    /// With the drain lock held (`_held`, from [`Outbox::lock`]), hands every published record
    /// to `each(target, json)` in order and frees its space. Returns how many records there
    /// were. A malformed record (which our JS never writes) ends the drain and discards the
    /// rest, rather than reading out of bounds.
    pub fn drain(
        &self,
        _held: &MutexGuard<'_, ()>,
        control: &ControlBlock,
        mut each: impl FnMut(u32, &[u8]),
    ) -> usize {
        let head = control.outbox_head();
        let mut tail = control.outbox_tail();
        let mut n = 0;
        // SAFETY: the published region [tail, head) is not written by JS until the tail moves
        // past it, and the drain lock keeps other drains out; reads are bounds-checked below.
        let bytes = unsafe { std::slice::from_raw_parts(self.as_ptr(), OUTBOX_BYTES) };
        let word = |pos: usize| u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
        while tail != head {
            let avail = head.wrapping_sub(tail) as usize;
            let pos = tail as usize % OUTBOX_BYTES;
            if !pos.is_multiple_of(4) || avail > OUTBOX_BYTES {
                tail = head;
                break;
            }
            let len = word(pos);
            let size = if len == WRAP {
                OUTBOX_BYTES - pos
            } else {
                (HEADER + len as usize + 3) & !3
            };
            if size > avail || (len != WRAP && pos + size > OUTBOX_BYTES) {
                tail = head; // malformed
                break;
            }
            if len != WRAP {
                let json = &bytes[pos + HEADER..pos + HEADER + len as usize];
                each(word(pos + 4), json);
                n += 1;
            }
            tail = tail.wrapping_add(size as u32);
        }
        control.set_outbox_tail(tail);
        n
    }

    /// Appends a record the way the JS writer does (tests only; assumes there is room).
    #[cfg(test)]
    pub(crate) fn put(&self, control: &ControlBlock, target: u32, json: &str) {
        let mem = self.as_ptr();
        let head = control.outbox_head();
        let mut pos = head as usize % OUTBOX_BYTES;
        let size = (HEADER + json.len() + 3) & !3;
        let mut advance = size;
        // SAFETY (test): writes stay inside the ring, in its free part.
        unsafe {
            if pos + size > OUTBOX_BYTES {
                mem.add(pos).cast::<u32>().write(WRAP);
                advance += OUTBOX_BYTES - pos;
                pos = 0;
            }
            mem.add(pos).cast::<u32>().write(json.len() as u32);
            mem.add(pos + 4).cast::<u32>().write(target);
            std::ptr::copy_nonoverlapping(json.as_ptr(), mem.add(pos + HEADER), json.len());
        }
        control.set_outbox_head(head.wrapping_add(advance as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(ob: &Outbox, control: &ControlBlock) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        let held = ob.lock();
        ob.drain(&held, control, |t, b| {
            out.push((t, String::from_utf8(b.to_vec()).unwrap()))
        });
        out
    }

    #[test]
    fn records_come_out_in_order_across_the_wrap() {
        let ob = Outbox::default();
        let control = ControlBlock::new();
        let mut expected = Vec::new();
        let mut seen = Vec::new();
        for round in 0..50u32 {
            for i in 0..100u32 {
                let json = format!(
                    "{{\"n\":{},\"pad\":\"{}\"}}",
                    round * 100 + i,
                    "x".repeat((i % 13) as usize)
                );
                ob.put(&control, i, &json);
                expected.push((i, json));
            }
            seen.extend(drained(&ob, &control));
        }
        assert_eq!(seen, expected);
        assert_eq!(control.outbox_head(), control.outbox_tail());
    }

    #[test]
    fn counters_wrap_at_u32() {
        let ob = Outbox::default();
        let control = ControlBlock::new();
        let start = u32::MAX - 19; // 4-aligned, as every head is
        control.set_outbox_head(start);
        control.set_outbox_tail(start);
        ob.put(&control, 7, "\"a\"");
        ob.put(&control, 8, "\"bb\"");
        assert_eq!(
            drained(&ob, &control),
            vec![(7, "\"a\"".to_string()), (8, "\"bb\"".to_string())]
        );
    }

    #[test]
    fn a_malformed_record_discards_the_rest_without_reading_out_of_bounds() {
        let ob = Outbox::default();
        let control = ControlBlock::new();
        // SAFETY (test): position 0 is inside the ring.
        unsafe { ob.as_ptr().cast::<u32>().write(OUTBOX_BYTES as u32) };
        control.set_outbox_head(64);
        assert!(drained(&ob, &control).is_empty());
        assert_eq!(control.outbox_tail(), 64);
    }
}
