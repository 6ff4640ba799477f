//! Tier 2 operations of the runtime: pools per supervisor, writes with FIFO waiting,
//! authorisation by share mode, `INBOX` delivery, releases, and lease expiry driven by the
//! timer thread.

use crate::actor::Actor;
use crate::envelope::{json_string, Envelope, Kind};
use crate::metrics::{Metric, Tracker};
use crate::pool::{Grant, Pool, PoolError, Waiter, HOST};
use crate::runtime::Runtime;
use crate::supervisor::Supervisor;
use std::sync::Arc;

/// Who may read a committed box besides its writer and the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Share {
    /// Nobody else.
    Owner,
    /// The writer's group (and its subgroups).
    Group,
    /// The actors linked to the writer.
    Linked,
    /// Every actor of the supervisor.
    All,
    /// These actors.
    List(Vec<u64>),
}

/// Outcome of a write request.
#[derive(Debug, PartialEq, Eq)]
pub enum Acquired {
    /// A box now.
    Granted(Grant),
    /// Queued: a `BoxGrant` envelope will answer on the caller's port.
    Queued,
}

fn ns(ms: u64) -> u64 {
    ms.saturating_mul(1_000_000)
}

impl Runtime {
    /// Gives supervisor `sup_id` a pool of `count` boxes of `box_size` bytes.
    pub fn create_pool(&self, sup_id: u64, count: usize, box_size: usize) -> Result<(), String> {
        let sup = self.supervisor(sup_id).ok_or("unknown supervisor")?;
        let pool = Pool::new(count, box_size).map_err(|e| format!("memory pool: {e}"))?;
        sup.pool
            .set(Arc::new(pool))
            .map_err(|_| "the supervisor already has a pool".to_string())
    }

    /// The pool of a supervisor.
    pub fn pool(&self, sup_id: u64) -> Option<Arc<Pool>> {
        self.supervisor(sup_id)?.pool.get().cloned()
    }

    /// The metrics tracker of a supervisor, if it tracks any.
    fn tracker(&self, sup_id: u64) -> Option<Arc<Tracker>> {
        self.supervisor(sup_id)?.metrics.get().cloned()
    }

    /// The committed bytes (address, length) and `{msg,type}` JSON of a box `holder` may
    /// read; `None` when it may not (stale, forged, unauthorised, released). Counted as an
    /// authorisation when the supervisor tracks them.
    pub fn box_read(
        &'static self,
        sup_id: u64,
        grant: Grant,
        holder: u64,
    ) -> Option<(Arc<Pool>, *mut u8, usize, String)> {
        let sup = self.supervisor(sup_id)?;
        let pool = sup.pool.get()?;
        let lease = self.read_lease(holder);
        let read = pool.read(grant, holder, lease);
        if let Some(m) = sup.metrics.get() {
            m.authorised(read.is_some());
        }
        if read.is_some() && holder != HOST {
            self.timer().armed(lease); // a writer reading its own box holds it under its lease
        }
        let (data, len, meta) = read?;
        Some((pool.clone(), data, len, meta))
    }

    /// The lease deadline of a reference `holder` takes by reading a box: none for the host,
    /// its own lease for an actor (the writer reading its own box).
    pub fn read_lease(&self, holder: u64) -> u64 {
        if holder == HOST {
            u64::MAX
        } else {
            self.lease_of(holder)
        }
    }

    fn lease_of(&self, holder: u64) -> u64 {
        let ms = self
            .actor(holder)
            .map_or(u64::MAX / 2_000_000, |a| a.config.lease_ms);
        self.now_ns().saturating_add(ns(ms))
    }

    /// A box for `holder` to write `size` bytes into. Without a free box: queued (answered on
    /// `port` with `corr`, or with `null` after `timeout_ms`) when `wait`, else `Full`.
    #[allow(clippy::too_many_arguments)]
    pub fn box_acquire(
        &'static self,
        sup_id: u64,
        holder: u64,
        size: usize,
        wait: bool,
        timeout_ms: u64,
        port: u64,
        corr: u64,
    ) -> Result<Acquired, PoolError> {
        let pool = self.pool(sup_id).ok_or(PoolError::NoPool)?;
        let lease = self.lease_of(holder);
        let tracker = self
            .tracker(sup_id)
            .filter(|m| m.wants(Metric::WriteQueueWait));
        match pool.acquire(holder, size, lease) {
            Ok(g) => {
                if let Some(m) = tracker {
                    m.record(Metric::WriteQueueWait, 0.0);
                }
                self.timer().armed(lease);
                Ok(Acquired::Granted(g))
            }
            Err(PoolError::Full) if wait => {
                let deadline = if timeout_ms == 0 {
                    u64::MAX
                } else {
                    self.now_ns().saturating_add(ns(timeout_ms))
                };
                pool.wait(Waiter {
                    holder,
                    port,
                    corr,
                    deadline,
                    since: tracker.map_or(0, |m| m.now_ns()),
                });
                self.timer().armed(deadline);
                Ok(Acquired::Queued)
            }
            Err(e) => Err(e),
        }
    }

    /// Answers the waiters a freed box of supervisor `sup_id`'s `pool` now serves.
    fn serve(&'static self, sup_id: u64, pool: &Pool, granted: Vec<(Waiter, Grant)>) {
        if granted.is_empty() {
            return;
        }
        let tracker = self.tracker(sup_id);
        for (w, g) in granted {
            let lease = self.lease_of(w.holder);
            pool.relet(g, w.holder, lease);
            if let Some(m) = tracker.as_ref().filter(|_| w.since != 0) {
                m.record_since(Metric::WriteQueueWait, w.since);
            }
            if let Some(p) = self.port(w.port) {
                let body = format!("[{},{}]", g.index, g.epoch);
                p.push_urgent(Envelope::new(Kind::BoxGrant, 0, w.corr, body));
            }
            self.timer().armed(lease);
        }
    }

    /// The readers a share mode names, each with its own lease deadline. Internal actors are
    /// never readers unless listed; listed actors must be live actors of this supervisor.
    fn readers(
        &self,
        sup: &Supervisor,
        writer: u64,
        share: &Share,
    ) -> Result<Vec<(u64, u64)>, String> {
        let ours = |id: &u64| self.actor(*id).is_some_and(|a| a.sup_id == sup.id);
        let visible = |id: &u64| self.actor(*id).is_some_and(|a| !a.config.internal);
        let ids: Vec<u64> = match share {
            Share::Owner => Vec::new(),
            Share::All => sup
                .children()
                .iter()
                .filter(|a| !a.config.internal)
                .map(|a| a.id)
                .collect(),
            Share::Group => match sup.group_of(writer) {
                Some(g) => sup.actors_in(g).into_iter().filter(visible).collect(),
                None => Vec::new(),
            },
            Share::Linked => self.linked_to(writer).into_iter().filter(visible).collect(),
            Share::List(ids) => {
                if let Some(bad) = ids.iter().find(|id| !ours(id)) {
                    return Err(format!("share: unknown actor actor-{bad}"));
                }
                ids.clone()
            }
        };
        Ok(ids
            .into_iter()
            .filter(|id| *id != writer)
            .map(|id| (id, self.lease_of(id)))
            .collect())
    }

    /// Publishes a box written by `writer` and delivers `INBOX` to every authorised reader.
    /// `meta` is the JSON object `{ msg, type }` readers get with the handle.
    pub fn box_commit(
        &'static self,
        sup_id: u64,
        writer: u64,
        grant: Grant,
        len: usize,
        meta: &str,
        share: &Share,
    ) -> Result<(), String> {
        let sup = self.supervisor(sup_id).ok_or("unknown supervisor")?;
        let pool = sup
            .pool
            .get()
            .ok_or_else(|| PoolError::NoPool.to_string())?;
        let readers = self.readers(&sup, writer, share)?;
        let lease = self.lease_of(writer);
        pool.commit(grant, writer, len, meta.to_string(), &readers, lease)
            .map_err(|e| e.to_string())?;
        if let Some(m) = sup.metrics.get().filter(|m| m.wants(Metric::RefCounts)) {
            m.record(Metric::RefCounts, readers.len() as f64); // the writer holds none
        }
        self.timer().armed(lease);
        let from = if writer == HOST {
            "host".to_string()
        } else {
            format!("actor-{writer}")
        };
        let body = format!(
            r#"{{"msg":"INBOX","inbox":{{"meta":{meta},"handle":{{"boxIndex":{},"epoch":{}}},"from":{}}}}}"#,
            grant.index,
            grant.epoch,
            json_string(&from)
        );
        for (r, reader_lease) in readers {
            self.timer().armed(reader_lease);
            if let Some(a) = self.actor(r) {
                let env = Envelope::new(Kind::System, writer, 0, body.clone());
                if self.deliver(&a, env, None).is_err() {
                    self.serve(sup_id, pool, pool.release(grant, r, lease).1);
                }
            }
        }
        Ok(())
    }

    /// Gives up a box being written.
    pub fn box_abort(&'static self, sup_id: u64, writer: u64, grant: Grant) {
        if let Some(pool) = self.pool(sup_id) {
            let lease = self.lease_of(writer);
            self.serve(sup_id, &pool, pool.abort(grant, writer, lease));
        }
    }

    /// `holder` gives its reference back (its views are detached).
    pub fn box_release(&'static self, sup_id: u64, holder: u64, grant: Grant) -> bool {
        let Some(pool) = self.pool(sup_id) else {
            return false;
        };
        let (released, served) = pool.release(grant, holder, self.lease_of(holder));
        self.serve(sup_id, &pool, served);
        released
    }

    /// Everything `actor` held ends with its incarnation.
    pub(crate) fn release_boxes_of(&'static self, sup: &Supervisor, actor: &Actor) {
        if let Some(pool) = sup.pool.get().filter(|p| p.concerns(actor.id)) {
            // (most actors hold nothing: no lease to look up for them)
            let lease = self.lease_of(actor.id);
            self.serve(actor.sup_id, pool, pool.holder_gone(actor.id, lease));
        }
    }

    /// A heartbeat extends the leases of what `actor` holds.
    pub(crate) fn extend_leases(&'static self, actor: &Actor) {
        if let Some(pool) = self.pool(actor.sup_id) {
            let lease = self.lease_of(actor.id);
            // Only a lease that moved needs the timer to know; an actor that holds nothing (most
            // heartbeats, and every `self.send` is one) must not wake the timer thread.
            if pool.extend(actor.id, lease) {
                self.timer().armed(lease);
            }
        }
    }

    /// Timer tick: expires leases and waits of every pool; returns the next deadline.
    pub(crate) fn expire_boxes(&'static self, now: u64) -> u64 {
        let mut next = u64::MAX;
        for sup in self.supervisors() {
            let Some(pool) = sup.pool.get() else { continue };
            let (mut expired, n) = pool.expire(now);
            next = next.min(n);
            self.serve(sup.id, pool, std::mem::take(&mut expired.served));
            for (writer, index) in expired.writers {
                if let Some(a) = self.actor(writer) {
                    self.host_event(&a, Kind::Exit, json_string("lease_expired"));
                    let body = format!(r#"[{index},0,"writer"]"#);
                    sup.port
                        .push_urgent(Envelope::new(Kind::LeaseExpired, writer, 0, body));
                }
            }
            for (reader, g) in expired.readers {
                let body = format!("[{},{}]", g.index, g.epoch);
                let port = self.actor(reader).and_then(|a| a.port());
                match port {
                    Some(p) => {
                        // (`from` names the reader: a pool worker holds views for many actors)
                        p.push_urgent(Envelope::new(Kind::Revoke, reader, 0, body));
                    }
                    None => self.serve(sup.id, pool, pool.release(g, reader, now).1),
                }
                let report = format!(r#"[{},{},"reader"]"#, g.index, g.epoch);
                sup.port
                    .push_urgent(Envelope::new(Kind::LeaseExpired, reader, 0, report));
            }
            for w in expired.waiters {
                if let Some(p) = self.port(w.port) {
                    p.push_urgent(Envelope::new(Kind::BoxGrant, 0, w.corr, "null"));
                }
            }
        }
        next
    }
}
