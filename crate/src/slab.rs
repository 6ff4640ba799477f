//! Generational slab ids and the slot-indexed tables built on them (DESIGN.md 8.2).
//!
//! An actor id is `generation << SLOT_BITS | slot`: the slot says where the actor's entries
//! live in every table below (an array index, no hashing), the generation tells this actor
//! from the earlier and later ones of the same slot. Ids fit in 53 bits (a JS number holds
//! them exactly) and are never reused: a slot's generation only grows, and a slot whose
//! generation is exhausted is retired, never handed out again.
//!
//! Freed slots are reused oldest first, and only once [`REUSE_AFTER`] of them wait: so the
//! generations of a churning program grow slowly (an id stays below 2^32, the range the
//! outboxes carry without a native call, for the first 255 reuses of each slot), at the cost
//! of that many idle slots (16 bytes each).
//!
//! Tables are paged ([`PAGE`] entries a page, allocated on first use and freed when their last
//! entry goes), so a table that holds a few actors of high slots costs a few pages, and a
//! million spawns and exits leave memory where it was.

use std::collections::VecDeque;

/// Bits of an id that name the slot.
pub const SLOT_BITS: u32 = 24;
/// Most slots: live actors at once in one process.
pub const MAX_SLOTS: usize = 1 << SLOT_BITS;
/// First generation past the last one a slot may have (ids stay below 2^53).
const GEN_END: u32 = 1 << (53 - SLOT_BITS);
/// Freed slots that wait before the oldest one is reused.
pub const REUSE_AFTER: usize = 4096;
/// Entries in a page of a table.
pub const PAGE: usize = 256;

/// The slot of an id.
pub fn slot_of(id: u64) -> usize {
    (id as usize) & (MAX_SLOTS - 1)
}

/// The generation of an id.
pub fn generation_of(id: u64) -> u32 {
    (id >> SLOT_BITS) as u32
}

/// The id of `slot` in generation `generation`.
pub fn make_id(slot: usize, generation: u32) -> u64 {
    (u64::from(generation) << SLOT_BITS) | slot as u64
}

/// A table with one optional entry per slot, in pages allocated on first use and freed when
/// they empty. O(1) get, insert and remove.
pub struct Pages<T> {
    pages: Vec<Option<Box<Page<T>>>>,
    len: usize,
}

struct Page<T> {
    used: usize,
    entries: Box<[Option<T>]>,
}

impl<T> Default for Pages<T> {
    fn default() -> Self {
        Pages {
            pages: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Pages<T> {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry of `slot`.
    pub fn get(&self, slot: usize) -> Option<&T> {
        self.pages
            .get(slot / PAGE)?
            .as_ref()?
            .entries
            .get(slot % PAGE)?
            .as_ref()
    }

    /// The entry of `slot`, to change.
    pub fn get_mut(&mut self, slot: usize) -> Option<&mut T> {
        self.pages
            .get_mut(slot / PAGE)?
            .as_mut()?
            .entries
            .get_mut(slot % PAGE)?
            .as_mut()
    }

    /// Puts `value` in `slot`; returns the entry it replaced.
    pub fn insert(&mut self, slot: usize, value: T) -> Option<T> {
        let p = slot / PAGE;
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
        }
        let page = self.pages[p].get_or_insert_with(|| {
            Box::new(Page {
                used: 0,
                entries: (0..PAGE).map(|_| None).collect(),
            })
        });
        let old = page.entries[slot % PAGE].replace(value);
        if old.is_none() {
            page.used += 1;
            self.len += 1;
        }
        old
    }

    /// Takes the entry of `slot` out; a page left empty is freed.
    pub fn remove(&mut self, slot: usize) -> Option<T> {
        let p = slot / PAGE;
        let page = self.pages.get_mut(p)?.as_mut()?;
        let old = page.entries[slot % PAGE].take()?;
        page.used -= 1;
        self.len -= 1;
        if page.used == 0 {
            self.pages[p] = None;
            while matches!(self.pages.last(), Some(None)) {
                self.pages.pop();
            }
        }
        Some(old)
    }

    /// Bytes held by the pages and the page table (for footprints).
    pub fn bytes(&self) -> usize {
        let pages = self.pages.iter().filter(|p| p.is_some()).count();
        self.pages.capacity() * std::mem::size_of::<Option<Box<Page<T>>>>()
            + pages * (std::mem::size_of::<Page<T>>() + PAGE * std::mem::size_of::<Option<T>>())
    }
}

/// One slot of the registry: its current generation and what lives there.
struct Slot<T> {
    generation: u32,
    /// Reserved or holding a value (not free).
    live: bool,
    value: Option<T>,
}

/// Why no id could be handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exhausted;

/// The registry of live values by generational id: hands out ids and finds a value from its
/// id in O(1). The value of an id that was removed (or never handed out) is not found, even
/// once its slot holds a later generation.
pub struct Slab<T> {
    slots: Pages<Slot<T>>,
    /// Slots never used yet start here.
    fresh: usize,
    /// Freed slots, oldest first.
    free: VecDeque<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Pages::default(),
            // (slot 0 is never used: the low 32 bits of an id, all a pool worker's watch word
            // keeps of it, are never 0, which there means "no actor")
            fresh: 1,
            free: VecDeque::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Values held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// A new id, reserved for a value [`Slab::insert`] puts in later (until then it finds
    /// nothing). `Exhausted` when every slot is live or retired.
    pub fn reserve(&mut self) -> Result<u64, Exhausted> {
        loop {
            let slot = if self.free.len() > REUSE_AFTER || self.fresh == MAX_SLOTS {
                self.free.pop_front().ok_or(Exhausted)? as usize
            } else {
                self.fresh += 1;
                self.fresh - 1
            };
            let entry = match self.slots.get_mut(slot) {
                Some(e) => e,
                None => {
                    self.slots.insert(
                        slot,
                        Slot {
                            generation: 0,
                            live: false,
                            value: None,
                        },
                    );
                    self.slots.get_mut(slot).expect("just inserted")
                }
            };
            if entry.generation + 1 >= GEN_END {
                continue; // retired: its ids are all spent
            }
            entry.generation += 1;
            entry.live = true;
            self.live += 1;
            return Ok(make_id(slot, entry.generation));
        }
    }

    /// Puts `value` under the id [`Slab::reserve`] gave.
    pub fn insert(&mut self, id: u64, value: T) {
        if let Some(e) = self.slots.get_mut(slot_of(id)) {
            if e.generation == generation_of(id) && e.live {
                e.value = Some(value);
            }
        }
    }

    /// The value of `id`, if it is live.
    pub fn get(&self, id: u64) -> Option<&T> {
        let e = self.slots.get(slot_of(id))?;
        if e.generation != generation_of(id) || !e.live {
            return None;
        }
        e.value.as_ref()
    }

    /// Frees `id` (reserved or holding a value): its slot may be reused later, with a higher
    /// generation. Returns the value it held. Nothing happens for an id not live.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        let slot = slot_of(id);
        let e = self.slots.get_mut(slot)?;
        if e.generation != generation_of(id) || !e.live {
            return None;
        }
        // The slot keeps its generation until `reserve` moves it past: without its value and
        // flag the old id finds nothing meanwhile.
        e.live = false;
        let value = e.value.take();
        self.free.push_back(slot as u32);
        self.live -= 1;
        value
    }

    /// Bytes held (for footprints).
    pub fn bytes(&self) -> usize {
        self.slots.bytes() + self.free.capacity() * 4
    }
}

/// One entry of a [`SlotList`]: the id it belongs to, its value, and its neighbours' slots
/// plus one (0: none).
struct Linked<V> {
    id: u64,
    value: V,
    prev: u32,
    next: u32,
}

/// Values by generational id, in insertion order: a list threaded through the entries
/// themselves (no node allocated per entry). O(1) `push_back`, `remove`, `get`, `len`;
/// iteration from either end.
pub struct SlotList<V> {
    entries: Pages<Linked<V>>,
    head: u32,
    tail: u32,
}

impl<V> Default for SlotList<V> {
    fn default() -> Self {
        SlotList {
            entries: Pages::default(),
            head: 0,
            tail: 0,
        }
    }
}

impl<V> SlotList<V> {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: u64) -> Option<&Linked<V>> {
        self.entries.get(slot_of(id)).filter(|e| e.id == id)
    }

    /// The value of `id`.
    pub fn get(&self, id: u64) -> Option<&V> {
        self.entry(id).map(|e| &e.value)
    }

    /// Adds `id` last. An id already present keeps its place and gets the new value; an entry
    /// of another generation in the same slot is removed first.
    pub fn push_back(&mut self, id: u64, value: V) {
        let slot = slot_of(id);
        if let Some(e) = self.entries.get_mut(slot) {
            if e.id == id {
                e.value = value;
                return;
            }
            let stale = e.id;
            self.remove(stale);
        }
        let link = slot as u32 + 1;
        let prev = self.tail;
        self.entries.insert(
            slot,
            Linked {
                id,
                value,
                prev,
                next: 0,
            },
        );
        match prev {
            0 => self.head = link,
            p => self.entries.get_mut(p as usize - 1).expect("tail").next = link,
        }
        self.tail = link;
    }

    /// Removes `id`, joining its neighbours.
    pub fn remove(&mut self, id: u64) -> Option<V> {
        self.entry(id)?;
        let e = self.entries.remove(slot_of(id)).expect("present");
        match e.prev {
            0 => self.head = e.next,
            p => self.entries.get_mut(p as usize - 1).expect("prev").next = e.next,
        }
        match e.next {
            0 => self.tail = e.prev,
            n => self.entries.get_mut(n as usize - 1).expect("next").prev = e.prev,
        }
        Some(e.value)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> ListIter<'_, V> {
        ListIter {
            list: self,
            at: self.head,
            forward: true,
        }
    }

    /// Entries in reverse insertion order.
    pub fn iter_rev(&self) -> ListIter<'_, V> {
        ListIter {
            list: self,
            at: self.tail,
            forward: false,
        }
    }

    /// The entries at positions `offset..offset + limit` of the insertion order, walking
    /// from whichever end is nearer: O(min(offset, len - offset) + limit).
    pub fn page(&self, offset: usize, limit: usize) -> Vec<(u64, &V)> {
        page(
            self.len(),
            offset,
            limit,
            || self.iter(),
            || self.iter_rev(),
        )
    }

    /// Bytes held (for footprints).
    pub fn bytes(&self) -> usize {
        self.entries.bytes()
    }
}

/// Iterator over a [`SlotList`] in (or against) insertion order.
pub struct ListIter<'a, V> {
    list: &'a SlotList<V>,
    at: u32,
    forward: bool,
}

impl<'a, V> Iterator for ListIter<'a, V> {
    type Item = (u64, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == 0 {
            return None;
        }
        let e = self.list.entries.get(self.at as usize - 1)?;
        self.at = if self.forward { e.next } else { e.prev };
        Some((e.id, &e.value))
    }
}

/// Positions `offset..offset + limit` of a sequence of `len` items that can be walked from
/// either end, walking from whichever end is nearer: O(min(offset, len - offset) + limit).
/// Shared by [`SlotList::page`] and `order::LinkedMap::page`.
pub fn page<T, F, R>(
    len: usize,
    offset: usize,
    limit: usize,
    forward: impl FnOnce() -> F,
    backward: impl FnOnce() -> R,
) -> Vec<T>
where
    F: Iterator<Item = T>,
    R: Iterator<Item = T>,
{
    if offset >= len || limit == 0 {
        return Vec::new();
    }
    let end = offset.saturating_add(limit).min(len);
    if offset <= len - end {
        forward().skip(offset).take(end - offset).collect()
    } else {
        let mut out: Vec<T> = backward().skip(len - end).take(end - offset).collect();
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_across_generations() {
        let mut slab: Slab<u32> = Slab::default();
        let mut seen = std::collections::HashSet::new();
        let mut live = VecDeque::new();
        // churn: a few live at a time, many more spawned and ended than there are slots
        for i in 0..50_000u32 {
            let id = slab.reserve().unwrap();
            assert!(id < 1 << 53, "fits in a JS number");
            assert!(seen.insert(id), "id {id} handed out twice");
            slab.insert(id, i);
            live.push_back((id, i));
            if live.len() > 100 {
                let (old, v) = live.pop_front().unwrap();
                assert_eq!(slab.remove(old), Some(v));
                assert_eq!(slab.get(old), None, "an ended id finds nothing");
                assert_eq!(slab.remove(old), None, "nor frees its slot twice");
            }
        }
        assert_eq!(slab.len(), live.len());
        for (id, v) in &live {
            assert_eq!(slab.get(*id), Some(v));
        }
        // slots were reused (memory stays flat), under higher generations
        assert!(slab.fresh <= REUSE_AFTER + 200, "{} slots used", slab.fresh);
        assert!(live.iter().any(|(id, _)| generation_of(*id) > 1));
    }

    #[test]
    fn the_low_32_bits_of_an_id_are_never_0_and_name_one_live_actor() {
        let mut slab: Slab<()> = Slab::default();
        let mut live = VecDeque::new();
        let mut low = std::collections::HashMap::new();
        for _ in 0..600_000 {
            let id = slab.reserve().unwrap();
            assert_ne!(id as u32, 0, "actor-{id}");
            assert!(
                low.insert(id as u32, id).is_none(),
                "two live ids share their low bits"
            );
            live.push_back(id);
            if live.len() > 50 {
                let old = live.pop_front().unwrap();
                slab.remove(old);
                low.remove(&(old as u32));
            }
        }
        assert!(
            live.iter().any(|id| *id >= 1 << 31),
            "ids went past an Int32 word"
        );
    }

    #[test]
    fn a_slot_whose_generations_are_spent_is_retired() {
        let mut slab: Slab<()> = Slab::default();
        let id = slab.reserve().unwrap();
        slab.slots.get_mut(slot_of(id)).unwrap().generation = GEN_END - 2;
        assert!(slab.remove(make_id(slot_of(id), GEN_END - 2)).is_none());
        assert_eq!(slab.len(), 0);
        // force reuse of that slot: it yields its last generation, then never again
        slab.fresh = MAX_SLOTS;
        let last = slab.reserve().unwrap();
        assert_eq!(slot_of(last), slot_of(id));
        assert_eq!(generation_of(last), GEN_END - 1);
        assert!(last < 1 << 53);
        slab.remove(last);
        assert_eq!(slab.reserve(), Err(Exhausted), "retired, and no other slot");
    }

    #[test]
    fn pages_free_themselves_when_empty() {
        let mut p: Pages<u64> = Pages::default();
        for s in 0..10 * PAGE {
            p.insert(s, s as u64);
        }
        let full = p.bytes();
        for s in 0..10 * PAGE {
            assert_eq!(p.remove(s), Some(s as u64));
        }
        assert!(p.is_empty());
        assert!(p.bytes() < full / 5, "{} of {full} bytes kept", p.bytes());
    }

    #[test]
    fn a_slot_list_matches_a_vec_under_random_pushes_and_removals() {
        let mut m: SlotList<u64> = SlotList::default();
        let mut v: Vec<u64> = Vec::new();
        let mut seed = 0x1234_5678_u64;
        for i in 1..5_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed.is_multiple_of(3) && !v.is_empty() {
                let k = v.remove((seed as usize / 3) % v.len());
                assert_eq!(m.remove(k), Some(k * 10));
            } else {
                let id = make_id(i as usize, 1);
                m.push_back(id, id * 10);
                v.push(id);
            }
        }
        assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), v);
        let mut rev = v.clone();
        rev.reverse();
        assert_eq!(m.iter_rev().map(|(k, _)| k).collect::<Vec<_>>(), rev);
        for offset in [0, 1, v.len() / 2, v.len() - 3, v.len() + 1] {
            let got: Vec<u64> = m.page(offset, 7).into_iter().map(|(k, _)| k).collect();
            let want: Vec<u64> = v.iter().copied().skip(offset).take(7).collect();
            assert_eq!(got, want);
        }
        // another generation of a slot replaces a stale entry rather than joining it
        let first = v[0];
        m.push_back(make_id(slot_of(first), 2), 0);
        assert_eq!(m.get(first), None);
        assert_eq!(m.len(), v.len());
    }
}
