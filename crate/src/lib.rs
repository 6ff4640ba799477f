//! warden-core: the process-wide actor runtime behind warden.
//!
//! Every JavaScript thread that loads the addon is a client of one [`runtime::Runtime`]:
//! actors' mailboxes live here (so they outlive the threads that run them), messages are
//! routed here, per-message deadlines are enforced by a Rust timer thread, and supervisors'
//! counters and restart decisions are kept here. This crate knows nothing of Node-API; the
//! binding crate adapts it and supplies [`port::Waker`]s that wake JS event loops.
//!
//! Checks beyond `cargo test` (both run by hand; the first also by `npm test`):
//! - the loom models of a port's wake-up protocol and of the outbox drain (`crate/src/sync.rs`):
//!   `RUSTFLAGS="--cfg loom" cargo test -p warden-core --lib --target-dir target/loom loom_model`
//!   (about 1 s once built);
//! - the unit tests under AddressSanitizer, with the nightly toolchain and no `-Zbuild-std`:
//!   `RUSTFLAGS="-Zsanitizer=address" ASAN_OPTIONS=detect_leaks=0 cargo +nightly test -p
//!   warden-core --target x86_64-unknown-linux-gnu --target-dir target/asan`. Leak detection is
//!   off because the runtime tests leak their `Runtime` on purpose (`Box::leak`: its timer
//!   thread needs it `'static`); with it on, those runtimes are the only leaks reported.

pub mod actor;
pub mod boxes;
pub mod control;
pub mod envelope;
pub mod links;
pub mod metrics;
pub mod order;
pub mod outbox;
pub mod panics;
pub mod pool;
pub mod pooled;
pub mod port;
pub mod runtime;
pub mod slab;
pub mod supervisor;
mod sync;
#[cfg(test)]
mod testing;
pub mod timer;
pub mod tree;

pub use actor::{ActorConfig, Overflow, RestartType, SendError};
pub use envelope::{Envelope, Kind};
pub use port::{Port, Waker};
pub use runtime::{runtime, ActorsView, Runtime};
pub use supervisor::{SpawnError, SupervisorConfig};
pub use tree::{Backoff, BackoffKind, Decision, GroupConfig, Op, Plan, RetryConfig, Strategy};
