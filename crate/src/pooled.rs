//! Pooled actors: many actors bound to one pool worker's port (see docs/ARCHITECTURE.md,
//! Pooled actors).
//!
//! A pool port keeps a ready queue of its actors that have deliverable mail. Mail for an idle,
//! not yet queued pooled actor queues it there and rings the port (one ring per burst: the
//! port's `scheduled` flag coalesces them as for isolated actors). The worker takes a batch:
//! up to `max_actors` ready actors with up to `per_actor` messages each, as one flat JSON
//! array `[actorId,incarnation,n, kind,body, …]` (each message `kind,body`, a call's
//! `kind,body,corr,replyPort`: [`Envelope::write_flat`]; no array per actor or message, which
//! a JSON parser would have to build). Those messages stay in hand per actor, exactly as
//! [`Actor::pop`] keeps them, until the worker acknowledges them one by one
//! ([`Runtime::pool_ack`]: a binary record in its outbox naming the actor, its incarnation and
//! a count, [`crate::outbox::Record::Ack`], so no native call per handled message; a call's reply and its acknowledgement go
//! together through `poolReply`); an actor left with mail after its last acknowledgement is queued
//! again, behind the others (fairness as Akka's throughput setting). If the worker dies, each
//! of its actors' first unacknowledged message is the one in flight and the rest go back to
//! its mailbox ([`Actor::thread_gone`]): nothing is lost, nothing is handled twice.

use crate::actor::{Actor, ActorConfig};
use crate::envelope::{json_string, push_u64, Envelope, Kind};
use crate::outbox::record_id;
use crate::port::{Bound, Port, PortId};
use crate::runtime::Runtime;
use crate::supervisor::Supervisor;
use crate::tree::{Op, Plan};
use std::sync::Arc;

/// The acknowledgement records of one outbox drain, counted together: a run of records for
/// one actor's incarnation becomes one [`Runtime::pool_ack`]. The worker acknowledges a
/// handled message with a binary record ([`crate::outbox::Record::Ack`]: no text to write or
/// parse per message); a text record's body (after its `!`) is `<incarnation>` (one message of the sender the outbox named last), `<incarnation>,<n>`
/// (`n` messages; 0: its start-up code is done) or `<incarnation>,<n>,<actor>` (of that actor,
/// without naming it as the sender: a worker acknowledging one message each of many actors
/// writes one record per message, not two). Malformed records are ignored.
#[derive(Default)]
pub(crate) struct Acks {
    actor: u64,
    incarnation: u32,
    n: usize,
}

impl Acks {
    /// Counts the record `body` (`sender`: the sender named last, 0 for none).
    pub(crate) fn record(&mut self, rt: &Runtime, port: &Port, sender: u64, body: &[u8]) {
        if let Some((actor, incarnation, n)) = parse_ack(sender, body) {
            self.count(rt, port, actor, incarnation, n);
        }
    }

    /// Counts `n` messages of `actor`'s incarnation `incarnation` (a text record parsed, or a
    /// binary one: [`crate::outbox::Record::Ack`]).
    pub(crate) fn count(
        &mut self,
        rt: &Runtime,
        port: &Port,
        actor: u64,
        incarnation: u32,
        n: usize,
    ) {
        if actor == 0 {
            return;
        }
        if n != 0 && self.n != 0 && actor == self.actor && incarnation == self.incarnation {
            self.n += n;
            return;
        }
        self.apply(rt, port);
        if n == 0 {
            rt.pool_ack(port, actor, incarnation, 0); // start-up done: never merged
            return;
        }
        *self = Acks {
            actor,
            incarnation,
            n,
        };
    }

    /// Applies what is counted so far.
    pub(crate) fn apply(&mut self, rt: &Runtime, port: &Port) {
        if self.n != 0 {
            rt.pool_ack(port, self.actor, self.incarnation, self.n);
            self.n = 0;
        }
    }
}

/// `(actor, incarnation, n)` of an acknowledgement record's body (see [`Acks`]), read from its
/// bytes (one record per handled message: no UTF-8 check, no splitting into strings).
fn parse_ack(sender: u64, body: &[u8]) -> Option<(u64, u32, usize)> {
    let mut fields = body.split(|&b| b == b',');
    let incarnation = u32::try_from(decimal(fields.next()?)?).ok()?;
    let n = match fields.next() {
        Some(n) => usize::try_from(decimal(n)?).ok()?,
        None => 1,
    };
    let actor = match fields.next() {
        Some(a) => decimal(a)?,
        None => sender,
    };
    if fields.next().is_some() {
        return None;
    }
    Some((actor, incarnation, n))
}

/// The value of a non-empty run of ASCII digits that fits in a u64.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |v, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// What [`Runtime::pool_end`] did with one actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Ended {
    /// Left alone (the host ends it by itself): not live, not running on a pool worker, or
    /// holding boxes while its worker lives (its views must be detached first).
    Skipped = 0,
    /// Its incarnation ended and its next one is counted (a restart now, alone): it waits to
    /// be placed on a worker.
    Restarted = 1,
    /// Ended for good: its undelivered mail is reported as dead letters.
    Finished = 2,
    /// Ended, with a plan other than the two above for the host to carry out.
    Planned = 3,
}

/// An actor's id and one of its incarnations.
type Incarnation = (u64, u32);

/// The result of [`Runtime::pool_end`].
#[derive(Debug, Default)]
pub struct PoolEnd {
    /// Per actor, in the order given: an [`Ended`] as its number.
    pub done: Vec<u8>,
    /// `(index, message)`: the message each ended actor was handling, where there was one
    /// (`[kind,from,corr,body]` JSON).
    pub in_flight: Vec<(usize, String)>,
    /// `(index, plan)` of the actors [`Ended::Planned`], in order.
    pub plans: Vec<(usize, Plan)>,
}

impl Runtime {
    /// Ends the current incarnations of many pooled actors in one pass (a shutdown, a lost
    /// worker), each exactly as [`Runtime::thread_gone`] would, in the order given: `ids[0]`
    /// with `first_reason` when given (a lost worker's culprit), the others with `reason`.
    /// The plan each exit yields is carried out here when it is the usual one: a restart of
    /// that actor alone, now (counted as [`Runtime::restart`] does; the host places it), or
    /// its end for good ([`Runtime::finish`]). `worker_alive`: the workers still run (a
    /// shutdown), so each is sent one stop order for all of its actors ended here (or for
    /// every slot it has, when none is left bound to it), and an actor holding boxes is left
    /// to the host (its views must be detached before its boxes are given back); otherwise
    /// their threads are gone. O(1) per actor besides its own links, monitors and mail; the
    /// supervisor of consecutive actors is looked up once.
    pub fn pool_end(
        &'static self,
        ids: &[u64],
        reason: &str,
        first_reason: Option<&str>,
        worker_alive: bool,
    ) -> PoolEnd {
        use std::fmt::Write as _;
        let mut out = PoolEnd {
            done: Vec::with_capacity(ids.len()),
            ..Default::default()
        };
        let now = std::time::Instant::now();
        let mut sup: Option<Arc<Supervisor>> = None;
        // (a shutdown: the actors ended per worker, for one stop order each)
        let mut stops: Vec<(Arc<Port>, Vec<Incarnation>)> = Vec::new();
        for (i, &id) in ids.iter().enumerate() {
            let why = match first_reason {
                Some(r) if i == 0 => r,
                _ => reason,
            };
            let Some(actor) = self.actor(id) else {
                out.done.push(Ended::Skipped as u8);
                continue;
            };
            if sup.as_ref().is_none_or(|s| s.id != actor.sup_id) {
                sup = self.supervisor(actor.sup_id);
            }
            let (Some(s), Some(port)) = (&sup, actor.port().filter(|p| p.is_pool())) else {
                out.done.push(Ended::Skipped as u8);
                continue;
            };
            if worker_alive {
                if s.pool.get().is_some_and(|p| p.holds(id)) {
                    out.done.push(Ended::Skipped as u8);
                    continue;
                }
                let inc = actor.incarnation();
                match stops.iter_mut().find(|(p, _)| Arc::ptr_eq(p, &port)) {
                    Some((_, list)) => list.push((id, inc)),
                    None => stops.push((port.clone(), vec![(id, inc)])),
                }
            }
            drop(port);
            let over = self.incarnation_over(&actor, s, why, None, now);
            if let Some(text) = over.in_flight {
                out.in_flight.push((i, text));
            }
            let done = match over.plan.as_slice() {
                [Op::Start { actor: a, delay_ms }] if *a == id && *delay_ms == 0.0 => {
                    self.restart(id);
                    Ended::Restarted
                }
                [Op::Finish {
                    actor: a,
                    reason: r,
                }] if *a == id => {
                    self.finish_in(s, id, r);
                    Ended::Finished
                }
                _ => {
                    out.plans.push((i, over.plan));
                    Ended::Planned
                }
            };
            out.done.push(done as u8);
        }
        // A worker left with no actor bound to it is told to end every slot it has: binds come
        // from the host thread only (this one), so none can come between the count and the
        // order, and every slot the order finds was started before it.
        for (port, list) in stops {
            let mut body = format!("{{\"reason\":{},", json_string(reason));
            if port.member_count() == 0 {
                body.push_str("\"all\":true}");
            } else {
                body.reserve(list.len() * 16);
                body.push_str("\"many\":[");
                for (k, (id, inc)) in list.iter().enumerate() {
                    let sep = if k == 0 { "" } else { "," };
                    let _ = write!(body, "{sep}{id},{inc}");
                }
                body.push_str("]}");
            }
            port.push_urgent(Envelope::new(Kind::Stop, 0, 0, body));
        }
        out
    }

    /// Registers the port of a new pool worker (before its thread exists).
    pub fn new_pool_port(&self) -> Arc<Port> {
        self.register_port(Port::new_pool)
    }

    /// Starts an incarnation of each of `actor_ids` on the pool worker of `port_id`: binds
    /// them and queues one start order for all of them (`[INIT, 0, 0, [spec, [actorId,
    /// incarnation, …]]]`, `spec` JSON shared by all, listing only the actors bound here: the
    /// worker parses the spec once, not once per actor). Returns each one's incarnation, or -1
    /// for an actor or port gone.
    pub fn pool_bind(&self, actor_ids: &[u64], port_id: PortId, spec: &str) -> Vec<f64> {
        let Some(port) = self.port(port_id) else {
            return vec![-1.0; actor_ids.len()];
        };
        use std::fmt::Write as _;
        let mut body = String::with_capacity(spec.len() + 4 + actor_ids.len() * 12);
        body.push('[');
        body.push_str(spec);
        body.push_str(",[");
        let mut any = false;
        // (looked up under one take of the registry lock, made members under one of the port's)
        let actors = self.actors_of(actor_ids);
        port.bind_all(actors.iter().flatten().map(|a| a.clone() as Arc<dyn Bound>));
        let incs = actor_ids
            .iter()
            .zip(actors)
            .map(|(id, actor)| {
                let Some(actor) = actor else {
                    return -1.0;
                };
                let inc = actor.bind(port.clone());
                self.arm_watchdog(&actor);
                if any {
                    body.push(',');
                }
                any = true;
                let _ = write!(body, "{},{}", id, inc);
                f64::from(inc)
            })
            .collect();
        body.push_str("]]");
        if any {
            port.push_urgent(Envelope::new(Kind::Init, 0, 0, body));
        }
        incs
    }

    /// The pool worker of `port` takes its next batch: at most `max_actors` ready actors, at
    /// most `per_actor` messages each (one for actors with a per-message deadline, which is
    /// armed now). None when no actor is ready.
    pub fn pool_take(
        &'static self,
        port: &Port,
        max_actors: usize,
        per_actor: usize,
    ) -> Option<String> {
        // (room for a typical batch up front: a few small messages each of a few actors)
        let mut out = String::with_capacity(1024);
        out.push('[');
        let mut taken = 0;
        let now = self.now_ns();
        while taken < max_actors.max(1) {
            let Some(next) = port.pop_ready() else {
                break;
            };
            let Some(actor) = next.and_then(Actor::from_bound) else {
                continue; // unbound since it was queued
            };
            let mark = out.len();
            if taken > 0 {
                out.push(',');
            }
            match actor.pool_take(per_actor, now, &mut out) {
                Some(deadline) => {
                    taken += 1;
                    if deadline != 0 {
                        self.timer().arm(actor.id, deadline);
                    }
                }
                None => out.truncate(mark),
            }
        }
        if taken == 0 {
            return None;
        }
        out.push(']');
        Some(out)
    }

    /// The pool worker of `port` finished `n` more messages of `actor_id`'s incarnation
    /// `incarnation` (0: its start-up code is done). False if that actor is not bound there.
    pub fn pool_ack(&self, port: &Port, actor_id: u64, incarnation: u32, n: usize) -> bool {
        let Some(actor) = port.member(actor_id).and_then(Actor::from_bound) else {
            return false;
        };
        if let Some(p) = actor.pool_ack(port, incarnation, n) {
            p.ring();
        }
        true
    }

    /// The sender a pool worker's outbox names in a sender record (`body`: its id in decimal):
    /// `(id, supervisor)` if that actor is bound to `port`, else `(0, its supervisor or 0)`, and
    /// the mail that follows is refused as from a stale incarnation.
    pub(crate) fn pool_sender(&self, port: &Port, body: &[u8]) -> (u64, u64) {
        let id = record_id(body);
        match port.member(id).and_then(Actor::from_bound) {
            Some(a) => (a.id, a.sup_id),
            None => (0, self.actor(id).map_or(0, |a| a.sup_id)),
        }
    }

    /// Whether pooled actor `actor_id` writes, reads or waits for a box of its supervisor's
    /// pool: its worker must detach its views before its incarnation ends and the boxes are
    /// given back (DESIGN.md 3.5: views are detached before their memory is reused).
    pub fn pool_holds_boxes(&self, actor_id: u64) -> bool {
        self.actor(actor_id)
            .and_then(|a| self.pool(a.sup_id).map(|p| p.holds(a.id)))
            .unwrap_or(false)
    }

    /// The actor `actor_id` if it is bound to the pool port `port_id` (what a pool worker may
    /// act as: `from` cannot be forged).
    pub fn pool_member(&self, port_id: PortId, actor_id: u64) -> Option<Arc<Actor>> {
        self.port(port_id)?
            .member(actor_id)
            .and_then(Actor::from_bound)
    }

    /// Registers `template`: children its parent incarnation's pool worker may then create
    /// with [`Runtime::pool_spawn`] without asking the host. Returns its id.
    pub fn pool_template(&self, template: SpawnTemplate) -> u64 {
        let id = self.id();
        self.templates.lock().insert(id, template);
        id
    }

    /// Forgets templates of supervisor `sup_id` (their parent incarnation ended): from now on
    /// [`Runtime::pool_spawn`] refuses them, and the supervisor's port gets `{op: "forgotten",
    /// templates}` behind every `spawned` request of theirs, so the host knows when it may drop
    /// what it keeps for them.
    pub fn pool_forget(&self, sup_id: u64, ids: &[u64]) {
        {
            let mut templates = self.templates.lock();
            for id in ids {
                templates.remove(id);
            }
        }
        let Some(sup) = self.supervisor(sup_id) else {
            return;
        };
        let list: Vec<String> = ids.iter().map(u64::to_string).collect();
        let body = format!(
            "[0,{{\"op\":\"forgotten\",\"templates\":[{}]}}]",
            list.join(",")
        );
        sup.port
            .push_urgent(Envelope::new(Kind::Request, 0, 0, body));
    }

    /// The pool worker of `port` creates `count` children of `parent_id` from `template_id`
    /// (supervised in the template's group, as the host would have made them), binds them to
    /// itself, and tells the host in one request of the parent's (`{op: "spawned", template,
    /// ids: [id, incarnation, …]}`), queued before anything the children can do. Returns `[id,
    /// incarnation, …]`, or why nothing was created: the template is gone or not the parent's,
    /// the parent is not this worker's current incarnation, or the core refused (all or
    /// nothing, see [`Runtime::spawn_many`]). `ready`: the children have no start-up code, so
    /// they may get mail at once (as if each had acknowledged its start).
    pub fn pool_spawn(
        &'static self,
        port: &Arc<Port>,
        parent_id: u64,
        template_id: u64,
        count: usize,
        ready: bool,
    ) -> Result<Vec<f64>, String> {
        let (sup_id, config, group, parent_inc) = {
            let templates = self.templates.lock();
            let t = templates
                .get(&template_id)
                .filter(|t| t.parent == parent_id)
                .ok_or("unknown spawn template")?;
            (t.sup_id, t.config.clone(), t.group, t.parent_inc)
        };
        let parent = port
            .member(parent_id)
            .and_then(Actor::from_bound)
            .filter(|p| p.incarnation() == parent_inc)
            .ok_or("the parent incarnation is not running here")?;
        let mut actors = Vec::with_capacity(count);
        let ids = self
            .spawn_batch_keeping(sup_id, config, Some(group), count, Some(&mut actors))
            .map_err(|e| e.to_string())?;
        port.bind_all(actors.iter().map(|a| a.clone() as Arc<dyn Bound>));
        let mut body = String::with_capacity(64 + ids.len() * 12);
        body.push_str("[0,{\"op\":\"spawned\",\"template\":");
        push_u64(&mut body, template_id);
        body.push_str(",\"ids\":[");
        let mut out = Vec::with_capacity(2 * ids.len());
        for (i, (id, actor)) in ids.iter().zip(actors).enumerate() {
            if i > 0 {
                body.push(',');
            }
            push_u64(&mut body, *id);
            out.push(*id as f64);
            // (made just now, but a shutdown may have ended it since)
            match actor.bind_if_alive(port.clone()) {
                Some(inc) => {
                    let a = actor;
                    self.arm_watchdog(&a);
                    if ready {
                        if let Some(p) = a.pool_ack(port, inc, 0) {
                            p.ring();
                        }
                    }
                    body.push(',');
                    push_u64(&mut body, u64::from(inc));
                    out.push(f64::from(inc));
                }
                None => {
                    body.push_str(",-1");
                    out.push(-1.0);
                }
            }
        }
        body.push_str("]}]");
        self.host_event(&parent, Kind::Request, body);
        Ok(out)
    }
}

/// What the host allowed one pooled parent incarnation to spawn by itself: children with one
/// set of validated options in one group (lib/host/supervisor.js, templates).
pub struct SpawnTemplate {
    /// The supervisor.
    pub sup_id: u64,
    /// The children's settings.
    pub config: ActorConfig,
    /// Their group.
    pub group: u64,
    /// The parent and the incarnation the template belongs to.
    pub parent: u64,
    /// (see `parent`)
    pub parent_inc: u32,
}

#[cfg(test)]
mod tests {
    use super::parse_ack;
    use crate::actor::ActorConfig;
    use crate::envelope::{Envelope, Kind};
    use crate::runtime::Runtime;
    use crate::testing::{config, Count};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn pooled() -> ActorConfig {
        ActorConfig {
            pooled: true,
            ..Default::default()
        }
    }

    /// A runtime with one pool port (its waker counting wakes) and `n` started pooled actors
    /// bound to it.
    fn setup(
        n: usize,
        cfg: ActorConfig,
    ) -> (&'static Runtime, Arc<crate::Port>, Arc<Count>, Vec<u64>) {
        let rt: &'static Runtime = Box::leak(Box::new(Runtime::new()));
        let sup = rt.create_supervisor(config());
        let port = rt.new_pool_port();
        let wakes = Arc::new(Count(AtomicUsize::new(0)));
        port.set_waker(wakes.clone());
        let mut ids = Vec::new();
        for _ in 0..n {
            let a = rt.spawn(sup.id, cfg.clone(), None).unwrap();
            let inc = rt.bind(a.id, port.id, "{}".into()).unwrap();
            assert!(rt.pool_ack(&port, a.id, inc, 0), "start-up done");
            ids.push(a.id);
        }
        // The worker drains its INITs and parks.
        while port.take_urgent().is_some() {}
        assert!(rt.pool_take(&port, 100, 100).is_none());
        assert!(!port.park());
        (rt, port, wakes, ids)
    }

    fn user(i: u64) -> Envelope {
        Envelope::new(Kind::User, 0, 0, i.to_string())
    }

    /// `(id, [bodies…])` of each actor of a flat batch `[id, incarnation, n, kind, body, …]`
    /// (the tests send only user messages).
    fn parse(batch: &str) -> Vec<(u64, Vec<u64>)> {
        let v: serde_json::Value = serde_json::from_str(batch).unwrap();
        let flat = v.as_array().unwrap();
        let mut out = Vec::new();
        let mut i = 0;
        while i < flat.len() {
            let n = flat[i + 2].as_u64().unwrap() as usize;
            let bodies = (0..n).map(|k| {
                assert_eq!(flat[i + 3 + 2 * k], 0, "a user message");
                flat[i + 4 + 2 * k].as_u64().unwrap()
            });
            out.push((flat[i].as_u64().unwrap(), bodies.collect()));
            i += 3 + 2 * n;
        }
        out
    }

    #[test]
    fn a_worker_spawns_children_from_a_template_and_the_host_hears_of_them_first() {
        let (rt, port, _wakes, ids) = setup(1, pooled());
        let parent = rt.actor(ids[0]).unwrap();
        let sup = rt.supervisor(parent.sup_id).unwrap();
        while sup.port.take_urgent().is_some() {}
        let t = rt.pool_template(super::SpawnTemplate {
            sup_id: sup.id,
            config: pooled(),
            group: sup.root_group(),
            parent: parent.id,
            parent_inc: parent.incarnation(),
        });
        assert!(
            rt.pool_spawn(&port, parent.id + 1, t, 3, true).is_err(),
            "only the template's parent may use it"
        );
        let stale = rt.pool_template(super::SpawnTemplate {
            sup_id: sup.id,
            config: pooled(),
            group: sup.root_group(),
            parent: parent.id,
            parent_inc: parent.incarnation() + 1,
        });
        assert!(
            rt.pool_spawn(&port, parent.id, stale, 1, true).is_err(),
            "nor another incarnation of it"
        );
        assert!(sup.port.take_urgent().is_none(), "nothing was made");
        let made = rt.pool_spawn(&port, parent.id, t, 3, true).unwrap();
        assert_eq!(made.len(), 6);
        let kids: Vec<u64> = made.chunks(2).map(|p| p[0] as u64).collect();
        // one note to the host, in the parent's name, listing `[id, incarnation, …]`
        let batch: serde_json::Value =
            serde_json::from_str(&sup.port.take_urgent().unwrap()).unwrap();
        assert_eq!(batch.as_array().unwrap().len(), 1, "{batch}");
        let note = &batch[0];
        assert_eq!(note[0].as_u64(), Some(Kind::Request as u64));
        assert_eq!(note[1].as_u64(), Some(parent.id));
        assert_eq!(note[3][1]["op"], "spawned");
        assert_eq!(note[3][1]["template"].as_u64(), Some(t));
        let listed: Vec<f64> = note[3][1]["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(listed, made);
        // bound to this worker and ready (no start-up code): mail makes them ready at once
        for (i, id) in kids.iter().enumerate() {
            assert!(rt.pool_member(port.id, *id).is_some());
            rt.send(*id, user(i as u64), None, 0).unwrap();
        }
        let batch = parse(&rt.pool_take(&port, 10, 10).unwrap());
        assert_eq!(batch.len(), 3);
        // forgotten: refused from now on, and the host hears of it after the note
        rt.pool_forget(sup.id, &[t, stale]);
        assert!(rt.pool_spawn(&port, parent.id, t, 1, true).is_err());
        let batch: serde_json::Value =
            serde_json::from_str(&sup.port.take_urgent().unwrap()).unwrap();
        let gone = &batch[0];
        assert_eq!(gone[3][1]["op"], "forgotten");
        assert_eq!(gone[3][1]["templates"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_burst_to_many_pooled_actors_wakes_their_worker_once() {
        let (rt, port, wakes, ids) = setup(10, pooled());
        let before = wakes.0.load(Ordering::SeqCst);
        for round in 0..5 {
            for id in &ids {
                rt.send(*id, user(round), None, 0).unwrap();
            }
        }
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            before + 1,
            "one wake per burst"
        );
        assert!(port.take_urgent().is_none());
        let batch = parse(&rt.pool_take(&port, 100, 100).unwrap());
        assert_eq!(batch.len(), 10, "each actor once");
        for (id, bodies) in &batch {
            assert!(ids.contains(id));
            assert_eq!(bodies, &vec![0, 1, 2, 3, 4]);
        }
    }

    #[test]
    fn a_busy_actor_gets_at_most_per_actor_messages_and_queues_again_behind_others() {
        let (rt, port, _wakes, ids) = setup(3, pooled());
        for i in 0..10 {
            rt.send(ids[0], user(i), None, 0).unwrap();
        }
        rt.send(ids[1], user(100), None, 0).unwrap();
        rt.send(ids[2], user(200), None, 0).unwrap();
        let first = parse(&rt.pool_take(&port, 2, 4).unwrap());
        assert_eq!(first, vec![(ids[0], vec![0, 1, 2, 3]), (ids[1], vec![100])]);
        // acks of actor 0's four messages: it has more mail, so it queues behind actor 2
        assert!(rt.pool_ack(&port, ids[0], 0, 4));
        assert!(rt.pool_ack(&port, ids[1], 0, 1));
        let second = parse(&rt.pool_take(&port, 10, 4).unwrap());
        assert_eq!(
            second,
            vec![(ids[2], vec![200]), (ids[0], vec![4, 5, 6, 7])]
        );
        assert!(
            rt.pool_take(&port, 10, 4).is_none(),
            "nothing ready while held"
        );
        assert!(rt.pool_ack(&port, ids[0], 0, 4));
        assert_eq!(
            parse(&rt.pool_take(&port, 10, 4).unwrap()),
            vec![(ids[0], vec![8, 9])]
        );
        assert!(!rt.pool_ack(&port, 999_999, 0, 1), "not bound here");
    }

    #[test]
    fn a_lost_worker_reports_each_actors_first_unacked_message_and_keeps_the_rest() {
        let (rt, port, _wakes, ids) = setup(2, pooled());
        for i in 1..=4 {
            rt.send(ids[0], user(i), None, 0).unwrap();
            rt.send(ids[1], user(10 + i), None, 0).unwrap();
        }
        parse(&rt.pool_take(&port, 10, 10).unwrap());
        rt.pool_ack(&port, ids[0], 0, 1); // actor 0 handled 1 and died inside 2
        let a = rt.thread_gone(ids[0], "timeout", None).unwrap();
        assert_eq!(a.in_flight.unwrap(), "[0,0,0,2]");
        let b = rt.thread_gone(ids[1], "worker_lost", None).unwrap();
        assert_eq!(b.in_flight.unwrap(), "[0,0,0,11]");
        assert_eq!(port.member_count(), 0, "both unbound");
        // a late ack from the dead worker changes nothing
        assert!(!rt.pool_ack(&port, ids[0], 0, 3));
        // the next incarnations, on a new worker, get the rest in order
        let fresh = rt.new_pool_port();
        for id in &ids {
            rt.restart(*id).unwrap();
            let inc = rt.bind(*id, fresh.id, "{}".into()).unwrap();
            assert_eq!(inc, 1);
            rt.pool_ack(&fresh, *id, inc, 0);
        }
        let mut got = parse(&rt.pool_take(&fresh, 10, 10).unwrap());
        got.sort();
        let mut want = vec![(ids[0], vec![3, 4]), (ids[1], vec![12, 13, 14])];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_per_message_deadline_hands_out_one_message_at_a_time_and_ack_disarms_it() {
        let cfg = ActorConfig {
            timeout_ms: 50,
            ..pooled()
        };
        let (rt, port, _wakes, ids) = setup(1, cfg);
        let actor = rt.actor(ids[0]).unwrap();
        rt.send(ids[0], user(1), None, 0).unwrap();
        rt.send(ids[0], user(2), None, 0).unwrap();
        assert_eq!(
            parse(&rt.pool_take(&port, 10, 10).unwrap()),
            vec![(ids[0], vec![1])]
        );
        assert_ne!(actor.deadline().load(Ordering::Acquire), 0, "armed");
        rt.pool_ack(&port, ids[0], 0, 1);
        assert_eq!(actor.deadline().load(Ordering::Acquire), 0, "disarmed");
        assert_eq!(
            parse(&rt.pool_take(&port, 10, 10).unwrap()),
            vec![(ids[0], vec![2])]
        );
    }

    #[test]
    fn many_actors_are_spawned_and_bound_at_once_each_with_its_own_start_order() {
        let rt: &'static Runtime = Box::leak(Box::new(Runtime::new()));
        let sup = rt.create_supervisor(config());
        let port = rt.new_pool_port();
        let ids = rt.spawn_many(sup.id, &pooled(), None, 1000).unwrap();
        assert_eq!(ids.len(), 1000);
        let incs = rt.pool_bind(&ids, port.id, r#"{"key":1}"#);
        assert!(incs.iter().all(|i| *i == 0.0));
        assert_eq!(port.member_count(), 1000);
        let mut inits = Vec::new();
        while let Some(batch) = port.take_urgent() {
            let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
            for e in v.as_array().unwrap() {
                assert_eq!(e[1].as_u64(), Some(0), "one start order for all of them");
                assert_eq!(e[3][0]["key"].as_u64(), Some(1), "the spec, once");
                let list = e[3][1].as_array().unwrap();
                inits.extend(
                    list.chunks(2)
                        .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap())),
                );
            }
        }
        let want: Vec<(u64, u64)> = ids.iter().map(|id| (*id, 0)).collect();
        assert_eq!(
            inits, want,
            "each actor named with its incarnation, in order"
        );
        assert_eq!(rt.pool_bind(&[999_999], port.id, "{}"), vec![-1.0]);
        sup.begin_close();
        assert!(rt.spawn_many(sup.id, &pooled(), None, 3).is_err());
    }

    #[test]
    fn a_pool_workers_outbox_names_each_sender_and_only_its_own_actors_can_send() {
        let (rt, port, _wakes, ids) = setup(2, pooled());
        let sink = rt
            .spawn(
                rt.actor(ids[0]).unwrap().sup_id,
                ActorConfig::default(),
                None,
            )
            .unwrap();
        let outbox = port.outbox().clone();
        let control = port.control();
        for (sender, body) in [(ids[0], "1"), (ids[1], "2"), (999_999, "3"), (ids[0], "4")] {
            outbox.put(control, 0, &sender.to_string());
            outbox.put(control, sink.id as u32, body);
        }
        assert_eq!(rt.flush_outbox(&port), 3);
        outbox.put(control, sink.id as u32, "5"); // a later drain: still the last sender named
        assert_eq!(rt.flush_outbox(&port), 1);
        let sink_port = rt.new_port();
        rt.bind(sink.id, sink_port.id, "{}".into()).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&rt.pop(&sink_port, &sink, 64).unwrap()).unwrap();
        let got: Vec<(u64, u64)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[1].as_u64().unwrap(), e[3].as_u64().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![(ids[0], 1), (ids[1], 2), (ids[0], 4), (ids[0], 5)]
        );
    }

    #[test]
    fn an_acknowledgement_in_the_outbox_counts_a_handled_message_before_a_lost_worker_reports() {
        let (rt, port, _wakes, ids) = setup(2, pooled());
        for i in 1..=3 {
            rt.send(ids[0], user(i), None, 0).unwrap();
        }
        parse(&rt.pool_take(&port, 10, 10).unwrap());
        let outbox = port.outbox().clone();
        let control = port.control();
        outbox.put(control, 0, &ids[0].to_string());
        outbox.put(control, 0, "!0"); // message 1 handled
        outbox.put(control, 0, "!7"); // another incarnation's: ignored
        outbox.put(control, 0, &ids[1].to_string());
        outbox.put(control, 0, "!0"); // actor 1 has nothing in hand: ignored
                                      // not yet drained: the lost worker's outbox is delivered before its exit is reported
        let a = rt.thread_gone(ids[0], "timeout", None).unwrap();
        assert_eq!(a.in_flight.unwrap(), "[0,0,0,2]", "message 1 was handled");
        let fresh = rt.new_pool_port();
        rt.restart(ids[0]).unwrap();
        let inc = rt.bind(ids[0], fresh.id, "{}".into()).unwrap();
        rt.pool_ack(&fresh, ids[0], inc, 0);
        assert_eq!(
            parse(&rt.pool_take(&fresh, 10, 10).unwrap()),
            vec![(ids[0], vec![3])]
        );
    }

    #[test]
    fn acknowledgements_name_their_actor_or_the_sender_and_runs_of_them_count_together() {
        let (rt, port, _wakes, ids) = setup(3, pooled());
        for i in 1..=4 {
            for id in &ids {
                rt.send(*id, user(i), None, 0).unwrap();
            }
        }
        assert_eq!(parse(&rt.pool_take(&port, 10, 4).unwrap()).len(), 3);
        let outbox = port.outbox().clone();
        let control = port.control();
        outbox.put(control, 0, &ids[0].to_string()); // the sender: actor 0
        outbox.put(control, 0, "!0"); // actor 0: 1
        outbox.put(control, 0, &format!("!0,1,{}", ids[1])); // actor 1: 1, actor 0 stays sender
        outbox.put(control, 0, "!0"); // actor 0: 2
        outbox.put(control, 0, "!0,2"); // actor 0: 4 (a run)
        outbox.put(control, 0, &format!("!0,1,{}", ids[2]));
        outbox.put(control, 0, &format!("!0,1,{}", ids[2])); // actor 2: 2 (a run)
        outbox.put(control, 0, "!x"); // malformed: ignored
        outbox.put(control, 0, &format!("!0,1,{}", 999_999)); // not bound here: ignored
        rt.flush_outbox(&port);
        // actor 0 handled all four (ready again only with new mail), actor 1 one, actor 2 two:
        // a lost worker reports each one's first unacknowledged message in flight
        let a1 = rt.thread_gone(ids[1], "worker_lost", None).unwrap();
        assert_eq!(a1.in_flight.unwrap(), "[0,0,0,2]");
        let a2 = rt.thread_gone(ids[2], "worker_lost", None).unwrap();
        assert_eq!(a2.in_flight.unwrap(), "[0,0,0,3]");
        let a0 = rt.thread_gone(ids[0], "worker_lost", None).unwrap();
        assert!(
            a0.in_flight.is_none(),
            "all of actor 0's messages were acknowledged"
        );
    }

    #[test]
    fn binary_acknowledgements_count_like_text_ones_and_runs_of_them_merge() {
        let (rt, port, _wakes, ids) = setup(3, pooled());
        for i in 1..=4 {
            for id in &ids {
                rt.send(*id, user(i), None, 0).unwrap();
            }
        }
        assert_eq!(parse(&rt.pool_take(&port, 10, 4).unwrap()).len(), 3);
        let outbox = port.outbox().clone();
        let control = port.control();
        outbox.put_ack(control, ids[0], 0, 1);
        outbox.put_ack(control, ids[0], 0, 1); // a run: one pool_ack of 2
        outbox.put(control, 0, &format!("!0,1,{}", ids[0])); // text, same run: 3
        outbox.put_ack(control, ids[1], 0, 2);
        outbox.put_ack(control, ids[2], 7, 1); // another incarnation's: ignored
        outbox.put_ack(control, 999_999, 0, 1); // not bound here: ignored
        outbox.put_ack(control, ids[0], 0, 1); // actor 0: all four
        rt.flush_outbox(&port);
        let a0 = rt.thread_gone(ids[0], "worker_lost", None).unwrap();
        assert!(
            a0.in_flight.is_none(),
            "all of actor 0's messages were acknowledged"
        );
        let a1 = rt.thread_gone(ids[1], "worker_lost", None).unwrap();
        assert_eq!(a1.in_flight.unwrap(), "[0,0,0,3]");
        let a2 = rt.thread_gone(ids[2], "worker_lost", None).unwrap();
        assert_eq!(
            a2.in_flight.unwrap(),
            "[0,0,0,1]",
            "nothing of actor 2 counted"
        );
    }

    /// An acknowledgement record is read from its bytes; anything malformed is ignored.
    #[test]
    fn acknowledgement_records_parse_or_are_ignored() {
        assert_eq!(parse_ack(7, b"3"), Some((7, 3, 1)));
        assert_eq!(parse_ack(7, b"3,0"), Some((7, 3, 0)));
        assert_eq!(
            parse_ack(7, b"3,16,9007199254740991"),
            Some((9007199254740991, 3, 16))
        );
        for bad in [
            &b""[..],
            b"x",
            b"3,",
            b",1",
            b"3,1,2,4",
            b"-1",
            b"4294967296",
            b"3,1,18446744073709551616",
            b"3 ,1",
        ] {
            assert_eq!(parse_ack(7, bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn whether_a_pooled_actor_holds_boxes_is_per_actor_and_ends_with_its_incarnation() {
        let (rt, _port, _wakes, ids) = setup(2, pooled());
        let sup = rt.actor(ids[0]).unwrap().sup_id;
        rt.create_pool(sup, 2, 64).unwrap();
        assert!(!rt.pool_holds_boxes(ids[0]));
        let pool = rt.pool(sup).unwrap();
        let g = pool.acquire(ids[0], 8, u64::MAX).unwrap();
        assert!(rt.pool_holds_boxes(ids[0]), "a writer holds its box");
        assert!(
            !rt.pool_holds_boxes(ids[1]),
            "its neighbour on the same worker holds nothing"
        );
        pool.commit(g, ids[0], 8, "{}".into(), &[(ids[1], u64::MAX)], u64::MAX)
            .unwrap();
        assert!(rt.pool_holds_boxes(ids[1]), "a reader holds a reference");
        rt.thread_gone(ids[1], "killed", None).unwrap();
        assert!(
            !rt.pool_holds_boxes(ids[1]),
            "its exit gave its reference back"
        );
        assert!(!rt.pool_holds_boxes(999_999));
    }

    /// The stop orders queued on `port`: `(reason, "all" | the ids and incarnations listed)`.
    fn stop_orders(port: &crate::Port) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        while let Some(batch) = port.take_urgent() {
            let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
            for e in v.as_array().unwrap() {
                if e[0].as_u64() == Some(Kind::Stop as u64) {
                    out.push(e[3].clone());
                }
            }
        }
        out
    }

    #[test]
    fn a_shutdown_ends_many_pooled_actors_at_once_and_accounts_every_message_once() {
        use super::Ended;
        let (rt, port, _wakes, ids) = setup(6, pooled());
        let sup = rt.supervisor(rt.actor(ids[0]).unwrap().sup_id).unwrap();
        rt.create_pool(sup.id, 2, 64).unwrap();
        // actor 0 holds a box; actors 1 and 2 have three messages each, of which the worker
        // took a batch and acknowledged one; actor 3 has mail it never took; 4 and 5 are idle
        let pool = rt.pool(sup.id).unwrap();
        let _g = pool.acquire(ids[0], 8, u64::MAX).unwrap();
        for i in 1..=3 {
            rt.send(ids[1], user(10 + i), None, 0).unwrap();
            rt.send(ids[2], user(20 + i), None, 0).unwrap();
        }
        assert_eq!(parse(&rt.pool_take(&port, 10, 10).unwrap()).len(), 2);
        rt.pool_ack(&port, ids[1], 0, 1);
        rt.pool_ack(&port, ids[2], 0, 1);
        rt.send(ids[3], user(31), None, 0).unwrap();
        while sup.port.take_urgent().is_some() {}
        sup.begin_close();
        let unknown = 999_999;
        let mut order: Vec<u64> = ids.iter().rev().copied().collect();
        order.push(unknown);
        let end = rt.pool_end(&order, "shutdown", None, true);
        let finished = Ended::Finished as u8;
        let skipped = Ended::Skipped as u8;
        assert_eq!(
            end.done,
            vec![finished, finished, finished, finished, finished, skipped, skipped],
            "in the order given; the box holder and an unknown id are left to the host"
        );
        assert!(end.plans.is_empty());
        // in flight: the second message of actors 2 and 1 (index 3 and 4 of the order)
        assert_eq!(
            end.in_flight,
            vec![(3, "[0,0,0,22]".to_string()), (4, "[0,0,0,12]".to_string())]
        );
        // the rest: dead letters, each once (actor 3's one, and the third of 2 and 1)
        let mut dead = Vec::new();
        while let Some(batch) = sup.port.take_urgent() {
            let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
            for e in v.as_array().unwrap() {
                assert_eq!(e[0].as_u64(), Some(Kind::DeadLetter as u64));
                assert_eq!(e[3][0], "shutdown");
                dead.push(e[3][1].as_u64().unwrap());
            }
        }
        dead.sort();
        assert_eq!(dead, vec![13, 23, 31]);
        assert_eq!(rt.actor_count(), 1, "only the box holder is left");
        assert_eq!(sup.active(), 1);
        // one stop order for the worker, naming each ended incarnation (one actor is still
        // bound there, so not "all")
        let stops = stop_orders(&port);
        assert_eq!(stops.len(), 1);
        let mut many: Vec<u64> = stops[0]["many"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|p| {
                assert_eq!(p[1], 0, "incarnation 0");
                p[0]
            })
            .collect();
        many.sort();
        let mut want = ids[1..].to_vec();
        want.sort();
        assert_eq!(many, want);
        // the host ends the box holder alone (its worker confirms first), which gives its box back
        assert!(rt.thread_gone(ids[0], "shutdown", None).is_some());
        assert!(rt.finish(ids[0], "shutdown"));
        assert_eq!(rt.actor_count(), 0);
        assert!(!pool.concerns(ids[0]));
    }

    #[test]
    fn a_worker_left_with_nothing_bound_is_told_to_end_every_slot() {
        let (rt, port, _wakes, ids) = setup(3, pooled());
        let sup = rt.supervisor(rt.actor(ids[0]).unwrap().sup_id).unwrap();
        sup.begin_close();
        let end = rt.pool_end(&ids, "shutdown", None, true);
        assert!(end.done.iter().all(|d| *d == super::Ended::Finished as u8));
        let stops = stop_orders(&port);
        assert_eq!(stops.len(), 1);
        assert_eq!(stops[0]["all"], true);
        assert_eq!(stops[0]["reason"], "shutdown");
        assert_eq!(port.member_count(), 0);
    }

    #[test]
    fn a_lost_workers_actors_end_at_once_the_culprit_timeout_the_rest_restarted_mail_kept() {
        use super::Ended;
        let n = 1000;
        let (rt, port, _wakes, ids) = setup(n, pooled());
        let sup = rt.supervisor(rt.actor(ids[0]).unwrap().sup_id).unwrap();
        let temporary = rt
            .spawn(
                sup.id,
                ActorConfig {
                    restart: crate::RestartType::Temporary,
                    ..pooled()
                },
                None,
            )
            .unwrap();
        let inc = rt.bind(temporary.id, port.id, "{}".into()).unwrap();
        rt.pool_ack(&port, temporary.id, inc, 0);
        // every actor has two messages; the worker took them all and handled none
        for id in &ids {
            rt.send(*id, user(1), None, 0).unwrap();
            rt.send(*id, user(2), None, 0).unwrap();
        }
        while rt.pool_take(&port, 4096, 1).is_some() {}
        rt.close_port(port.id); // the thread is gone
        let culprit = ids[n / 2];
        let mut order = vec![culprit];
        order.extend(ids.iter().filter(|id| **id != culprit));
        order.push(temporary.id);
        let end = rt.pool_end(&order, "worker_lost", Some("timeout"), false);
        let restarted = Ended::Restarted as u8;
        assert!(
            end.done[..n].iter().all(|d| *d == restarted),
            "the culprit and every collateral exit restart at once: no intensity (3 in 5 s) exceeded"
        );
        assert_eq!(
            end.done[n],
            Ended::Finished as u8,
            "a temporary actor is not restarted"
        );
        assert!(end.plans.is_empty());
        assert_eq!(
            end.in_flight.len(),
            n,
            "each had its first message in flight"
        );
        assert!(end.in_flight.iter().all(|(_, m)| m == "[0,0,0,1]"));
        let d: serde_json::Value = serde_json::from_str(
            &rt.supervisor_diagnostics(sup.id, crate::ActorsView::None)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(d["restarts"], n as u64);
        let a = rt.actor(culprit).unwrap();
        assert_eq!(a.incarnation(), 1);
        assert!(a.diagnostics(None)["lastError"] == "timeout");
        let other = rt.actor(ids[0]).unwrap();
        assert!(
            other.diagnostics(None)["lastError"].is_null(),
            "worker_lost is no error of its own"
        );
        // placed on a fresh worker, each gets the rest of its mail
        let fresh = rt.new_pool_port();
        let incs = rt.pool_bind(&ids, fresh.id, "{}");
        assert!(incs.iter().all(|i| *i == 1.0));
        for id in &ids {
            rt.pool_ack(&fresh, *id, 1, 0);
        }
        let mut got = 0;
        while let Some(batch) = rt.pool_take(&fresh, 4096, 10) {
            for (_, bodies) in parse(&batch) {
                assert_eq!(bodies, vec![2]);
                got += 1;
            }
        }
        assert_eq!(got, n);
        assert!(
            stop_orders(&fresh).is_empty(),
            "no stop order for a worker that is gone"
        );
    }

    #[test]
    fn an_actor_is_not_ready_until_its_start_up_is_acknowledged() {
        let rt: &'static Runtime = Box::leak(Box::new(Runtime::new()));
        let sup = rt.create_supervisor(config());
        let port = rt.new_pool_port();
        let a = rt.spawn(sup.id, pooled(), None).unwrap();
        rt.send(a.id, user(1), None, 0).unwrap();
        let inc = rt.bind(a.id, port.id, "{}".into()).unwrap();
        assert!(rt.pool_take(&port, 10, 10).is_none(), "init runs first");
        rt.pool_ack(&port, a.id, inc, 0);
        assert_eq!(
            parse(&rt.pool_take(&port, 10, 10).unwrap()),
            vec![(a.id, vec![1])]
        );
    }
}
