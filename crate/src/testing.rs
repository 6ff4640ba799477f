//! What the core's unit tests share (compiled for tests only): a waker that counts the wakes it
//! is asked for, and a plain supervisor configuration.

use crate::port::Waker;
use crate::supervisor::{RetryConfig, SupervisorConfig};
use crate::tree::{GroupConfig, Strategy};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A waker that counts its wakes (field 0) and always reports them delivered.
pub(crate) struct Count(pub(crate) AtomicUsize);

impl Waker for Count {
    fn wake(&self) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// A supervisor of at most 100 actors: one-for-one, the default retry, no backoff.
pub(crate) fn config() -> SupervisorConfig {
    SupervisorConfig {
        max_actors: 100,
        root: GroupConfig {
            strategy: Strategy::OneForOne,
            retry: RetryConfig::default(),
            backoff: None,
            internal: false,
        },
    }
}
