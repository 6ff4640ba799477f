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
//!
//! Who touches which bytes when: the JS thread writes only the free part `[head, tail +
//! OUTBOX_BYTES)` and then publishes it by storing `head` (release); a drainer, holding the drain
//! lock, loads `head` (acquire), copies records out of the published part `[tail, head)`, hands
//! them on, and only then stores `tail` (release), giving the space back. So the core never
//! reads a byte while it is being written, and a flush that finds `head == tail` knows that
//! everything sent before was delivered, even by another drainer. The memory is a run of
//! `UnsafeCell`s (`sync::Cells`), never a plain slice the compiler could assume unchanged,
//! and every length read from it is checked before it is used.
//!
//! A pool worker also writes binary acknowledgement records ([`Record::Ack`]): target 0, a
//! body of five words `[ACK_TAG, n, incarnation, actor low 32 bits, actor high bits]`. Their
//! first byte (0xFE or 0xFF, by byte order) never starts UTF-8, so no text record reads as one.

use crate::control::ControlBlock;
use crate::sync::{Cells, Mutex, MutexGuard};

/// Bytes in one outbox (a power of two). `lib/actor/outbox.js` has the same constant. The loom
/// build uses a ring of 64 bytes, so that its models wrap after a few records.
#[cfg(not(loom))]
pub const OUTBOX_BYTES: usize = 64 * 1024;
/// Bytes in one outbox (the loom build's small ring).
#[cfg(loom)]
pub const OUTBOX_BYTES: usize = 64;
/// A length word meaning "the rest of the ring is unused; continue at position 0".
pub const WRAP: u32 = u32::MAX;
/// Bytes before a record's JSON.
const HEADER: usize = 8;
/// The first word of a binary acknowledgement record (see [`Record::Ack`]). `lib/actor/outbox.js`
/// has the same constant.
pub const ACK_TAG: u32 = 0xFFFF_FFFE;
/// Bytes in the body of a binary acknowledgement record.
pub const ACK_BYTES: usize = 20;

/// One record of a drain.
#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    /// Text for `target` (JSON, or for target 0 a record the port's kind gives a meaning).
    Text(u32, Vec<u8>),
    /// A pool worker's acknowledgement: `n` more messages of `actor`'s incarnation
    /// `incarnation` are handled (read from its words, with no allocation).
    Ack {
        /// The actor.
        actor: u64,
        /// Its incarnation.
        incarnation: u32,
        /// How many messages.
        n: u32,
    },
}

/// One thread's outbox memory and the lock that serialises its drains.
pub struct Outbox {
    mem: Cells,
    // Lock order (see `Runtime`): the first lock a drainer takes, with no other lock held;
    // delivering the mail under it takes actors', ports' and registries' locks.
    drain: Mutex<()>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            mem: Cells::new(OUTBOX_BYTES / 4),
            drain: Mutex::new(()),
        }
    }
}

impl Outbox {
    /// Start of the ring, for building the owning thread's view. The JS thread may write
    /// through it only as the module doc says.
    #[cfg(not(loom))]
    pub fn as_ptr(&self) -> *mut u8 {
        self.mem.as_ptr()
    }

    /// True if the owning thread published records no drain has delivered yet.
    pub fn pending(control: &ControlBlock) -> bool {
        control.outbox_head() != control.outbox_tail()
    }

    /// Takes the drain lock (waiting for another drainer) and returns the records published
    /// so far, in order. The drainer delivers them while it holds the returned [`Drain`]:
    /// dropping it frees their space and lets the next drainer in, so mail stays in order.
    pub fn drain<'a>(&'a self, control: &'a ControlBlock) -> Drain<'a> {
        let held = self.drain.lock();
        Drain {
            mem: &self.mem,
            control,
            head: control.outbox_head(),
            tail: control.outbox_tail(),
            _held: held,
        }
    }

    /// Appends a record the way the JS writer does (tests only; assumes there is room).
    #[cfg(test)]
    pub(crate) fn put(&self, control: &ControlBlock, target: u32, json: &str) {
        self.put_bytes(control, target, json.as_bytes());
    }

    /// Appends a record of any bytes (tests only; assumes there is room).
    #[cfg(test)]
    pub(crate) fn put_bytes(&self, control: &ControlBlock, target: u32, json: &[u8]) {
        let head = control.outbox_head();
        let mut pos = head as usize % OUTBOX_BYTES;
        let size = (HEADER + json.len() + 3) & !3;
        let mut advance = size;
        // SAFETY: (a test) the writer owns the free part of the ring, which these words are in.
        let write = |i: usize, v: u32| unsafe { self.mem.write(i, v) };
        if pos + size > OUTBOX_BYTES {
            write(pos / 4, WRAP);
            advance += OUTBOX_BYTES - pos;
            pos = 0;
        }
        write(pos / 4, json.len() as u32);
        write(pos / 4 + 1, target);
        for (i, chunk) in json.chunks(4).enumerate() {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            write((pos + HEADER) / 4 + i, u32::from_ne_bytes(word));
        }
        control.set_outbox_head(head.wrapping_add(advance as u32));
    }
}

#[cfg(test)]
impl Outbox {
    /// Appends a binary acknowledgement record the way the JS writer does (tests only).
    pub(crate) fn put_ack(&self, control: &ControlBlock, actor: u64, incarnation: u32, n: u32) {
        let words = [ACK_TAG, n, incarnation, actor as u32, (actor >> 32) as u32];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        self.put_bytes(control, 0, &bytes);
    }
}

/// A record's bytes as text. Our JS writes UTF-8; anything else is replaced (U+FFFD), never
/// trusted.
pub fn record_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A record's bytes read as an id in decimal (the records naming a sender or a supervisor);
/// 0 if they are not one.
pub fn record_id(bytes: &[u8]) -> u64 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// The records one drainer took (an iterator of `(target, json bytes)`), with the drain lock
/// held. Dropping it stores the new tail, then unlocks.
pub struct Drain<'a> {
    mem: &'a Cells,
    control: &'a ControlBlock,
    head: u32,
    tail: u32,
    _held: MutexGuard<'a, ()>,
}

impl Drain<'_> {
    /// The next record. A malformed one (which our JS never writes) ends the drain and
    /// discards the rest, rather than reading out of bounds. A binary acknowledgement is read
    /// from its words; any other record's bytes are copied out.
    pub fn next_record(&mut self) -> Option<Record> {
        loop {
            if self.tail == self.head {
                return None;
            }
            let avail = self.head.wrapping_sub(self.tail) as usize;
            let pos = self.tail as usize % OUTBOX_BYTES;
            if !pos.is_multiple_of(4) || avail > OUTBOX_BYTES {
                self.tail = self.head; // malformed
                return None;
            }
            // SAFETY: `pos` is in the published part `[tail, head)` (avail > 0), which the JS
            // thread does not write until the tail moves past it, and only this drainer (it
            // holds the lock) moves the tail; the acquire load of `head` ordered the JS
            // writes of that part before this read.
            let len = unsafe { self.mem.read(pos / 4) };
            let size = if len == WRAP {
                OUTBOX_BYTES - pos
            } else {
                (len as usize).saturating_add(HEADER + 3) & !3
            };
            if size > avail || (len != WRAP && pos + size > OUTBOX_BYTES) {
                self.tail = self.head; // malformed
                return None;
            }
            self.tail = self.tail.wrapping_add(size as u32);
            if len == WRAP {
                continue;
            }
            let word = pos / 4;
            // SAFETY: as above: the record `[pos, pos + size)` lies in the ring (checked just
            // above) and in the published part (size <= avail), so nobody writes it now.
            let target = unsafe { self.mem.read(word + 1) };
            if target == 0 && len as usize == ACK_BYTES {
                // SAFETY: (as above) the body's five words are inside the record.
                let w = |k: usize| unsafe { self.mem.read(word + 2 + k) };
                if w(0) == ACK_TAG {
                    return Some(Record::Ack {
                        n: w(1),
                        incarnation: w(2),
                        actor: u64::from(w(3)) | (u64::from(w(4)) << 32),
                    });
                }
            }
            let mut json = Vec::with_capacity(len as usize);
            // SAFETY: (as above) the record's bytes lie in the ring and the published part.
            unsafe { self.mem.copy_bytes(pos + HEADER, len as usize, &mut json) };
            return Some(Record::Text(target, json));
        }
    }
}

impl Iterator for Drain<'_> {
    type Item = (u32, Vec<u8>);

    /// The next record as `(target, bytes)` (an acknowledgement as target 0 and the bytes of
    /// its words), for readers that treat every record alike.
    fn next(&mut self) -> Option<(u32, Vec<u8>)> {
        Some(match self.next_record()? {
            Record::Text(target, json) => (target, json),
            Record::Ack {
                actor,
                incarnation,
                n,
            } => {
                let words = [ACK_TAG, n, incarnation, actor as u32, (actor >> 32) as u32];
                (0, words.iter().flat_map(|w| w.to_ne_bytes()).collect())
            }
        })
    }
}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        // Before `_held` unlocks: the next drainer starts where this one stopped.
        self.control.set_outbox_tail(self.tail);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drained(ob: &Outbox, control: &ControlBlock) -> Vec<(u32, String)> {
        ob.drain(control)
            .map(|(t, b)| (t, String::from_utf8(b).unwrap()))
            .collect()
    }

    #[test]
    fn record_bodies_read_as_text_and_as_ids_without_trusting_the_bytes() {
        assert_eq!(record_text(b"{\"a\":1}".to_vec()), "{\"a\":1}");
        assert_eq!(record_text(vec![b'"', 0xff, b'"']), "\"\u{fffd}\"");
        assert_eq!(record_id(b"4294967296"), 1 << 32);
        for junk in [&b""[..], b"-1", b"12a", b" 7", &[0xff, b'1']] {
            assert_eq!(record_id(junk), 0, "{junk:?}");
        }
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
    fn acknowledgements_come_out_as_words_in_order_with_text_records() {
        let ob = Outbox::default();
        let control = ControlBlock::new();
        let big = (1u64 << 52) + 7; // an id above 32 bits keeps its high word
        ob.put(&control, 9, "\"a\"");
        ob.put_ack(&control, big, 3, 1);
        ob.put(&control, 0, "12"); // a text record for target 0 stays text
        ob.put_ack(&control, 5, 0, 16);
        // 20 bytes of text to target 0 that do not start with the tag stay text
        ob.put(&control, 0, "!0,1,123456789012345");
        let mut drain = ob.drain(&control);
        let mut got = Vec::new();
        while let Some(r) = drain.next_record() {
            got.push(r);
        }
        drop(drain);
        assert_eq!(
            got,
            vec![
                Record::Text(9, b"\"a\"".to_vec()),
                Record::Ack {
                    actor: big,
                    incarnation: 3,
                    n: 1
                },
                Record::Text(0, b"12".to_vec()),
                Record::Ack {
                    actor: 5,
                    incarnation: 0,
                    n: 16
                },
                Record::Text(0, b"!0,1,123456789012345".to_vec()),
            ]
        );
        assert!(!Outbox::pending(&control));
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
        let control = ControlBlock::new();
        for bad in [OUTBOX_BYTES as u32, u32::MAX - 8, (OUTBOX_BYTES - 4) as u32] {
            let ob = Outbox::default();
            // SAFETY: (a test) no drain is running.
            unsafe { ob.mem.write(0, bad) };
            control.set_outbox_tail(0);
            control.set_outbox_head(64);
            assert!(drained(&ob, &control).is_empty(), "length {bad}");
            assert_eq!(control.outbox_tail(), 64);
        }
        // A head more than a ring ahead of the tail, and a misaligned tail.
        let ob = Outbox::default();
        control.set_outbox_tail(0);
        control.set_outbox_head(OUTBOX_BYTES as u32 + 4);
        assert!(drained(&ob, &control).is_empty());
        control.set_outbox_tail(2);
        control.set_outbox_head(10);
        assert!(drained(&ob, &control).is_empty());
        assert_eq!(control.outbox_tail(), 10);
    }

    #[test]
    fn the_tail_moves_only_when_the_drain_ends() {
        let ob = Outbox::default();
        let control = ControlBlock::new();
        ob.put(&control, 1, "1");
        let mut drain = ob.drain(&control);
        assert_eq!(drain.next(), Some((1, b"1".to_vec())));
        assert!(Outbox::pending(&control), "taken but not yet delivered");
        drop(drain);
        assert!(!Outbox::pending(&control));
    }
}

/// Model tests (`RUSTFLAGS="--cfg loom" cargo test -p warden-core --lib --target-dir
/// target/loom loom_model`). A JS writer, its own flushes, and the timer thread's sweep drain
/// one ring of 64 bytes (so records wrap): loom runs every interleaving (up to two
/// preemptions) and checks, on top of the assertions, that no ring cell is read while it is
/// written.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use loom::sync::Arc;

    /// What a drainer does (the runtime's `flush_outbox`): skip if nothing is pending, else
    /// take the records and deliver them (appending to `log`) as one run after the last one is
    /// taken, as the runtime delivers its last run, while holding the drain.
    fn flush(ob: &Outbox, control: &ControlBlock, log: &Mutex<Vec<u32>>) {
        if !Outbox::pending(control) {
            return;
        }
        let mut drain = ob.drain(control);
        let run: Vec<u32> = (&mut drain)
            .map(|(_, json)| String::from_utf8(json).unwrap().trim().parse().unwrap())
            .collect();
        log.lock().extend(run);
        drop(drain);
    }

    /// Runs `f` under loom with at most two preemptions per execution. loom's explorer
    /// remembers one last access per object, so it does not move a second thread that has
    /// not started yet ahead of a first thread's early check (is anything pending?); a model
    /// that needs that order yields where the JS thread would do other work, letting the
    /// second thread run first, and the explorer then preempts it at every point.
    fn model(f: impl Fn() + Send + Sync + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(f);
    }

    /// The writer sends 0..5 (records of 12, 16, 20, 12 and 12 bytes: the last one wraps into
    /// the space of the first as soon as that is free), making room the way `lib/actor/outbox.js`
    /// does (a flush when the next record does not fit), while the timer's sweep drains twice
    /// concurrently: each number arrives once, in order, and no cell is read while written.
    /// (A drain that gave a record's space back before copying it out fails here.)
    #[test]
    fn concurrent_drains_deliver_every_record_once_in_order() {
        model(|| {
            let ob = Arc::new(Outbox::default());
            let control = Arc::new(ControlBlock::new());
            let log = Arc::new(Mutex::new(Vec::new()));
            let sweep = {
                let (ob, control, log) = (ob.clone(), control.clone(), log.clone());
                loom::thread::spawn(move || {
                    flush(&ob, &control, &log);
                    flush(&ob, &control, &log);
                })
            };
            for n in 0..5u32 {
                let json = format!("{n:<width$}", width = [1, 5, 9, 1, 1][n as usize]);
                let size = (HEADER + json.len() + 3) & !3;
                let head = control.outbox_head();
                let pos = head as usize % OUTBOX_BYTES;
                let pad = if pos + size > OUTBOX_BYTES {
                    OUTBOX_BYTES - pos
                } else {
                    0
                };
                let used = head.wrapping_sub(control.outbox_tail()) as usize;
                if OUTBOX_BYTES - used < pad + size {
                    flush(&ob, &control, &log);
                }
                ob.put(&control, 7, &json);
            }
            flush(&ob, &control, &log);
            sweep.join().unwrap();
            assert_eq!(*log.lock(), vec![0, 1, 2, 3, 4]);
        });
    }

    /// A message the thread sends by a native call after its ring sends (a large one, or a
    /// call) is delivered after them, even while the sweep is still delivering them: the
    /// thread's flush either finds the ring pending and waits for the sweep, or finds it
    /// empty because the sweep already delivered everything. (A drain that gave the ring
    /// back before delivering its last run, as `flush_outbox` did before [`Drain`], fails
    /// here.)
    #[test]
    fn a_native_send_after_a_flush_never_overtakes_ring_mail() {
        model(|| {
            let ob = Arc::new(Outbox::default());
            let control = Arc::new(ControlBlock::new());
            let log = Arc::new(Mutex::new(Vec::new()));
            ob.put(&control, 7, "0");
            let sweep = {
                let (ob, control, log) = (ob.clone(), control.clone(), log.clone());
                loom::thread::spawn(move || flush(&ob, &control, &log))
            };
            loom::thread::yield_now(); // see `model`
            flush(&ob, &control, &log);
            log.lock().push(1); // the native send
            sweep.join().unwrap();
            assert_eq!(*log.lock(), vec![0, 1]);
        });
    }
}
