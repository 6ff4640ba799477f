//! Supervisors, groups, actors' lifecycles and exit plans: the host-side part of the binding.

use crate::entry::{guard, guard_try, id, invalid};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::time::Duration;
use warden_core::metrics::Metric;
use warden_core::{
    runtime, ActorConfig, ActorsView, Backoff, BackoffKind, Decision, Envelope, GroupConfig, Kind,
    Op, Overflow, RestartType, RetryConfig, Strategy, SupervisorConfig,
};

/// Options of `spawn` as the JS layer validated them.
#[napi(object)]
pub struct SpawnConfig {
    /// Registered name.
    pub name: Option<String>,
    /// Per-message deadline (0: none).
    pub timeout_ms: f64,
    /// Heartbeat watchdog (0: none).
    pub heartbeat_ms: f64,
    /// `permanent` | `transient` | `temporary`.
    pub restart: String,
    /// Mailbox capacity (0: unbounded).
    pub capacity: f64,
    /// `reject` | `drop-oldest`.
    pub overflow: String,
    /// The group (the root group when absent).
    pub group: Option<f64>,
    /// Runtime-internal actor (task threads): outside `maxActors` and the actor counters.
    pub internal: Option<bool>,
    /// Tier 2 lease (ms).
    pub lease_ms: Option<f64>,
    /// A pooled actor (runs on a pool worker) rather than an isolated one.
    pub pooled: Option<bool>,
}

/// The core's actor settings from the spawn options the JS layer validated.
pub(crate) fn actor_config(config: SpawnConfig) -> Result<ActorConfig> {
    let restart = RestartType::parse(&config.restart)
        .ok_or_else(|| invalid(format!("unknown restart type {}", config.restart)))?;
    let overflow = match config.overflow.as_str() {
        "reject" => Overflow::Reject,
        "drop-oldest" => Overflow::DropOldest,
        other => return Err(invalid(format!("unknown overflow {other}"))),
    };
    Ok(ActorConfig {
        name: config.name,
        timeout_ms: config.timeout_ms as u64,
        heartbeat_ms: config.heartbeat_ms as u64,
        internal: config.internal.unwrap_or(false),
        lease_ms: config.lease_ms.map_or(5000, |ms| ms as u64),
        restart,
        capacity: if config.capacity > 0.0 {
            config.capacity as usize
        } else {
            usize::MAX
        },
        overflow,
        pooled: config.pooled.unwrap_or(false),
    })
}

/// Creates a supervised actor and returns its id. Throws with the reason when refused.
#[napi(catch_unwind)]
pub fn spawn(sup_id: f64, config: SpawnConfig) -> Result<f64> {
    guard_try("spawn", || {
        let group = config.group.map(id);
        let cfg = actor_config(config)?;
        runtime()
            .spawn(id(sup_id), cfg, group)
            .map(|a| a.id as f64)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    })
}

/// Starts an incarnation of an actor on a port's thread. Returns the incarnation.
#[napi(catch_unwind)]
pub fn bind(actor_id: f64, port_id: f64, init: String) -> Result<Option<u32>> {
    guard("bind", || runtime().bind(id(actor_id), id(port_id), init))
}

/// Host: asks the actor's current incarnation to stop politely with `reason` (it stops taking
/// messages, runs `onTerminate`, then reports its end). False if it has no thread.
#[napi(catch_unwind)]
pub fn stop_actor(actor_id: f64, reason: String) -> Result<bool> {
    guard("stopActor", || {
        let body = warden_core::envelope::json_string(&reason);
        runtime()
            .actor(id(actor_id))
            .and_then(|a| a.port())
            .is_some_and(|p| p.push_urgent(Envelope::new(Kind::Stop, 0, 0, body)))
    })
}

/// Host: counts a restart; returns the new incarnation.
#[napi(catch_unwind)]
pub fn restart(actor_id: f64) -> Result<Option<u32>> {
    guard("restart", || runtime().restart(id(actor_id)))
}

/// Host: the actor is dead for good; its undelivered mail is reported as dead letters.
#[napi(catch_unwind)]
pub fn finish(actor_id: f64, reason: String) -> Result<bool> {
    guard("finish", || runtime().finish(id(actor_id), &reason))
}

/// Host: the next exit of this actor is final (terminate, shutdown).
#[napi(catch_unwind)]
pub fn request_stop(actor_id: f64) -> Result<()> {
    guard("requestStop", || {
        if let Some(a) = runtime().actor(id(actor_id)) {
            a.request_stop();
        }
    })
}

/// Host: shutdown began; no more spawns or restarts.
#[napi(catch_unwind)]
pub fn begin_close(sup_id: f64) -> Result<()> {
    guard("beginClose", || {
        if let Some(s) = runtime().supervisor(id(sup_id)) {
            s.begin_close();
        }
    })
}

/// Host: shutdown finished; forget the supervisor and close its port.
#[napi(catch_unwind)]
pub fn drop_supervisor(sup_id: f64) -> Result<()> {
    guard("dropSupervisor", || {
        runtime().drop_supervisor(id(sup_id));
    })
}

/// Looks a registered name up in a supervisor.
#[napi(catch_unwind)]
pub fn whereis(sup_id: f64, name: String) -> Result<Option<f64>> {
    guard("whereis", || {
        runtime()
            .supervisor(id(sup_id))?
            .whereis(&name)
            .map(|v| v as f64)
    })
}

/// The current incarnation of a live actor.
#[napi(catch_unwind)]
pub fn incarnation(actor_id: f64) -> Result<Option<u32>> {
    guard("incarnation", || {
        runtime().actor(id(actor_id)).map(|a| a.incarnation())
    })
}

/// Which actors `supervisorDiagnostics` lists, as the JS layer validated `options.actors`.
#[napi(object)]
pub struct ActorsOption {
    /// `all` | `none` | `summary` | `page`.
    pub mode: String,
    /// First position of a page.
    pub offset: Option<f64>,
    /// Size of a page.
    pub limit: Option<f64>,
}

/// Supervisor diagnostics (JSON); every actor when `actors` is absent.
#[napi(catch_unwind)]
pub fn supervisor_diagnostics(sup_id: f64, actors: Option<ActorsOption>) -> Result<Option<String>> {
    guard_try("supervisorDiagnostics", || {
        let view = match actors {
            None => ActorsView::All,
            Some(a) => match a.mode.as_str() {
                "all" => ActorsView::All,
                "none" => ActorsView::None,
                "summary" => ActorsView::Summary,
                "page" => ActorsView::Page {
                    offset: a.offset.unwrap_or(0.0) as usize,
                    limit: a.limit.unwrap_or(0.0) as usize,
                },
                other => {
                    return Err(invalid(format!(
                        "supervisorDiagnostics: unknown mode {other:?}"
                    )))
                }
            },
        };
        Ok(runtime().supervisor_diagnostics(id(sup_id), view))
    })
}

/// Actor diagnostics (JSON), none once it is dead for good.
#[napi(catch_unwind)]
pub fn actor_diagnostics(actor_id: f64) -> Result<Option<String>> {
    guard("actorDiagnostics", || {
        runtime().actor_diagnostics(id(actor_id))
    })
}

/// Process-wide counts, for leak checks.
#[napi(object)]
pub struct CoreStats {
    /// Registered ports (threads known to the core plus supervisor ports).
    pub ports: u32,
    /// Actors not dead for good.
    pub actors: u32,
}

/// Process-wide counts, for leak checks.
#[napi(catch_unwind)]
pub fn core_stats() -> Result<CoreStats> {
    guard("coreStats", || CoreStats {
        ports: runtime().port_count() as u32,
        actors: runtime().actor_count() as u32,
    })
}
/// A group's settings as the JS layer validated them.
#[napi(object)]
pub struct GroupSpec {
    /// `one-for-one` | `one-for-all` | `rest-for-one`.
    pub strategy: String,
    /// Restarts allowed within `within_ms`; < 0 or non-finite: unlimited.
    pub max: f64,
    /// Intensity window.
    pub within_ms: f64,
    /// `fixed` | `linear` | `exponential`, or none for immediate restarts.
    pub backoff: Option<String>,
    /// Base delay.
    pub delay_ms: f64,
    /// Delay cap.
    pub max_delay_ms: f64,
    /// Random spread 0..1.
    pub jitter: f64,
    /// Runtime-internal group (task threads): not shown by `inspect`.
    pub internal: Option<bool>,
}

fn group_config(spec: &GroupSpec) -> Result<GroupConfig> {
    let invalid = |what: &str| Error::new(Status::InvalidArg, what.to_string());
    let strategy = Strategy::parse(&spec.strategy).ok_or_else(|| invalid("unknown strategy"))?;
    let backoff = match &spec.backoff {
        None => None,
        Some(kind) => Some(Backoff {
            kind: BackoffKind::parse(kind).ok_or_else(|| invalid("unknown backoff"))?,
            delay_ms: spec.delay_ms,
            max_delay_ms: spec.max_delay_ms,
            jitter: spec.jitter,
        }),
    };
    let max = if spec.max < 0.0 || !spec.max.is_finite() {
        u32::MAX
    } else {
        spec.max as u32
    };
    Ok(GroupConfig {
        strategy,
        retry: RetryConfig {
            max,
            within: Duration::from_millis(spec.within_ms as u64),
        },
        backoff,
        internal: spec.internal.unwrap_or(false),
    })
}

/// Ids of a new supervisor, its host port and its root group.
#[napi(object)]
pub struct SupervisorIds {
    /// Supervisor id.
    pub id: f64,
    /// Its host port.
    pub port: f64,
    /// Its root group.
    pub root: f64,
}

/// Creates a supervisor whose root group has `root` settings and which samples the core
/// metrics named in `track` (others are ignored: the JS layer measures them) at `sample_rate`.
#[napi(catch_unwind)]
pub fn create_supervisor(
    max_actors: u32,
    root: GroupSpec,
    track: Vec<String>,
    sample_rate: f64,
) -> Result<SupervisorIds> {
    guard_try("createSupervisor", || {
        let sup = runtime().create_supervisor(SupervisorConfig {
            max_actors: max_actors as usize,
            root: group_config(&root)?,
        });
        let metrics: Vec<Metric> = track.iter().filter_map(|t| Metric::parse(t)).collect();
        runtime().track(sup.id, &metrics, sample_rate);
        Ok(SupervisorIds {
            id: sup.id as f64,
            port: sup.port.id as f64,
            root: sup.root_group() as f64,
        })
    })
}

/// Creates a group under `parent`; returns its id.
#[napi(catch_unwind)]
pub fn create_group(sup_id: f64, parent: f64, spec: GroupSpec) -> Result<f64> {
    guard_try("createGroup", || {
        runtime()
            .create_group(sup_id as u64, parent as u64, group_config(&spec)?)
            .map(|g| g as f64)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    })
}

/// The live supervision tree (JSON).
#[napi(catch_unwind)]
pub fn inspect(sup_id: f64) -> Result<Option<String>> {
    guard("inspect", || runtime().inspect(sup_id as u64))
}

/// Actors of a group and its subgroups, in start order.
#[napi(catch_unwind)]
pub fn actors_in(sup_id: f64, group: f64) -> Result<Vec<f64>> {
    guard("actorsIn", || {
        runtime()
            .supervisor(sup_id as u64)
            .map(|s| {
                s.actors_in(group as u64)
                    .into_iter()
                    .map(|a| a as f64)
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The group an actor belongs to.
#[napi(catch_unwind)]
pub fn group_of(sup_id: f64, actor_id: f64) -> Result<Option<f64>> {
    guard("groupOf", || {
        runtime()
            .supervisor(sup_id as u64)?
            .group_of(actor_id as u64)
            .map(|g| g as f64)
    })
}

/// Registers `name` for a live actor; throws if the name (or the actor) already has one.
#[napi(catch_unwind)]
pub fn register(actor_id: f64, name: String) -> Result<()> {
    guard_try("register", || {
        runtime()
            .register(actor_id as u64, &name)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    })
}

/// What the host must do after an incarnation's thread is gone.
#[napi(object)]
pub struct ExitOutcome {
    /// The plan as JSON: `[["stop",id,reason] | ["start",id,delayMs] | ["finish",id,reason]
    /// | ["escalate",group,reason] | ["gaveUp",reason], …]`, to carry out in order.
    pub plan: String,
    /// The incarnation that ended.
    pub incarnation: u32,
    /// The message it was handling (`[kind,from,corr,body]` JSON).
    pub in_flight: Option<String>,
}

pub(crate) fn plan_json(plan: &[Op]) -> String {
    let ops: Vec<serde_json::Value> = plan
        .iter()
        .map(|op| match op {
            Op::Stop { actor, reason } => serde_json::json!(["stop", actor, reason]),
            Op::Start { actor, delay_ms } => serde_json::json!(["start", actor, delay_ms]),
            Op::Finish { actor, reason } => serde_json::json!(["finish", actor, reason]),
            Op::Escalate { group, reason } => serde_json::json!(["escalate", group, reason]),
            Op::GaveUp { reason } => serde_json::json!(["gaveUp", reason]),
        })
        .collect();
    serde_json::Value::Array(ops).to_string()
}

/// Host: the thread of `actor_id`'s incarnation is gone with `reason`; `decision` is a crash
/// policy's answer (`restart` | `stop` | `restartAll` | `stopAll` | `escalate`), if any.
#[napi(catch_unwind)]
pub fn thread_gone(
    actor_id: f64,
    reason: String,
    decision: Option<String>,
) -> Result<Option<ExitOutcome>> {
    guard("threadGone", || {
        let decision = decision.as_deref().and_then(Decision::parse);
        runtime()
            .thread_gone(actor_id as u64, &reason, decision)
            .map(|o| ExitOutcome {
                plan: plan_json(&o.plan),
                incarnation: o.incarnation,
                in_flight: o.in_flight,
            })
    })
}

/// Links two live actors; throws `noproc` if either is not alive.
#[napi(catch_unwind)]
pub fn link(a: f64, b: f64) -> Result<()> {
    guard_try("link", || {
        runtime()
            .link(a as u64, b as u64)
            .map_err(|_| Error::new(Status::GenericFailure, "noproc".to_string()))
    })
}

/// Removes the link between two actors, if any.
#[napi(catch_unwind)]
pub fn unlink(a: f64, b: f64) -> Result<()> {
    guard("unlink", || {
        runtime().unlink(a as u64, b as u64);
    })
}

/// `watcher` monitors `watched`; returns the monitor reference number.
#[napi(catch_unwind)]
pub fn monitor(watcher: f64, watched: f64) -> Result<f64> {
    guard("monitor", || {
        runtime().monitor(watcher as u64, watched as u64) as f64
    })
}

/// Cluster: a monitor of an actor on another node fired; `body` is the `DOWN` message JSON.
#[napi(catch_unwind)]
pub fn remote_down(watcher: f64, body: String) -> Result<bool> {
    guard("remoteDown", || runtime().remote_down(watcher as u64, body))
}

/// Cluster: an actor of another node (`from`) linked to `actor` ended with `reason`.
#[napi(catch_unwind)]
pub fn remote_exit(actor: f64, from: String, reason: String) -> Result<bool> {
    guard("remoteExit", || {
        runtime().remote_exit(actor as u64, &from, &reason)
    })
}

/// Removes a monitor; false if it already fired or never existed.
#[napi(catch_unwind)]
pub fn demonitor(reference: f64) -> Result<bool> {
    guard("demonitor", || runtime().demonitor(reference as u64))
}

/// Sets whether an actor turns exit signals of linked actors into `EXIT` messages.
#[napi(catch_unwind)]
pub fn trap_exits(actor_id: f64, on: bool) -> Result<()> {
    guard("trapExits", || {
        runtime().trap_exits(actor_id as u64, on);
    })
}
