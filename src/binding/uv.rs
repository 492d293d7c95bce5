//! The few libuv calls the JS thread's reactor makes. libuv is part of
//! Node: these resolve against the node binary when the addon loads, as
//! napi's functions do. Handles are opaque here and allocated by size.

use std::ffi::{c_int, c_void};

/// libuv's `uv_poll_t` and `uv_idle_t`, opaque: allocated with
/// `uv_handle_size`.
pub type UvPoll = c_void;
pub type UvIdle = c_void;
pub type UvPollCb = unsafe extern "C" fn(handle: *mut UvPoll, status: c_int, events: c_int);
pub type UvIdleCb = unsafe extern "C" fn(handle: *mut UvIdle);
pub type UvCloseCb = unsafe extern "C" fn(handle: *mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    pub fn uv_poll_init(event_loop: *mut c_void, handle: *mut UvPoll, fd: c_int) -> c_int;
    pub fn uv_poll_start(handle: *mut UvPoll, events: c_int, cb: UvPollCb) -> c_int;
    pub fn uv_idle_init(event_loop: *mut c_void, handle: *mut UvIdle) -> c_int;
    pub fn uv_idle_start(handle: *mut UvIdle, cb: UvIdleCb) -> c_int;
    pub fn uv_idle_stop(handle: *mut UvIdle) -> c_int;
    pub fn uv_unref(handle: *mut c_void);
    pub fn uv_close(handle: *mut c_void, cb: UvCloseCb);
}

/// `UV_IDLE` and `UV_POLL` in libuv's `uv_handle_type`.
pub const UV_IDLE: c_int = 6;
pub const UV_POLL: c_int = 8;
/// `UV_READABLE` in libuv's `uv_poll_event`.
pub const UV_READABLE: c_int = 1;

/// A libuv handle of `kind`, in words so that its pointers are aligned.
/// The size is stored in the word before it, for `free_handle`.
///
/// # Safety
/// libuv is loaded (the addon runs inside Node) and `kind` is a handle type.
pub unsafe fn alloc_handle(kind: c_int) -> *mut c_void {
    let words = unsafe { uv_handle_size(kind) }.div_ceil(8);
    let mut block = vec![0u64; words + 1].into_boxed_slice();
    block[0] = words as u64;
    let block = Box::into_raw(block).cast::<u64>();
    unsafe { block.add(1).cast() }
}

/// Frees a handle made by `alloc_handle`; also libuv's close callback.
///
/// # Safety
/// `handle` came from `alloc_handle`, was not freed already, and libuv no
/// longer uses it (closed, or never initialised).
pub unsafe extern "C" fn free_handle(handle: *mut c_void) {
    unsafe {
        let block = handle.cast::<u64>().sub(1);
        let words = *block as usize;
        let block = std::ptr::slice_from_raw_parts_mut(block, words + 1);
        drop(Box::from_raw(block));
    }
}
