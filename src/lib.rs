//! Node-API binding of warden: a thin adapter from JavaScript calls to `warden-core`.
//!
//! Each JS thread registers a port with a wake function; the core rings it through a
//! threadsafe function when the port goes from idle to having work. Worker threads keep their
//! port in a thread-local so the calls on the hot path (`workerPop`, `workerTake`, `emit`,
//! `send`) need no lookup, and so `from` is always the caller's own actor: a message cannot be
//! sent in another actor's name.
//!
//! A Rust panic never crosses into JavaScript as an abort: every `#[napi]` function runs its
//! body under `entry::guard` (or `entry::guard_try`), which turns a panic into a thrown `Error`
//! saying `internal panic: <function>: <message>`, and is marked `catch_unwind` so that a panic
//! in napi's own argument and return-value conversions is thrown too (with napi's bare message).
//!
//! This file only declares the modules and re-exports their entry points: the helpers they
//! share live in `entry` (guards, id and error conversions) and `thread` (the per-thread port,
//! bound actor and target cache), so no module depends back on the crate root.
//! Callbacks that native code runs outside a call (environment cleanup hooks, finalizers)
//! catch panics themselves.

mod boxes;
mod entry;
mod host_mail;
mod messages;
mod parcels;
mod pool;
mod ports;
mod supervision;
mod test_hooks;
mod thread;
pub use boxes::*;
pub use messages::*;
pub use parcels::*;
pub use pool::*;
pub use ports::*;
pub use supervision::*;
pub use test_hooks::*;
