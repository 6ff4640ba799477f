//! Messages from JS threads: sends, calls and replies, emits, and the requests an actor makes
//! of its host. Every refusal is a dead letter the core reports to a supervisor.

use crate::entry::{guard, id};
use crate::host_mail;
use crate::ports::{control_words, outbox_bytes};
use crate::thread::{bound, current, current_actor_id, deliver, flush_current, report_sup};

use napi::bindgen_prelude::Result;
use napi_derive::napi;
use warden_core::{runtime, Envelope, Kind, SendError};

/// The code JS reads for a send's result (`lib/port/kinds.js`).
pub(crate) fn send_code(r: std::result::Result<(), SendError>) -> u32 {
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
#[napi(catch_unwind)]
pub fn send(target: f64, body: String, incarnation: f64, sup: f64) -> Result<u32> {
    guard("send", || {
        flush_current();
        let inc = (incarnation >= 0.0).then_some(incarnation as u32);
        let env = Envelope::new(Kind::User, current_actor_id(), 0, body);
        send_code(deliver(id(target), env, inc, report_sup(sup)))
    })
}

/// Worker: `send` without incarnation check, dead letters reported to this actor's supervisor
/// (the hot path of `ctx.send`; fewer arguments cross the boundary).
#[napi(catch_unwind)]
pub fn send_to(target: f64, body: String) -> Result<u32> {
    guard("sendTo", || {
        flush_current();
        let env = Envelope::new(Kind::User, current_actor_id(), 0, body);
        send_code(deliver(id(target), env, None, report_sup(0.0)))
    })
}

/// Sends a call; the reply goes to `reply_port` with `corr`. Same codes as `send`.
#[napi(catch_unwind)]
pub fn call(target: f64, corr: f64, body: String, reply_port: f64, sup: f64) -> Result<u32> {
    guard("call", || {
        flush_current();
        let env = Envelope::call(current_actor_id(), corr as u64, body, id(reply_port));
        send_code(deliver(id(target), env, None, report_sup(sup)))
    })
}

/// Host: answers a request of the actor on `port_id` (replies to `ctx.spawn`…).
#[napi(catch_unwind)]
pub fn reply_to(port_id: f64, corr: f64, body: String) -> Result<bool> {
    guard("replyTo", || {
        flush_current();
        runtime().reply(id(port_id), corr as u64, body)
    })
}

/// Worker: answers a call its actor just finished handling, and counts it handled (its
/// progress counter, control word 0, becomes `handled`) in the same native call: a kill can land
/// before both or after both, so a call whose reply was sent is never also reported as the
/// in-flight message of the exit.
#[napi(catch_unwind)]
pub fn reply_handled(port_id: f64, corr: f64, body: String, handled: u32) -> Result<bool> {
    guard("replyHandled", || {
        flush_current();
        if let Some(p) = current() {
            p.control().set_handled(handled);
        }
        runtime().reply(id(port_id), corr as u64, body)
    })
}

/// Worker: emits a Tier 1 message (`[msg,data]` JSON) to the host's subscribers; also an
/// implicit heartbeat.
#[napi(catch_unwind)]
pub fn emit(body: String) -> Result<bool> {
    guard("emit", || {
        flush_current();
        bound().is_some_and(|actor| runtime().emit(&actor, body))
    })
}

/// Worker: reports that this incarnation ends with `reason` (the host kills the thread).
#[napi(catch_unwind)]
pub fn exit_self(reason: String) -> Result<bool> {
    guard("exitSelf", || {
        flush_current();
        host_event(Kind::Exit, warden_core::envelope::json_string(&reason))
    })
}

/// Worker: asks the host to act for this actor (spawn a child…); body is JSON.
#[napi(catch_unwind)]
pub fn request(corr: f64, body: String) -> Result<bool> {
    guard("request", || {
        flush_current();
        let Some(actor) = bound() else {
            return false;
        };
        let env_body = format!("[{},{}]", corr as u64, body);
        runtime().host_event(&actor, Kind::Request, env_body)
    })
}

fn host_event(kind: Kind, body: String) -> bool {
    match bound() {
        Some(actor) => runtime().host_event(&actor, kind, body),
        None => false,
    }
}

/// Worker: records a heartbeat.
#[napi(catch_unwind)]
pub fn heartbeat(now_ms: f64) -> Result<bool> {
    guard("heartbeat", || match bound() {
        Some(a) => {
            runtime().heartbeat(&a, now_ms);
            true
        }
        None => false,
    })
}

// ---- the views of the host's mail ring (the ring itself: `crate::host_mail`) --------------

/// Host: the ring `ActorRef.receive` writes into (a `Uint8Array` over core memory; its head
/// and tail counters are words 2 and 3 of `hostMailControl()`).
#[napi(catch_unwind)]
pub fn host_mail_view() -> Result<napi::bindgen_prelude::Uint8Array> {
    guard("hostMailView", || {
        outbox_bytes(host_mail::port().outbox().clone())
    })
}

/// Host: the control words of its ring (word 2 head, written by JS; word 3 tail, by the core).
#[napi(catch_unwind)]
pub fn host_mail_control() -> Result<napi::bindgen_prelude::Uint32Array> {
    guard("hostMailControl", || {
        control_words(host_mail::port().control().clone())
    })
}

/// Host: delivers its ring now (the guard every native call runs under already did).
#[napi(catch_unwind)]
pub fn flush_host_mail() -> Result<()> {
    guard("flushHostMail", || ())
}
