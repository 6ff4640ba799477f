//! Pool workers: the calls of a thread that runs many pooled actors (its batches and
//! acknowledgements), and the per-actor variants of what an isolated actor does through its
//! bound actor. Each names the actor it acts as, and is refused unless that actor is bound to
//! the calling thread's port: a thread can only act as its own actors (`from` cannot be forged).

use crate::entry::{guard, guard_try, id, invalid};
use crate::messages::send_code;
use crate::supervision::{actor_config, plan_json, SpawnConfig};
use crate::thread::{current, deliver, flush_current};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;
use warden_core::actor::Actor;
use warden_core::envelope::json_string;
use warden_core::{runtime, Envelope, Kind};

/// The actor `actor_id` if it is bound to this thread's (pool) port.
pub(crate) fn member(actor_id: f64) -> Option<Arc<Actor>> {
    current()?.member(id(actor_id)).and_then(Actor::from_bound)
}

/// Host: registers the port of a new pool worker (before its thread starts); returns its id.
#[napi(catch_unwind)]
pub fn new_pool_port() -> Result<f64> {
    guard("newPoolPort", || runtime().new_pool_port().id as f64)
}

/// Host: creates `count` actors with one set of options (pooled ones, for `spawnMany`) and
/// returns their ids (a Float64Array: one copy, not one JS value per actor). All or nothing:
/// throws with the reason when one is refused.
#[napi(catch_unwind)]
pub fn spawn_many(sup_id: f64, config: SpawnConfig, count: u32) -> Result<Float64Array> {
    guard_try("spawnMany", || {
        let group = config.group.map(id);
        let cfg = actor_config(config)?;
        runtime()
            .spawn_many(id(sup_id), &cfg, group, count as usize)
            .map(|ids| Float64Array::new(ids.into_iter().map(|a| a as f64).collect()))
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    })
}

/// Host: starts an incarnation of each of `actor_ids` on the pool worker of `port_id`, all
/// with one start order carrying `spec` (JSON). Returns their incarnations (-1: gone). Plain
/// arrays: most calls bind one actor (a restart), where a typed array costs more than it saves.
#[napi(catch_unwind)]
pub fn pool_bind(actor_ids: Vec<f64>, port_id: f64, spec: String) -> Result<Vec<f64>> {
    guard("poolBind", || {
        let ids: Vec<u64> = actor_ids.into_iter().map(id).collect();
        runtime().pool_bind(&ids, id(port_id), &spec)
    })
}

/// Pool worker: the next batch, a flat JSON array `[actorId,incarnation,n, kind,body, …]` (a
/// call `kind,body,corr,replyPort`; crate/src/pooled.rs), of at most
/// `max_actors` ready actors with at most `per_actor` messages each; null if none is ready.
#[napi(catch_unwind)]
pub fn pool_take(max_actors: u32, per_actor: u32) -> Result<Option<String>> {
    guard("poolTake", || {
        flush_current();
        let port = current()?;
        runtime().pool_take(&port, max_actors as usize, per_actor as usize)
    })
}

/// Pool worker: `n` more messages of `actor_id`'s incarnation `incarnation` are handled (0:
/// its start-up code is done and it may get mail). False if the actor is not bound here.
#[napi(catch_unwind)]
pub fn pool_ack(actor_id: f64, incarnation: u32, n: u32) -> Result<bool> {
    guard("poolAck", || {
        flush_current();
        current().is_some_and(|p| runtime().pool_ack(&p, id(actor_id), incarnation, n as usize))
    })
}

/// Pool worker: `actor_id` finished a call: counts it handled (as [`pool_ack`] with 1), then
/// sends its reply, in one native call, so the end of the incarnation can land before both or
/// after both: a call whose reply was sent is never also reported as in flight.
#[napi(catch_unwind)]
pub fn pool_reply(
    actor_id: f64,
    incarnation: u32,
    reply_port: f64,
    corr: f64,
    body: String,
) -> Result<bool> {
    guard("poolReply", || {
        flush_current();
        if let Some(p) = current() {
            runtime().pool_ack(&p, id(actor_id), incarnation, 1);
        }
        runtime().reply(id(reply_port), corr as u64, body)
    })
}

/// Pool worker: `actor_id` emits a Tier 1 message (`[msg,data]` JSON) to the host; also an
/// implicit heartbeat.
#[napi(catch_unwind)]
pub fn pool_emit(actor_id: f64, body: String) -> Result<bool> {
    guard("poolEmit", || {
        flush_current();
        member(actor_id).is_some_and(|a| runtime().emit(&a, body))
    })
}

/// Pool worker: `actor_id`'s incarnation ends with `reason` (the host ends it).
#[napi(catch_unwind)]
pub fn pool_exit(actor_id: f64, reason: String) -> Result<bool> {
    guard("poolExit", || {
        flush_current();
        member(actor_id).is_some_and(|a| runtime().host_event(&a, Kind::Exit, json_string(&reason)))
    })
}

/// Pool worker: `actor_id` asks the host to act for it (spawn a child, crash policy…); the
/// answer comes back to this thread with `corr`.
#[napi(catch_unwind)]
pub fn pool_request(actor_id: f64, corr: f64, body: String) -> Result<bool> {
    guard("poolRequest", || {
        flush_current();
        member(actor_id).is_some_and(|a| {
            runtime().host_event(&a, Kind::Request, format!("[{},{}]", corr as u64, body))
        })
    })
}

/// Pool worker: `actor_id` records a heartbeat.
#[napi(catch_unwind)]
pub fn pool_heartbeat(actor_id: f64, now_ms: f64) -> Result<bool> {
    guard("poolHeartbeat", || match member(actor_id) {
        Some(a) => {
            runtime().heartbeat(&a, now_ms);
            true
        }
        None => false,
    })
}

/// Pool worker: `actor_id` sends a user message to `target`. Returns the codes of `send`;
/// throws if `actor_id` is not bound to this thread.
#[napi(catch_unwind)]
pub fn pool_send(actor_id: f64, target: f64, body: String) -> Result<u32> {
    guard_try("poolSend", || {
        flush_current();
        let a = member(actor_id).ok_or_else(|| invalid("poolSend: not an actor of this thread"))?;
        let env = Envelope::new(Kind::User, a.id, 0, body);
        Ok(send_code(deliver(id(target), env, None, a.sup_id)))
    })
}

/// Pool worker: `actor_id` calls `target`; the reply comes to this thread with `corr`.
#[napi(catch_unwind)]
pub fn pool_call(actor_id: f64, target: f64, corr: f64, body: String) -> Result<u32> {
    guard_try("poolCall", || {
        flush_current();
        let a = member(actor_id).ok_or_else(|| invalid("poolCall: not an actor of this thread"))?;
        let port = current().ok_or_else(|| invalid("poolCall: not a worker thread"))?;
        let env = Envelope::call(a.id, corr as u64, body, port.id);
        Ok(send_code(deliver(id(target), env, None, a.sup_id)))
    })
}

/// Host: stops pooled actor `actor_id`'s current incarnation on its worker. `body` (JSON) is
/// the reason (a string: the worker drops the slot between messages), or `{ reason, polite,
/// confirm }`: `polite` runs `onTerminate` first and the worker reports the exit itself;
/// `confirm` asks the worker to say when it dropped the slot and detached its views of box
/// memory. False if it has no worker.
#[napi(catch_unwind)]
pub fn pool_stop(actor_id: f64, body: String) -> Result<bool> {
    guard("poolStop", || {
        flush_current();
        let Some(a) = runtime().actor(id(actor_id)) else {
            return false;
        };
        let env = Envelope::new(Kind::Stop, a.id, a.incarnation() as u64, body);
        a.port().is_some_and(|p| p.push_urgent(env))
    })
}

/// Host: whether pooled actor `actor_id` writes, reads or waits for a box (its worker must
/// detach its views before its boxes go back to the pool).
#[napi(catch_unwind)]
pub fn pool_holds_boxes(actor_id: f64) -> Result<bool> {
    guard("poolHoldsBoxes", || {
        runtime().pool_holds_boxes(id(actor_id))
    })
}

/// Host: lets pooled parent `parent_id`'s incarnation `incarnation` spawn children with
/// `config` (validated options) in `group` from its own worker (`poolSpawn`), without asking
/// the host each time. Returns the template's id.
#[napi(catch_unwind)]
pub fn pool_template(
    sup_id: f64,
    parent_id: f64,
    incarnation: u32,
    config: SpawnConfig,
) -> Result<f64> {
    guard_try("poolTemplate", || {
        let group = config
            .group
            .map(id)
            .ok_or_else(|| invalid("poolTemplate: config.group is required"))?;
        let cfg = actor_config(config)?;
        let t = warden_core::pooled::SpawnTemplate {
            sup_id: id(sup_id),
            config: cfg,
            group,
            parent: id(parent_id),
            parent_inc: incarnation,
        };
        Ok(runtime().pool_template(t) as f64)
    })
}

/// Host: forgets templates of supervisor `sup_id` (their parent incarnation ended); its port
/// gets a `forgotten` request behind their last `spawned` one.
#[napi(catch_unwind)]
pub fn pool_forget(sup_id: f64, template_ids: Vec<f64>) -> Result<()> {
    guard("poolForget", || {
        let ids: Vec<u64> = template_ids.into_iter().map(id).collect();
        runtime().pool_forget(id(sup_id), &ids);
    })
}

/// Pool worker: `parent_id` (bound here) spawns `count` children from template `template_id`,
/// bound to this worker; the host hears of them in one request. `ready`: they have no start-up
/// code and may get mail at once. Returns `[id, incarnation, …]` (a Float64Array); throws with
/// the reason when nothing was created.
#[napi(catch_unwind)]
pub fn pool_spawn(
    parent_id: f64,
    template_id: f64,
    count: u32,
    ready: bool,
) -> Result<Float64Array> {
    guard_try("poolSpawn", || {
        flush_current();
        let port = current().ok_or_else(|| invalid("poolSpawn: not a worker thread"))?;
        runtime()
            .pool_spawn(&port, id(parent_id), id(template_id), count as usize, ready)
            .map(Float64Array::new)
            .map_err(|e| Error::new(Status::GenericFailure, e))
    })
}

/// What [`pool_end`] did, compactly: nothing per actor beyond one byte unless it had a message
/// in flight or a plan of its own.
#[napi(object)]
pub struct PoolEnded {
    /// Per actor, in the order given: 0 left alone (the host ends it by itself), 1 restarted
    /// now (to be placed), 2 ended for good, 3 ended with a plan (in `plans`).
    pub done: Uint8Array,
    /// Indices of the actors that had a message in flight, in order.
    pub in_flight_at: Vec<u32>,
    /// Those messages (`[kind,from,corr,body]` JSON), in the same order.
    pub in_flight: Vec<String>,
    /// The plans of the actors marked 3, in order (JSON, as `threadGone`'s).
    pub plans: Vec<String>,
}

/// Host: ends the current incarnations of many pooled actors in one call, each as
/// `threadGone` would, carrying out the usual plans itself (a restart now, or the end for
/// good): `actor_ids[0]` with `culprit` as its reason when given (a lost worker's culprit),
/// the others with `reason`. `worker_alive`: their workers still run (a shutdown): each gets
/// one stop order, and actors holding boxes are left to the host.
#[napi(catch_unwind)]
pub fn pool_end(
    actor_ids: Float64Array,
    reason: String,
    culprit: Option<String>,
    worker_alive: bool,
) -> Result<PoolEnded> {
    guard("poolEnd", || {
        let ids: Vec<u64> = actor_ids.iter().map(|n| id(*n)).collect();
        let end = runtime().pool_end(&ids, &reason, culprit.as_deref(), worker_alive);
        let (in_flight_at, in_flight) = end
            .in_flight
            .into_iter()
            .map(|(i, text)| (i as u32, text))
            .unzip();
        PoolEnded {
            done: Uint8Array::new(end.done),
            in_flight_at,
            in_flight,
            plans: end.plans.iter().map(|(_, p)| plan_json(p)).collect(),
        }
    })
}
