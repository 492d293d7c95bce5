//! Promises settled in batches on the JS thread.
//!
//! napi's own future-to-promise bridge creates (and tears down) a
//! threadsafe function for every call: a libuv handle, a wake-up and a close
//! per query. Here one threadsafe function per JS environment serves every
//! call: a finished call queues its result and wakes the JS thread only if
//! the queue was empty, and the JS thread settles everything queued in one
//! turn. Under load many completions share one wake-up; when idle, the
//! function is unref'd so it never keeps Node alive, and it is ref'd while
//! any promise is pending so Node does not exit under a running query.
//!
//! Calls are first polled on the JS thread. One that finishes there (a
//! SQLite statement run inline, see `pool::inline`) settles at once; one
//! that waits for the next turn of the event loop stays here and is polled
//! again by the next drain; the rest wait for their wake-up and are polled
//! where it happens: on the JS thread when its reactor read the reply, else
//! on tokio (see `parked_call`).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::FutureExt;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{sys, Env};
use tokio::runtime::Handle;

use super::js_error::Settled;
use super::next_turn::NextTurn;
use super::parked_call::{Job, ParkedCall};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::pool::inline;

/// Turns a finished call into its JS value (or rejection) on the JS thread.
type Settle = Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value, sys::napi_value> + Send>;

/// A call in progress, whatever its result type.
type Task = Pin<Box<dyn Future<Output = Settle> + Send>>;

/// Results waiting for the JS thread, shared with tokio's threads.
struct Queue {
    done: Mutex<Vec<(u64, Settle)>>,
    tsfn: sys::napi_threadsafe_function,
    /// The environment is gone and `tsfn` released (set under `done`'s
    /// lock): a call finishing late (say, failed by its runtime shutting
    /// down) must not touch the freed function.
    released: AtomicBool,
}

// The tsfn handle may be called from any thread (that is its purpose).
unsafe impl Send for Queue {}
unsafe impl Sync for Queue {}

impl Queue {
    fn push(&self, id: u64, settle: Settle) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if self.released.load(Ordering::Relaxed) {
            return; // no one is left to settle for
        }
        done.push((id, settle));
        if done.len() == 1 {
            // Under the lock, so `release` cannot free the function between
            // the check above and this call. (The call never blocks.)
            unsafe {
                sys::napi_call_threadsafe_function(
                    self.tsfn,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                );
            }
        }
    }
}

/// What the JS thread keeps: the queue, and the calls not yet settled.
struct Local {
    queue: Arc<Queue>,
    /// Calls running on tokio, by id.
    pending: HashMap<u64, sys::napi_deferred>,
    /// Calls waiting for the next turn, in call order.
    waiting: VecDeque<(sys::napi_deferred, Task)>,
    next_id: u64,
    /// `setImmediate(next_turn)`, made once.
    next_turn: NextTurn,
    /// `next_turn` is scheduled.
    turn_watched: bool,
    /// The function is ref'd (some call is not settled).
    reffed: bool,
    /// Where pending calls go (see `parked_call`).
    runtime: Option<Handle>,
}

impl Local {
    fn new(env: sys::napi_env) -> napi::Result<Self> {
        Ok(Local {
            queue: create_queue(env)?,
            pending: HashMap::new(),
            waiting: VecDeque::new(),
            next_id: 0,
            next_turn: unsafe { NextTurn::new(env)? },
            turn_watched: false,
            reffed: false,
            runtime: None,
        })
    }

    /// Polls a call on the JS thread and settles, parks or hands it on.
    unsafe fn poll(&mut self, env: sys::napi_env, deferred: sys::napi_deferred, mut task: Task) {
        // Without a runtime handle (not expected) a wake-up here goes
        // nowhere and the call is spawned at once, as napi would.
        let parked = self.runtime().cloned().map(ParkedCall::new);
        let waker = parked
            .as_ref()
            .map_or_else(futures_util::task::noop_waker, |(_, waker)| waker.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let (poll, scope) = inline::js_thread(|| {
            napi::bindgen_prelude::within_runtime_if_available(|| task.as_mut().poll(&mut cx))
        });
        if (scope.ran_inline || scope.waits_for_turn) && !self.turn_watched {
            self.turn_watched = self.next_turn.schedule(env);
        }
        match poll {
            Poll::Ready(settle) => settle_now(env, deferred, settle),
            // (Should setImmediate be unavailable, tokio runs it instead.)
            Poll::Pending if scope.waits_for_turn && self.turn_watched => {
                self.waiting.push_back((deferred, task))
            }
            Poll::Pending => {
                let job = self.job(deferred, task);
                match parked {
                    // Waiting for a turn registers no waker: only a poll
                    // moves it on, so it cannot wait for a wake-up.
                    Some((parked, _)) if !scope.waits_for_turn => parked.park(job),
                    _ => drop(napi::bindgen_prelude::spawn(job)),
                }
            }
        }
    }

    /// The rest of a pending call, as a job that queues its result.
    fn job(&mut self, deferred: sys::napi_deferred, task: Task) -> Job {
        self.next_id += 1;
        let (id, queue) = (self.next_id, self.queue.clone());
        self.pending.insert(id, deferred);
        Box::pin(async move {
            let settle = task.await;
            queue.push(id, settle);
        })
    }

    /// The tokio runtime's handle, looked up once.
    fn runtime(&mut self) -> Option<&Handle> {
        if self.runtime.is_none() {
            self.runtime =
                napi::bindgen_prelude::within_runtime_if_available(|| Handle::try_current().ok());
        }
        self.runtime.as_ref()
    }

    /// Keeps Node alive exactly while some call is not settled.
    unsafe fn update_ref(&mut self, env: sys::napi_env) {
        let busy = !self.pending.is_empty() || !self.waiting.is_empty();
        if busy != self.reffed {
            self.reffed = busy;
            if busy {
                sys::napi_ref_threadsafe_function(env, self.queue.tsfn);
            } else {
                sys::napi_unref_threadsafe_function(env, self.queue.tsfn);
            }
        }
    }
}

thread_local! {
    // One per JS environment (the main thread, or a worker thread).
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Runs `work` and returns a promise settled with its outcome: the value,
/// or the coded error. A panic becomes an `INTERNAL` rejection.
///
/// The first poll runs here, on the JS thread, inside the runtime: the call
/// takes its place in the pool's queue in the order JS made it (tokio would
/// first-poll a burst of spawned tasks in its own order), and the statement
/// is already sent by the time the call returns.
pub fn settle<'env, T, F>(env: &'env Env, work: F) -> napi::Result<PromiseRaw<'env, Settled<T>>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = DbResult<T>> + Send + 'static,
{
    let raw_env = env.raw();
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    napi::check_status!(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) })?;
    let task: Task = Box::pin(AssertUnwindSafe(work).catch_unwind().map(|outcome| {
        let outcome = outcome.unwrap_or_else(|panic| Err(internal(panic)));
        Box::new(settled_value(outcome)) as Settle
    }));
    LOCAL.with(|cell| -> napi::Result<()> {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Local::new(raw_env)?);
        }
        let local = slot.as_mut().expect("just created");
        unsafe {
            local.poll(raw_env, deferred, task);
            local.update_ref(raw_env);
        }
        Ok(())
    })?;
    Ok(PromiseRaw::new(raw_env, promise))
}

fn internal(panic: Box<dyn std::any::Any + Send>) -> DbError {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    DbError::new(
        ErrorCode::Internal,
        format!("internal error in shopify-db-pool: {detail}"),
    )
}

/// The JS value (or rejection) of a finished call.
fn settled_value<T: ToNapiValue>(
    outcome: DbResult<T>,
) -> impl FnOnce(sys::napi_env) -> Result<sys::napi_value, sys::napi_value> {
    move |env| unsafe {
        match Settled::to_napi_value(env, Settled(outcome)) {
            Ok(value) => Ok(value),
            Err(error) => Err(napi::Error::to_napi_value(env, error).unwrap_or(ptr::null_mut())),
        }
    }
}

unsafe fn settle_now(
    env: sys::napi_env,
    deferred: sys::napi_deferred,
    settle: impl FnOnce(sys::napi_env) -> Result<sys::napi_value, sys::napi_value>,
) {
    match settle(env) {
        Ok(value) => sys::napi_resolve_deferred(env, deferred, value),
        Err(error) => sys::napi_reject_deferred(env, deferred, error),
    };
}

fn create_queue(env: sys::napi_env) -> napi::Result<Arc<Queue>> {
    let mut name = ptr::null_mut();
    let label = "shopify-db-pool completions";
    napi::check_status!(unsafe {
        sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name)
    })?;
    let mut tsfn = ptr::null_mut();
    napi::check_status!(unsafe {
        sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            ptr::null_mut(),
            None,
            ptr::null_mut(),
            Some(drain),
            &mut tsfn,
        )
    })?;
    unsafe {
        sys::napi_unref_threadsafe_function(env, tsfn);
        sys::napi_add_env_cleanup_hook(env, Some(release), tsfn.cast());
    }
    Ok(Arc::new(Queue {
        done: Mutex::new(Vec::new()),
        released: AtomicBool::new(false),
        tsfn,
    }))
}

/// On the JS thread: settles every queued result, each in its own handle
/// scope. (Not a sign that the loop turned: Node dispatches a threadsafe
/// function's calls queued meanwhile in the same callback.)
unsafe extern "C" fn drain(
    env: sys::napi_env,
    _js_cb: sys::napi_value,
    _context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() {
        return; // the environment is shutting down
    }
    LOCAL.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(local) = slot.as_mut() else { return };
        let batch =
            std::mem::take(&mut *local.queue.done.lock().unwrap_or_else(|p| p.into_inner()));
        for (id, settle) in batch {
            let Some(deferred) = local.pending.remove(&id) else {
                continue;
            };
            with_scope(env, || settle_now(env, deferred, settle));
        }
        local.update_ref(env);
    });
}

unsafe fn with_scope(env: sys::napi_env, f: impl FnOnce()) {
    let mut scope = ptr::null_mut();
    sys::napi_open_handle_scope(env, &mut scope);
    f();
    sys::napi_close_handle_scope(env, scope);
}

/// The immediate (see `next_turn`): a new inline budget, then the calls
/// that waited for it, in call order.
pub(super) unsafe fn on_next_turn(env: sys::napi_env) {
    inline::new_turn();
    LOCAL.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(local) = slot.as_mut() else { return };
        local.turn_watched = false;
        for (deferred, task) in std::mem::take(&mut local.waiting) {
            with_scope(env, || local.poll(env, deferred, task));
        }
        local.update_ref(env);
    });
}

unsafe extern "C" fn release(tsfn: *mut c_void) {
    if let Some(local) = LOCAL.with(|cell| cell.borrow_mut().take()) {
        let _done = local.queue.done.lock().unwrap_or_else(|p| p.into_inner());
        local.queue.released.store(true, Ordering::Relaxed);
    }
    sys::napi_release_threadsafe_function(tsfn.cast(), sys::ThreadsafeFunctionReleaseMode::abort);
}
