//! Tier 2 from JS threads: box writes (copying or in place), reads as views over the box
//! memory itself (external ArrayBuffers created in the reading thread), releases and detaches.
//! A thread only ever gets views of single boxes it may use, never of the pool.

use crate::entry::{guard, guard_try};
use crate::pool::member;
use crate::thread::{bound, current, flush_current};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, OnceLock};
use warden_core::boxes::{Acquired, Share};
use warden_core::pool::{Grant, Pool, HOST};
use warden_core::runtime;

/// A JS value made by raw Node-API calls.
pub struct RawValue(sys::napi_value);

impl RawValue {
    /// Wraps a value just made in the env of the current call (returned at once).
    pub(crate) fn new(value: sys::napi_value) -> Self {
        RawValue(value)
    }
}

impl ToNapiValue for RawValue {
    /// Hands the value over as it is.
    ///
    /// # Safety
    /// `_env` is the env the value was made in (napi-rs calls this with the env of the call
    /// that made it: a `RawValue` is only built by a native function for its return value).
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

impl TypeName for RawValue {
    fn type_name() -> &'static str {
        "ArrayBuffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// Who holds nothing: the holder of a worker thread that acts for no actor of its own.
const NOBODY: u64 = u64::MAX;

/// The caller's holder id. A pool worker names the actor it acts for (`actor`), which must be
/// bound to it; an isolated actor's thread acts for its bound actor; the host thread is the
/// host. A worker thread naming no actor of its own (or between incarnations) holds nothing,
/// so it can never act as the host.
fn holder(actor: Option<f64>) -> u64 {
    match actor {
        Some(a) => member(a).map_or(NOBODY, |a| a.id),
        None => match bound() {
            Some(a) => a.id,
            None if current().is_some() => NOBODY,
            None => HOST,
        },
    }
}

fn grant(index: u32, epoch: u32) -> Grant {
    Grant {
        index: index as usize,
        epoch,
    }
}

/// Finalizer of the ArrayBuffers made by `external_view`: drops the pool reference they held.
///
/// # Safety
/// `hint` is the `Box<Arc<Pool>>` leaked by `external_view` for this buffer, and the engine
/// calls this once per buffer.
unsafe extern "C" fn release_pool(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Arc<Pool>> leaked in `external_view`, finalized exactly once.
    let pool = unsafe { Box::from_raw(hint.cast::<Arc<Pool>>()) };
    // (a panic must not unwind out of this C callback; dropping the last reference unmaps)
    let _ = warden_core::panics::catch(move || drop(pool));
}

/// The V8 embedder functions `src/v8view.cc` calls, found in the process by name (the same
/// layout as its `Api`).
#[repr(C)]
struct V8Api {
    new_store: *mut c_void,
    new_buffer: *mut c_void,
    current: *mut c_void,
    destroy: *mut c_void,
    free_store: *mut c_void,
    empty: *mut c_void,
    get_store: *mut c_void,
    detach: *mut c_void,
    is_detachable: *mut c_void,
}

// SAFETY: the fields are addresses of functions of the process, never written after lookup.
unsafe impl Send for V8Api {}
// SAFETY: as above (read-only).
unsafe impl Sync for V8Api {}

#[cfg(target_os = "linux")]
extern "C" {
    /// src/v8view.cc: an ArrayBuffer over `data..data+len` that V8 does not count as external
    /// memory, or null; `gone(hold)` runs once when V8 lets go of the memory (not if null).
    fn warden_v8_view(
        api: *const V8Api,
        data: *mut c_void,
        len: usize,
        gone: unsafe extern "C" fn(*mut c_void),
        hold: *mut c_void,
    ) -> sys::napi_value;
    /// src/v8view.cc: detaches `buffer` and returns a holder of its memory, or null.
    fn warden_v8_take(api: *const V8Api, buffer: sys::napi_value) -> *mut c_void;
    /// src/v8view.cc: an ArrayBuffer of this thread owning the held memory; frees the holder.
    fn warden_v8_give(api: *const V8Api, holder: *mut c_void) -> sys::napi_value;
    /// src/v8view.cc: frees a holder (and the memory, if nothing else holds it).
    fn warden_v8_drop(holder: *mut c_void);
}

/// V8's functions, when this process is Node built the usual way on Linux (V8 and libstdc++
/// symbols exported by the executable); None on Bun and anywhere they are not all found, where
/// views are made through Node-API.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn v8_api(env: &Env) -> Option<&'static V8Api> {
    static API: OnceLock<Option<V8Api>> = OnceLock::new();
    API.get_or_init(|| {
        // Bun implements parts of V8's API itself: only Node's own V8 is used
        let bun = env
            .get_global()
            .and_then(|g| g.get_named_property::<Unknown>("Bun"))
            .and_then(|b| b.get_type());
        if !matches!(bun, Ok(ValueType::Undefined)) {
            return None;
        }
        lookup_v8()
    })
    .as_ref()
}

#[cfg(target_os = "linux")]
fn lookup_v8() -> Option<V8Api> {
    extern "C" {
        fn dlsym(handle: *mut c_void, name: *const std::ffi::c_char) -> *mut c_void;
    }
    let find = |name: &std::ffi::CStr| {
        // SAFETY: dlsym with the default handle (null on Linux) and a NUL-terminated name only
        // looks a symbol up in the process.
        let p = unsafe { dlsym(ptr::null_mut(), name.as_ptr()) };
        (!p.is_null()).then_some(p)
    };
    Some(V8Api {
        new_store: find(c"_ZN2v811ArrayBuffer15NewBackingStoreEPvmPFvS1_mS1_ES1_")?,
        new_buffer: find(
            c"_ZN2v811ArrayBuffer3NewEPNS_7IsolateESt10shared_ptrINS_12BackingStoreEE",
        )?,
        current: find(c"_ZN2v87Isolate10GetCurrentEv")?,
        destroy: find(c"_ZN2v812BackingStoreD1Ev")?,
        free_store: find(c"_ZdlPv")?,
        empty: find(c"_ZN2v812BackingStore12EmptyDeleterEPvmS1_")?,
        get_store: find(c"_ZN2v811ArrayBuffer15GetBackingStoreEv")?,
        detach: find(c"_ZN2v811ArrayBuffer6DetachENS_5LocalINS_5ValueEEE")?,
        is_detachable: find(c"_ZNK2v811ArrayBuffer12IsDetachableEv")?,
    })
}

#[cfg(not(target_os = "linux"))]
fn lookup_v8() -> Option<V8Api> {
    None
}

/// Called by src/v8view.cc when V8 lets go of a view's memory (at its detach, or when it is
/// collected; maybe on a V8 background thread): drops the pool reference the view held.
///
/// # Safety
/// `hold` is the `Box<Arc<Pool>>` leaked by `v8_view` for this view, given back once.
unsafe extern "C" fn pool_gone(hold: *mut c_void) {
    // SAFETY: see above.
    let pool = unsafe { Box::from_raw(hold.cast::<Arc<Pool>>()) };
    let _ = warden_core::panics::catch(move || drop(pool));
}

/// A view made through V8's API that V8 does not count as external memory (src/v8view.cc
/// says why), or None where that is not available.
///
/// # Safety
/// As `external_view`.
#[cfg(target_os = "linux")]
unsafe fn v8_view(env: &Env, pool: &Arc<Pool>, data: *mut u8, len: usize) -> Option<RawValue> {
    let api = v8_api(env)?;
    if len == 0 {
        return None;
    }
    let hold = Box::into_raw(Box::new(pool.clone()));
    // SAFETY: this is a Node-API call on a JS thread of Node (inside its handle scope);
    // `data..data+len` stays mapped until `pool_gone` drops `hold`, which the shim calls only
    // once V8 no longer refers to the memory; `api` holds the functions it needs.
    let value = unsafe { warden_v8_view(api, data.cast(), len, pool_gone, hold.cast()) };
    if value.is_null() {
        // SAFETY: nothing was made, so `pool_gone` will never run; take the hold back.
        drop(unsafe { Box::from_raw(hold) });
        return None;
    }
    Some(RawValue(value))
}

/// No V8 embedder API off Linux: always None (the view is made through Node-API).
///
/// # Safety
/// As `external_view` (kept so that both versions have the same contract).
#[cfg(not(target_os = "linux"))]
unsafe fn v8_view(_: &Env, _: &Arc<Pool>, _: *mut u8, _: usize) -> Option<RawValue> {
    None
}

/// The memory of an ArrayBuffer moved out of the thread that made it (see `move_out`), held
/// until another thread takes it as its own ArrayBuffer (`move_in`) or it is dropped.
pub(crate) struct Moved {
    holder: *mut c_void,
    data: *const u8,
    len: usize,
}

// SAFETY: the holder is a heap `std::shared_ptr` to a V8 backing store, whose count is atomic
// and whose memory may be freed on any thread (its allocator is kept alive with it); `data` is
// only read, and only while the holder lives.
unsafe impl Send for Moved {}
// SAFETY: as above; nothing mutates through a shared `Moved`.
unsafe impl Sync for Moved {}

impl Moved {
    /// The bytes (still owned by the holder).
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `data..data+len` is the memory the holder keeps alive; nobody writes it since
        // the buffer it came from was detached.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

impl Drop for Moved {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        // SAFETY: `holder` came from `warden_v8_take` and is freed once (here, or consumed by
        // `move_in`, which forgets the `Moved`).
        unsafe {
            warden_v8_drop(self.holder)
        };
    }
}

/// Whether `data..data+len` overlaps the memory pool of supervisor `sup`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn in_pool(sup: u64, data: *const u8, len: usize) -> bool {
    let Some(pool) = runtime().pool(sup) else {
        return false;
    };
    let Some(base) = pool.box_ptr(0) else {
        return false;
    };
    let (start, end) = (
        base as usize,
        base as usize + pool.count() * pool.box_size(),
    );
    (data as usize) < end && (data as usize).saturating_add(len) > start
}

/// Detaches `buffer` (an ArrayBuffer of this thread, of at least 1 byte) and keeps its memory
/// without copying it; None where V8's API is not available (Bun), for a view of the memory
/// pool of supervisor `sup` (box memory never leaves the pool), or when the buffer cannot be
/// detached, and then nothing changed.
#[cfg(target_os = "linux")]
pub(crate) fn move_out(env: &Env, buffer: &Unknown, sup: u64) -> Option<Moved> {
    let api = v8_api(env)?;
    let mut data = ptr::null_mut();
    let mut len = 0usize;
    // SAFETY: Node-API checks that `buffer` is an ArrayBuffer of this env.
    let status =
        unsafe { sys::napi_get_arraybuffer_info(env.raw(), buffer.raw(), &mut data, &mut len) };
    if status != sys::Status::napi_ok || len == 0 || in_pool(sup, data.cast(), len) {
        return None;
    }
    // SAFETY: a Node-API call on a JS thread of Node (inside its handle scope), and `buffer` is
    // an ArrayBuffer (checked above), which is what the shim casts it to.
    let holder = unsafe { warden_v8_take(api, buffer.raw()) };
    (!holder.is_null()).then(|| Moved {
        holder,
        data: data.cast(),
        len,
    })
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn move_out(_: &Env, _: &Unknown, _: u64) -> Option<Moved> {
    None
}

/// An ArrayBuffer of this thread that owns `moved`'s memory (no copy); a copy if V8's API is
/// not available here.
pub(crate) fn move_in(env: &Env, moved: Moved) -> Result<RawValue> {
    #[cfg(target_os = "linux")]
    if let Some(api) = v8_api(env) {
        let holder = moved.holder;
        std::mem::forget(moved);
        // SAFETY: a Node-API call on a JS thread of Node; `holder` came from `warden_v8_take`
        // and is consumed here (the `Moved` was forgotten, so it is not dropped again).
        let value = unsafe { warden_v8_give(api, holder) };
        if value.is_null() {
            return Err(Error::new(
                Status::GenericFailure,
                "cannot make an ArrayBuffer of moved memory".to_string(),
            ));
        }
        return Ok(RawValue(value));
    }
    copied_buffer(env, moved.as_slice())
}

/// An ArrayBuffer over `len` bytes at `data` inside `pool`'s memory; the buffer keeps the pool
/// mapped until the engine collects it. On Node (Linux) it is made through V8's API so that V8
/// does not count it as external memory (see src/v8view.cc); elsewhere through Node-API.
///
/// # Safety
/// `data..data + len` lies inside one box of `pool`, one the calling thread may view as the
/// pool's state machine says (the writer of a WRITING box, a holder of a READY one), and the
/// thread detaches the view before giving the box back.
unsafe fn external_view(
    env: &Env,
    pool: &Arc<Pool>,
    data: *mut u8,
    len: usize,
) -> Result<RawValue> {
    // SAFETY: the caller's contract is the one `v8_view` needs.
    if let Some(view) = unsafe { v8_view(env, pool, data, len) } {
        return Ok(view);
    }
    let hint = Box::into_raw(Box::new(pool.clone()));
    let mut value = ptr::null_mut();
    // SAFETY: `data..data+len` lies inside the pool's mapping (the caller's contract), which
    // `hint` keeps alive until the finalizer runs; the state machine guarantees nobody writes a
    // READY box and that this view is detached by its thread before the box is reused.
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            data.cast(),
            len,
            Some(release_pool),
            hint.cast(),
            &mut value,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: creation failed, so the finalizer will never run; reclaim the hint here.
        drop(unsafe { Box::from_raw(hint) });
        return Err(Error::new(
            Status::GenericFailure,
            "this runtime cannot create views over external memory".to_string(),
        ));
    }
    Ok(RawValue(value))
}

/// Gives a supervisor a pool of `count` boxes of `box_size` bytes.
#[napi(catch_unwind)]
pub fn create_pool(sup: f64, count: u32, box_size: f64) -> Result<()> {
    guard_try("createPool", || {
        runtime()
            .create_pool(sup as u64, count as usize, box_size as usize)
            .map_err(|e| Error::new(Status::GenericFailure, e))
    })
}

/// Result of `boxAcquire`.
#[napi(object)]
pub struct BoxAcquired {
    /// 0 granted, 1 queued (a grant or `null` will arrive for `corr`), 2 refused.
    pub status: u32,
    /// Box index (granted).
    pub index: u32,
    /// Box epoch (granted).
    pub epoch: u32,
    /// Why it was refused.
    pub error: Option<String>,
}

/// Asks for a box to write `size` bytes into.
#[napi(catch_unwind)]
pub fn box_acquire(
    sup: f64,
    size: f64,
    wait: bool,
    timeout_ms: f64,
    port: f64,
    corr: f64,
    actor: Option<f64>,
) -> Result<BoxAcquired> {
    guard("boxAcquire", || {
        let r = runtime().box_acquire(
            sup as u64,
            holder(actor),
            size as usize,
            wait,
            timeout_ms as u64,
            port as u64,
            corr as u64,
        );
        match r {
            Ok(Acquired::Granted(g)) => BoxAcquired {
                status: 0,
                index: g.index as u32,
                epoch: g.epoch,
                error: None,
            },
            Ok(Acquired::Queued) => BoxAcquired {
                status: 1,
                index: 0,
                epoch: 0,
                error: None,
            },
            Err(e) => BoxAcquired {
                status: 2,
                index: 0,
                epoch: 0,
                error: Some(e.to_string()),
            },
        }
    })
}

/// Copies `data` to the start of a box the caller is writing. False if it is not the writer.
#[napi(catch_unwind)]
pub fn box_write(
    sup: f64,
    index: u32,
    epoch: u32,
    data: Uint8Array,
    actor: Option<f64>,
) -> Result<bool> {
    guard("boxWrite", || {
        let Some(pool) = runtime().pool(sup as u64) else {
            return false;
        };
        match pool.writable(grant(index, epoch), holder(actor)) {
            Some((dst, cap)) if data.len() <= cap => {
                // SAFETY: `dst` is the start of a box of `cap` bytes that only this writer may
                // touch while it is WRITING, and `data` fits. `data` may be a view of box memory
                // (even of this very box, from `boxWritable`), so the copy allows overlap.
                unsafe { ptr::copy(data.as_ptr(), dst, data.len()) };
                true
            }
            _ => false,
        }
    })
}

/// A writable view of the first `len` bytes of a box the caller is writing (for in-place
/// writes), or null.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | null")]
pub fn box_writable(
    env: Env,
    sup: f64,
    index: u32,
    epoch: u32,
    len: f64,
    actor: Option<f64>,
) -> Result<Option<RawValue>> {
    guard_try("boxWritable", || {
        let Some(pool) = runtime().pool(sup as u64) else {
            return Ok(None);
        };
        match pool.writable(grant(index, epoch), holder(actor)) {
            Some((data, cap)) if (len as usize) <= cap => {
                // SAFETY: the first `len` <= `cap` bytes of the box this thread is writing.
                unsafe { external_view(&env, &pool, data, len as usize) }.map(Some)
            }
            _ => Ok(None),
        }
    })
}

fn parse_share(share: &str) -> std::result::Result<Share, String> {
    match share {
        "owner" => Ok(Share::Owner),
        "group" => Ok(Share::Group),
        "linked" => Ok(Share::Linked),
        "all" => Ok(Share::All),
        list => serde_json::from_str::<Vec<u64>>(list)
            .map(Share::List)
            .map_err(|_| format!("share: not a share mode: {list}")),
    }
}

/// Publishes a box (`len` bytes, `meta` = `{msg,type}` JSON, `share` = a mode or a JSON list
/// of actor ids). Returns the error text if refused.
#[napi(catch_unwind)]
pub fn box_commit(
    sup: f64,
    index: u32,
    epoch: u32,
    len: f64,
    meta: String,
    share: String,
    actor: Option<f64>,
) -> Result<Option<String>> {
    guard("boxCommit", || {
        flush_current();
        let share = match parse_share(&share) {
            Ok(s) => s,
            Err(e) => return Some(e),
        };
        runtime()
            .box_commit(
                sup as u64,
                holder(actor),
                grant(index, epoch),
                len as usize,
                &meta,
                &share,
            )
            .err()
    })
}

/// Gives up a box being written.
#[napi(catch_unwind)]
pub fn box_abort(sup: f64, index: u32, epoch: u32, actor: Option<f64>) -> Result<()> {
    guard("boxAbort", || {
        flush_current(); // the box may go to a waiting writer, which must see earlier sends first
        runtime().box_abort(sup as u64, holder(actor), grant(index, epoch));
    })
}

/// The `{msg,type}` JSON of a box the caller may read, or null. This is the authorisation
/// check of a read (counted when the supervisor tracks `authorization`).
#[napi(catch_unwind)]
pub fn box_meta(sup: f64, index: u32, epoch: u32, actor: Option<f64>) -> Result<Option<String>> {
    guard("boxMeta", || {
        runtime()
            .box_read(sup as u64, grant(index, epoch), holder(actor))
            .map(|(_, _, _, meta)| meta)
    })
}

/// A view of the committed bytes of a box the caller may read, or null (stale, forged,
/// unauthorised, released).
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | null")]
pub fn box_read(
    env: Env,
    sup: f64,
    index: u32,
    epoch: u32,
    actor: Option<f64>,
) -> Result<Option<RawValue>> {
    guard_try("boxRead", || {
        let Some(pool) = runtime().pool(sup as u64) else {
            return Ok(None);
        };
        let who = holder(actor);
        match pool.read(grant(index, epoch), who, runtime().read_lease(who)) {
            // SAFETY: the committed bytes of a READY box this thread holds a reference to.
            Some((data, len, _)) => unsafe { external_view(&env, &pool, data, len) }.map(Some),
            None => Ok(None),
        }
    })
}

/// Gives the caller's reference back (detach its views first). False if it held none.
#[napi(catch_unwind)]
pub fn box_release(sup: f64, index: u32, epoch: u32, actor: Option<f64>) -> Result<bool> {
    guard("boxRelease", || {
        flush_current(); // as in boxAbort: what the box's next holder does comes after our sends
        runtime().box_release(sup as u64, holder(actor), grant(index, epoch))
    })
}

/// Detaches an ArrayBuffer (its byteLength becomes 0), so it can never show later contents.
#[napi(catch_unwind)]
pub fn detach(env: Env, buffer: Unknown) -> Result<()> {
    guard_try("detach", || {
        // SAFETY: `buffer` is a value of this env; Node-API checks that it is a detachable
        // ArrayBuffer and reports an error status otherwise.
        let status = unsafe { sys::napi_detach_arraybuffer(env.raw(), buffer.raw()) };
        if status == sys::Status::napi_ok {
            Ok(())
        } else {
            Err(Error::new(
                Status::InvalidArg,
                "cannot detach this buffer".to_string(),
            ))
        }
    })
}

/// Address of an ArrayBuffer's memory (tests use it to prove views share memory).
#[napi(catch_unwind)]
pub fn address_of(env: Env, buffer: Unknown) -> Result<f64> {
    guard_try("addressOf", || {
        let mut data = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: Node-API validates that `buffer` is an ArrayBuffer of this env.
        let status =
            unsafe { sys::napi_get_arraybuffer_info(env.raw(), buffer.raw(), &mut data, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::InvalidArg,
                "not an ArrayBuffer".to_string(),
            ));
        }
        Ok(data as usize as f64)
    })
}

/// Pool counters of a supervisor.
#[napi(object)]
pub struct PoolStats {
    /// Boxes.
    pub pool_size: u32,
    /// Bytes per box.
    pub box_size: f64,
    /// Boxes not free.
    pub boxes_in_use: u32,
    /// Write requests waiting for a box.
    pub waiting_writes: u32,
}

/// Pool counters, if the supervisor has a pool.
#[napi(catch_unwind)]
pub fn pool_stats(sup: f64) -> Result<Option<PoolStats>> {
    guard("poolStats", || {
        let pool = runtime().pool(sup as u64)?;
        Some(PoolStats {
            pool_size: pool.count() as u32,
            box_size: pool.box_size() as f64,
            boxes_in_use: pool.in_use() as u32,
            waiting_writes: pool.waiting() as u32,
        })
    })
}

/// Finalizer of the ArrayBuffers made by `owned_buffer`: frees the bytes they owned.
///
/// # Safety
/// `hint` is the `Box<Vec<u8>>` leaked by `owned_buffer` for this buffer, finalized once.
unsafe extern "C" fn free_owned(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Vec<u8>> leaked in `owned_buffer`, finalized exactly once.
    let bytes = unsafe { Box::from_raw(hint.cast::<Vec<u8>>()) };
    let _ = warden_core::panics::catch(move || drop(bytes));
}

/// An ArrayBuffer that owns `bytes` (no copy where the runtime allows external buffers; a
/// copy where it does not).
pub(crate) fn owned_buffer(env: &Env, bytes: Vec<u8>) -> Result<RawValue> {
    let mut value = ptr::null_mut();
    if !bytes.is_empty() {
        let mut bytes = Box::new(bytes);
        let data = bytes.as_mut_ptr();
        let len = bytes.len();
        let hint = Box::into_raw(bytes);
        // SAFETY: `data..data+len` is the heap block of the Vec behind `hint`, which lives (and
        // does not move) until the finalizer frees it; nothing else refers to it.
        let status = unsafe {
            sys::napi_create_external_arraybuffer(
                env.raw(),
                data.cast(),
                len,
                Some(free_owned),
                hint.cast(),
                &mut value,
            )
        };
        if status == sys::Status::napi_ok {
            return Ok(RawValue(value));
        }
        // SAFETY: creation failed, so the finalizer will never run; take the bytes back.
        let bytes = unsafe { Box::from_raw(hint) };
        return copied_buffer(env, &bytes);
    }
    copied_buffer(env, &bytes)
}

/// An ArrayBuffer of the engine's own holding a copy of `bytes`.
pub(crate) fn copied_buffer(env: &Env, bytes: &[u8]) -> Result<RawValue> {
    let mut value = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: Node-API allocates `bytes.len()` bytes and reports where.
    let status =
        unsafe { sys::napi_create_arraybuffer(env.raw(), bytes.len(), &mut data, &mut value) };
    if status != sys::Status::napi_ok {
        return Err(Error::new(
            Status::GenericFailure,
            "cannot create an ArrayBuffer".to_string(),
        ));
    }
    if !bytes.is_empty() {
        // SAFETY: `data` has room for `bytes.len()` bytes, a fresh block not overlapping `bytes`.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len()) };
    }
    Ok(RawValue(value))
}

/// Takes an owned copy of the committed bytes of a box the caller may read and gives its
/// reference back in the same call (no view of the box is ever made); null if it may not read
/// it (stale, forged, unauthorised, released). A task's bytes result reaches the host this way.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | null")]
pub fn box_take_copy(env: Env, sup: f64, index: u32, epoch: u32) -> Result<Option<RawValue>> {
    guard_try("boxTakeCopy", || {
        let Some(pool) = runtime().pool(sup as u64) else {
            return Ok(None);
        };
        let who = holder(None);
        let Some((data, len, _)) = pool.read(grant(index, epoch), who, runtime().read_lease(who))
        else {
            return Ok(None);
        };
        let mut bytes: Vec<u8> = Vec::with_capacity(len);
        // SAFETY: `data..data+len` are the committed bytes of a READY box this thread holds a
        // reference to (nobody writes it until every reference is back); `bytes` has room.
        unsafe {
            ptr::copy_nonoverlapping(data, bytes.as_mut_ptr(), len);
            bytes.set_len(len);
        }
        runtime().box_release(sup as u64, who, grant(index, epoch));
        owned_buffer(&env, bytes).map(Some)
    })
}
