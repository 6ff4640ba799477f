//! warden-core: the process-wide actor runtime behind warden.
//!
//! Every JavaScript thread that loads the addon is a client of one [`runtime::Runtime`]:
//! actors' mailboxes live here (so they outlive the threads that run them), messages are
//! routed here, per-message deadlines are enforced by a Rust timer thread, and supervisors'
//! counters and restart decisions are kept here. This crate knows nothing of Node-API; the
//! binding crate adapts it and supplies [`port::Waker`]s that wake JS event loops.

pub mod actor;
pub mod boxes;
pub mod envelope;
pub mod links;
pub mod metrics;
pub mod outbox;
pub mod pool;
pub mod port;
pub mod runtime;
pub mod supervisor;
mod sync;
pub mod timer;
pub mod tree;

pub use actor::{ActorConfig, Overflow, RestartType, SendError};
pub use envelope::{Envelope, Kind};
pub use port::{Port, Waker};
pub use runtime::{runtime, Runtime};
pub use supervisor::{RetryConfig, SpawnError, SupervisorConfig};
pub use tree::{Backoff, BackoffKind, Decision, GroupConfig, Op, Plan, Strategy};
