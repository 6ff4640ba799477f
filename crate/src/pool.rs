//! Tier 2: a pool of fixed-size shared-memory boxes owned by the core (an anonymous memory map).
//!
//! A box goes FREE → WRITING (one writer, under lease) → READY (immutable, one reference per
//! holder: each authorised reader, and the host or the writer once it reads) → FREE. The writer
//! holds no reference once it commits (docs/ARCHITECTURE.md, Tier 2 boxes): a READY box is freed
//! when its last reference goes, or, if nobody ever took one, when the writer's lease at commit
//! passes or the writer ends. Its epoch changes every time it returns to FREE, so a
//! `Lock { box, epoch }` from an earlier use — or a forged one — matches nothing. Threads get views of one box at a time (never of the pool);
//! a holder's views are detached by its own thread before it gives its reference back, and a
//! holder that died took its views with it, so no view ever shows a later generation.
//! Requests that find no free box wait in FIFO order.

use memmap2::{MmapMut, UncheckedAdvice};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};

/// The host thread's holder id.
pub const HOST: u64 = 0;
/// Bytes of free boxes that keep their pages resident for the next writes (see `free_slot`).
const WARM_BYTES: usize = 64 * 1024 * 1024;

/// Why a pool operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// The write is larger than a box.
    TooLarge {
        /// Requested bytes.
        size: usize,
        /// Box size.
        box_size: usize,
    },
    /// No box is free (and the caller did not want to wait).
    Full,
    /// The handle names no box in this state for this caller (stale, forged, not the writer).
    BadHandle,
    /// The supervisor has no pool (`memory.poolSize` is 0).
    NoPool,
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge { size, box_size } => {
                write!(
                    f,
                    "write of {size} bytes exceeds the box size of {box_size} bytes"
                )
            }
            Self::Full => write!(f, "no free box in the pool"),
            Self::BadHandle => write!(f, "stale or invalid handle"),
            Self::NoPool => write!(
                f,
                "no memory pool: this supervisor was created with memory.poolSize 0"
            ),
        }
    }
}

/// A box handed to a writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// Box index.
    pub index: usize,
    /// Its current epoch.
    pub epoch: u32,
}

/// A queued write request that got a box (or timed out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    /// Who asked.
    pub holder: u64,
    /// Where to answer (the asking thread's port).
    pub port: u64,
    /// The request's correlation id.
    pub corr: u64,
    /// When it gives up (ns), `u64::MAX` for never.
    pub deadline: u64,
    /// When it started waiting (the tracker's clock, ns), if the wait is sampled; else 0.
    pub since: u64,
}

/// What lease expiry means for the host.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Writers that held a box past their lease: `(holder, box)`; they are killed.
    pub writers: Vec<(u64, usize)>,
    /// Readers that held a box past their lease: `(holder, grant)`; their thread must detach
    /// its views and give the reference back.
    pub readers: Vec<(u64, Grant)>,
    /// Waiting requests whose timeout passed.
    pub waiters: Vec<Waiter>,
    /// Committed boxes nobody took a reference to before the writer's lease passed: freed.
    pub unclaimed: Vec<Grant>,
    /// The waiters those freed boxes now serve.
    pub served: Vec<(Waiter, Grant)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Free,
    Writing { writer: u64, lease: u64 },
    Ready,
}

struct Slot {
    epoch: u32,
    state: State,
    len: usize,
    writer: u64,
    meta: String,
    readers: HashSet<u64>,
    /// holder → lease deadline (ns); revoked holders keep their entry until they release.
    holders: HashMap<u64, (u64, bool)>,
    /// READY and never referenced: freed when this deadline (ns) passes.
    unclaimed: Option<u64>,
    /// Its pages may be resident (it was used since they were last given back).
    dirty: bool,
}

struct Inner {
    slots: Vec<Slot>,
    free: VecDeque<usize>,
    waiters: VecDeque<Waiter>,
}

/// A pool of `count` boxes of `box_size` bytes.
pub struct Pool {
    map: MmapMut,
    base: *mut u8,
    box_size: usize,
    /// Number of boxes (fixed): `count * box_size` bytes are mapped at `base`.
    count: usize,
    // Lock order (see `Runtime`): a leaf; nothing else is locked while it is held.
    inner: Mutex<Inner>,
}

// SAFETY: `base` points into `map`, which the pool owns and never remaps; all bookkeeping is
// behind the mutex. The core never makes a reference to box memory: it hands out raw pointers
// (see `box_ptr`), and box memory is written only by the one writer of a WRITING box and read
// only after commit, as the state machine enforces.
unsafe impl Send for Pool {}
// SAFETY: see `Send`; shared access goes through `&self` methods that lock `inner`.
unsafe impl Sync for Pool {}

impl Pool {
    /// Maps `count · box_size` bytes (pages are only committed when written).
    pub fn new(count: usize, box_size: usize) -> std::io::Result<Self> {
        let total = count.checked_mul(box_size).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "pool size overflows")
        })?;
        let mut map = MmapMut::map_anon(total.max(1))?;
        let base = map.as_mut_ptr();
        let slots = (0..count)
            .map(|_| Slot {
                epoch: 1,
                state: State::Free,
                len: 0,
                writer: 0,
                meta: String::new(),
                readers: HashSet::new(),
                holders: HashMap::new(),
                unclaimed: None,
                dirty: false,
            })
            .collect();
        Ok(Pool {
            map,
            base,
            box_size,
            count,
            inner: Mutex::new(Inner {
                slots,
                free: (0..count).collect(),
                waiters: VecDeque::new(),
            }),
        })
    }

    /// Bytes per box.
    pub fn box_size(&self) -> usize {
        self.box_size
    }

    /// Number of boxes.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Boxes not FREE.
    pub fn in_use(&self) -> usize {
        let g = self.inner.lock();
        g.slots.len() - g.free.len()
    }

    /// Write requests waiting for a box.
    pub fn waiting(&self) -> usize {
        self.inner.lock().waiters.len()
    }

    /// Start of box `index` (`None` if there is no such box). The pointer stays valid as long
    /// as the pool lives; who may read or write through it is the state machine's business.
    pub fn box_ptr(&self, index: usize) -> Option<*mut u8> {
        if index >= self.count {
            return None;
        }
        // SAFETY: index < count, and count * box_size bytes are mapped at `base` (the product
        // did not overflow: `new` checked it), so the offset stays inside the mapping.
        Some(unsafe { self.base.add(index * self.box_size) })
    }

    /// A box for `writer` to fill with `size` bytes, leased until `lease`.
    pub fn acquire(&self, writer: u64, size: usize, lease: u64) -> Result<Grant, PoolError> {
        if size > self.box_size {
            return Err(PoolError::TooLarge {
                size,
                box_size: self.box_size,
            });
        }
        let mut g = self.inner.lock();
        if !g.waiters.is_empty() {
            return Err(PoolError::Full); // FIFO: earlier requests go first
        }
        let index = g.free.pop_front().ok_or(PoolError::Full)?;
        Ok(Self::start_writing(
            &mut g.slots[index],
            index,
            writer,
            lease,
        ))
    }

    fn start_writing(slot: &mut Slot, index: usize, writer: u64, lease: u64) -> Grant {
        slot.state = State::Writing { writer, lease };
        slot.writer = writer;
        slot.len = 0;
        Grant {
            index,
            epoch: slot.epoch,
        }
    }

    /// Queues a request that found no free box.
    pub fn wait(&self, waiter: Waiter) {
        self.inner.lock().waiters.push_back(waiter);
    }

    /// Removes a queued request (its caller gave up).
    pub fn cancel_wait(&self, port: u64, corr: u64) -> bool {
        let mut g = self.inner.lock();
        let before = g.waiters.len();
        g.waiters.retain(|w| !(w.port == port && w.corr == corr));
        g.waiters.len() != before
    }

    fn slot_mut(g: &mut Inner, grant: Grant) -> Option<&mut Slot> {
        g.slots
            .get_mut(grant.index)
            .filter(|s| s.epoch == grant.epoch && s.state != State::Free)
    }

    /// The writable extent of a box being written by `writer`: `(ptr, box_size)`.
    pub fn writable(&self, grant: Grant, writer: u64) -> Option<(*mut u8, usize)> {
        let mut g = self.inner.lock();
        let slot = Self::slot_mut(&mut g, grant)?;
        match slot.state {
            State::Writing { writer: w, .. } if w == writer => {
                Some((self.box_ptr(grant.index)?, self.box_size))
            }
            _ => None,
        }
    }

    /// Publishes a box: READY, immutable, `len` bytes, readable by `readers` (plus the writer
    /// and the host, who take a reference when they read). The writer keeps no reference; each
    /// reader holds one leased until its own deadline (`(reader, lease)` pairs). A box nobody
    /// references is freed when `lease` (the writer's) passes.
    pub fn commit(
        &self,
        grant: Grant,
        writer: u64,
        len: usize,
        meta: String,
        readers: &[(u64, u64)],
        lease: u64,
    ) -> Result<(), PoolError> {
        if len > self.box_size {
            return Err(PoolError::TooLarge {
                size: len,
                box_size: self.box_size,
            });
        }
        let mut g = self.inner.lock();
        let slot = Self::slot_mut(&mut g, grant).ok_or(PoolError::BadHandle)?;
        if !matches!(slot.state, State::Writing { writer: w, .. } if w == writer) {
            return Err(PoolError::BadHandle);
        }
        slot.state = State::Ready;
        slot.len = len;
        slot.meta = meta;
        slot.holders.clear();
        slot.readers.clear();
        for &(r, l) in readers.iter().filter(|(r, _)| *r != writer) {
            slot.readers.insert(r);
            slot.holders.insert(r, (l, false));
        }
        slot.unclaimed = slot.holders.is_empty().then_some(lease);
        Ok(())
    }

    /// Sets the lease of a box being written by `writer` (a queued write granted later runs
    /// under its own writer's lease).
    pub fn relet(&self, grant: Grant, writer: u64, lease: u64) {
        let mut g = self.inner.lock();
        if let Some(slot) = Self::slot_mut(&mut g, grant) {
            if let State::Writing {
                writer: w,
                lease: l,
            } = &mut slot.state
            {
                if *w == writer {
                    *l = lease;
                }
            }
        }
    }

    /// Gives up a box being written. Returns the waiters it can now serve.
    pub fn abort(&self, grant: Grant, writer: u64, lease: u64) -> Vec<(Waiter, Grant)> {
        let mut g = self.inner.lock();
        match Self::slot_mut(&mut g, grant) {
            Some(slot) if matches!(slot.state, State::Writing { writer: w, .. } if w == writer) => {
                self.free_slot(&mut g, grant.index, lease)
            }
            _ => Vec::new(),
        }
    }

    /// The committed bytes of a READY box for `holder`: `(ptr, len, meta)`. The host may read
    /// every box and the writer its own, each taking a reference leased until `lease` if it has
    /// none; others must be authorised readers that still hold their reference.
    pub fn read(&self, grant: Grant, holder: u64, lease: u64) -> Option<(*mut u8, usize, String)> {
        let mut g = self.inner.lock();
        let slot = Self::slot_mut(&mut g, grant)?;
        if slot.state != State::Ready {
            return None;
        }
        match slot.holders.get(&holder) {
            Some((_, revoked)) if !*revoked => {}
            Some(_) => return None,
            None if holder == HOST || holder == slot.writer => {
                slot.holders.insert(holder, (lease, false));
                slot.unclaimed = None;
            }
            None => return None,
        }
        Some((self.box_ptr(grant.index)?, slot.len, slot.meta.clone()))
    }

    /// `holder` gives its reference back (its views are already detached). A box with no
    /// holders left returns to FREE. Returns whether a reference was given back, and the
    /// waiters the freed box now serves. Double releases, stale and forged handles change
    /// nothing.
    pub fn release(&self, grant: Grant, holder: u64, lease: u64) -> (bool, Vec<(Waiter, Grant)>) {
        let mut g = self.inner.lock();
        let Some(slot) = Self::slot_mut(&mut g, grant) else {
            return (false, Vec::new());
        };
        if slot.state != State::Ready || slot.holders.remove(&holder).is_none() {
            return (false, Vec::new());
        }
        if slot.holders.is_empty() {
            return (true, self.free_slot(&mut g, grant.index, lease));
        }
        (true, Vec::new())
    }

    /// Whether `holder` writes a box, holds a reference to one, or waits for one.
    pub fn holds(&self, holder: u64) -> bool {
        let g = self.inner.lock();
        g.waiters.iter().any(|w| w.holder == holder)
            || g.slots.iter().any(|slot| match slot.state {
                State::Writing { writer, .. } => writer == holder,
                State::Ready => slot.holders.contains_key(&holder),
                State::Free => false,
            })
    }

    /// Whether [`Pool::holder_gone`] would change anything for `holder`: it writes a box,
    /// holds a reference, waits for one, or committed a box nobody took a reference to.
    pub fn concerns(&self, holder: u64) -> bool {
        let g = self.inner.lock();
        g.waiters.iter().any(|w| w.holder == holder)
            || g.slots.iter().any(|slot| match slot.state {
                State::Writing { writer, .. } => writer == holder,
                State::Ready if slot.unclaimed.is_some() => slot.writer == holder,
                State::Ready => slot.holders.contains_key(&holder),
                State::Free => false,
            })
    }

    /// `holder` died (its thread and views are gone): every reference and write it had ends,
    /// and so do the boxes it committed that nobody took a reference to (their lease was its).
    pub fn holder_gone(&self, holder: u64, lease: u64) -> Vec<(Waiter, Grant)> {
        let mut g = self.inner.lock();
        let mut grants = Vec::new();
        for i in 0..g.slots.len() {
            let slot = &mut g.slots[i];
            let freed = match slot.state {
                State::Writing { writer, .. } => writer == holder,
                State::Ready if slot.unclaimed.is_some() => slot.writer == holder,
                State::Ready => slot.holders.remove(&holder).is_some() && slot.holders.is_empty(),
                State::Free => false,
            };
            if freed {
                grants.extend(self.free_slot(&mut g, i, lease));
            }
        }
        g.waiters.retain(|w| w.holder != holder);
        grants
    }

    /// Extends the leases of everything `holder` has; false if it holds nothing.
    pub fn extend(&self, holder: u64, lease: u64) -> bool {
        let mut g = self.inner.lock();
        let mut any = false;
        for slot in &mut g.slots {
            match &mut slot.state {
                State::Writing { writer, lease: l } if *writer == holder => {
                    *l = lease;
                    any = true;
                }
                State::Ready => {
                    if let Some((l, false)) = slot.holders.get_mut(&holder) {
                        *l = lease;
                        any = true;
                    } else if slot.writer == holder && slot.unclaimed.is_some() {
                        slot.unclaimed = Some(lease);
                        any = true;
                    }
                }
                _ => {}
            }
        }
        any
    }

    fn free_slot(&self, g: &mut Inner, index: usize, lease: u64) -> Vec<(Waiter, Grant)> {
        let slot = &mut g.slots[index];
        slot.state = State::Free;
        slot.epoch = slot.epoch.wrapping_add(1).max(1);
        slot.holders.clear();
        slot.readers.clear();
        slot.unclaimed = None;
        slot.meta.clear();
        slot.len = 0;
        slot.dirty = true;
        match g.waiters.pop_front() {
            Some(w) => {
                let grant = Self::start_writing(&mut g.slots[index], index, w.holder, lease);
                vec![(w, grant)]
            }
            None => {
                // Last freed, first reused: its pages are still resident, so the next write
                // does not fault them in again. Boxes pushed past the few kept warm give
                // their pages back to the OS.
                g.free.push_front(index);
                if let Some(&cold) = g.free.get(self.warm_boxes()) {
                    self.give_back(&mut g.slots[cold], cold);
                }
                Vec::new()
            }
        }
    }

    /// How many free boxes keep their pages: up to 4, and no more than about 64 MiB (at least
    /// one).
    fn warm_boxes(&self) -> usize {
        (WARM_BYTES / self.box_size.max(1)).clamp(1, 4)
    }

    /// Returns a free box's pages to the OS (boxes of 64 KiB or more); the next writer gets
    /// zero pages on demand.
    fn give_back(&self, slot: &mut Slot, index: usize) {
        if !slot.dirty || self.box_size < 64 * 1024 {
            return;
        }
        slot.dirty = false;
        // SAFETY: the range is inside the mapping and the box is free: no view of it exists
        // any more (every holder detached or died), so discarding its contents is unobservable.
        unsafe {
            let _ = self.map.unchecked_advise_range(
                UncheckedAdvice::DontNeed,
                index * self.box_size,
                self.box_size,
            );
        }
    }

    /// Leases and waits that ran out at `now`; the earliest deadline still pending.
    pub fn expire(&self, now: u64) -> (Expired, u64) {
        let mut g = self.inner.lock();
        let mut out = Expired::default();
        let mut next = u64::MAX;
        for (i, slot) in g.slots.iter_mut().enumerate() {
            if let (State::Ready, Some(deadline)) = (slot.state, slot.unclaimed) {
                if deadline <= now {
                    out.unclaimed.push(Grant {
                        index: i,
                        epoch: slot.epoch,
                    });
                } else {
                    next = next.min(deadline);
                }
                continue; // nobody holds it: no lease of a holder to look at
            }
            match slot.state {
                State::Writing { writer, lease } => {
                    if lease <= now {
                        out.writers.push((writer, i));
                        slot.state = State::Writing {
                            writer,
                            lease: u64::MAX,
                        };
                    } else {
                        next = next.min(lease);
                    }
                }
                State::Ready => {
                    let grant = Grant {
                        index: i,
                        epoch: slot.epoch,
                    };
                    for (holder, (lease, revoked)) in slot.holders.iter_mut() {
                        if *revoked {
                            continue;
                        }
                        if *lease <= now {
                            *revoked = true;
                            out.readers.push((*holder, grant));
                        } else {
                            next = next.min(*lease);
                        }
                    }
                }
                State::Free => {}
            }
        }
        let (late, waiting): (Vec<Waiter>, Vec<Waiter>) =
            g.waiters.drain(..).partition(|w| w.deadline <= now);
        for w in &waiting {
            next = next.min(w.deadline);
        }
        g.waiters = waiting.into();
        out.waiters = late;
        for grant in out.unclaimed.clone() {
            let served = self.free_slot(&mut g, grant.index, now);
            out.served.extend(served);
        }
        (out, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: u64 = 1_000;

    fn pool(n: usize) -> Pool {
        Pool::new(n, 4096).unwrap()
    }

    #[test]
    fn freed_boxes_are_reused_last_in_first_out_and_cold_ones_give_their_pages_back() {
        const KIB64: usize = 64 * 1024;
        let p = Pool::new(8, KIB64).unwrap();
        let grants: Vec<Grant> = (0..8).map(|_| p.acquire(1, KIB64, L).unwrap()).collect();
        for g in &grants {
            let (ptr, len) = p.writable(*g, 1).unwrap();
            // SAFETY: (a test) the writer's own box, inside the mapping.
            unsafe { std::ptr::write_bytes(ptr, 0xab, len) };
        }
        for g in &grants {
            p.abort(*g, 1, L); // freed in order 0..8: 7 is the most recently freed
        }
        // SAFETY: (a test) reads inside the mapping; no writer is active.
        let first = |i: usize| unsafe { *p.box_ptr(i).unwrap() };
        assert_eq!(p.warm_boxes(), 4);
        for i in 4..8 {
            assert_eq!(first(i), 0xab, "box {i} is warm: its pages were kept");
        }
        for i in 0..4 {
            assert_eq!(first(i), 0, "box {i} went cold: its pages were given back");
        }
        assert_eq!(p.box_ptr(8), None, "no pointer past the last box");
        assert_eq!(p.box_ptr(usize::MAX), None);
        assert_eq!(
            p.acquire(2, 1, L).unwrap().index,
            7,
            "the last freed is reused first"
        );
    }

    #[test]
    fn write_commit_read_release_cycle() {
        let p = pool(1);
        let g = p.acquire(7, 10, L).unwrap();
        let (ptr, cap) = p.writable(g, 7).unwrap();
        assert_eq!(cap, 4096);
        // SAFETY: test writes inside the box it holds.
        unsafe { std::ptr::copy_nonoverlapping(b"hello".as_ptr(), ptr, 5) };
        p.commit(g, 7, 5, "m".into(), &[(8, L)], L).unwrap();
        assert!(p.read(g, 9, L).is_none(), "unauthorised reader");
        assert_eq!(
            p.release(g, 7, L),
            (false, Vec::new()),
            "the writer holds no reference after commit"
        );
        let (rptr, len, meta) = p.read(g, 8, L).unwrap();
        assert_eq!((rptr, len, meta.as_str()), (ptr, 5, "m"));
        assert!(
            p.read(g, 7, L).is_some(),
            "the writer may read its own box, taking a reference"
        );
        assert_eq!(p.release(g, 8, L), (true, Vec::new()));
        assert_eq!(
            p.release(g, 8, L),
            (false, Vec::new()),
            "double release changes nothing"
        );
        assert_eq!(p.in_use(), 1, "the writer's read reference remains");
        assert!(p.release(g, 7, L).0);
        assert_eq!(p.in_use(), 0, "the last reference freed it at once");
        assert!(p.read(g, 7, L).is_none(), "stale epoch reads nothing");
        let g2 = p.acquire(7, 1, L).unwrap();
        assert_eq!(g2.index, g.index);
        assert_ne!(g2.epoch, g.epoch);
    }

    #[test]
    fn oversize_full_and_fifo_waiters() {
        let p = pool(1);
        assert!(matches!(
            p.acquire(1, 5000, L),
            Err(PoolError::TooLarge { .. })
        ));
        let g = p.acquire(1, 1, L).unwrap();
        assert_eq!(p.acquire(2, 1, L), Err(PoolError::Full));
        for (h, c) in [(2, 20), (3, 30)] {
            p.wait(Waiter {
                holder: h,
                port: h,
                corr: c,
                deadline: u64::MAX,
                since: 0,
            });
        }
        let served = p.abort(g, 1, L);
        assert_eq!(served.len(), 1);
        assert_eq!(served[0].0.holder, 2, "first come, first served");
        assert_eq!(p.waiting(), 1);
        assert_eq!(
            p.acquire(4, 1, L),
            Err(PoolError::Full),
            "no overtaking the queue"
        );
    }

    #[test]
    fn host_reads_everything_and_holds_a_reference() {
        let p = pool(1);
        let g = p.acquire(1, 1, L).unwrap();
        p.commit(g, 1, 1, String::new(), &[], L).unwrap();
        assert!(p.read(g, HOST, u64::MAX).is_some());
        assert!(!p.release(g, 1, L).0, "the writer has nothing to give back");
        assert_eq!(p.in_use(), 1, "the host holds it");
        p.release(g, HOST, L);
        assert_eq!(
            p.in_use(),
            0,
            "freed at the host's release, no lease to wait for"
        );
    }

    #[test]
    fn a_writer_producing_more_boxes_than_the_pool_holds_never_waits_when_the_host_releases() {
        let p = pool(2);
        for _ in 0..50 {
            let g = p.acquire(1, 8, L).expect("a free box each time");
            p.commit(g, 1, 8, String::new(), &[], L).unwrap();
            assert!(p.read(g, HOST, u64::MAX).is_some());
            assert_eq!(p.release(g, HOST, L), (true, Vec::new()));
        }
        assert_eq!(p.in_use(), 0);
    }

    #[test]
    fn a_box_nobody_took_is_freed_when_the_writers_lease_passes_and_serves_a_waiter() {
        let p = pool(1);
        let g = p.acquire(1, 1, L).unwrap();
        p.commit(g, 1, 1, String::new(), &[], 100).unwrap();
        p.wait(Waiter {
            holder: 2,
            port: 2,
            corr: 9,
            deadline: u64::MAX,
            since: 0,
        });
        let (exp, next) = p.expire(50);
        assert!(exp.unclaimed.is_empty() && exp.readers.is_empty());
        assert_eq!(next, 100);
        let (exp, _) = p.expire(100);
        assert_eq!(exp.unclaimed, vec![g]);
        assert!(
            exp.readers.is_empty(),
            "no reference expired: nobody held one"
        );
        assert_eq!(exp.served.len(), 1, "the freed box went to the waiter");
        assert_eq!(exp.served[0].0.corr, 9);
        assert!(
            p.read(g, HOST, u64::MAX).is_none(),
            "the old generation is gone"
        );
    }

    #[test]
    fn a_box_nobody_took_goes_with_its_writer_but_a_taken_one_stays() {
        let p = pool(2);
        let unread = p.acquire(1, 1, L).unwrap();
        p.commit(unread, 1, 1, String::new(), &[], L).unwrap();
        let read = p.acquire(1, 1, L).unwrap();
        p.commit(read, 1, 1, String::new(), &[], L).unwrap();
        assert!(p.read(read, HOST, u64::MAX).is_some());
        p.holder_gone(1, L);
        assert!(
            p.read(unread, HOST, u64::MAX).is_none(),
            "freed with its writer"
        );
        assert!(
            p.read(read, HOST, u64::MAX).is_some(),
            "the host still holds the other"
        );
        assert_eq!(p.in_use(), 1);
    }

    #[test]
    fn a_writer_reading_its_own_box_holds_it_under_its_lease() {
        let p = pool(1);
        let g = p.acquire(1, 1, L).unwrap();
        p.commit(g, 1, 1, String::new(), &[], 10).unwrap();
        assert!(p.read(g, 1, 20).is_some());
        let (exp, next) = p.expire(15);
        assert!(exp.unclaimed.is_empty(), "taken: no longer unclaimed");
        assert_eq!(next, 20);
        let (exp, _) = p.expire(20);
        assert_eq!(exp.readers, vec![(1, g)]);
        assert!(p.release(g, 1, L).0);
        assert_eq!(p.in_use(), 0);
    }

    #[test]
    fn leases_expire_and_dead_holders_release() {
        let p = pool(2);
        let w = p.acquire(1, 1, 10).unwrap();
        let r = p.acquire(2, 1, 100).unwrap();
        p.commit(r, 2, 1, String::new(), &[(3, 50)], 50).unwrap();
        let (exp, next) = p.expire(60);
        assert_eq!(exp.writers, vec![(1, w.index)]);
        assert_eq!(
            exp.readers,
            vec![(3, r)],
            "the writer of r holds no reference"
        );
        assert_eq!(next, u64::MAX);
        assert!(p.read(r, 3, L).is_none(), "a revoked reader reads nothing");
        p.release(r, 3, L);
        p.holder_gone(1, L);
        assert_eq!(p.in_use(), 0);
    }

    #[test]
    fn waiters_time_out() {
        let p = pool(1);
        p.acquire(1, 1, L).unwrap();
        p.wait(Waiter {
            holder: 2,
            port: 2,
            corr: 1,
            deadline: 50,
            since: 0,
        });
        let (exp, next) = p.expire(10);
        assert!(exp.waiters.is_empty());
        assert_eq!(next, 50.min(L));
        let (exp, _) = p.expire(60);
        assert_eq!(exp.waiters.len(), 1);
        assert_eq!(p.waiting(), 0);
    }
}

#[cfg(test)]
mod model_tests {
    //! The pool against a small reference model, on random operation sequences, and under
    //! many threads at once.

    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    #[derive(Clone, Debug)]
    enum Op {
        Acquire(u64),
        Commit(usize, u64, Vec<u64>),
        Read(usize, u32, u64),
        Release(usize, u32, u64),
        Abort(usize, u64),
        Gone(u64),
    }

    #[derive(Clone, Debug, PartialEq)]
    enum M {
        Free,
        Writing(u64),
        Ready(BTreeSet<u64>, BTreeSet<u64>, u64), // holders, authorised, writer
    }

    struct Model {
        boxes: Vec<(M, u32)>,
        free: std::collections::VecDeque<usize>,
    }

    impl Model {
        fn free_box(&mut self, i: usize) {
            self.boxes[i].0 = M::Free;
            self.boxes[i].1 = self.boxes[i].1.wrapping_add(1).max(1);
            self.free.push_front(i);
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        let h = 1u64..5;
        prop_oneof![
            h.clone().prop_map(Op::Acquire),
            (
                0usize..3,
                h.clone(),
                proptest::collection::vec(0u64..5, 0..3)
            )
                .prop_map(|(b, w, r)| Op::Commit(b, w, r)),
            (0usize..3, 0u32..4, 0u64..5).prop_map(|(b, e, h)| Op::Read(b, e, h)),
            (0usize..3, 0u32..4, 0u64..5).prop_map(|(b, e, h)| Op::Release(b, e, h)),
            (0usize..3, h.clone()).prop_map(|(b, w)| Op::Abort(b, w)),
            h.prop_map(Op::Gone),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_the_model(ops in proptest::collection::vec(op(), 1..60)) {
            let pool = Pool::new(3, 64).unwrap();
            let mut m = Model { boxes: vec![(M::Free, 1); 3], free: (0..3).collect() };
            for op in ops {
                match op {
                    Op::Acquire(h) => {
                        let got = pool.acquire(h, 8, u64::MAX);
                        match m.free.pop_front() {
                            Some(i) => {
                                m.boxes[i].0 = M::Writing(h);
                                prop_assert_eq!(got, Ok(Grant { index: i, epoch: m.boxes[i].1 }));
                            }
                            None => prop_assert_eq!(got, Err(PoolError::Full)),
                        }
                    }
                    Op::Commit(i, w, readers) => {
                        let g = Grant { index: i, epoch: m.boxes[i].1 };
                        let leased: Vec<(u64, u64)> = readers.iter().map(|r| (*r, u64::MAX)).collect();
                        let ok = pool.commit(g, w, 4, String::new(), &leased, u64::MAX).is_ok();
                        let expect = m.boxes[i].0 == M::Writing(w);
                        prop_assert_eq!(ok, expect);
                        if expect {
                            let auth: BTreeSet<u64> = readers.iter().copied().filter(|r| *r != w).collect();
                            m.boxes[i].0 = M::Ready(auth.clone(), auth, w);
                        }
                    }
                    Op::Read(i, e, h) => {
                        let got = pool.read(Grant { index: i, epoch: e }, h, u64::MAX).is_some();
                        let (state, epoch) = &mut m.boxes[i];
                        let expect = *epoch == e && match state {
                            M::Ready(holders, _, w) => {
                                holders.contains(&h) || ((h == HOST || h == *w) && holders.insert(h))
                            }
                            _ => false,
                        };
                        prop_assert_eq!(got, expect);
                    }
                    Op::Release(i, e, h) => {
                        let (released, _) = pool.release(Grant { index: i, epoch: e }, h, u64::MAX);
                        let (state, epoch) = &mut m.boxes[i];
                        let expect = *epoch == e
                            && match state {
                                M::Ready(holders, _, _) => holders.remove(&h),
                                _ => false,
                            };
                        prop_assert_eq!(released, expect);
                        if expect && matches!(&m.boxes[i].0, M::Ready(holders, _, _) if holders.is_empty()) {
                            m.free_box(i);
                        }
                    }
                    Op::Abort(i, w) => {
                        pool.abort(Grant { index: i, epoch: m.boxes[i].1 }, w, u64::MAX);
                        if m.boxes[i].0 == M::Writing(w) {
                            m.free_box(i);
                        }
                    }
                    Op::Gone(h) => {
                        pool.holder_gone(h, u64::MAX);
                        for i in 0..3 {
                            let free = match &mut m.boxes[i].0 {
                                M::Writing(w) => *w == h,
                                M::Ready(holders, _, w) if holders.is_empty() => *w == h, // nobody took it
                                M::Ready(holders, _, _) => holders.remove(&h) && holders.is_empty(),
                                M::Free => false,
                            };
                            if free {
                                m.free_box(i);
                            }
                        }
                    }
                }
                let used = m.boxes.iter().filter(|(s, _)| *s != M::Free).count();
                prop_assert_eq!(pool.in_use(), used);
            }
        }
    }

    #[test]
    fn many_threads_share_a_small_pool() {
        let pool = Arc::new(Pool::new(4, 256).unwrap());
        let threads: Vec<_> = (1..=8u64)
            .map(|h| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut done = 0;
                    let mut seen = BTreeMap::new();
                    while done < 2_000 {
                        let Ok(g) = pool.acquire(h, 8, u64::MAX) else {
                            std::thread::yield_now();
                            continue;
                        };
                        let (ptr, _) = pool.writable(g, h).unwrap();
                        // SAFETY: this thread is the box's only writer while it is WRITING.
                        unsafe { std::ptr::write_bytes(ptr, h as u8, 8) };
                        pool.commit(g, h, 8, String::new(), &[], u64::MAX).unwrap();
                        let (rptr, len, _) = pool.read(g, h, u64::MAX).unwrap();
                        // SAFETY: the box is READY (immutable) and this thread holds it.
                        let bytes = unsafe { std::slice::from_raw_parts(rptr, len) };
                        assert!(
                            bytes.iter().all(|b| *b == h as u8),
                            "a box showed another writer's bytes"
                        );
                        *seen.entry(g.index).or_insert(0) += 1;
                        assert!(pool.release(g, h, u64::MAX).0);
                        done += 1;
                    }
                    seen
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(pool.in_use(), 0);
    }
}
