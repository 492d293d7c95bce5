//! Noticing that the event loop turned.
//!
//! `setImmediate(cb)` with a native `cb`: an immediate runs after the loop's
//! poll phase, and one scheduled from it runs on the next iteration, after
//! timers and I/O. (A threadsafe function's callback is no such sign: Node
//! dispatches calls queued meanwhile in the same callback.)

use std::ptr;

use napi::sys;

/// `setImmediate(cb)` with a native `cb` that starts a new inline turn: an
/// immediate runs after the loop's poll phase, and one scheduled from it
/// runs on the next iteration, after timers and I/O: the loop has turned.
pub struct NextTurn {
    set_immediate: sys::napi_ref,
    callback: sys::napi_ref,
}

impl NextTurn {
    /// # Safety
    /// `env` is the environment of the JS thread making the call.
    pub unsafe fn new(env: sys::napi_env) -> napi::Result<Self> {
        unsafe {
            let mut global = ptr::null_mut();
            napi::check_status!(sys::napi_get_global(env, &mut global))?;
            let mut set_immediate = ptr::null_mut();
            napi::check_status!(sys::napi_get_named_property(
                env,
                global,
                c"setImmediate".as_ptr(),
                &mut set_immediate
            ))?;
            let mut callback = ptr::null_mut();
            let name = "shopifyDbPoolNextTurn";
            napi::check_status!(sys::napi_create_function(
                env,
                name.as_ptr().cast(),
                name.len() as isize,
                Some(turned),
                ptr::null_mut(),
                &mut callback
            ))?;
            let mut refs = [ptr::null_mut(); 2];
            napi::check_status!(sys::napi_create_reference(
                env,
                set_immediate,
                1,
                &mut refs[0]
            ))?;
            napi::check_status!(sys::napi_create_reference(env, callback, 1, &mut refs[1]))?;
            Ok(NextTurn {
                set_immediate: refs[0],
                callback: refs[1],
            })
        }
    }

    /// True when scheduled.
    ///
    /// # Safety
    /// `env` is the live napi environment of the calling JS thread (inside a
    /// napi callback) that created this `NextTurn`.
    pub unsafe fn schedule(&self, env: sys::napi_env) -> bool {
        let mut set_immediate = ptr::null_mut();
        let mut callback = ptr::null_mut();
        let mut global = ptr::null_mut();
        let mut ignored = ptr::null_mut();
        sys::napi_get_reference_value(env, self.set_immediate, &mut set_immediate) == 0
            && sys::napi_get_reference_value(env, self.callback, &mut callback) == 0
            && sys::napi_get_global(env, &mut global) == 0
            && sys::napi_call_function(env, global, set_immediate, 1, &callback, &mut ignored) == 0
    }
}

/// The immediate's callback.
unsafe extern "C" fn turned(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    super::completion::on_next_turn(env);
    ptr::null_mut()
}
