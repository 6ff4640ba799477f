//! Parcels: large strings handed between threads as UTF-16 code units in process memory, so a
//! big task input or result needs neither JSON nor UTF-8 transcoding, and arrives exactly as it
//! was sent (lone surrogates included); and bytes, copied once by the sender (or, on Node, moved
//! out of the sender's ArrayBuffer without a copy) and handed to the receiver as an ArrayBuffer
//! that owns them (no second copy). A parcel belongs to a supervisor (`owner`): whoever
//! made it or takes it drops it, and the supervisor's shutdown drops the ones left.

use crate::boxes::{copied_buffer, move_in, move_out, owned_buffer, Moved, RawValue};
use crate::entry::{guard, guard_try};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::collections::BTreeMap;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A string's code units: one byte each when every unit is below 256 (most text, and what the
/// engines store as one-byte strings), else two.
/// Or bytes (not a string): a copy, or the memory of an ArrayBuffer moved out of its thread.
enum Units {
    Latin1(Vec<u8>),
    Utf16(Vec<u16>),
    Bytes(Vec<u8>),
    Moved(Moved),
}

impl Units {
    fn is_bytes(&self) -> bool {
        matches!(self, Units::Bytes(_) | Units::Moved(_))
    }
}

struct Parcel {
    owner: u64,
    units: Arc<Units>,
}

static PARCELS: Mutex<BTreeMap<u64, Parcel>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

fn parcels() -> MutexGuard<'static, BTreeMap<u64, Parcel>> {
    // a panic while the lock was held left the map itself consistent
    PARCELS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stores `units` as a new parcel of supervisor `owner`; returns its id.
fn store(owner: f64, units: Arc<Units>) -> f64 {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    parcels().insert(
        id,
        Parcel {
            owner: owner as u64,
            units,
        },
    );
    id as f64
}

/// Removes and returns parcel `id` if it holds bytes (`bytes`) or a string (`!bytes`); a
/// parcel of the other sort is left as it is.
fn take(id: f64, bytes: bool) -> Option<Parcel> {
    let mut map = parcels();
    let id = id as u64;
    match map.get(&id) {
        Some(p) if p.units.is_bytes() == bytes => map.remove(&id),
        _ => None,
    }
}

thread_local! {
    /// Where this thread reads strings' UTF-16 units before they are narrowed: reused, so its
    /// pages are already mapped (a fresh block of a few MiB costs more in page faults than the
    /// copy itself).
    static SCRATCH: std::cell::RefCell<Vec<u16>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Scratch space kept between calls, in units (4 MiB; a larger string's space is given back).
const SCRATCH_KEEP: usize = 2 << 20;

/// The code units of a JS string (a TypeError naming `param` if it is not one).
fn units_of(env: &Env, value: &Unknown, param: &str) -> Result<Units> {
    let not_string = || Error::new(Status::StringExpected, format!("{param} must be a string"));
    let mut len = 0usize;
    // SAFETY: `value` is a value of this env; with a null buffer Node-API only reports the
    // length in code units (and fails if it is not a string).
    let status = unsafe {
        sys::napi_get_value_string_utf16(env.raw(), value.raw(), ptr::null_mut(), 0, &mut len)
    };
    if status != sys::Status::napi_ok {
        return Err(not_string());
    }
    SCRATCH.with(|cell| {
        let mut wide = cell.borrow_mut();
        wide.clear();
        wide.reserve(len + 1);
        let mut written = 0usize;
        // SAFETY: the buffer has room for `len` units and the terminating zero Node-API
        // writes; `written` (at most `len`) units are initialised after the call.
        let status = unsafe {
            sys::napi_get_value_string_utf16(
                env.raw(),
                value.raw(),
                wide.as_mut_ptr(),
                len + 1,
                &mut written,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(not_string());
        }
        // SAFETY: see above.
        unsafe { wide.set_len(written.min(len)) };
        // (an OR over every unit, with no early exit, so that it vectorises)
        let units = if wide.iter().fold(0u16, |acc, &u| acc | u) < 0x100 {
            Units::Latin1(wide.iter().map(|&u| u as u8).collect())
        } else {
            Units::Utf16(wide.clone())
        };
        if wide.capacity() > SCRATCH_KEEP {
            *wide = Vec::new();
        }
        Ok(units)
    })
}

/// `node_api_create_external_string_latin1` / `_utf16` (same shape; `*const u8` for both).
type ExternalString = unsafe extern "C" fn(
    sys::napi_env,
    *const u8,
    isize,
    sys::napi_finalize,
    *mut std::ffi::c_void,
    *mut sys::napi_value,
    *mut bool,
) -> sys::napi_status;

/// The runtime's external-string functions (latin1, utf16), where it has them: Node ≥ 20.4
/// makes a string over memory it does not own, without copying it. Looked up by name at run
/// time, so a runtime without them (older Node) only means the string is copied.
fn external_strings() -> Option<(ExternalString, ExternalString)> {
    static FOUND: std::sync::OnceLock<Option<(ExternalString, ExternalString)>> =
        std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        #[cfg(all(unix, not(target_os = "macos")))]
        const RTLD_DEFAULT: *mut std::ffi::c_void = ptr::null_mut();
        #[cfg(target_os = "macos")]
        const RTLD_DEFAULT: *mut std::ffi::c_void = -2isize as *mut std::ffi::c_void;
        #[cfg(unix)]
        {
            extern "C" {
                fn dlsym(
                    handle: *mut std::ffi::c_void,
                    name: *const std::ffi::c_char,
                ) -> *mut std::ffi::c_void;
            }
            // SAFETY: dlsym with the default handle and NUL-terminated names only looks up
            // symbols of the process (the runtime exports its Node-API functions).
            let (latin1, utf16) = unsafe {
                (
                    dlsym(
                        RTLD_DEFAULT,
                        c"node_api_create_external_string_latin1".as_ptr(),
                    ),
                    dlsym(
                        RTLD_DEFAULT,
                        c"node_api_create_external_string_utf16".as_ptr(),
                    ),
                )
            };
            if latin1.is_null() || utf16.is_null() {
                return None;
            }
            // SAFETY: both symbols are Node-API functions of the shape `ExternalString`
            // describes (their documented C signatures; a `char*` or `char16_t*` first argument).
            Some(unsafe {
                (
                    std::mem::transmute::<*mut std::ffi::c_void, ExternalString>(latin1),
                    std::mem::transmute::<*mut std::ffi::c_void, ExternalString>(utf16),
                )
            })
        }
        #[cfg(not(unix))]
        None
    })
}

/// Finalizer of external strings: drops the parcel's units they showed.
///
/// # Safety
/// `hint` is the `Box<Arc<Units>>` leaked by `external_string_of`, finalized once.
unsafe extern "C" fn drop_units(
    _env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: see above.
    let units = unsafe { Box::from_raw(hint.cast::<Arc<Units>>()) };
    let _ = warden_core::panics::catch(move || drop(units));
}

/// A JS string over the parcel's own units (no copy), where the runtime can make one.
fn external_string_of(env: &Env, units: &Arc<Units>) -> Option<RawValue> {
    let (latin1, utf16) = external_strings()?;
    let (make, data, len) = match &**units {
        Units::Latin1(u) => (latin1, u.as_ptr(), u.len()),
        Units::Utf16(u) => (utf16, u.as_ptr().cast::<u8>(), u.len()),
        Units::Bytes(_) | Units::Moved(_) => return None,
    };
    let hint = Box::into_raw(Box::new(units.clone()));
    let mut value = ptr::null_mut();
    let mut copied = false;
    // SAFETY: `data..len` units stay valid and unchanged until the finalizer drops the `Arc`
    // that `hint` holds (a parcel's units are never written after it is made); if the runtime
    // copies instead, it has called the finalizer already.
    let status = unsafe {
        make(
            env.raw(),
            data,
            len as isize,
            Some(drop_units),
            hint.cast(),
            &mut value,
            &mut copied,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: on failure the finalizer was not called: take the hint back.
        drop(unsafe { Box::from_raw(hint) });
        return None;
    }
    Some(RawValue::new(value))
}

/// A JS string of `units`.
fn string_of(env: &Env, units: &Units) -> Result<RawValue> {
    let mut value = ptr::null_mut();
    // SAFETY: the units are a valid slice for the duration of the call, which copies them.
    let status = unsafe {
        match units {
            Units::Latin1(u) => sys::napi_create_string_latin1(
                env.raw(),
                u.as_ptr().cast(),
                u.len() as isize,
                &mut value,
            ),
            Units::Utf16(u) => {
                sys::napi_create_string_utf16(env.raw(), u.as_ptr(), u.len() as isize, &mut value)
            }
            Units::Bytes(_) | Units::Moved(_) => sys::Status::napi_string_expected,
        }
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(
            Status::GenericFailure,
            "cannot create a string of this parcel".to_string(),
        ));
    }
    Ok(RawValue::new(value))
}

/// Stores a copy of string `text` for supervisor `owner`; returns the parcel's id.
#[napi(catch_unwind)]
pub fn parcel_put(env: Env, owner: f64, text: Unknown) -> Result<f64> {
    guard_try("parcelPut", || {
        let units = Arc::new(units_of(&env, &text, "parcelPut: text")?);
        Ok(store(owner, units))
    })
}

/// The string of a parcel (it stays stored), or null if there is none with that id.
#[napi(catch_unwind, ts_return_type = "string | null")]
pub fn parcel_read(env: Env, id: f64) -> Result<Option<RawValue>> {
    guard_try("parcelRead", || {
        // (copied out of the lock: the string is made without holding it)
        let units = parcels().get(&(id as u64)).map(|p| p.units.clone());
        match units {
            None => Ok(None),
            Some(u) if u.is_bytes() => Ok(None),
            Some(u) => match external_string_of(&env, &u) {
                Some(v) => Ok(Some(v)),
                None => string_of(&env, &u).map(Some),
            },
        }
    })
}

/// The string of a parcel, which is dropped; null if there is none with that id.
#[napi(catch_unwind, ts_return_type = "string | null")]
pub fn parcel_take(env: Env, id: f64) -> Result<Option<RawValue>> {
    guard_try("parcelTake", || match take(id, false) {
        None => Ok(None),
        Some(p) => match external_string_of(&env, &p.units) {
            Some(v) => Ok(Some(v)),
            None => string_of(&env, &p.units).map(Some),
        },
    })
}

/// Stores a copy of `data` for supervisor `owner`; returns the parcel's id.
#[napi(catch_unwind)]
pub fn parcel_put_bytes(owner: f64, data: Uint8Array) -> Result<f64> {
    guard("parcelPutBytes", || {
        store(owner, Arc::new(Units::Bytes(data.to_vec())))
    })
}

/// Moves the memory of ArrayBuffer `buffer` into a parcel for supervisor `owner` without
/// copying it: `buffer` is detached (byteLength 0), as a postMessage transfer list would leave
/// it, and the thread that takes the parcel gets that very memory. Returns the parcel's id, or
/// 0 when the buffer cannot be moved (Bun, a buffer that cannot be detached, an empty one, a
/// view of the supervisor's memory pool): then it is unchanged.
#[napi(catch_unwind)]
pub fn parcel_move_bytes(env: Env, owner: f64, buffer: Unknown) -> Result<f64> {
    guard_try("parcelMoveBytes", || {
        let Some(moved) = move_out(&env, &buffer, owner as u64) else {
            return Ok(0.0);
        };
        Ok(store(owner, Arc::new(Units::Moved(moved))))
    })
}

/// The bytes of a bytes parcel as an ArrayBuffer that owns them (no copy), and the parcel is
/// dropped; null if there is no bytes parcel with that id.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | null")]
pub fn parcel_take_bytes(env: Env, id: f64) -> Result<Option<RawValue>> {
    guard_try("parcelTakeBytes", || {
        let Some(parcel) = take(id, true) else {
            return Ok(None);
        };
        match Arc::try_unwrap(parcel.units) {
            Ok(Units::Bytes(bytes)) => owned_buffer(&env, bytes).map(Some),
            Ok(Units::Moved(moved)) => move_in(&env, moved).map(Some),
            Ok(_) => Ok(None),
            Err(shared) => match &*shared {
                Units::Bytes(bytes) => copied_buffer(&env, bytes).map(Some),
                Units::Moved(moved) => copied_buffer(&env, moved.as_slice()).map(Some),
                _ => Ok(None),
            },
        }
    })
}

/// Drops a parcel; false if there was none with that id.
#[napi(catch_unwind)]
pub fn parcel_drop(id: f64) -> Result<bool> {
    guard("parcelDrop", || parcels().remove(&(id as u64)).is_some())
}

/// Drops every parcel of supervisor `owner` (at its shutdown); returns how many there were.
#[napi(catch_unwind)]
pub fn parcel_drop_owner(owner: f64) -> Result<u32> {
    guard("parcelDropOwner", || {
        let owner = owner as u64;
        let mut map = parcels();
        let before = map.len();
        map.retain(|_, p| p.owner != owner);
        (before - map.len()) as u32
    })
}

/// How many parcels are stored (leak checks).
#[napi(catch_unwind)]
pub fn parcel_count() -> Result<u32> {
    guard("parcelCount", || parcels().len() as u32)
}
