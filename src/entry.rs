//! What every native entry point uses: the panic guard its body runs under, and the
//! conversions of ids and refusals at the edge.

use napi::bindgen_prelude::*;

/// An id as JS passes it (a number) as the core's.
pub(crate) fn id(n: f64) -> u64 {
    n as u64
}

/// A refusal of bad input, thrown as an `Error` with `msg`.
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// Runs the body of the native entry point `name` (its JS name); a panic in it becomes an
/// `Error` whose message is `internal panic: <name>: <panic message>`. The host's mail ring
/// (`host_mail::deliver`) is delivered first, so no native call of the host overtakes
/// the `receive`s it made before.
pub(crate) fn guard<T>(name: &str, body: impl FnOnce() -> T) -> Result<T> {
    warden_core::panics::catch(|| {
        crate::host_mail::deliver();
        body()
    })
    .map_err(|message| {
        Error::new(
            Status::GenericFailure,
            warden_core::panics::reason(name, &message),
        )
    })
}

/// [`guard`] for a body that can already fail with a JS error.
pub(crate) fn guard_try<T>(name: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    guard(name, body).and_then(|r| r)
}
