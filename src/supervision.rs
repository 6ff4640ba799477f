//! Supervisors, groups and exit plans: the host-side part of the binding.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::time::Duration;
use warden_core::{
    runtime, Backoff, BackoffKind, Decision, GroupConfig, Op, RetryConfig, Strategy,
    SupervisorConfig,
};

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

/// Creates a supervisor whose root group has `root` settings.
#[napi]
pub fn create_supervisor(max_actors: u32, root: GroupSpec) -> Result<SupervisorIds> {
    let sup = runtime().create_supervisor(SupervisorConfig {
        max_actors: max_actors as usize,
        root: group_config(&root)?,
    });
    Ok(SupervisorIds {
        id: sup.id as f64,
        port: sup.port.id as f64,
        root: sup.root_group() as f64,
    })
}

/// Creates a group under `parent`; returns its id.
#[napi]
pub fn create_group(sup_id: f64, parent: f64, spec: GroupSpec) -> Result<f64> {
    runtime()
        .create_group(sup_id as u64, parent as u64, group_config(&spec)?)
        .map(|g| g as f64)
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

/// Actors of a group and its subgroups, in start order.
#[napi]
pub fn actors_in(sup_id: f64, group: f64) -> Vec<f64> {
    runtime()
        .supervisor(sup_id as u64)
        .map(|s| {
            s.actors_in(group as u64)
                .into_iter()
                .map(|a| a as f64)
                .collect()
        })
        .unwrap_or_default()
}

/// The group an actor belongs to.
#[napi]
pub fn group_of(sup_id: f64, actor_id: f64) -> Option<f64> {
    runtime()
        .supervisor(sup_id as u64)?
        .group_of(actor_id as u64)
        .map(|g| g as f64)
}

/// Registers `name` for a live actor; throws if the name (or the actor) already has one.
#[napi]
pub fn register(actor_id: f64, name: String) -> Result<()> {
    runtime()
        .register(actor_id as u64, &name)
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
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

fn plan_json(plan: &[Op]) -> String {
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
#[napi]
pub fn thread_gone(actor_id: f64, reason: String, decision: Option<String>) -> Option<ExitOutcome> {
    let decision = decision.as_deref().and_then(Decision::parse);
    runtime()
        .thread_gone(actor_id as u64, &reason, decision)
        .map(|o| ExitOutcome {
            plan: plan_json(&o.plan),
            incarnation: o.incarnation,
            in_flight: o.in_flight,
        })
}

/// Links two live actors; throws `noproc` if either is not alive.
#[napi]
pub fn link(a: f64, b: f64) -> Result<()> {
    runtime()
        .link(a as u64, b as u64)
        .map_err(|_| Error::new(Status::GenericFailure, "noproc".to_string()))
}

/// Removes the link between two actors, if any.
#[napi]
pub fn unlink(a: f64, b: f64) {
    runtime().unlink(a as u64, b as u64);
}

/// `watcher` monitors `watched`; returns the monitor reference number.
#[napi]
pub fn monitor(watcher: f64, watched: f64) -> f64 {
    runtime().monitor(watcher as u64, watched as u64) as f64
}

/// Removes a monitor; false if it already fired or never existed.
#[napi]
pub fn demonitor(reference: f64) -> bool {
    runtime().demonitor(reference as u64)
}

/// Sets whether an actor turns exit signals of linked actors into `EXIT` messages.
#[napi]
pub fn trap_exits(actor_id: f64, on: bool) {
    runtime().trap_exits(actor_id as u64, on);
}
