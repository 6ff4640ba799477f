//! Test hooks: make warden panic on demand, so tests can prove that a panic never takes the
//! process down. Internal (not in `index.d.ts`); refused unless the host's
//! `process.env.WARDEN_TEST_HOOKS` is `'1'`.

use crate::entry::{guard_try, invalid};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use warden_core::panics::Site;
use warden_core::runtime;

/// True if this thread's `process.env.WARDEN_TEST_HOOKS` is `'1'`.
fn enabled(env: &Env) -> Result<bool> {
    let process: Object = env.get_global()?.get_named_property("process")?;
    let vars: Object = process.get_named_property("env")?;
    let flag: Option<String> = vars.get_named_property("WARDEN_TEST_HOOKS")?;
    Ok(flag.as_deref() == Some("1"))
}

/// Makes warden panic once at `site`: `entry` panics in this call itself, `timer` in the
/// timer thread's next tick (which comes at once), `drain` in the next delivery of outbox mail.
/// Throws unless `process.env.WARDEN_TEST_HOOKS === '1'`.
#[napi(catch_unwind)]
pub fn test_panic(env: Env, site: String) -> Result<()> {
    guard_try("testPanic", || {
        if !enabled(&env)? {
            return Err(invalid(
                "testPanic: test hooks are off (process.env.WARDEN_TEST_HOOKS is not '1')",
            ));
        }
        match site.as_str() {
            "entry" => panic!("test hook: entry panics on demand"),
            "timer" => runtime().inject_panic(Site::Timer),
            "drain" => runtime().inject_panic(Site::Drain),
            other => {
                return Err(invalid(format!(
                    "testPanic: site must be 'entry', 'timer' or 'drain', got {other:?}"
                )))
            }
        }
        Ok(())
    })
}
