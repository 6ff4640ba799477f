//! Start order with O(1) add and remove: a map whose entries are also a doubly linked list
//! (each entry knows its previous and next key), so a child joins at the end, leaves from
//! anywhere and the rest keep their order, without scanning or shifting the others.
//!
//! The links table keeps each actor's monitors in one (rare data, keyed by monitor reference).
//! Per-actor orders that every actor has (a supervisor's children, a group's children) use the
//! slot-indexed lists of [`crate::slab`] instead, which need no hash entry per actor.

use std::collections::HashMap;
use std::hash::Hash;

struct Entry<K, V> {
    value: V,
    prev: Option<K>,
    next: Option<K>,
}

/// A map that remembers insertion order: O(1) `push_back`, `remove`, `get`, `len`; iteration
/// from either end in order.
pub struct LinkedMap<K, V> {
    entries: HashMap<K, Entry<K, V>>,
    head: Option<K>,
    tail: Option<K>,
}

impl<K: Copy + Eq + Hash, V> Default for LinkedMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Copy + Eq + Hash, V> LinkedMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        LinkedMap {
            entries: HashMap::new(),
            head: None,
            tail: None,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True if `key` is in the map.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// Adds `key` last. A key already present keeps its place and gets the new value.
    pub fn push_back(&mut self, key: K, value: V) {
        if let Some(e) = self.entries.get_mut(&key) {
            e.value = value;
            return;
        }
        let prev = self.tail;
        if let Some(p) = prev {
            self.entries.get_mut(&p).expect("tail is an entry").next = Some(key);
        } else {
            self.head = Some(key);
        }
        self.tail = Some(key);
        self.entries.insert(
            key,
            Entry {
                value,
                prev,
                next: None,
            },
        );
    }

    /// Removes `key`, joining its neighbours.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let e = self.entries.remove(key)?;
        match e.prev {
            Some(p) => self.entries.get_mut(&p).expect("prev is an entry").next = e.next,
            None => self.head = e.next,
        }
        match e.next {
            Some(n) => self.entries.get_mut(&n).expect("next is an entry").prev = e.prev,
            None => self.tail = e.prev,
        }
        Some(e.value)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            map: self,
            at: self.head,
            forward: true,
        }
    }

    /// Entries in reverse insertion order.
    pub fn iter_rev(&self) -> Iter<'_, K, V> {
        Iter {
            map: self,
            at: self.tail,
            forward: false,
        }
    }

    /// Entries from `key` (included) to the last, in order; empty if `key` is absent.
    pub fn iter_from(&self, key: &K) -> Iter<'_, K, V> {
        Iter {
            map: self,
            at: self.entries.contains_key(key).then_some(*key),
            forward: true,
        }
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The entries at positions `offset..offset + limit` of the insertion order, walking
    /// from whichever end is nearer: O(min(offset, len - offset) + limit).
    pub fn page(&self, offset: usize, limit: usize) -> Vec<(K, &V)> {
        crate::slab::page(
            self.len(),
            offset,
            limit,
            || self.iter(),
            || self.iter_rev(),
        )
    }
}

/// Iterator over a [`LinkedMap`] in (or against) insertion order.
pub struct Iter<'a, K, V> {
    map: &'a LinkedMap<K, V>,
    at: Option<K>,
    forward: bool,
}

impl<'a, K: Copy + Eq + Hash, V> Iterator for Iter<'a, K, V> {
    type Item = (K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.at?;
        let e = self.map.entries.get(&key)?;
        self.at = if self.forward { e.next } else { e.prev };
        Some((key, &e.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &LinkedMap<u64, ()>) -> Vec<u64> {
        m.keys().collect()
    }

    #[test]
    fn keeps_insertion_order_through_removals() {
        let mut m = LinkedMap::new();
        for k in 1..=5 {
            m.push_back(k, ());
        }
        assert_eq!(m.remove(&3), Some(()));
        assert_eq!(m.remove(&3), None);
        assert_eq!(keys(&m), vec![1, 2, 4, 5]);
        m.remove(&1);
        m.remove(&5);
        assert_eq!(keys(&m), vec![2, 4]);
        m.push_back(6, ());
        m.push_back(2, ()); // already present: keeps its place
        assert_eq!(keys(&m), vec![2, 4, 6]);
        assert_eq!(
            m.iter_rev().map(|(k, _)| k).collect::<Vec<_>>(),
            vec![6, 4, 2]
        );
        assert_eq!(
            m.iter_from(&4).map(|(k, _)| k).collect::<Vec<_>>(),
            vec![4, 6]
        );
        assert_eq!(m.iter_from(&99).count(), 0);
        m.remove(&2);
        m.remove(&4);
        m.remove(&6);
        assert!(m.is_empty());
        assert_eq!(m.iter().count(), 0);
        m.push_back(7, ());
        assert_eq!(keys(&m), vec![7]);
    }

    #[test]
    fn pages_from_either_end() {
        let mut m = LinkedMap::new();
        for k in 0..10u64 {
            m.push_back(k, k * 10);
        }
        m.remove(&4);
        let all: Vec<u64> = m.keys().collect();
        for offset in 0..12 {
            for limit in 0..12 {
                let got: Vec<u64> = m.page(offset, limit).into_iter().map(|(k, _)| k).collect();
                let want: Vec<u64> = all.iter().copied().skip(offset).take(limit).collect();
                assert_eq!(got, want, "offset {offset} limit {limit}");
            }
        }
        assert_eq!(m.page(8, 5)[0], (9, &90));
    }

    #[test]
    fn matches_a_vec_under_random_pushes_and_removals() {
        let mut m = LinkedMap::new();
        let mut v: Vec<u64> = Vec::new();
        let mut seed = 0x1234_5678_u64;
        for i in 0..5_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed.is_multiple_of(3) && !v.is_empty() {
                let k = v.remove((seed as usize / 3) % v.len());
                assert_eq!(m.remove(&k), Some(()));
            } else {
                m.push_back(i, ());
                v.push(i);
            }
        }
        assert_eq!(keys(&m), v);
        assert_eq!(m.len(), v.len());
    }
}
