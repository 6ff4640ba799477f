//! Links and monitors between actors, bound to incarnations.
//!
//! A link is bidirectional: when one side's incarnation ends with any reason but `normal`,
//! the other side is stopped with `linked: <reason>`, or receives an `EXIT` message if it traps
//! exits. A monitor is one-way and stackable: the watcher gets one `DOWN` for the death of
//! the incarnation it watched. When an incarnation ends, every link, monitor and trap flag that
//! involves it is gone: a restarted actor starts with none.

use crate::order::LinkedMap;
use std::collections::{HashMap, HashSet};

/// What must happen because an incarnation ended.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fallout {
    /// Linked actors to stop, with reason `linked: <reason>`.
    pub kill: Vec<u64>,
    /// Linked actors trapping exits: they get an `EXIT` message.
    pub exit_messages: Vec<u64>,
    /// Monitors that fire: `(watcher, monitor ref)`; the watcher gets `DOWN`.
    pub down: Vec<(u64, u64)>,
}

/// All links and monitors of the runtime. Every operation, an exit included, costs what the
/// actors concerned have (their links and monitors), never a walk over everyone's.
#[derive(Default)]
pub struct Links {
    links: HashMap<u64, HashSet<u64>>,
    /// watched → ref → watcher, in the order the monitors were set
    monitors: HashMap<u64, LinkedMap<u64, u64>>,
    /// ref → (watched, watcher)
    refs: HashMap<u64, (u64, u64)>,
    /// watcher → the refs of the monitors it holds
    held: HashMap<u64, HashSet<u64>>,
    trapping: HashSet<u64>,
}

impl Links {
    /// Links `a` and `b` (idempotent; an actor cannot link to itself).
    pub fn link(&mut self, a: u64, b: u64) {
        if a == b {
            return;
        }
        self.links.entry(a).or_default().insert(b);
        self.links.entry(b).or_default().insert(a);
    }

    /// Removes the link between `a` and `b`, if any.
    pub fn unlink(&mut self, a: u64, b: u64) {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(set) = self.links.get_mut(&x) {
                set.remove(&y);
                if set.is_empty() {
                    self.links.remove(&x);
                }
            }
        }
    }

    /// The actors linked to `a`.
    pub fn peers(&self, a: u64) -> Vec<u64> {
        self.links
            .get(&a)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// True if `a` and `b` are linked.
    pub fn linked(&self, a: u64, b: u64) -> bool {
        self.links.get(&a).is_some_and(|s| s.contains(&b))
    }

    /// `watcher` monitors `watched` under `reference`.
    pub fn monitor(&mut self, watcher: u64, watched: u64, reference: u64) {
        self.monitors
            .entry(watched)
            .or_default()
            .push_back(reference, watcher);
        self.refs.insert(reference, (watched, watcher));
        self.held.entry(watcher).or_default().insert(reference);
    }

    fn forget_held(&mut self, watcher: u64, reference: u64) {
        if let Some(set) = self.held.get_mut(&watcher) {
            set.remove(&reference);
            if set.is_empty() {
                self.held.remove(&watcher);
            }
        }
    }

    /// Removes a monitor; false if it already fired or never existed.
    pub fn demonitor(&mut self, reference: u64) -> bool {
        let Some((watched, watcher)) = self.refs.remove(&reference) else {
            return false;
        };
        if let Some(list) = self.monitors.get_mut(&watched) {
            list.remove(&reference);
            if list.is_empty() {
                self.monitors.remove(&watched);
            }
        }
        self.forget_held(watcher, reference);
        true
    }

    /// Sets whether `actor` turns exit signals into `EXIT` messages.
    pub fn trap_exits(&mut self, actor: u64, on: bool) {
        if on {
            self.trapping.insert(actor);
        } else {
            self.trapping.remove(&actor);
        }
    }

    /// True if `actor` turns exit signals into `EXIT` messages.
    pub fn traps_exits(&self, actor: u64) -> bool {
        self.trapping.contains(&actor)
    }

    /// `actor`'s incarnation ended with `reason`: removes everything that involved it and
    /// says what its links and monitors must do.
    pub fn exited(&mut self, actor: u64, reason: &str) -> Fallout {
        let mut out = Fallout::default();
        // (most actors have no links nor monitors: an empty table is not even hashed into)
        if !self.trapping.is_empty() {
            self.trapping.remove(&actor);
        }
        if let Some(peers) = take(&mut self.links, actor) {
            for peer in peers {
                self.unlink(peer, actor);
                if reason == "normal" {
                    continue;
                }
                if self.trapping.contains(&peer) {
                    out.exit_messages.push(peer);
                } else {
                    out.kill.push(peer);
                }
            }
            out.kill.sort_unstable();
            out.exit_messages.sort_unstable();
        }
        if let Some(list) = take(&mut self.monitors, actor) {
            for (reference, &watcher) in list.iter() {
                self.refs.remove(&reference);
                self.forget_held(watcher, reference);
                out.down.push((watcher, reference));
            }
        }
        // Monitors this actor held on others end with it.
        for r in take(&mut self.held, actor).unwrap_or_default() {
            self.demonitor(r);
        }
        out
    }
}

/// Removes `key` from `map`, hashing nothing when the map is empty.
fn take<V>(map: &mut HashMap<u64, V>, key: u64) -> Option<V> {
    if map.is_empty() {
        None
    } else {
        map.remove(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abnormal_exit_kills_links_normal_does_not() {
        let mut l = Links::default();
        l.link(1, 2);
        l.link(1, 3);
        assert_eq!(l.exited(1, "normal"), Fallout::default());
        assert!(!l.linked(2, 1), "the link ended with the incarnation");
        l.link(1, 2);
        l.link(1, 3);
        l.trap_exits(3, true);
        let f = l.exited(1, "error: x");
        assert_eq!(f.kill, vec![2]);
        assert_eq!(f.exit_messages, vec![3]);
        l.link(1, 2);
        assert_eq!(
            l.exited(1, "terminated").kill,
            vec![2],
            "terminated propagates"
        );
    }

    #[test]
    fn unlink_and_trap_reset() {
        let mut l = Links::default();
        l.link(1, 2);
        l.unlink(2, 1);
        assert_eq!(l.exited(1, "error: x"), Fallout::default());
        l.trap_exits(2, true);
        l.exited(2, "error: y"); // its incarnation ended: trapping is gone
        l.link(1, 2);
        assert_eq!(l.exited(1, "error: x").kill, vec![2]);
    }

    #[test]
    fn monitors_fire_once_and_stack() {
        let mut l = Links::default();
        l.monitor(10, 1, 100);
        l.monitor(10, 1, 101);
        l.monitor(11, 1, 102);
        assert!(l.demonitor(101));
        assert!(!l.demonitor(101));
        let f = l.exited(1, "normal");
        assert_eq!(f.down, vec![(10, 100), (11, 102)]);
        assert!(l.exited(1, "normal").down.is_empty(), "fires once");
    }

    #[test]
    fn a_dead_watcher_drops_its_monitors() {
        let mut l = Links::default();
        l.monitor(10, 1, 100);
        l.monitor(11, 1, 101);
        l.monitor(10, 2, 102);
        l.exited(10, "error: x");
        assert!(!l.demonitor(100), "gone with its watcher");
        assert!(!l.demonitor(102), "gone with its watcher");
        assert_eq!(l.exited(1, "error: y").down, vec![(11, 101)]);
        assert!(l.exited(2, "error: y").down.is_empty());
    }

    #[test]
    fn nothing_is_left_behind_once_everyone_involved_exited() {
        let mut l = Links::default();
        for w in 1..=50u64 {
            l.monitor(w, 1000 + w % 3, w * 10);
            l.monitor(1000 + w % 3, w, w * 10 + 1);
            l.link(w, w + 1);
        }
        assert!(l.demonitor(100));
        for a in 1..=51u64 {
            l.exited(a, "error: x");
        }
        for a in 1000..1003u64 {
            l.exited(a, "error: x");
        }
        assert!(l.links.is_empty() && l.monitors.is_empty());
        assert!(l.refs.is_empty() && l.held.is_empty());
    }
}
