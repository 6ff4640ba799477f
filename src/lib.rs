//! Node-API binding of warden: a thin adapter from JavaScript calls to `warden-core`.
//!
//! Each JS thread registers a port with a wake function; the core rings it through a
//! threadsafe function when the port goes from idle to having work. Worker threads keep their
//! port in a thread-local so the calls on the hot path (`workerPop`, `workerTake`, `emit`,
//! `send`) need no lookup, and so `from` is always the caller's own actor: a message cannot be
//! sent in another actor's name.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use warden_core::actor::Actor;
use warden_core::port::CONTROL_WORDS;
use warden_core::{
    runtime, ActorConfig, Envelope, Kind, Overflow, Port, RestartType, SendError, Waker,
};

mod supervision;
pub use supervision::*;

/// Most targets a thread keeps resolved; past this the cache starts over.
const TARGET_CACHE_MAX: usize = 4096;

thread_local! {
    /// The port of the worker thread this code runs on (None on the host thread).
    static CURRENT: RefCell<Option<Arc<Port>>> = const { RefCell::new(None) };
    /// The actor bound to this worker thread (a thread runs one incarnation in its life).
    static BOUND: RefCell<Option<Arc<Actor>>> = const { RefCell::new(None) };
    /// Targets this thread sent to recently, so a send needs no registry lookup.
    static TARGETS: RefCell<HashMap<u64, Arc<Actor>>> = RefCell::new(HashMap::new());
}

/// Wakes a JS thread by calling its drain function through a threadsafe function.
struct JsWaker<const WEAK: bool>(ThreadsafeFunction<(), Unknown<'static>, (), Status, false, WEAK>);

impl<const WEAK: bool> Waker for JsWaker<WEAK> {
    fn wake(&self) -> bool {
        self.0.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }
}

fn current() -> Option<Arc<Port>> {
    CURRENT.with(|c| c.borrow().clone())
}

fn current_actor_id() -> u64 {
    CURRENT.with(|c| c.borrow().as_ref().map_or(0, |p| p.actor_id()))
}

/// The actor bound to this worker thread, cached after the first lookup.
fn bound() -> Option<Arc<Actor>> {
    BOUND.with(|b| {
        let mut b = b.borrow_mut();
        if b.is_none() {
            *b = current()?.actor();
        }
        b.clone()
    })
}

/// The supervisor that reports dead letters of this thread's sends to unknown actors: the
/// caller's (`sup`), or on a worker thread its actor's.
fn report_sup(sup: f64) -> u64 {
    if sup > 0.0 {
        id(sup)
    } else {
        bound().map_or(0, |a| a.sup_id)
    }
}

/// Delivers to `target` through this thread's cache of resolved actors.
fn deliver(target: u64, env: Envelope, incarnation: Option<u32>, sup: u64) -> u32 {
    TARGETS.with(|t| {
        let mut cache = t.borrow_mut();
        let actor = match cache.get(&target) {
            Some(a) => a.clone(),
            None => match runtime().actor(target) {
                Some(a) => {
                    if cache.len() >= TARGET_CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(target, a.clone());
                    a
                }
                None => return send_code(runtime().send(target, env, incarnation, sup)),
            },
        };
        let result = runtime().deliver(&actor, env, incarnation);
        if result == Err(SendError::Dead) {
            cache.remove(&target);
        }
        send_code(result)
    })
}

fn id(n: f64) -> u64 {
    n as u64
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// Registers a new port (before its thread starts) and returns its id.
#[napi]
pub fn new_port() -> f64 {
    runtime().new_port().id as f64
}

/// Forgets a port whose thread is gone. Idempotent.
#[napi]
pub fn close_port(port_id: f64) {
    runtime().close_port(id(port_id));
}

/// Registers the calling thread as the owner of `port_id`. `wake` is called (on this thread)
/// whenever the port has work after being idle. A worker port keeps its thread alive, is closed
/// by an environment cleanup hook when the thread ends, and comes with its control words: a
/// `Uint32Array` over core memory where the thread counts the messages it handled. A host port
/// does not keep the process alive.
#[napi]
pub fn register_port(
    env: Env,
    port_id: f64,
    wake: Function<(), Unknown<'static>>,
    worker: bool,
) -> Result<Option<Uint32Array>> {
    let port = runtime()
        .port(id(port_id))
        .ok_or_else(|| invalid(format!("unknown port {port_id}")))?;
    let builder = wake
        .build_threadsafe_function::<()>()
        .callee_handled::<false>();
    if worker {
        let tsfn = builder.weak::<false>().build()?;
        port.set_waker(Arc::new(JsWaker::<false>(tsfn)));
        CURRENT.with(|c| *c.borrow_mut() = Some(port.clone()));
        env.add_env_cleanup_hook(port.id, |pid| {
            CURRENT.with(|c| c.borrow_mut().take());
            BOUND.with(|b| b.borrow_mut().take());
            TARGETS.with(|t| t.borrow_mut().clear());
            runtime().close_port(pid);
        })?;
        let control = port.control().clone();
        let ptr = control.as_ptr();
        // SAFETY: `ptr` points to CONTROL_WORDS u32 words inside `control`, an Arc'd block that
        // the finalizer below keeps alive until the engine collects the view, so the memory
        // outlives every JS access. The words are atomics; JS writes whole aligned u32 values.
        let view = unsafe {
            Uint32Array::with_external_data(ptr, CONTROL_WORDS, move |_, _| drop(control))
        };
        return Ok(Some(view));
    }
    let tsfn = builder.weak::<true>().build()?;
    port.set_waker(Arc::new(JsWaker::<true>(tsfn)));
    Ok(None)
}

/// Worker: takes the urgent envelopes (replies, start and stop orders) as a JSON batch.
#[napi]
pub fn worker_take() -> Option<String> {
    current()?.take_urgent()
}

/// Worker: acknowledges what the control words say was handled and returns the next batch of
/// at most `max` messages (JSON), if any.
#[napi]
pub fn worker_pop(max: u32) -> Option<String> {
    let port = current()?;
    let actor = bound()?;
    runtime().pop(&port, &actor, max as usize)
}

/// Worker: no work left; returns true if work raced in and draining must continue.
#[napi]
pub fn worker_park() -> bool {
    current().is_some_and(|p| p.park())
}

/// Host: takes a supervisor port's events as a JSON batch.
#[napi]
pub fn host_take(port_id: f64) -> Option<String> {
    runtime().port(id(port_id))?.take_urgent()
}

/// Host: the supervisor port is drained; true if events raced in.
#[napi]
pub fn host_park(port_id: f64) -> bool {
    runtime().port(id(port_id)).is_some_and(|p| p.park())
}

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
}

/// Creates a supervised actor and returns its id. Throws with the reason when refused.
#[napi]
pub fn spawn(sup_id: f64, config: SpawnConfig) -> Result<f64> {
    let restart = RestartType::parse(&config.restart)
        .ok_or_else(|| invalid(format!("unknown restart type {}", config.restart)))?;
    let overflow = match config.overflow.as_str() {
        "reject" => Overflow::Reject,
        "drop-oldest" => Overflow::DropOldest,
        other => return Err(invalid(format!("unknown overflow {other}"))),
    };
    let cfg = ActorConfig {
        name: config.name,
        timeout_ms: config.timeout_ms as u64,
        heartbeat_ms: config.heartbeat_ms as u64,
        restart,
        capacity: if config.capacity > 0.0 {
            config.capacity as usize
        } else {
            usize::MAX
        },
        overflow,
    };
    runtime()
        .spawn(id(sup_id), cfg, config.group.map(id))
        .map(|a| a.id as f64)
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

/// Starts an incarnation of an actor on a port's thread. Returns the incarnation.
#[napi]
pub fn bind(actor_id: f64, port_id: f64, init: String) -> Option<u32> {
    runtime().bind(id(actor_id), id(port_id), init)
}

fn send_code(r: std::result::Result<(), SendError>) -> u32 {
    match r {
        Ok(()) => 0,
        Err(SendError::Dead) => 1,
        Err(SendError::Full) => 2,
        Err(SendError::Stale) => 3,
        Err(SendError::NoProc) => 5,
    }
}

/// Sends a user message. Returns 0 queued, 1 dead, 2 full, 3 stale incarnation, 5 no such
/// actor; every refusal is a dead letter reported to a supervisor's host port (`sup` for
/// unknown targets: the caller's supervisor, 0 on a worker thread). `incarnation` < 0: any.
#[napi]
pub fn send(target: f64, body: String, incarnation: f64, sup: f64) -> u32 {
    let inc = (incarnation >= 0.0).then_some(incarnation as u32);
    let env = Envelope::new(Kind::User, current_actor_id(), 0, body);
    deliver(id(target), env, inc, report_sup(sup))
}

/// Worker: `send` without incarnation check, dead letters reported to this actor's supervisor
/// (the hot path of `ctx.send`; fewer arguments cross the boundary).
#[napi]
pub fn send_to(target: f64, body: String) -> u32 {
    let env = Envelope::new(Kind::User, current_actor_id(), 0, body);
    deliver(id(target), env, None, report_sup(0.0))
}

/// True if `target` is registered and not dead for good.
#[napi]
pub fn is_alive(target: f64) -> bool {
    runtime()
        .actor(id(target))
        .is_some_and(|a| a.state() != warden_core::actor::ActorState::Dead)
}

/// Sends a call; the reply goes to `reply_port` with `corr`. Same codes as `send`.
#[napi]
pub fn call(target: f64, corr: f64, body: String, reply_port: f64, sup: f64) -> u32 {
    let env = Envelope::call(current_actor_id(), corr as u64, body, id(reply_port));
    deliver(id(target), env, None, report_sup(sup))
}

/// Host: answers a request of the actor on `port_id` (replies to `ctx.spawn`…).
#[napi]
pub fn reply_to(port_id: f64, corr: f64, body: String) -> bool {
    runtime().reply(id(port_id), corr as u64, body)
}

/// Worker: emits a Tier 1 message (`[msg,data]` JSON) to the host's subscribers.
#[napi]
pub fn emit(body: String) -> bool {
    host_event(Kind::Emit, body)
}

/// Worker: reports that this incarnation ends with `reason` (the host kills the thread).
#[napi]
pub fn exit_self(reason: String) -> bool {
    host_event(Kind::Exit, warden_core::envelope::json_string(&reason))
}

/// Worker: asks the host to act for this actor (spawn a child…); body is JSON.
#[napi]
pub fn request(corr: f64, body: String) -> bool {
    let Some(actor) = bound() else {
        return false;
    };
    let env_body = format!("[{},{}]", corr as u64, body);
    runtime().host_event(&actor, Kind::Request, env_body)
}

fn host_event(kind: Kind, body: String) -> bool {
    match bound() {
        Some(actor) => runtime().host_event(&actor, kind, body),
        None => false,
    }
}

/// Worker: records a heartbeat.
#[napi]
pub fn heartbeat(now_ms: f64) -> bool {
    match bound() {
        Some(a) => {
            a.heartbeat(now_ms);
            runtime().arm_watchdog(&a);
            true
        }
        None => false,
    }
}

/// Host: asks the actor's current incarnation to stop politely with `reason` (it stops taking
/// messages, runs `onTerminate`, then reports its end). False if it has no thread.
#[napi]
pub fn stop_actor(actor_id: f64, reason: String) -> bool {
    let body = warden_core::envelope::json_string(&reason);
    runtime()
        .actor(id(actor_id))
        .and_then(|a| a.port())
        .is_some_and(|p| p.push_urgent(Envelope::new(Kind::Stop, 0, 0, body)))
}

/// Host: counts a restart; returns the new incarnation.
#[napi]
pub fn restart(actor_id: f64) -> Option<u32> {
    runtime().restart(id(actor_id))
}

/// Host: the actor is dead for good; its undelivered mail is reported as dead letters.
#[napi]
pub fn finish(actor_id: f64, reason: String) -> bool {
    runtime().finish(id(actor_id), &reason)
}

/// Host: the next exit of this actor is final (terminate, shutdown).
#[napi]
pub fn request_stop(actor_id: f64) {
    if let Some(a) = runtime().actor(id(actor_id)) {
        a.request_stop();
    }
}

/// Host: shutdown began; no more spawns or restarts.
#[napi]
pub fn begin_close(sup_id: f64) {
    if let Some(s) = runtime().supervisor(id(sup_id)) {
        s.begin_close();
    }
}

/// Host: shutdown finished; forget the supervisor and close its port.
#[napi]
pub fn drop_supervisor(sup_id: f64) {
    runtime().drop_supervisor(id(sup_id));
}

/// Looks a registered name up in a supervisor.
#[napi]
pub fn whereis(sup_id: f64, name: String) -> Option<f64> {
    runtime()
        .supervisor(id(sup_id))?
        .whereis(&name)
        .map(|v| v as f64)
}

/// The current incarnation of a live actor.
#[napi]
pub fn incarnation(actor_id: f64) -> Option<u32> {
    runtime().actor(id(actor_id)).map(|a| a.incarnation())
}

/// Supervisor diagnostics (JSON).
#[napi]
pub fn supervisor_diagnostics(sup_id: f64) -> Option<String> {
    runtime().supervisor_diagnostics(id(sup_id))
}

/// Actor diagnostics (JSON), none once it is dead for good.
#[napi]
pub fn actor_diagnostics(actor_id: f64) -> Option<String> {
    runtime().actor_diagnostics(id(actor_id))
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
#[napi]
pub fn core_stats() -> CoreStats {
    CoreStats {
        ports: runtime().port_count() as u32,
        actors: runtime().actor_count() as u32,
    }
}
